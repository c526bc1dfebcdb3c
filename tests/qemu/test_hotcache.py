#!/usr/bin/env python3
"""The block cache (fs/hotfile.c, kernel/hotfile.c; docs/SITEMAP.md "The block cache") in the OS.

One boot on a copy of an mkfs.fat + mtools volume holding sha256sum.nda and data files:
  * with the live sitemap built, `run -i sha256sum a.bin` twice: the second pass is all
    block-cache hits (program blocks and data blocks), no new misses; the hash is the host's;
  * b.bin has a.bin's content: reading it adds hits, no misses and no entries;
  * a 16 KiB budget under a 10-block file: LRU evictions, the hash stays right;
  * a file changed in the OS (`write`, `cp`) reads back its new bytes at once (straight from
    the volume), `sitemap` refreshes incrementally and lists the new content hash, and the
    next reads go through the cache again;
  * after `sitemap save`, one byte of big.bin changed on the host image (dd) is refused on
    the next read with a message naming the file and block; `verify -f` names the same
    block, and `sitemap -f` accepts the disk's content.
A second boot on a volume with a cross-linked file: after `fsck --repair` cuts it, reads
(shell and program) return the repaired content, not the blocks cached before, and
`sitemap` builds again to the host's root."""

import hashlib
import os
import re
import shutil
import struct
import subprocess
import tempfile

from qtest import check, check_in, run, vmachine

Machine = vmachine.Machine
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")
TMP = tempfile.mkdtemp(prefix="test-hotcache-")
IMG = os.path.join(TMP, "disk.img")
BS = 4096

A = bytes((i * 7 + (i >> 9)) & 0xFF for i in range(30000))             # 8 blocks
BIG = hashlib.sha256(b"seed").digest() * 1250                            # 40000 bytes, 10 blocks
BIG = bytes(b ^ (i & 0xFF) ^ (i >> 8 & 0xFF) for i, b in enumerate(BIG))  # no repeated block
PROG_BLOCKS = -(-os.path.getsize(os.path.join(BUILD, "programs", "sha256sum.nda")) // BS)


def sh(*args):
    r = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=ENV)
    return r.returncode, r.stdout.decode(errors="replace")


def setup():
    with open(IMG, "wb") as f:
        f.truncate(64 << 20)
    sh("mkfs.fat", "-F", "32", "-s", "1", "-n", "HOTCACHE", IMG)
    files = {"a.bin": A, "b.bin": A, "big.bin": BIG, "note.txt": b"a short note\n"}
    for name, data in files.items():
        with open(os.path.join(TMP, name), "wb") as f:
            f.write(data)
    sh("mcopy", "-i", IMG, os.path.join(BUILD, "programs", "sha256sum.nda"),
       *[os.path.join(TMP, n) for n in files], "::/")


def block_stats(out):
    """(entries, bytes, hits, misses, evictions) of the `block` line of `cache`."""
    m = re.search(r"^block: (\d+) entries, (\d+) bytes; hits (\d+), misses (\d+), "
                  r"evictions (\d+)", out, re.M)
    return tuple(int(x) for x in m.groups()) if m else None


def reads(out):
    m = re.search(r"file reads: (\d+) via the sitemap's block hashes, (\d+) straight", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


def sums(m, *names):
    out = m.cmd("run -i sha256sum " + " ".join(names))
    return out, re.findall(r"^([0-9a-f]{64})  (\S+)", out, re.M)


def test_hotcache():
    with Machine(disk=IMG) as m:
        m.wait_prompt()
        check_in("(full build)", m.cmd("sitemap"), "live sitemap built")
        c0 = block_stats(m.cmd("cache"))
        check(c0 is not None and c0[:4] == (0, 0, 0, 0), "cache shows the block kind", str(c0))
        want_a = hashlib.sha256(A).hexdigest()

        # Twice: the second pass is all hits.
        out, got = sums(m, "a.bin")
        check(got == [(want_a, "a.bin")], "first pass: host's hash", out)
        c1 = block_stats(m.cmd("cache"))
        blocks = PROG_BLOCKS + 8
        check(c1 and c1[3] - c0[3] == blocks and c1[2] == c0[2] and c1[0] == blocks,
              "first pass: %d blocks missed and cached" % blocks, str(c1))
        out, got = sums(m, "a.bin")
        c2 = block_stats(m.cmd("cache"))
        check(got == [(want_a, "a.bin")] and c2 and c2[2] - c1[2] == blocks and c2[3] == c1[3],
              "second pass (program load + file): %d hits, no misses" % blocks, str(c2))

        # Identical content: shared entries.
        out, got = sums(m, "b.bin")
        c3 = block_stats(m.cmd("cache"))
        check(got == [(want_a, "b.bin")] and c3 and c3[2] - c2[2] == blocks and
              c3[3] == c2[3] and c3[0] == c2[0],
              "identical file: served from the same entries", "%s %s" % (c3, out))

        # A budget smaller than the working set: LRU evicts, results stay right.
        m.cmd("cache budget 16K")
        want_big = hashlib.sha256(BIG).hexdigest()
        ok = True
        for _ in range(2):
            out, got = sums(m, "big.bin")
            ok &= got == [(want_big, "big.bin")]
        out = m.cmd("cache")
        c4 = block_stats(out)
        used = re.search(r"\((\d+) KiB of 16 KiB budget", out)
        check(ok and c4 and c4[4] - c3[4] >= 10 and used and int(used.group(1)) <= 16,
              "16 KiB budget under a 10-block file: evictions, right hash", out)
        m.cmd("cache budget 1M")

        # Changed in the OS: new bytes at once, the refresh shows them, cached again after.
        m.cmd("write a.bin changed in the OS")
        m.cmd("cp note.txt b.bin")
        r0 = reads(m.cmd("cache"))
        new_a = hashlib.sha256(b"changed in the OS\n").hexdigest()
        new_b = hashlib.sha256(b"a short note\n").hexdigest()
        out, got = sums(m, "a.bin", "b.bin")
        r1 = reads(m.cmd("cache"))
        check(got == [(new_a, "a.bin"), (new_b, "b.bin")], "after write/cp: the new bytes", out)
        check(r0 and r1 and r1[1] - r0[1] >= 2 and r1[0] - r0[0] == 1,
              "changed files read straight from the volume (the program through the cache)",
              "%s %s" % (r0, r1))
        out = m.cmd("sitemap -l")
        check_in("(incremental)", out, "the refresh after the changes is incremental")
        check(re.search(r"^F [0-9a-f]{64} %s 18 /a\.bin$" % new_a, out, re.M) is not None and
              re.search(r"^F [0-9a-f]{64} %s 13 /b\.bin$" % new_b, out, re.M) is not None,
              "sitemap -l lists the new content hashes", out)
        out, got = sums(m, "a.bin", "b.bin")
        r2 = reads(m.cmd("cache"))
        check(got == [(new_a, "a.bin"), (new_b, "b.bin")] and r2 and r2[1] == r1[1],
              "refreshed: read through the cache again, same bytes", "%s %s" % (r2, out))

        # Changed on the host behind the filesystem: refused, named.
        check_in("saved /SITEMAP.BIN", m.cmd("sitemap save"), "sitemap save")
        m.cmd("cache clear")
        with open(IMG, "rb") as f:
            image = f.read()
        at = image.find(BIG[2 * BS + 100:2 * BS + 164])
        check(at > 0, "found big.bin block 2 on the image")
        flipped = bytes([BIG[2 * BS + 100] ^ 0xFF])
        subprocess.run(["dd", "of=" + IMG, "bs=1", "seek=%d" % at, "conv=notrunc,fsync",
                        "status=none"], input=flipped, check=True)
        out = m.cmd("run -i sha256sum big.bin")
        check_in("hotfile: /big.bin: block 2 differs from the sitemap", out,
                 "a byte changed on the host is detected on the next read, file and block named")
        check("sha256sum: cannot read big.bin" in out and want_big not in out,
              "the changed block is not served", out)
        out = m.cmd("cache")
        check_in("1 blocks refused", out, "cache counts the refused block")
        out = m.cmd("verify -f")
        check_in("changed /big.bin: blocks 2 of 10", out, "verify -f names the same block")
        m.cmd("sitemap -f")
        corrupted = BIG[:2 * BS + 100] + flipped + BIG[2 * BS + 101:]
        out, got = sums(m, "big.bin")
        check(got == [(hashlib.sha256(corrupted).hexdigest(), "big.bin")],
              "after sitemap -f the disk's content is accepted", out)
        m.poweroff()


def cross_linked_image(path, x, y):
    """FAT16 volume of 512-byte clusters holding x.bin and y.bin (8 KiB each), y.bin's
    fourth cluster linked into x.bin's fifth: both read 8 KiB until fsck cuts y.bin."""
    with open(path, "wb") as f:
        f.truncate(16 << 20)
    sh("mkfs.fat", "-F", "16", "-s", "1", "-n", "XLINK", path)
    for name, data in (("x.bin", x), ("y.bin", y)):
        with open(os.path.join(TMP, name), "wb") as f:
            f.write(data)
    sh("mcopy", "-i", path, os.path.join(BUILD, "programs", "sha256sum.nda"),
       os.path.join(TMP, "x.bin"), os.path.join(TMP, "y.bin"), "::/")
    with open(path, "r+b") as f:
        d = bytearray(f.read())
        bps, _, rsv, nfats, nroot = struct.unpack_from("<HBHBH", d, 11)
        fat_size = struct.unpack_from("<H", d, 22)[0]
        root = (rsv + nfats * fat_size) * bps
        first = {}
        for i in range(nroot):
            e = d[root + 32 * i:root + 32 * i + 32]
            first[bytes(e[:11])] = struct.unpack_from("<H", e, 26)[0]

        def chain(c):
            out = []
            while c < 0xFFF8:
                out.append(c)
                c = struct.unpack_from("<H", d, rsv * bps + 2 * c)[0]
            return out
        cx, cy = chain(first[b"X       BIN"]), chain(first[b"Y       BIN"])
        for k in range(nfats):
            fat = (rsv + k * fat_size) * bps
            struct.pack_into("<H", d, fat + 2 * cy[3], cx[4])
            for c in cy[4:]:
                struct.pack_into("<H", d, fat + 2 * c, 0)
        f.seek(0)
        f.write(d)


def test_fsck_repair():
    # fsck --repair cuts y.bin to its own 2 KiB; the live sitemap (and the cached blocks of
    # the 8 KiB it read before) must not be served afterwards.
    x, y = os.urandom(8192), os.urandom(8192)
    img = os.path.join(TMP, "xlink.img")
    cross_linked_image(img, x, y)
    with Machine(disk=img) as m:
        m.wait_prompt()
        m.cmd("sitemap")
        out = m.cmd("sha256sum /y.bin")
        check_in(hashlib.sha256(y[:2048] + x[2048:]).hexdigest(), out,
                 "cross-linked y.bin reads through x.bin's clusters before the repair")
        check_in("repaired", m.cmd("fsck --repair"), "fsck --repair cuts y.bin")
        want = hashlib.sha256(y[:2048]).hexdigest()
        check_in(want, m.cmd("sha256sum /y.bin"),
                 "after fsck --repair sha256sum reads the repaired file, not cached blocks")
        out, got = sums(m, "/y.bin")
        check(got == [(want, "/y.bin")], "a program reads the repaired file too", out)
        out = m.cmd("sitemap")
        check_in("(full build)", out, "the sitemap is built again after fsck --repair")
        m.poweroff()
    _, host = sh(os.path.join(BUILD, "fatimg"), img, "sitemap")
    check(re.search(r"^root (\w+)", out, re.M) and re.search(r"^root (\w+)", host, re.M) and
          re.search(r"^root (\w+)", out, re.M).group(1) ==
          re.search(r"^root (\w+)", host, re.M).group(1),
          "the OS's root after the repair is the host's", out + host)


def main():
    try:
        setup()
        run(test_hotcache, test_fsck_repair)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
