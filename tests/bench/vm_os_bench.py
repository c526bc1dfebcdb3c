#!/usr/bin/env python3
"""tests/bench/vm_os_bench.py: NDA programs inside the OS (`run`), on a copy of the default
disk: JIT speed-up over the interpreter, JIT compile time per instruction, and the time of a
first `run` (compile, cache miss) against a cached one (cache hit).  Times are the ones `run`
prints (the guest's TSC clock); under TCG every number is emulated, so read the ratios."""

import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import vmachine  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
CASES = [
    ("fibonacci", "0 %d" % (22 if QUICK else 26)),
    ("sieve", "%d" % (300000 if QUICK else 2000000)),
    ("mandel", "72 28 %d" % (200 if QUICK else 1000)),
    ("neural_n", "%d" % (2 if QUICK else 10)),
    ("sha256sum", "--bench %d" % (1 if QUICK else 2)),
]
REPS = 3
RUN_RE = re.compile(r"\] run ([\d.]+) ms; (.*); total ([\d.]+) ms")
COMPILE_RE = re.compile(r"compiled (\d+) insns in ([\d.]+) ms")


def run(m, line):
    out = m.cmd(line, timeout=600)
    mm = RUN_RE.search(out)
    if not mm or "[exit" not in out:
        raise RuntimeError("%s: unexpected output:\n%s" % (line, out[-600:]))
    return float(mm.group(1)), mm.group(2), float(mm.group(3))


def main():
    tmp = tempfile.mkdtemp(prefix="vm_os_bench-")
    try:
        disk = os.path.join(tmp, "disk.img")
        shutil.copy(os.path.join(vmachine.BUILD, "disk.img"), disk)
        with vmachine.Machine(disk=disk) as m:
            m.wait_prompt()
            _, how, _ = run(m, "run hello")
            jit = how.startswith("jit")
            print("NDA programs in the OS (accel %s)%s" % (vmachine.accel(),
                  "" if jit else ": JIT not built in, interpreter only"))
            print("%-26s %11s %11s %8s" % ("program", "interp_ms", "jit_ms", "speedup"))
            logs = []
            for prog, args in CASES:
                ti, _, _ = run(m, "run -i -t 0 %s %s" % (prog, args))
                if jit:
                    tj, _, _ = run(m, "run -t 0 %s %s" % (prog, args))
                    print("%-26s %11.2f %11.2f %7.1fx" % (prog + " " + args, ti, tj, ti / tj))
                    logs.append(ti / tj)
                else:
                    print("%-26s %11.2f %11s %8s" % (prog + " " + args, ti, "-", "-"))
            if logs:
                import math
                print("geometric mean JIT speed-up over the interpreter: %.1fx" %
                      math.exp(sum(math.log(x) for x in logs) / len(logs)))
            if not jit:
                m.poweroff()
                return 0
            print()
            print("%-12s %7s %11s %9s %13s %13s" % ("program", "insns", "compile_ms", "ns/insn",
                                                    "first_run_ms", "cached_run_ms"))
            small = [("hello", "x"), ("fibonacci", "10 10"), ("sieve", "1000"), ("mandel", "20 8"),
                     ("neural_n", "1"), ("sha256sum", "hello.nda")]
            for prog, args in small:
                firsts, cacheds, compiles = [], [], []
                for _ in range(REPS):  # the minimum of a few runs: TCG timings are noisy
                    m.cmd("cache clear")
                    _, how, first = run(m, "run %s %s" % (prog, args))
                    mm = COMPILE_RE.search(how)
                    _, how2, cached = run(m, "run %s %s" % (prog, args))
                    if not mm or "cache hit" not in how2:
                        raise RuntimeError("%s: expected a miss then a hit: %s / %s" %
                                           (prog, how, how2))
                    firsts.append(first)
                    cacheds.append(cached)
                    compiles.append(float(mm.group(2)))
                first, cached = min(firsts), min(cacheds)
                n, cms = int(mm.group(1)), min(compiles)
                print("%-12s %7d %11.3f %9.0f %13.3f %13.3f" % (prog, n, cms, cms * 1e6 / n, first,
                                                                cached))
            print("(best of %d; first run = read + load + compile + run, cached run skips the "
                  "compile)" % REPS)
            m.poweroff()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
