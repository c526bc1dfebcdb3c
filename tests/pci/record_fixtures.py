#!/usr/bin/env python3
"""tests/pci/record_fixtures.py: (re)record the configuration-space dumps that the host unit
test (tests/pci/test_pci_decode.c) decodes.  Not run by `make test`; the fixtures it
writes are committed.

    python3 tests/pci/record_fixtures.py host    # this machine's /sys/bus/pci (needs root)
    python3 tests/pci/record_fixtures.py qemu    # QEMU devices, dumped by our own lspci -xxxx

A fixture is lspci's hex-dump format (so `lspci -F FILE` reads it too) preceded by comment
lines the test reads:
    # size BAR SIZE       the BAR's size, from the device's owner, not from our decoder:
                          Linux's sysfs `resource` file, or QEMU's `info pci`
    # size rom SIZE       the expansion ROM's size
    # space N             bytes of configuration space recorded (256, or 4096 = extended)
    # fill XX             the value of every byte after the last dump line (a trailing
                          run of all-00 or all-ff lines is dropped to keep fixtures small)"""

import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")


def trim(dump_lines):
    """Drop the run of identical all-00 or all-ff lines at the end, keeping at least the
    64-byte header; returns the lines and the byte the test reads in their place."""
    last = dump_lines[-1].split()[1:]
    fill = last[0] if last in (["00"] * 16, ["ff"] * 16) else "00"
    keep = len(dump_lines)
    while keep > 4 and dump_lines[keep - 1].split()[1:] == [fill] * 16:
        keep -= 1
    return dump_lines[:keep], fill


def write(name, source, sizes, header, dump_lines):
    space = 16 * len(dump_lines)
    dump_lines, fill = trim(dump_lines)
    os.makedirs(FIXTURES, exist_ok=True)
    with open(os.path.join(FIXTURES, name), "w") as f:
        f.write("# %s\n" % source)
        for bar, size in sizes:
            f.write("# size %s %#x\n" % (bar, size))
        f.write("# space %d\n# fill %s\n" % (space, fill))
        f.write(header + "\n")
        f.write("\n".join(dump_lines) + "\n")
    print("wrote", name)


def record_host():
    for dev in sorted(glob.glob("/sys/bus/pci/devices/*")):
        addr = os.path.basename(dev)
        with open(os.path.join(dev, "config"), "rb") as f:
            data = f.read()
        sizes = []
        with open(os.path.join(dev, "resource")) as f:
            for i, line in enumerate(f):
                start, end, flags = (int(x, 16) for x in line.split())
                if end and i < 6:
                    sizes.append((str(i), end - start + 1))
                elif end and i == 6:
                    sizes.append(("rom", end - start + 1))
        vendor = data[0] | data[1] << 8
        device = data[2] | data[3] << 8
        name = "host-%04x-%04x.txt" % (vendor, device)
        lines = []
        for off in range(0, len(data), 16):
            lines.append("%02x: %s" % (off, " ".join("%02x" % b for b in data[off:off + 16])))
        write(name, "recorded from %s/config on the build host; sizes from its resource file" % dev,
              sizes, addr[5:] + " recorded", lines)


def record_qemu():
    sys.path.insert(0, os.path.join(HERE, "..", "qemu"))
    import tempfile
    import test_pci
    from qtest import vmachine
    tmp = tempfile.mkdtemp(prefix="pci-fixtures-")
    with vmachine.Machine(disks=test_pci.topology(tmp)) as m:
        m.wait_prompt()
        truth = test_pci.parse_info_pci(m.hmp("info pci"))
        dump = m.cmd("lspci -xxxx", timeout=120)
        m.poweroff()
    for block in re.split(r"\n\s*\n", dump.strip()):
        lines = block.strip().splitlines()
        mm = re.match(r"([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) ", lines[0])
        loc = tuple(int(x, 16) for x in mm.groups())
        q = truth[loc]
        sizes = [("rom" if i == 6 else str(i), b["size"]) for i, b in sorted(q["bars"].items())]
        name = "qemu-%02x.%02x.%x-%04x-%04x.txt" % (loc + (q["vendor"], q["device"]))
        write(name, "QEMU 7.2 q35 (tests/qemu/test_pci.py topology), dumped by VELOCITY-OS "
                    "`lspci -xxxx`; sizes from QEMU's info pci", sizes, lines[0], lines[1:])


if __name__ == "__main__":
    what = sys.argv[1:] or ["host", "qemu"]
    if "host" in what:
        record_host()
    if "qemu" in what:
        record_qemu()
