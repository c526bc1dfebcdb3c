#!/usr/bin/env python3
"""tests/qemu/test_nvme_errors.py: the NVMe driver when the device misbehaves.

  - media errors: QEMU's blkdebug driver fails reads of one region (`read_aio` with EIO);
    the driver must report an unrecovered read error clearly, the shell must keep working
    and I/O elsewhere must still succeed;
  - retry: an error injected once (blkdebug once=on) has DNR=0, so the driver retries the
    command, logs the retry, and the read succeeds with the right data;
  - timeouts: a throttle group slows one controller's disk so a 64 KiB read outlasts the
    driver's (shortened) timeout; the driver must reset the controller, resubmit, and
    succeed with a bounded number of resets, with correct data;
  - durability across a reset: writes that time out, are resubmitted by the reset, then a
    flush: the flush may only report success once it covers the resubmitted writes (the
    log says so), and the host finds the data in the image.
QEMU's NVMe error trace may only show what the test injected."""

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
BAD_SECTOR = 4096     # 512-byte sectors; blkdebug fails reads touching it
ONCE_SECTOR = 6000    # blkdebug fails the first read touching it, once
FILL_LBA, FILL_COUNT, FILL_SEED = 1024, 160, 9   # written through resets on the slow disk


def check(cond, name, why=""):
    print(("ok " if cond else "not ok ") + name + ("" if cond or not why else ": " + why))
    sys.stdout.flush()
    return cond


def main():
    tmp = tempfile.mkdtemp(prefix="nvme-err-")
    trace = os.path.join(tmp, "trace.log")
    try:
        img0 = os.path.join(tmp, "media.img")
        img1 = os.path.join(tmp, "slow.img")
        pat.make_image(img0, 8 * MIB, 512, 7)
        pat.make_image(img1, 4 * MIB, 512, 8)
        conf = os.path.join(tmp, "blkdebug.conf")
        with open(conf, "w") as f:
            f.write('[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "%d"\n' % BAD_SECTOR)
            f.write('[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "%d"\nonce = "on"\n'
                    % ONCE_SECTOR)
        disks = [
            ["-drive", "if=none,id=d0,format=raw,file=blkdebug:%s:%s" % (conf, img0),
             "-device", "nvme,id=c0,serial=ERR0,drive=d0"],
            ["-object", "throttle-group,id=tg0,x-bps-total=81920",
             "-blockdev", "driver=file,node-name=f1,filename=%s" % img1,
             "-blockdev", "driver=throttle,node-name=t1,throttle-group=tg0,file=f1",
             "-device", "nvme,id=c1,serial=SLOW1,drive=t1"],
        ]
        with vmachine.Machine(disks=disks, extra=pat.trace_args(trace)) as m:
            m.wait_prompt()
            out = m.cmd("nvme list")
            check("nvme0n1" in out and "nvme1n1" in out, "both controllers up", out)

            # Media error.
            out = m.cmd("disk read nvme0n1 %d 1" % BAD_SECTOR, timeout=30)
            check("unrecovered read error" in out and "I/O error" in out, "media error reported", out)
            out = m.cmd("disk sum nvme0n1 %d 16" % (BAD_SECTOR - 8), timeout=30)
            check("unrecovered read error" in out, "media error inside a larger read", out)
            out = m.cmd("uptime")
            check("up" in out, "shell still works", out)
            out = m.cmd("disk verify nvme0n1 7 0 4000", timeout=60)
            check(": ok" in out, "I/O after the media error succeeds", out)
            out = m.cmd("nvme list")
            check("resets 0" in out.split("nvme1")[0], "no reset for a media error", out)
            log = m.cmd("log")
            check(re.search(r"nvme0n1: read at LBA %d: .*unrecovered read error.*retry 3 of 3"
                            % BAD_SECTOR, log), "persistent media error retried 3 times", log[-800:])

            # A transient error (DNR=0): retried once, then the read succeeds.
            want = "%08x" % zlib.crc32(pat.blocks(ONCE_SECTOR - 4, 8, 512, 7))
            out = m.cmd("disk sum nvme0n1 %d 8" % (ONCE_SECTOR - 4), timeout=30)
            check(("crc32 " + want) in out, "read with a once-only error succeeds on retry", out)
            log = m.cmd("log")
            check(re.search(r"nvme0n1: read at LBA %d: .*retry 1 of 3" % (ONCE_SECTOR - 4), log)
                  and "retry 2 of 3" not in log.split("LBA %d" % (ONCE_SECTOR - 4))[-1],
                  "retry logged once", log[-800:])

            # Timeout, reset, resubmission.
            out = m.cmd("nvme timeout 300")
            check("300 ms" in out, "timeout set", out)
            out = m.cmd("disk verify nvme1n1 8 0 128", timeout=120)
            check(": ok" in out, "slow read completes after recovery", out)
            log = m.cmd("log")
            resets = len(re.findall(r"nvme1: .*timed out.*resetting", log))
            check(1 <= resets <= 3, "timeout led to 1..3 resets", "%d resets:\n%s" % (resets, log[-1500:]))
            check("controller back" in log, "controller recovered", log[-800:])

            # Writes in flight across a reset, then a flush (disk fill ends with one).  The
            # throttle lets one request through at once and makes the next wait for the
            # bytes before it, so a 64 KiB read first makes the fill's first write time out.
            m.cmd("disk sum nvme1n1 0 128", timeout=60)
            out = m.cmd("disk fill nvme1n1 %d %d %d --force" % (FILL_LBA, FILL_COUNT, FILL_SEED),
                        timeout=120)
            check(out.count(": ok") == 2, "writes through a reset, flush, read back", out)
            log2 = m.cmd("log")
            check(re.search(r"nvme1: .*\(write LBA %d\) timed out.*resetting" % FILL_LBA, log2), "a write timed out", log2[-1500:])
            check("nvme1n1: flush after the controller reset covers every resubmitted write" in log2,
                  "flush reported only once it covers the resubmitted writes", log2[-1500:])
            out = m.cmd("nvme timeout 3000")
            out = m.cmd("disk read nvme1n1 0 1", timeout=60)
            check(out.startswith("00000000  00 00"), "I/O after recovery", out[:200])
            check(m.poweroff() == 0, "poweroff")
        bad = pat.first_mismatch(img1, FILL_LBA, FILL_COUNT, 512, FILL_SEED)
        check(bad is None, "host reads the data written through the reset", "LBA %s" % bad)
        lines = pat.trace_lines(trace, allowed=("pci_nvme_err_aio", "status 0x281 opc 0x2"))
        check(not lines, "QEMU reported only injected errors", "; ".join(lines[:5]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
