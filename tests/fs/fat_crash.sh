#!/bin/bash
# Crash test on FAT12, FAT16 and FAT32: every cut point on each
# See tests/fs/test_fat_crash.c.
cd "$(dirname "$0")/../.." || exit 1
rc=0
build/tests/test_fat_crash -t 12 || rc=1
build/tests/test_fat_crash -t 16 || rc=1
build/tests/test_fat_crash -t 32 || rc=1
exit $rc
