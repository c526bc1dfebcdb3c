#!/usr/bin/env python3
"""tests/sitemap/sitemap_ref.py: an independent implementation of docs/SITEMAP.md.

    sitemap_ref.py DIR          print "root HEX" for the tree under DIR (a copy of a volume,
                                e.g. made by `mcopy -s`), then one line per node as
                                `fatimg IMG sitemap -l` prints them.
Written from the document alone (not from fs/sitemap.c), so agreement with fatimg checks
both the code and the document.  Files named SITEMAP.BIN / SITEMAP.TMP (any case) in the
top directory are left out, as the document says."""
import hashlib
import os
import struct
import sys

BLOCK = 4096


def file_hashes(path):
    data = open(path, "rb").read()
    blocks = [hashlib.sha256(data[i:i + BLOCK]).digest() for i in range(0, len(data), BLOCK)]
    leaf = hashlib.sha256(b"F" + struct.pack("<Q", len(data)) + b"".join(blocks)).digest()
    return leaf, hashlib.sha256(data).digest(), len(data)


def dir_hash(path, rel, top, out):
    names = sorted(os.listdir(path), key=lambda n: n.encode("utf-8"))
    h = hashlib.sha256(b"D")
    lines = []
    for name in names:
        if top and name.upper() in ("SITEMAP.BIN", "SITEMAP.TMP"):
            continue
        full = os.path.join(path, name)
        child = rel + "/" + name
        if os.path.isdir(full):
            kind, digest = b"D", dir_hash(full, child, False, lines)
        else:
            digest, content, size = file_hashes(full)
            kind = b"F"
            lines.append("F %s %s %d %s" % (digest.hex(), content.hex(), size, child))
        enc = name.encode("utf-8")
        h.update(kind + struct.pack("<H", len(enc)) + enc + digest)
    d = h.digest()
    out.append("D %s - - %s/" % (d.hex(), rel) if rel else "D %s - - /" % d.hex())
    out.extend(lines)
    return d


def main():
    out = []
    root = dir_hash(sys.argv[1], "", True, out)
    print("root " + root.hex())
    # Preorder like fatimg: a directory line before its children.
    for line in out:
        print(line)


if __name__ == "__main__":
    main()
