#!/usr/bin/env python3
"""Builds the FAT fuzzer's seed images, one per classic corruption, with the real tools.

usage: fat_seeds.py OUTDIR
A small FAT12 and FAT16 volume is made by mkfs.fat and filled by mtools (files, a
subdirectory, a long name); then copies get: a cyclic chain, cross-linked chains, a chain
longer and one shorter than the size, bad "." and ".." entries, FAT copies that differ,
zero sectors per cluster, a huge FAT size, a truncated image and an entry pointing
outside the volume.  Fields are patched by their BPB/directory offsets."""
import os, struct, subprocess, sys, tempfile

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
tmp = tempfile.mkdtemp()

def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def base(kind):
    img = os.path.join(tmp, kind + ".img")
    if os.path.exists(img):
        os.remove(img)
    if kind == "fat12":
        run("mkfs.fat", "-F", "12", "-s", "1", "-C", img, "160")
    else:
        run("mkfs.fat", "-F", "16", "-s", "1", "-C", img, "2200")
    for name, size in (("a.bin", 3000), ("b.bin", 1500), ("A long file name.txt", 700)):
        p = os.path.join(tmp, name)
        with open(p, "wb") as f:
            f.write(bytes((i * 7) & 255 for i in range(size)))
        run("mcopy", "-i", img, p, "::/" + name)
    run("mmd", "-i", img, "::/sub")
    run("mcopy", "-i", img, os.path.join(tmp, "b.bin"), "::/sub/inner.bin")
    return bytearray(open(img, "rb").read())

def geo(b):
    bps, spc, rsvd, nfats, rootent = struct.unpack_from("<HBHBH", b, 11)
    fatsz = struct.unpack_from("<H", b, 22)[0]
    root = (rsvd + nfats * fatsz) * bps
    data = root + rootent * 32
    return bps, spc, rsvd, nfats, fatsz, root, data

def set_fat(b, kind, c, val, copies=None):
    bps, spc, rsvd, nfats, fatsz, root, data = geo(b)
    for i in (copies if copies is not None else range(nfats)):
        off = (rsvd + i * fatsz) * bps
        if kind == "fat16":
            struct.pack_into("<H", b, off + 2 * c, val)
        else:
            o = off + c + c // 2
            w = struct.unpack_from("<H", b, o)[0]
            w = (w & 0x000F) | (val << 4) if c & 1 else (w & 0xF000) | val
            struct.pack_into("<H", b, o, w)

def root_entry(b, name11):
    bps, spc, rsvd, nfats, fatsz, root, data = geo(b)
    for i in range(64):
        e = root + 32 * i
        if bytes(b[e:e + 11]) == name11:
            return e
    raise KeyError(name11)

for kind in ("fat12", "fat16"):
    def save(tag, b):
        open(os.path.join(out, "%s-%s.img" % (kind, tag)), "wb").write(b)
    save("clean", base(kind))
    b = base(kind); e = root_entry(b, b"A       BIN")
    first = struct.unpack_from("<H", b, e + 26)[0]
    set_fat(b, kind, first + 2, first); save("cyclic-chain", b)
    b = base(kind); e2 = root_entry(b, b"B       BIN")
    set_fat(b, kind, first + 1, struct.unpack_from("<H", b, e2 + 26)[0]); save("cross-linked", b)
    b = base(kind); struct.pack_into("<I", b, e + 28, 100); save("chain-longer-than-size", b)
    b = base(kind); struct.pack_into("<I", b, e + 28, 90000); save("chain-shorter-than-size", b)
    b = base(kind); es = root_entry(b, b"SUB        ")
    bps, spc, rsvd, nfats, fatsz, root, data = geo(b)
    sub = data + (struct.unpack_from("<H", b, es + 26)[0] - 2) * spc * bps
    struct.pack_into("<H", b, sub + 26, 0x0FF0); struct.pack_into("<H", b, sub + 32 + 26, 5)
    save("bad-dot-entries", b)
    b = base(kind); set_fat(b, kind, first + 1, 0xFFF if kind == "fat12" else 0xFFFF, copies=[1])
    save("fat-copies-differ", b)
    b = base(kind); b[13] = 0; save("zero-sectors-per-cluster", b)
    b = base(kind); struct.pack_into("<H", b, 22, 0xFFF0); save("huge-fat-size", b)
    b = base(kind); save("truncated", b[: len(b) // 3])
    b = base(kind); struct.pack_into("<H", b, e2 + 26, 0xFFF0); save("entry-outside-volume", b)
