#!/usr/bin/env python3
"""tests/qemu/test_nvme.py: the NVMe driver against every controller shape QEMU offers, in
one machine: five controllers (MDTS 0/unlimited, 1, 2, 5, 7; 64, 1 and 2 I/O queue pairs),
one to four namespaces each, 512- and 4096-byte blocks.  Data is checked both ways: the
host writes a pattern into every image and the driver verifies it in many transfer shapes
(1, 2, 512, 513, >513 PRP entries, buffers mid-page, 48 commands in flight); the driver
writes patterns and a text block and the host compares the image files byte for byte.
A second machine (limits()) has MDTS 52/64/200, ten namespaces with nsid gaps, ten
controllers and 512 KiB namespaces, and gives the shell numbers too large for 64 bits.
QEMU's own NVMe error/undefined-behaviour trace must stay empty."""

import os
import re
import shutil
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmachine  # noqa: E402
import nvme_pattern as pat  # noqa: E402

MIB = 1 << 20


def interrupts(id_out):
    """Total MSI-X interrupts of a controller's I/O queues, from `nvme id N`."""
    return sum(int(n) for n in re.findall(r"(\d+) interrupts", id_out))


def check(cond, name, why=""):
    print(("ok " if cond else "not ok ") + name + ("" if cond or not why else ": " + why))
    sys.stdout.flush()
    return cond


# controller: (id, nvme options, [(nsid, size, block size, seed)])
CTRLS = [
    ("c0", "mdts=0,max_ioqpairs=64", [(1, 16 * MIB, 512, 11), (2, 16 * MIB, 4096, 12)]),
    ("c1", "mdts=1,max_ioqpairs=1", [(1, 4 * MIB, 4096, 21)]),
    ("c2", "mdts=2,max_ioqpairs=2", [(n, 2 * MIB, 512, 30 + n) for n in (1, 2, 3, 4)]),
    ("c3", "mdts=5", [(1, 4 * MIB, 4096, 41)]),
    ("c4", "mdts=7", [(1, 8 * MIB, 512, 51)]),
]
# Writes by the driver: (device, lba, count, seed) -- shapes cover >512 PRP entries on c0.
FILLS = [("nvme0n2", 100, 700, 99), ("nvme1n1", 10, 50, 98), ("nvme2n3", 5, 300, 97),
         ("nvme3n1", 3, 200, 96), ("nvme4n1", 1000, 5000, 95)]
TEXT = ("nvme4n1", 7, "hello from velocity")


def main():
    tmp = tempfile.mkdtemp(prefix="nvme-test-")
    trace = os.path.join(tmp, "trace.log")
    try:
        disks, images = [], {}
        for ci, (cid, opts, nss) in enumerate(CTRLS):
            disks.append(["-device", "nvme,id=%s,serial=VT%d,%s" % (cid, ci, opts)])
            for nsid, size, ss, seed in nss:
                img = os.path.join(tmp, "%s-%d.img" % (cid, nsid))
                pat.make_image(img, size, ss, seed)
                images["nvme%dn%d" % (ci, nsid)] = (img, size, ss, seed)
                disks.append(["-drive", "if=none,id=%s%d,format=raw,file=%s" % (cid, nsid, img),
                              "-device", "nvme-ns,drive=%s%d,bus=%s,nsid=%d,logical_block_size=%d,"
                              "physical_block_size=%d" % (cid, nsid, cid, nsid, ss, ss)])
        # A sixth controller whose namespace has 8 KiB blocks, which lib/blkdev.h does not
        # take: the driver must leave it out and say why.
        big = os.path.join(tmp, "lba8k.img")
        with open(big, "wb") as f:
            f.truncate(4 * MIB)
        disks.append(["-device", "nvme,id=c5,serial=VT5",
                      "-drive", "if=none,id=c51,format=raw,file=%s" % big,
                      "-device", "nvme-ns,drive=c51,bus=c5,nsid=1,logical_block_size=8192,"
                      "physical_block_size=8192"])
        with vmachine.Machine(disks=disks, extra=pat.trace_args(trace), memory="512M") as m:
            m.wait_prompt()
            out = m.cmd("log")
            check("nvme5: namespace 1: LBA format" in out and "(8192-byte blocks, 0 bytes metadata) "
                  "not supported" in out, "8 KiB-block namespace refused with the reason", out[-600:])
            out = m.cmd("nvme list")
            check("nvme5n1" not in out, "8 KiB-block namespace not listed", out)
            check("completion adaptive" in out, "adaptive completion by default", out)
            for name, (img, size, ss, seed) in images.items():
                check("%s " % name in out and "x %d B" % ss in out, "list shows %s" % name, out)
            check("MDTS 1)" in out and "1 I/O queue x" in out, "list shows mdts 1 and one queue pair", out)
            check("max transfer 3072 KiB (MDTS 0)" in out, "unlimited MDTS capped at 3 MiB", out)
            check("takeover to first completed read" in out, "first-read time reported", out)
            out = m.cmd("nvme id 0")
            check("MQES" in out and "queue 1" in out, "nvme id", out)

            # Host -> driver: verify every namespace in all transfer shapes, with MSI-X
            # completion (every wait halts on the interrupt).
            out = m.cmd("nvme mode irq")
            check("irq (MSI-X)" in out, "switch to MSI-X completion", out)
            for name, (img, size, ss, seed) in images.items():
                out = m.cmd("disk verify %s %d" % (name, seed), timeout=120)
                check(": ok" in out, "verify %s (%d-byte blocks)" % (name, ss), out.strip())
            # Checksums agree with the host's.
            for name in ("nvme0n1", "nvme1n1"):
                img, size, ss, seed = images[name]
                n = min(size // ss, 2048)
                with open(img, "rb") as f:
                    want = zlib.crc32(f.read(n * ss))
                out = m.cmd("disk sum %s 0 %d" % (name, n))
                check("crc32 %08x" % want in out, "checksum %s" % name, out.strip())
            out = m.cmd("disk read nvme0n1 3 1")
            check(out.startswith("00000600  03 00 00 00 00 00 00 00  0b 00"), "hexdump", out[:200])
            out = m.cmd("disk read nvme0n1 %d 1" % (16 * MIB // 512))
            check("outside" in out, "read past the end refused", out)
            out = m.cmd("disk write %s %d %s" % TEXT)
            check("--force" in out, "write without --force refused", out)

            # Driver -> host, with adaptive completion (the default; most other suites
            # run on it too): the 2 MiB+ shapes wait on MSI-X, the small transfers poll
            # (the vector's mask flips between them).  Then polled completion only.
            out = m.cmd("nvme mode adaptive")
            check("adaptive (poll while at most 1024 KiB" in out, "switch to adaptive completion", out)
            irqs_before = interrupts(m.cmd("nvme id 4"))
            for dev, lba, count, seed in FILLS:
                out = m.cmd("disk fill %s %d %d %d --force" % (dev, lba, count, seed), timeout=120)
                check(out.count(": ok") == 2, "fill %s" % dev, out.strip())
            out = m.cmd("disk write %s %d --force %s" % TEXT)
            check("wrote 1 block" in out, "write text", out)
            irqs = interrupts(m.cmd("nvme id 4")) - irqs_before
            check(irqs > 0, "adaptive mode took interrupts for the deep fills", "%d" % irqs)
            out = m.cmd("nvme mode poll")
            check("completion: poll" in out, "switch to polled completion", out)
            irqs_before = interrupts(m.cmd("nvme id 4"))
            for dev, lba, count, seed in FILLS[-1:]:
                out = m.cmd("disk verify %s %d %d %d" % (dev, seed, lba, count), timeout=120)
                check(": ok" in out, "polled verify of %s's fill" % dev, out.strip())
            irqs = interrupts(m.cmd("nvme id 4")) - irqs_before
            check(irqs == 0, "polled mode took no interrupts", "%d" % irqs)
            out = m.cmd("nvme list")
            check(" errors 0" in out and "resets 0" in out, "no errors or resets", out)
            check(m.poweroff() == 0, "poweroff")

        filled = {}
        for dev, lba, count, seed in FILLS:
            filled[dev] = (lba, count, seed)
        for name, (img, size, ss, seed) in images.items():
            lba, count, fseed = filled.get(name, (0, 0, 0))
            bad = None
            if count:
                bad = pat.first_mismatch(img, lba, count, ss, fseed)
                check(bad is None, "host sees %s's fill" % name, "first bad LBA %s" % bad)
            # Everything else is untouched (no stray writes).
            rest = [(0, lba), (lba + count, size // ss - lba - count)]
            if name == TEXT[0]:
                rest = [(0, TEXT[1]), (TEXT[1] + 1, lba - TEXT[1] - 1), (lba + count, size // ss - lba - count)]
            bad = None
            for a, n in rest:
                bad = bad or pat.first_mismatch(img, a, n, ss, seed)
            check(bad is None, "host sees the rest of %s unchanged" % name, "first bad LBA %s" % bad)
        img, size, ss, seed = images[TEXT[0]]
        with open(img, "rb") as f:
            f.seek(TEXT[1] * ss)
            blk = f.read(ss)
        text = (TEXT[2] + " ").encode()
        check(blk == (text * (ss // len(text) + 1))[:ss], "host sees the text block")
        lines = pat.trace_lines(trace)
        check(not lines, "QEMU reported no NVMe errors", "; ".join(lines[:5]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# Limits: MDTS beyond any sane shift, more namespaces and controllers than the driver's
# tables hold (nsid gaps too), a namespace smaller than the benchmark's largest request,
# numbers too large for 64 bits.
LIMIT_NSIDS = (1, 2, 3, 5, 6, 7, 8, 9, 11, 12)   # ten, with gaps: 11 and 12 do not fit
LIMIT_MDTS = (52, 64, 200)


def limits():
    tmp = tempfile.mkdtemp(prefix="nvme-limits-")
    trace = os.path.join(tmp, "trace.log")
    try:
        disks, images = [["-device", "nvme,id=many,serial=MANY"]], {}
        for nsid in LIMIT_NSIDS:
            img = os.path.join(tmp, "ns%d.img" % nsid)
            pat.make_image(img, 512 << 10, 512, 70 + nsid)
            images["nvme0n%d" % nsid] = (img, 70 + nsid)
            disks.append(["-drive", "if=none,id=n%d,format=raw,file=%s" % (nsid, img),
                          "-device", "nvme-ns,drive=n%d,bus=many,nsid=%d" % (nsid, nsid)])
        for ci, mdts in enumerate(LIMIT_MDTS):
            img = os.path.join(tmp, "mdts%d.img" % mdts)
            pat.make_image(img, 4 * MIB, 512, 60 + ci)
            images["nvme%dn1" % (ci + 1)] = (img, 60 + ci)
            disks.append(["-drive", "if=none,id=m%d,format=raw,file=%s" % (ci, img),
                          "-device", "nvme,serial=MDTS%d,mdts=%d,drive=m%d" % (mdts, mdts, ci)])
        for ci in range(4, 10):   # ten controllers in all
            disks.append(["-device", "nvme,serial=EXTRA%d" % ci])
        with vmachine.Machine(disks=disks, extra=pat.trace_args(trace), memory="512M") as m:
            m.wait_prompt()
            log = m.cmd("log")
            out = m.cmd("nvme list")
            # 2^MDTS pages is far above the driver's 3 MiB cap (MDTS 52 overflowed to 0 and
            # dropped the namespace).  No I/O on them: QEMU 7.2 checks MDTS with a 32-bit
            # shift, so from MDTS 20 on it refuses transfers itself.
            for ci, mdts in enumerate(LIMIT_MDTS):
                check(re.search(r"max transfer 3072 KiB \(MDTS %d\)" % mdts, out) and
                      "nvme%dn1 " % (ci + 1) in out, "MDTS %d: 3 MiB cap, namespace attached" % mdts,
                      out[:2500])
            attached = ["nvme0n%d" % n for n in LIMIT_NSIDS[:8]]
            check(all(n + " " in out for n in attached) and "nvme0n11" not in out and
                  "nvme0n12" not in out, "nsid gaps: the first eight namespaces attached", out)
            check("nvme0: 2 namespaces from nsid 11 on not attached (at most 8 per controller)" in log,
                  "namespaces beyond the table are reported", log[-1500:])
            check(len(re.findall(r"nvme: controller at [0-9a-f:.]+ not used \(at most 8 controllers\)",
                                 log)) == 2, "controllers beyond the table are reported", log[-1500:])
            check("512 KiB  1024 blocks" in out, "a 512 KiB namespace is listed as 512 KiB", out)
            out = m.cmd("disk verify nvme0n9 79")
            check(": ok" in out, "verify the namespace after an nsid gap", out)
            for big in ("18446744073709551616", "0x10000000000000001", "99999999999999999999"):
                out = m.cmd("disk read nvme0n1 %s 1" % big)
                check(out.startswith("usage"), "LBA %s refused, not wrapped" % big, out[:300])
            out = m.cmd("disk write nvme0n2 18446744073709551616 --force oops")
            check(out.startswith("usage"), "disk write to a wrapped LBA refused", out)
            out = m.cmd("nvme id 4294967296")
            check("no controller 4294967296" in out, "nvme id 2^32 is not nvme0", out[:300])
            out = m.cmd("disk bench nvme0n1 71", timeout=600)
            check("CPU exception" not in out and "rand 4 KiB QD32" in out and "seq 1 MiB" not in out,
                  "bench of a disk smaller than 1 MiB skips the rows that do not fit", out)
            check(m.poweroff() == 0, "limits: poweroff")
        for name, (img, seed) in images.items():
            size = os.path.getsize(img)
            bad = pat.first_mismatch(img, 0, size // 512, 512, seed)
            check(bad is None, "limits: %s unchanged" % name, "first bad LBA %s" % bad)
        # The boot-time probes read the MDTS controllers' first blocks (see above).
        lines = pat.trace_lines(trace, allowed=("pci_nvme_err_mdts", "status 0x4002 opc 0x2"))
        check(not lines, "limits: QEMU reported no other NVMe errors", "; ".join(lines[:5]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    limits()
