"""tests/qemu/nvme_pattern.py: the disk test pattern of drivers/nvme/nvme_shell.c, for the
host side of the NVMe tests.  Block L (size S, seed K): bytes 0-15 are L and K as 64-bit
little-endian numbers, byte i >= 16 is (7i + 13L + K) mod 256."""

import os
import struct

_ROT = [bytes((b + k) & 0xff for b in range(256)) for k in range(256)]
_BASE = {}


def block(lba, ss, seed):
    base = _BASE.get(ss)
    if base is None:
        base = _BASE[ss] = bytes((i * 7) & 0xff for i in range(ss))
    k = (lba * 13 + seed) & 0xff
    return struct.pack("<QQ", lba, seed) + base[16:].translate(_ROT[k])


def blocks(lba, count, ss, seed):
    return b"".join(block(lba + i, ss, seed) for i in range(count))


def make_image(path, size, ss, seed, lba=0, count=None):
    """Create PATH of SIZE bytes holding the pattern over [lba, lba+count) (default: all)."""
    with open(path, "wb") as f:
        f.truncate(size)
        if count is None:
            count = size // ss - lba
        f.seek(lba * ss)
        chunk = max(1, (1 << 20) // ss)
        for at in range(lba, lba + count, chunk):
            f.write(blocks(at, min(chunk, lba + count - at), ss, seed))


def first_mismatch(path, lba, count, ss, seed):
    """LBA of the first block of PATH that differs from the pattern, or None."""
    with open(path, "rb") as f:
        f.seek(lba * ss)
        for i in range(count):
            if f.read(ss) != block(lba + i, ss, seed):
                return lba + i
    return None


def trace_args(path):
    """QEMU arguments that log the NVMe device's own complaints to PATH."""
    return ["-trace", "pci_nvme_ub_*", "-trace", "pci_nvme_err_*", "-D", path]


def trace_lines(path, allowed=()):
    """Trace lines in PATH not matching any prefix in ALLOWED."""
    if not os.path.exists(path):
        return []
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if ("pci_nvme_ub_" in line or "pci_nvme_err_" in line) and \
                    not any(a in line for a in allowed):
                out.append(line)
    return out
