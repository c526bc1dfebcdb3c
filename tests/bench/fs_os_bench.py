#!/usr/bin/env python3
"""tests/bench/fs_os_bench.py: `make bench` table for the FAT filesystem inside the OS.

Makes a FAT32 disk image (mkfs.fat, 4 KiB clusters) holding one 32 MiB file of random bytes
(mcopy), boots it as the NVMe disk with the fw_cfg file that makes kernel/efi_fatbench.c
read that file through the firmware's own FAT driver (EFI_SIMPLE_FILE_SYSTEM_PROTOCOL,
before ExitBootServices), then runs `fsbench` in our shell: ours (fat_read) against raw
NVMe reads (blk_read) of the same sectors in the same request sizes, and the firmware's
figure with the ratio.  Polled, adaptive and MSI-X completion; one boot per QEMU disk
backend (io_uring where the host allows it, and the thread pool).  Also checks the data: the
file's SHA-256 in the OS must equal the host's."""

import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import vmachine  # noqa: E402

FILE_MIB = 32
ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")


def main():
    tmp = tempfile.mkdtemp(prefix="fs-os-bench-")
    try:
        img = os.path.join(tmp, "fsbench.img")
        data_path = os.path.join(tmp, "BENCH.BIN")
        data = random.Random(32).randbytes(FILE_MIB << 20)
        with open(data_path, "wb") as f:
            f.write(data)
        with open(img, "wb") as f:
            f.truncate(300 << 20)   # FAT32 with 4 KiB clusters needs >= 65525 clusters
        subprocess.run(["mkfs.fat", "-F", "32", "-s", "8", "-n", "FSBENCH", img], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["mcopy", "-i", img, data_path, "::/BENCH.BIN"], check=True, env=ENV)
        # Once per disk backend (vmachine.aio_backends); the firmware is measured in each boot.
        for backend in vmachine.aio_backends():
            with vmachine.Machine(disk=img, memory="512M", aio_override=backend,
                                  extra=["-fw_cfg", "name=opt/velocity/fatbench,string=/BENCH.BIN"]) as m:
                m.wait_prompt(300)
                print("== FAT in the OS: %d MiB file, firmware FAT driver vs ours vs raw NVMe, "
                      "same boot, accel %s, disk aio %s" % (FILE_MIB, vmachine.accel(), backend))
                print(m.cmd("mount").rstrip())
                out = m.cmd("sha256sum /BENCH.BIN", timeout=300)
                ok = out.startswith(hashlib.sha256(data).hexdigest())
                print("data check (SHA-256 in the OS = host): %s" % ("ok" if ok else "MISMATCH: " + out))
                for mode in ("poll", "adaptive", "irq"):
                    print("-- NVMe " + m.cmd("nvme mode " + mode).strip())
                    print(m.cmd("fsbench /BENCH.BIN", timeout=600).rstrip())
                m.poweroff()
            print()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
