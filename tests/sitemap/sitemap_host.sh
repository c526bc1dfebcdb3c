#!/bin/bash
# tests/sitemap/sitemap_host.sh: `fatimg IMG sitemap / verify` against the outside world.
#  - an independent recomputation of docs/SITEMAP.md (tests/sitemap/sitemap_ref.py, over a
#    copy of the volume made by mtools) gives the same root and the same per-node hashes;
#  - the content hash of every file is what `sha256sum` prints for the file copied out by
#    mtools, and the one block hash of a file of at most 4 KiB is that too;
#  - verify: exit 3 without a saved sitemap, 0 right after `--save`, 1 naming the file and
#    block after a byte is changed by mtools, and naming added and removed files;
#  - the saved sitemap leaves the volume clean for fsck.fat; a damaged one is refused.
set -u
cd "$(dirname "$0")/../.."
F=build/fatimg
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok sitemap_host: $1"; }
nok() { echo "not ok sitemap_host: $1: $2"; }
expect() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "got '$2', want '$3'"; fi; }

img=$T/v.img
mkfs.fat -F 32 -C "$img" 65536 >/dev/null
mkdir -p "$T/src/docs/deep" "$T/src/empty dir"
: >"$T/src/zero"
printf x >"$T/src/one"
head -c 4095 /dev/urandom >"$T/src/docs/a4095"
head -c 4096 /dev/urandom >"$T/src/docs/b4096"
head -c 4097 /dev/urandom >"$T/src/docs/c4097"
head -c 100000 /dev/urandom >"$T/src/docs/deep/A long name with spaces.bin"
echo "readme" >"$T/src/README.TXT"
mcopy -s -i "$img" "$T"/src/* ::/

root=$($F "$img" sitemap | sed -n 's/^root //p')
mkdir "$T/out"
mcopy -s -i "$img" '::/*' "$T/out/"
ref=$(python3 tests/sitemap/sitemap_ref.py "$T/out")
expect "independent recomputation (sitemap_ref.py) gives fatimg's root" \
    "$(echo "$ref" | sed -n 's/^root //p')" "$root"
expect "independent recomputation gives every node's hash" \
    "$(echo "$ref" | tail -n +2 | md5sum)" "$($F "$img" sitemap -l | tail -n +3 | md5sum)"

bad=0 n=0
while read -r kind leaf content size path; do
    [ "$kind" = F ] || continue
    n=$((n + 1))
    mcopy -n -i "$img" "::$path" "$T/file" 2>/dev/null
    sum=$(sha256sum <"$T/file" | cut -d' ' -f1)
    [ "$sum" = "$content" ] || { bad=$((bad + 1)); echo "# $path: $sum != $content"; }
done < <($F "$img" sitemap -l)
expect "sha256sum of each of the $n files (copied out by mcopy) = its content hash" "$bad" 0
# For a file of 1..4096 bytes the leaf covers one block whose hash is sha256sum's.
one_leaf=$({ printf 'F\x01\x00\x00\x00\x00\x00\x00\x00'
             printf x | sha256sum | cut -d' ' -f1 | xxd -r -p; } | sha256sum | cut -d' ' -f1)
expect "leaf of /one recomputed with printf + sha256sum" \
    "$($F "$img" sitemap -l | awk '$5 == "/one" {print $2}')" "$one_leaf"

# The multi-block recipe of docs/SITEMAP.md, on the 100,000-byte file.
f="$T/out/docs/deep/A long name with spaces.bin"
doc_leaf=$({ printf 'F'; printf '%016x' "$(stat -c %s "$f")" | fold -w2 | tac | tr -d '\n' | xxd -r -p
             split -b 4096 --filter='sha256sum | cut -c1-64 | xxd -r -p' "$f"; } | sha256sum | cut -c1-64)
expect "leaf of a 25-block file recomputed with the document's shell recipe" \
    "$($F "$img" sitemap -l | awk '$4 == 100000 {print $2}')" "$doc_leaf"

out=$($F "$img" verify 2>&1)
expect "verify without a saved sitemap exits 3" "$?" 3
case "$out" in *"no saved sitemap"*) ok "verify says there is no saved sitemap" ;;
    *) nok "verify says there is no saved sitemap" "$out" ;; esac

$F "$img" sitemap --save >"$T/save.txt"
expect "sitemap --save prints the same root" "$(sed -n 's/^root //p' "$T/save.txt")" "$root"
fsck.fat -n "$img" >/dev/null 2>&1
expect "fsck.fat is clean after --save" "$?" 0
out=$($F "$img" verify)
expect "verify right after --save exits 0" "$?" 0
expect "verify prints the same root" "$(echo "$out" | sed -n 's/^root //p')" "$root"
expect "the saved file is not part of the tree" \
    "$($F "$img" sitemap | sed -n 's/^root //p')" "$root"

# Change one byte of block 3 of the big file with mtools (not through our filesystem).
big="::/docs/deep/A long name with spaces.bin"
mcopy -n -i "$img" "$big" "$T/big"
printf 'Z' | dd of="$T/big" bs=1 seek=$((3 * 4096 + 17)) conv=notrunc 2>/dev/null
mcopy -o -i "$img" "$T/big" "$big"
out=$($F "$img" verify)
expect "verify after a one-byte change exits 1" "$?" 1
expect "verify names the file and the block" "$(echo "$out" | grep '^changed')" \
    "changed /docs/deep/A long name with spaces.bin: blocks 3 of 25"
expect "verify counts one change" "$(echo "$out" | grep '^verify')" \
    "verify: CHANGED: 0 added, 0 removed, 1 changed"

echo new >"$T/new.txt"
mcopy -i "$img" "$T/new.txt" ::/docs/
mdel -i "$img" ::/one
out=$($F "$img" verify)
expect "verify names an added file" "$(echo "$out" | grep '^added')" "added   /docs/new.txt (4 bytes)"
expect "verify names a removed file" "$(echo "$out" | grep '^removed')" "removed /one (1 bytes)"
expect "verify counts" "$(echo "$out" | grep '^verify')" \
    "verify: CHANGED: 1 added, 1 removed, 1 changed"

$F "$img" sitemap --save >/dev/null
expect "verify after a new --save exits 0" "$($F "$img" verify >/dev/null; echo $?)" 0
mcopy -n -i "$img" ::/SITEMAP.BIN "$T/sm.bin"
printf '\xff' | dd of="$T/sm.bin" bs=1 seek=90 conv=notrunc 2>/dev/null
mcopy -o -i "$img" "$T/sm.bin" ::/SITEMAP.BIN
out=$($F "$img" verify 2>&1)
expect "verify with a damaged SITEMAP.BIN exits 3" "$?" 3
case "$out" in *corrupt*) ok "verify says the saved sitemap is corrupt" ;;
    *) nok "verify says the saved sitemap is corrupt" "$out" ;; esac
