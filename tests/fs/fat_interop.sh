#!/bin/bash
# Interoperability of the FAT core (through build/fatimg) with the standard tools, across
# FAT12/16/32, 512- and 4096-byte sectors, cluster sizes 1..64 sectors, bare volumes and
# volumes inside GPT and MBR partitions:
#   - mkfs.fat makes the volume, mtools (mcopy/mmd) fills it: long and non-ASCII names,
#     a deep tree, empty files, exact cluster multiples, a multi-MiB file;
#   - fatimg lists and reads everything back byte-exact under the same names;
#   - fatimg writes (put/mkdir/mv/rm/truncate); after every command fsck.fat -n must
#     report the volume clean, and mtools must read back exactly what was written.
# Prints one `ok`/`not ok` line per check (tools/testrun.sh protocol).
set -u
cd "$(dirname "$0")/../.." || exit 1
FATIMG=$PWD/build/fatimg
export LANG=C.UTF-8 MTOOLS_SKIP_CHECK=1
W=$(mktemp -d /tmp/fat_interop.XXXXXX)
trap 'rm -rf "$W"' EXIT
failed=0
ok() { echo "ok $*"; }
bad() { echo "not ok $*"; failed=1; }

# The volume as a plain file, for fsck.fat (which has no offset option).
volume_file() {
    if [ "$OFF" = 0 ]; then echo "$IMG"; else
        dd if="$IMG" of="$W/part.img" bs=512 skip=$((OFF / 512)) count=$((PSIZE / 512)) status=none
        echo "$W/part.img"
    fi
}
fsck_clean() {   # name
    local v; v=$(volume_file)
    if fsck.fat -n "$v" >"$W/fsck.log" 2>&1; then ok "$CFG: fsck.fat -n clean after $1"
    else bad "$CFG: fsck.fat -n after $1: $(grep -v '^fsck.fat' "$W/fsck.log" | head -3 | tr '\n' ' ')"; fi
}
M() { echo "$IMG@@$OFF"; }

run_config() {   # fat-type sector-size sectors-per-cluster size-MiB layout(bare|gpt|mbr)
    local type=$1 ss=$2 spc=$3 mib=$4 layout=$5
    CFG="FAT$type/S$ss/s$spc/$layout"
    IMG=$W/disk.img
    rm -f "$IMG" "$W/vol.img"
    truncate -s ${mib}M "$W/vol.img"
    if ! mkfs.fat -F "$type" -S "$ss" -s "$spc" -n TESTVOL "$W/vol.img" >/dev/null 2>"$W/mkfs.log"; then
        bad "$CFG: mkfs.fat: $(head -1 "$W/mkfs.log")"; return; fi
    PSIZE=$((mib * 1024 * 1024)); OFF=0; PART=""
    case $layout in
    bare) mv "$W/vol.img" "$IMG";;
    gpt)  truncate -s $((mib + 2))M "$IMG"
          sgdisk -o -n 1:2048:+$((mib * 2048)) -t 1:0700 "$IMG" >/dev/null 2>&1
          OFF=$((2048 * 512)); PART=@1;;
    mbr)  truncate -s $((mib + 2))M "$IMG"
          echo "2048,$((mib * 2048)),c" | sfdisk -q "$IMG" >/dev/null
          OFF=$((2048 * 512)); PART=@1;;
    esac
    [ "$layout" != bare ] && dd if="$W/vol.img" of="$IMG" bs=512 seek=2048 conv=notrunc status=none

    # --- content made by mtools ---
    local cb=$((ss * spc)) src=$W/src
    rm -rf "$src"; mkdir -p "$src/deep/a/b/c/d/e/f/g" "$src/Ünïcödé dir"
    : >"$src/empty.txt"
    head -c $cb /dev/urandom >"$src/one_cluster.bin"
    head -c $((3 * cb)) /dev/urandom >"$src/three clusters exactly.bin"
    head -c $((3 * cb + 1)) /dev/urandom >"$src/three plus one.bin"
    head -c $((mib < 8 ? 300000 : 3000000)) /dev/urandom >"$src/big file.dat"
    echo "deep" >"$src/deep/a/b/c/d/e/f/g/leaf.TXT"
    echo "grüße" >"$src/Ünïcödé dir/файл данных.txt"
    echo "cafe" >"$src/café.txt"
    echo "mixed" >"$src/MixedCase.Txt"
    echo "A name that is much longer than eight point three" >"$src/A name that is much longer than eight point three.text"
    for i in $(seq 1 40); do echo "n$i" >"$src/deep/Similar long name $i.txt"; done
    if ! mcopy -s -i "$(M)" "$src"/* ::/ 2>"$W/mcopy.log"; then
        bad "$CFG: mcopy into the image: $(head -1 "$W/mcopy.log")"; return; fi
    fsck_clean "mtools population"

    # --- read back through the core ---
    local n=0 errs=0
    while IFS= read -r -d '' f; do
        rel=${f#$src/}
        n=$((n + 1))
        if ! "$FATIMG" "$IMG$PART" get "/$rel" "$W/out" 2>"$W/err" || ! cmp -s "$f" "$W/out"; then
            errs=$((errs + 1)); [ $errs -le 3 ] && echo "# read $rel: $(cat "$W/err")"
        fi
    done < <(find "$src" -type f -print0)
    [ $errs = 0 ] && ok "$CFG: $n files made by mtools read back byte-exact" || bad "$CFG: $errs of $n files differ"
    (cd "$src" && find . -mindepth 1 | sed 's|^\./||' | sort) >"$W/want.lst"
    "$FATIMG" "$IMG$PART" ls -R / 2>&1 | sed 's|/$||' | sort >"$W/got.lst"
    cmp -s "$W/want.lst" "$W/got.lst" && ok "$CFG: ls -R lists the same names as the source tree" ||
        bad "$CFG: ls -R differs: $(diff "$W/want.lst" "$W/got.lst" | head -3 | tr '\n' ' ')"
    "$FATIMG" "$IMG$PART" cat "/CAFÉ.TXT" 2>/dev/null | grep -q cafe &&
        ok "$CFG: case-insensitive lookup of a non-ASCII short name" || bad "$CFG: lookup /CAFÉ.TXT"

    # --- written by the core, checked by fsck.fat and mtools after every command ---
    head -c $((5 * cb + 123)) /dev/urandom >"$W/w1"
    head -c 200000 /dev/urandom >"$W/w2"
    step() {   # description, fatimg args...
        local what=$1; shift
        if "$FATIMG" "$IMG$PART" "$@" >"$W/out.log" 2>&1; then fsck_clean "$what"
        else bad "$CFG: $what: $(head -2 "$W/out.log" | tr '\n' ' ')"; fi
    }
    step "put" put "$W/w1" "/Written by core with a long name.bin"
    step "mkdir" mkdir "/New Dir ñ" "/New Dir ñ/sub"
    step "put into subdir" put "$W/w2" "/New Dir ñ/sub/日本語.dat"
    step "overwrite" put "$W/w2" "/Written by core with a long name.bin"
    step "mv across directories" mv "/big file.dat" "/New Dir ñ/moved.dat"
    step "rename in place" mv "/MixedCase.Txt" "/mixedcase.txt"
    step "rm" rm "/three plus one.bin" "/deep/Similar long name 7.txt"
    step "truncate grow" truncate "/one_cluster.bin" $((cb + 5000))
    step "truncate shrink" truncate "/three clusters exactly.bin" $((cb + 1))
    "$FATIMG" "$IMG$PART" rmdir "/deep" >/dev/null 2>&1 && bad "$CFG: rmdir of a non-empty directory succeeded" ||
        ok "$CFG: rmdir of a non-empty directory refused"
    step "rm leaf then rmdir" rm "/deep/a/b/c/d/e/f/g/leaf.TXT"
    step "rmdir empty" rmdir "/deep/a/b/c/d/e/f/g"
    step "mkdir via dot-dot path" mkdir "/deep/a/b/../b/c/./NewSub"

    cp "$src/one_cluster.bin" "$W/e1"; head -c 5000 /dev/zero >>"$W/e1"
    head -c $((cb + 1)) "$src/three clusters exactly.bin" >"$W/e3"
    local mism=0
    chk() {   # image path, expected local file
        if ! mcopy -n -i "$(M)" "::$1" "$W/m.out" 2>/dev/null || ! cmp -s "$W/m.out" "$2"; then
            mism=$((mism + 1)); echo "# mtools read of $1 differs"; fi
    }
    chk "/Written by core with a long name.bin" "$W/w2"
    chk "/New Dir ñ/sub/日本語.dat" "$W/w2"
    chk "/New Dir ñ/moved.dat" "$src/big file.dat"
    chk "/mixedcase.txt" "$src/MixedCase.Txt"
    chk "/one_cluster.bin" "$W/e1"
    chk "/three clusters exactly.bin" "$W/e3"
    mdir -b -i "$(M)" "::/deep/Similar long name 7.txt" >/dev/null 2>&1 && mism=$((mism + 1))
    mdir -b -i "$(M)" "::/deep/a/b/c/d/e/f/g" >/dev/null 2>&1 && mism=$((mism + 1))
    [ $mism = 0 ] && ok "$CFG: mtools reads back everything the core wrote" || bad "$CFG: $mism mtools mismatches"
    "$FATIMG" "$IMG$PART" fsck >"$W/ours.log" 2>&1 && ok "$CFG: fatimg fsck finds no problem" ||
        bad "$CFG: fatimg fsck: $(head -2 "$W/ours.log" | tr '\n' ' ')"
}

# fatimg on a full volume: put keeps (and records) the part that fit, so the volume stays
# consistent; truncate refuses a size past 4 GiB - 1 instead of cutting it to 32 bits.
full_volume() {
    CFG="full FAT16"
    local v=$W/full.img
    rm -f "$v"; mkfs.fat -F 16 -s 2 -C "$v" 5000 >/dev/null
    head -c 6000000 /dev/urandom >"$W/big.bin"
    if "$FATIMG" "$v" put "$W/big.bin" /big.bin 2>"$W/put.log"; then
        bad "$CFG: put of 6 MB into 5 MB succeeded"
    elif grep -q "no space" "$W/put.log"; then ok "$CFG: put past the free space reports ENOSPC"
    else bad "$CFG: put: $(cat "$W/put.log")"; fi
    if fsck.fat -n "$v" >"$W/fsck.log" 2>&1; then ok "$CFG: fsck.fat -n clean after a short put"
    else bad "$CFG: fsck.fat -n after a short put: $(sed -n 2,3p "$W/fsck.log" | tr '\n' ' ')"; fi
    local n; n=$(mdir -i "$v" ::big.bin 2>/dev/null | awk '/^big/ { print $3 }')
    mcopy -n -i "$v" ::big.bin "$W/got.bin" 2>/dev/null
    if [ -n "$n" ] && [ "$n" -gt 0 ] && cmp -s -n "$n" "$W/got.bin" "$W/big.bin"; then
        ok "$CFG: the first $n bytes were kept"
    else bad "$CFG: the part that fit was not kept (size '$n')"; fi
    if "$FATIMG" "$v" truncate /big.bin 5000000000 2>"$W/tr.log"; then
        bad "$CFG: truncate to 5000000000 succeeded"
    elif grep -q "too large" "$W/tr.log"; then ok "$CFG: truncate past 4 GiB - 1 refused"
    else bad "$CFG: truncate 5000000000: $(cat "$W/tr.log")"; fi
}
full_volume

# Bad option values are usage errors (exit 2) with the reason, never a silent default.
bad_options() {
    local v="$W/opt.img" a
    rm -f "$v"; mkfs.fat -C "$v" 2048 >/dev/null
    for a in "-S 1000" "-S 8192" "-S abc" "-c 0" "-c 12x"; do
        # shellcheck disable=SC2086
        "$FATIMG" $a "$v" ls >/dev/null 2>"$W/opt.log"
        local rc=$?
        if [ $rc -eq 2 ] && grep -q -- "${a%% *}" "$W/opt.log"; then ok "fatimg $a: usage error"
        else bad "fatimg $a: exit $rc, $(cat "$W/opt.log")"; fi
    done
}
bad_options

run_config 12 512 1 2 bare
run_config 12 4096 1 12 bare
run_config 12 512 8 8 mbr
run_config 16 512 4 32 bare
run_config 16 4096 2 64 gpt
run_config 16 512 64 300 bare
run_config 32 512 1 64 gpt
run_config 32 512 8 300 bare
run_config 32 4096 1 300 bare
exit $failed
