#!/bin/bash
# A file of several hundred MiB both ways between our FAT core and the standard tools:
#   mtools writes 320 MiB, fatimg reads it back byte-exact;
#   fatimg writes 320 MiB, mtools reads it back byte-exact and fsck.fat -n is clean.
# Sparse image files keep this cheap on disk.  One `ok`/`not ok` line per check.
set -u
cd "$(dirname "$0")/../.." || exit 1
FATIMG=$PWD/build/fatimg
export MTOOLS_SKIP_CHECK=1
W=$(mktemp -d /tmp/fat_bigfile.XXXXXX)
trap 'rm -rf "$W"' EXIT
failed=0
ok() { echo "ok $*"; }
bad() { echo "not ok $*"; failed=1; }
MIB=${BIGFILE_MIB:-320}

truncate -s 800M "$W/vol.img"
mkfs.fat -F 32 -s 8 -n BIG "$W/vol.img" >/dev/null
# Random content (not zeros: a bug that drops or repeats a cluster must show).
head -c ${MIB}M /dev/urandom >"$W/a.bin"
head -c ${MIB}M /dev/urandom >"$W/b.bin"
want_a=$(sha256sum <"$W/a.bin" | cut -d' ' -f1)
want_b=$(sha256sum <"$W/b.bin" | cut -d' ' -f1)

mcopy -i "$W/vol.img" "$W/a.bin" ::/FROM_MTOOLS.BIN
got=$("$FATIMG" "$W/vol.img" cat /from_mtools.bin | sha256sum | cut -d' ' -f1)
[ "$got" = "$want_a" ] && ok "${MIB} MiB written by mtools read back byte-exact by the core" \
    || bad "${MIB} MiB written by mtools: core read $got, want $want_a"

if "$FATIMG" "$W/vol.img" put "$W/b.bin" "/From the core, a long name.bin"; then
    ok "${MIB} MiB written by the core"
else
    bad "core failed to write ${MIB} MiB"
fi
got=$(mtype -i "$W/vol.img" "::/From the core, a long name.bin" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want_b" ] && ok "${MIB} MiB written by the core read back byte-exact by mtools" \
    || bad "${MIB} MiB written by the core: mtools read $got, want $want_b"
if fsck.fat -n "$W/vol.img" >"$W/fsck.log" 2>&1; then ok "fsck.fat -n clean after the big writes"
else bad "fsck.fat -n: $(tail -3 "$W/fsck.log" | tr '\n' ' ')"; fi
"$FATIMG" "$W/vol.img" rm /FROM_MTOOLS.BIN && fsck.fat -n "$W/vol.img" >/dev/null 2>&1 \
    && ok "deleting ${MIB} MiB leaves a clean volume" || bad "delete of the big file"
free_after=$(mdir -i "$W/vol.img" :: | grep -o '[0-9 ]* bytes free' | tr -d ' a-z')
[ "${free_after:-0}" -gt $((MIB * 1024 * 1024)) ] && ok "mtools sees the freed space" \
    || bad "mtools free space after delete: $free_after"
exit $failed
