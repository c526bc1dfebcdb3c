#!/usr/bin/env python3
"""PCI enumeration against QEMU's own report of the same machine.

Three machines: a non-trivial q35 topology (NVMe controllers on the root bus and behind a
pcie-root-port, a pcie-pci-bridge with a device behind it, a multi-function device, virtio
devices, 64-bit prefetchable BARs, an option ROM, a second root bus behind a pxb-pcie
expander), scanned through ECAM and then again
through the legacy 0xCF8 mechanism (`pci rescan --legacy`); the default `make run`
machine; and an i440fx (`-machine pc`) machine, which has no MCFG, so the kernel must
fall back to 0xCF8 by itself.

The truth is QEMU: `info pci` over QMP's human-monitor-command gives every function with
its ids, class, interrupt pin and BARs (address, size, kind); `query-pci` gives the class
number where `info pci` prints a description; revision, prog-if and the multi-function
bit are read by the monitor's own port I/O (`o`/`i` on 0xCF8/0xCFC), never by the guest.
Every function QEMU reports must be found with the same values, and nothing extra.

The names, `lspci -v` capability lists and `lspci -t` tree are checked against the real
pciutils: the guest's `lspci -xxx` dump is fed to the host's `lspci -F`."""

import os
import re
import shutil
import subprocess
import tempfile

from qtest import check, run, vmachine

Machine = vmachine.Machine
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNMAPPED = 0xffffffffffffffff

CONFIG_ENABLE = 0x80000000
CMD_IO, CMD_MEM = 1, 2


# ---- QEMU's view ---------------------------------------------------------------------

def parse_info_pci(text):
    """{(bus, dev, fn): {...}} from HMP `info pci`."""
    funcs = {}
    cur = None
    for line in text.replace("\r", "").split("\n"):
        m = re.match(r"\s*Bus\s+(\d+), device\s+(\d+), function (\d+):", line)
        if m:
            cur = {"bars": {}, "pin": 0, "irq": None}
            funcs[tuple(int(x) for x in m.groups())] = cur
            continue
        if cur is None:
            continue
        s = line.strip()
        m = re.match(r"(.*): PCI device ([0-9a-f]{4}):([0-9a-f]{4})$", s)
        if m:
            cur["class_text"] = m.group(1)
            cur["vendor"], cur["device"] = int(m.group(2), 16), int(m.group(3), 16)
            continue
        m = re.match(r"PCI subsystem ([0-9a-f]{4}):([0-9a-f]{4})$", s)
        if m:
            cur["sub"] = (int(m.group(1), 16), int(m.group(2), 16))
            continue
        m = re.match(r"IRQ (\d+), pin ([A-D])$", s)
        if m:
            cur["irq"], cur["pin"] = int(m.group(1)), ord(m.group(2)) - ord("A") + 1
            continue
        m = re.match(r"secondary bus (\d+)\.$", s)
        if m:
            cur["secondary"] = int(m.group(1))
            continue
        m = re.match(r"subordinate bus (\d+)\.$", s)
        if m:
            cur["subordinate"] = int(m.group(1))
            continue
        m = re.match(r"BAR(\d): (I/O|32 bit|64 bit)( prefetchable)?( memory)? at 0x([0-9a-f]+) \[0x([0-9a-f]+)\]\.$", s)
        if m:
            addr, end = int(m.group(5), 16), int(m.group(6), 16)
            kind = {"I/O": "io", "32 bit": "mem32", "64 bit": "mem64"}[m.group(2)]
            cur["bars"][int(m.group(1))] = {"kind": kind, "pref": bool(m.group(3)), "addr": addr,
                                            "size": (end - addr + 1) & UNMAPPED}
    return funcs


def query_pci_classes(m):
    """{(bus, dev, fn): (class number, description or None)} from QMP query-pci."""
    out = {}

    def walk(devs):
        for d in devs:
            out[(d["bus"], d["slot"], d["function"])] = (d["class_info"]["class"], d["class_info"].get("desc"))
            br = d.get("pci_bridge")
            if br:
                walk(br.get("devices", []))

    for bus in m.qmp("query-pci"):
        walk(bus["devices"])
    return out


def port_config_read(m, bus, dev, fn, off):
    """A configuration dword read by the QEMU monitor itself (mechanism #1)."""
    m.hmp("o /w 0xcf8 %#x" % (CONFIG_ENABLE | bus << 16 | dev << 11 | fn << 8 | off))
    r = m.hmp("i /w 0xcfc")
    return int(re.search(r"= (0x[0-9a-f]+)", r).group(1), 16)


def qemu_truth(m):
    funcs = parse_info_pci(m.hmp("info pci"))
    classes = query_pci_classes(m)
    for loc, f in funcs.items():
        num, desc = classes.get(loc, (None, None))
        mm = re.match(r"Class (\d+)$", f.get("class_text", ""))
        # info pci prints unnamed classes in decimal; named ones must match query-pci's.
        if mm:
            f["class"] = int(mm.group(1))
        elif desc == f.get("class_text"):
            f["class"] = num
        else:
            f["class"] = None
        d8 = port_config_read(m, *loc, 0x08)
        f["rev"], f["progif"] = d8 & 0xff, (d8 >> 8) & 0xff
        f["class_port"] = d8 >> 16
        f["header"] = (port_config_read(m, *loc, 0x0c) >> 16) & 0xff
    return funcs


# ---- our view ------------------------------------------------------------------------

def parse_pci_list(text):
    """{(bus, dev, fn): {...}} from `pci list`; also returns the access mechanism."""
    funcs = {}
    access = None
    for line in text.splitlines():
        m = re.match(r"access=(\w+) count=(\d+)", line)
        if m:
            access = m.group(1)
            continue
        m = re.match(r"([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) ([0-9a-f]{4}):([0-9a-f]{4}) (.*)$", line)
        if not m:
            continue
        f = {"vendor": int(m.group(5), 16), "device": int(m.group(6), 16), "bars": {}}
        for tok in m.group(7).split():
            k, _, v = tok.partition("=")
            if k.startswith("bar") or k == "rom":
                parts = v.split(",")
                if k == "rom":
                    f["bars"][6] = {"kind": "mem32", "pref": False, "on": parts[0] == "on",
                                    "addr": int(parts[1], 16), "size": int(parts[2], 16)}
                else:
                    f["bars"][int(k[3:])] = {"kind": parts[0].rstrip("p"), "pref": parts[0].endswith("p"),
                                             "addr": int(parts[1], 16), "size": int(parts[2], 16)}
            else:
                f[k] = v
        funcs[(int(m.group(2), 16), int(m.group(3), 16), int(m.group(4), 16))] = f
    return access, funcs


def compare(tag, qemu, ours):
    """Every function QEMU reports, found with the same values; nothing extra."""
    fmt = lambda loc: "%02x:%02x.%x" % loc
    missing = sorted(set(qemu) - set(ours))
    extra = sorted(set(ours) - set(qemu))
    check(not missing, "%s: every function QEMU reports is found (%d)" % (tag, len(qemu)),
          "missing " + ", ".join(map(fmt, missing)))
    check(not extra, "%s: nothing extra is found" % tag, "extra " + ", ".join(map(fmt, extra)))
    bad = []
    for loc in sorted(set(qemu) & set(ours)):
        q, o = qemu[loc], ours[loc]
        where = fmt(loc)
        cls = int(o["class"], 16)
        if (q["vendor"], q["device"]) != (o["vendor"], o["device"]):
            bad.append("%s ids %04x:%04x, QEMU %04x:%04x" % (where, o["vendor"], o["device"], q["vendor"], q["device"]))
        if q["class"] != cls >> 8 or q["class_port"] != cls >> 8:
            bad.append("%s class %04x, QEMU %s (%r)" % (where, cls >> 8, q["class"], q.get("class_text")))
        if q["progif"] != cls & 0xff or q["rev"] != int(o["rev"], 16):
            bad.append("%s prog-if/rev %02x/%s, QEMU %02x/%02x" % (where, cls & 0xff, o["rev"], q["progif"], q["rev"]))
        if q["header"] & 0x7f != int(o["hdr"]) or (loc[2] == 0 and bool(q["header"] & 0x80) != (o["mf"] == "1")):
            bad.append("%s header %s mf %s, QEMU %02x" % (where, o["hdr"], o["mf"], q["header"]))
        if "sub" in q and q["sub"] != tuple(int(x, 16) for x in o.get("sub", "0:0").split(":")):
            bad.append("%s subsystem %s, QEMU %04x:%04x" % (where, o.get("sub"), *q["sub"]))
        if q["pin"] != int(o["pin"]) or (q["irq"] is not None and q["irq"] != int(o["line"])):
            bad.append("%s pin/line %s/%s, QEMU %s/%s" % (where, o["pin"], o["line"], q["pin"], q["irq"]))
        if "secondary" in q:
            want = "%02x-%02x" % (q["secondary"], q["subordinate"])
            if o.get("bus") != want:
                bad.append("%s bridge buses %s, QEMU %s" % (where, o.get("bus"), want))
        cmd = int(o["cmd"], 16)
        for i in sorted(set(q["bars"]) | set(o["bars"])):
            qb, ob = q["bars"].get(i), o["bars"].get(i)
            if not qb or not ob:
                bad.append("%s BAR%d: ours %s, QEMU %s" % (where, i, ob, qb))
                continue
            if (qb["kind"], qb["pref"], qb["size"]) != (ob["kind"], ob["pref"], ob["size"]):
                bad.append("%s BAR%d: ours %s, QEMU %s" % (where, i, ob, qb))
            elif qb["addr"] == UNMAPPED:
                # QEMU maps nothing while decoding (or the ROM) is off: so must we say.
                on = ob.get("on", True) and bool(cmd & (CMD_IO if ob["kind"] == "io" else CMD_MEM))
                if on:
                    bad.append("%s BAR%d: QEMU has it unmapped, ours enabled at %#x" % (where, i, ob["addr"]))
            elif qb["addr"] != ob["addr"]:
                bad.append("%s BAR%d: ours at %#x, QEMU at %#x" % (where, i, ob["addr"], qb["addr"]))
    check(not bad, "%s: ids, class, prog-if, revision, header, interrupt, buses and BARs match" % tag,
          "; ".join(bad))


# ---- pciutils' view of our dumps -----------------------------------------------------

def pciutils(dump_text, *args):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(dump_text)
        path = f.name
    try:
        r = subprocess.run(["lspci", "-F", path] + list(args), capture_output=True, text=True, timeout=30)
        return r.stdout
    finally:
        os.unlink(path)


def blocks(text):
    """Split lspci-style output into per-function blocks keyed by the address."""
    out = {}
    for b in re.split(r"\n\s*\n", text.strip()):
        b = b.strip("\n")
        if b:
            out[b.split(" ", 1)[0]] = b
    return out


def check_against_pciutils(m, tag, dump_flag):
    dump = m.cmd("lspci " + dump_flag, timeout=120)
    ours_lines = m.cmd("lspci").strip().splitlines()
    plain = pciutils(dump).strip().splitlines()
    nn = pciutils(dump, "-nn").strip().splitlines()
    # Our line: pciutils' class text (no number unless unnamed) + its "-nn" vendor/device.
    want = []
    for p, n in zip(plain, nn):
        head, _, _ = p.partition(": ")
        _, _, tail = n.partition(": ")
        want.append(head + ": " + tail)
    diff = [("ours: " + a, "pciutils: " + b) for a, b in zip(ours_lines, want) if a != b]
    check(len(ours_lines) == len(want) and not diff, "%s: lspci lines equal pciutils' on our dump" % tag,
          "%d vs %d lines; %s" % (len(ours_lines), len(want), diff[:4]))

    ours_v = blocks(m.cmd("lspci -v", timeout=120))
    theirs_v = blocks(pciutils(dump, "-v"))
    bad = []
    for addr, b in theirs_v.items():
        o = ours_v.get(addr, "")
        first_theirs, first_ours = b.splitlines()[0], o.splitlines()[0] if o else ""
        pi = re.search(r"\(prog-if [^)]*\)", first_theirs)
        if pi and pi.group(0) not in first_ours:
            bad.append("%s prog-if: %r vs %r" % (addr, first_ours, first_theirs))
        caps_t = re.findall(r"Capabilities: \[([0-9a-f]+)(?: v\d+)?\]", b)
        caps_o = re.findall(r"Capabilities: \[([0-9a-f]+)(?: v\d+)?\]", o)
        if caps_t != caps_o:
            bad.append("%s capabilities %s vs pciutils %s" % (addr, caps_o, caps_t))
        name_rx = r"Capabilities: \[[0-9a-f]+(?: v\d+)?\] ([^:,(\n]*)"
        # The name up to its details: "SATA HBA v1.0 BAR4 ..." and "SATA HBA v1.0" agree.
        short = lambda n: re.split(r" v\d| version", n)[0].strip()
        names_t = [short(n) for n in re.findall(name_rx, b)]
        names_o = [short(n) for n in re.findall(name_rx, o)]
        if names_t != names_o:
            bad.append("%s capability names %s vs pciutils %s" % (addr, names_o, names_t))
    check(not bad and len(ours_v) == len(theirs_v), "%s: lspci -v prog-if and capabilities equal pciutils'" % tag,
          "; ".join(bad[:6]))

    ours_t = m.cmd("lspci -t").rstrip()
    theirs_t = pciutils(dump, "-t").rstrip()
    check(ours_t == theirs_t, "%s: lspci -t equals pciutils' tree" % tag, "\nours:\n%s\npciutils:\n%s" % (ours_t, theirs_t))


# ---- machines ------------------------------------------------------------------------

def nvme(tmp, i, extra=""):
    path = os.path.join(tmp, "nvme%d.img" % i)
    with open(path, "wb") as f:
        f.truncate(1 << 20)
    return ["-drive", "if=none,id=nvm%d,format=raw,file=%s" % (i, path),
            "-device", "nvme,serial=PCI%d,drive=nvm%d%s" % (i, i, extra)]


def topology(tmp):
    return [
        nvme(tmp, 0),
        nvme(tmp, 1, ",addr=0x10"),
        ["-device", "pcie-root-port,id=rp1,chassis=1,slot=1,addr=6.0"],
        nvme(tmp, 2, ",bus=rp1"),
        ["-device", "pcie-root-port,id=rp2,chassis=2,slot=2,addr=7.0"],
        ["-device", "pcie-pci-bridge,id=pb,bus=rp2"],
        ["-device", "virtio-rng-pci,bus=pb,addr=3.0"],
        ["-device", "virtio-balloon-pci,multifunction=on,addr=5.0"],
        ["-device", "virtio-rng-pci,addr=5.1"],
        ["-device", "virtio-rng-pci,addr=5.3"],
        ["-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,addr=2.0"],
        ["-object", "memory-backend-ram,id=mb,size=4M", "-device", "ivshmem-plain,memdev=mb,addr=3.0"],
        # A second root bus (0x80) behind an expander host bridge: no bridge leads to it.
        ["-device", "pxb-pcie,id=pxb1,bus_nr=0x80,bus=pcie.0,addr=9.0"],
        ["-device", "pcie-root-port,id=rp3,bus=pxb1,chassis=3"],
        ["-device", "virtio-rng-pci,bus=rp3"],
    ]


def test_complex_topology():
    tmp = tempfile.mkdtemp(prefix="pci-test-")
    try:
        with Machine(disks=topology(tmp)) as m:
            boot = m.wait_prompt()
            check(re.search(r"pci: \d+ functions \(ECAM\)", boot) is not None, "q35: boot scan uses ECAM", boot[-1500:])
            truth = qemu_truth(m)
            access, ours = parse_pci_list(m.cmd("pci list"))
            check(access == "ecam", "q35: pci list reports ECAM", str(access))
            compare("q35 topology via ECAM", truth, ours)
            check(any(b["kind"] == "mem64" and b["pref"] and b["addr"] >= 1 << 32
                      for f in ours.values() for b in f["bars"].values()),
                  "q35: a 64-bit prefetchable BAR above 4 GiB is decoded", "")
            check(any(f.get("parent", "").startswith("02:") for f in ours.values()),
                  "q35: a function behind the pcie-pci-bridge is found", "")
            check(any(loc[0] >= 0x80 for loc in ours), "q35: the expander's root bus is scanned", "")
            check_against_pciutils(m, "q35 topology", "-xxxx")

            out = m.cmd("pci rescan --legacy")
            check("through 0xCF8/0xCFC" in out, "q35: rescan through the legacy mechanism", out)
            access, legacy = parse_pci_list(m.cmd("pci list"))
            check(access == "legacy", "q35: pci list reports legacy access after rescan", str(access))
            compare("q35 topology via 0xCF8", truth, legacy)
            out = m.cmd("pci rescan")
            check("through ECAM" in out, "q35: rescan goes back to ECAM", out)
            m.poweroff()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_default_machine():
    tmp = tempfile.mkdtemp(prefix="pci-test-")
    try:
        disk = os.path.join(tmp, "disk.img")
        shutil.copy(os.path.join(ROOT, "build", "disk.img"), disk)
        with Machine(disk=disk) as m:
            m.wait_prompt()
            truth = qemu_truth(m)
            access, ours = parse_pci_list(m.cmd("pci list"))
            compare("default machine", truth, ours)
            check_against_pciutils(m, "default machine", "-xxx")
            m.poweroff()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_i440fx_no_ecam():
    tmp = tempfile.mkdtemp(prefix="pci-test-")
    try:
        disks = [nvme(tmp, 0), ["-device", "virtio-rng-pci"],
                 ["-device", "pci-bridge,id=br1,chassis_nr=1"], ["-device", "virtio-balloon-pci,bus=br1,addr=4.0"]]
        with Machine(disks=disks, extra=["-machine", "pc"]) as m:
            boot = m.wait_prompt()
            check(re.search(r"pci: \d+ functions \(legacy 0xCF8\)", boot) is not None,
                  "i440fx: no MCFG, boot scan falls back to 0xCF8", boot[-1500:])
            truth = qemu_truth(m)
            access, ours = parse_pci_list(m.cmd("pci list"))
            check(access == "legacy", "i440fx: pci list reports legacy access", str(access))
            compare("i440fx via 0xCF8", truth, ours)
            out = m.cmd("pci rescan --ecam")
            check("rescan failed" in out, "i440fx: an ECAM rescan is refused (no MCFG)", out)
            check_against_pciutils(m, "i440fx", "-xxx")
            m.poweroff()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run(test_complex_topology, test_default_machine, test_i440fx_no_ecam)
