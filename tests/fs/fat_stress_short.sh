#!/bin/bash
# The short form of the randomized model test for `make test`: FAT12, FAT16 and FAT32 with
# fixed seeds, an external fsck.fat/mtools check every 500 operations.  The full run
# (100,000 operations per type, checks every 1,000) is `make fs-stress`.
cd "$(dirname "$0")/../.." || exit 1
rc=0
for t in 12 16 32; do
    build/tests/test_fat_stress -t $t -s 7 -n 1500 -k 500 || rc=1
done
exit $rc
