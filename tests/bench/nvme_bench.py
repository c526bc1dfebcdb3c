#!/usr/bin/env python3
"""tests/bench/nvme_bench.py: `make bench` table for the NVMe driver.

Boots one machine whose NVMe disk (bootindex=1, so OVMF connects its own NVMe driver) holds
the test pattern, with the fw_cfg file that makes kernel/efi_bench.c time the firmware's
EFI_BLOCK_IO reads before ExitBootServices.  Then runs `disk bench` (which checks the data
on a first pass) with polled, adaptive and MSI-X completion, printing ours, the firmware's and
the ratio per row, doorbell writes per MiB, and the CPU cost: the share of the time the
CPU was not halted and that busy time per request.  One boot per QEMU disk backend
(io_uring where the host allows it, and the thread pool)."""

import os
import shutil
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "qemu"))
import vmachine  # noqa: E402
import nvme_pattern as pat  # noqa: E402

SEED = 5


def main():
    tmp = tempfile.mkdtemp(prefix="nvme-bench-")
    try:
        img = os.path.join(tmp, "bench.img")
        pat.make_image(img, 64 << 20, 512, SEED)
        # Once per disk backend (vmachine.aio_backends); the firmware is measured in each boot.
        for backend in vmachine.aio_backends():
            with vmachine.Machine(disk=img, memory="512M", aio_override=backend,
                                  extra=["-fw_cfg", "name=opt/velocity/bench,string=1"]) as m:
                m.wait_prompt(300)
                print("== NVMe: firmware (EFI_BLOCK_IO, before ExitBootServices) vs ours, same "
                      "boot, accel %s, disk aio %s" % (vmachine.accel(), backend))
                print(m.cmd("nvme list").rstrip())
                # Polled, adaptive (the default), then MSI-X only.
                for mode in ("poll", "adaptive", "irq"):
                    out = m.cmd("nvme mode " + mode)
                    if "no MSI-X" in out:
                        print("(%s: %s)" % (mode, out.strip()))
                        continue
                    print(m.cmd("disk bench nvme0n1 %d --firmware" % SEED, timeout=600).rstrip())
                print(m.cmd("nvme id").rstrip())
                m.poweroff()
            print()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
