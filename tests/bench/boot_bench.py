#!/usr/bin/env python3
"""`make bench`: the boot-time breakdown and the memory footprint, as a table.

Boots the default machine three times and prints the median of each phase (the machine is
shared and noisy; the median of a few runs is steadier than one)."""

import os
import re
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import vmachine  # noqa: E402

RUNS = int(os.environ.get("BOOT_BENCH_RUNS", "3"))


def one_boot():
    with vmachine.Machine() as m:
        m.wait_prompt()
        out = m.cmd("version")
        mem = m.cmd("mem")
        m.poweroff()
    phases = {}
    for name, us in re.findall(r"boot-phase (.+?)\s+(\d+) us", out):
        phases[name.strip()] = int(us)
    facts = {
        "image-size": int(re.search(r"image-size (\d+)", out).group(1)),
        "os-memory": int(re.search(r"os-memory (\d+)", out).group(1)),
    }
    return phases, facts, mem


def main():
    runs = [one_boot() for _ in range(RUNS)]
    efi = os.path.getsize(os.path.join(vmachine.BUILD, "BOOTX64.EFI"))
    print("VELOCITY-OS boot time (median of %d boots, accel=%s)" % (RUNS, vmachine.accel()))
    print("%-44s %12s" % ("phase", "time"))
    for name in runs[0][0]:
        vals = [r[0].get(name, 0) for r in runs]
        med = statistics.median(vals)
        unit = "%10.3f ms" % (med / 1000.0)
        print("%-44s %12s" % (name, unit))
    total = statistics.median(r[0]["kernel total (efi_main to prompt)"] for r in runs) / 1000.0
    print("%-44s %12s" % ("goal: kernel total under 50 ms", "met" if total < 50 else "NOT MET"))
    print()
    print("VELOCITY-OS footprint")
    print("%-44s %12s" % ("item", "size"))
    print("%-44s %9.1f KiB" % ("BOOTX64.EFI file (goal < 256 KiB)", efi / 1024.0))
    print("%-44s %9.1f KiB" % ("image loaded in memory (incl. bss)", runs[0][1]["image-size"] / 1024.0))
    print("%-44s %9.1f KiB" % ("memory in use by the OS at the prompt (goal < 4 MiB)",
                               statistics.median(r[1]["os-memory"] for r in runs) / 1024.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
