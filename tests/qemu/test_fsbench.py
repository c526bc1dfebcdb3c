#!/usr/bin/env python3
"""tests/qemu/test_fsbench.py: the FAT benchmark's plumbing, end to end (the figures
themselves are `make bench`'s business, never a test's).

A FAT32 image made by mkfs.fat holds a file written by mcopy; QEMU passes the fw_cfg file
that makes kernel/efi_fatbench.c read it through the firmware's own FAT driver before
ExitBootServices, whole and in 1 MiB Read calls.  In the shell, `fsbench` must then report
the file as contiguous, our reads and raw NVMe reads with the expected request counts
(one request for the whole file; one per 1 MiB), and the firmware's figure with a ratio on
both rows.  Without the fw_cfg file it must say that there is no firmware figure."""

import os
import random
import re
import shutil
import subprocess
import tempfile

import qtest
from qtest import check, check_in, vmachine

MIB = 1 << 20
FILE_MIB = 4
ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")
ROW_RE = r"%s\s+([\d.]+) MB/s\s+(\d+) req\s+([\d.]+) MB/s\s+(\d+) req\s+(\d+)%%(?:\s+([\d.]+) MB/s\s+([\d.]+)x)?"


def make_image(tmp):
    img = os.path.join(tmp, "fsbench.img")
    src = os.path.join(tmp, "BENCH.BIN")
    with open(src, "wb") as f:
        f.write(random.Random(7).randbytes(FILE_MIB * MIB))
    with open(img, "wb") as f:
        f.truncate(300 * MIB)   # FAT32 with 4 KiB clusters needs >= 65525 clusters
    subprocess.run(["mkfs.fat", "-F", "32", "-s", "8", img], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["mcopy", "-i", img, src, "::/BENCH.BIN"], check=True, env=ENV)
    return img


def rows(out):
    found = {}
    for label in ("whole file", "1024 KiB"):
        m = re.search(ROW_RE % label, out)
        found[label] = m.groups() if m else None
    return found


def test_with_firmware():
    tmp = tempfile.mkdtemp(prefix="fsbench-test-")
    try:
        img = make_image(tmp)
        with vmachine.Machine(disk=img, memory="512M",
                              extra=["-fw_cfg", "name=opt/velocity/fatbench,string=/BENCH.BIN"]) as m:
            m.wait_prompt()
            out = m.cmd("fsbench /bench.bin", timeout=300)
            check_in("contiguous on disk", out, "fsbench sees the mcopy'd file as contiguous")
            r = rows(out)
            whole, chunked = r["whole file"], r["1024 KiB"]
            check(whole is not None and chunked is not None, "both read sizes reported", out)
            if whole and chunked:
                check(whole[1] == "1" and whole[3] == "1", "whole file: one request each", out)
                check(chunked[1] == str(FILE_MIB) and chunked[3] == str(FILE_MIB),
                      "1 MiB reads: one request per MiB each", out)
                check(whole[5] is not None and chunked[5] is not None and
                      float(whole[5]) > 0 and float(chunked[5]) > 0 and
                      float(whole[6]) > 0 and float(chunked[6]) > 0,
                      "firmware figure and ratio on both rows", out)
            check_in("before ExitBootServices", out, "firmware figure explained")
            check(m.poweroff() == 0, "poweroff")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_without_firmware():
    tmp = tempfile.mkdtemp(prefix="fsbench-test-")
    try:
        img = make_image(tmp)
        with vmachine.Machine(disk=img, memory="512M") as m:
            m.wait_prompt()
            out = m.cmd("fsbench /BENCH.BIN", timeout=300)
            check_in("no firmware figure", out, "no firmware figure without the fw_cfg file")
            out = m.cmd("fsbench /nonexistent.bin")
            check_in("no such file", out, "fsbench of a missing file")
            check(m.poweroff() == 0, "poweroff (no firmware figure)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    qtest.run(test_with_firmware, test_without_firmware)
