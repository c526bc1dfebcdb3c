#!/usr/bin/env python3
"""`run` in the OS, end to end on a copy of the default disk:

* every program of programs/ under the JIT and under the interpreter (-i), output compared
  with the same program built natively and run on the host (same arguments, same files);
  sha256sum also against the host's sha256sum;
* the JIT cache: a second run is a cache hit, a program changed in the OS (`cp` over it) is
  recompiled and the new code runs, eviction under a small budget, code too big for the
  budget still runs;
* adversarial programs (tests/qemu/nda/*.c, built here with `nda build`): reading memory by
  pointer arithmetic and at a kernel address, writing through a forged pointer, unbounded
  recursion, an infinite loop under `-t 1` and under Ctrl-C - each stopped with the same
  message from JIT and interpreter, as the host's `nda run` words it;
* bad files (truncated, bit-flipped, bad magic, a jump into a lddw with a valid hash): the
  loader's exact message, as the host tool prints it;
* the file helpers (write, append, read, read part, list) through the FAT volume;
* the shell keeps working after all of it."""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time

from qtest import check, check_in, run, vmachine

ROOT = vmachine.ROOT
BUILD = vmachine.BUILD
NDA = os.path.join(BUILD, "nda")
NATIVE = os.path.join(BUILD, "programs", "native")
HERE = os.path.dirname(os.path.abspath(__file__))
SUMMARY_RE = re.compile(r"^\[(exit -?\d+|stopped: [^\]]+)\] run .*$", re.M)

NOTES = "".join("line %d of the notes: %s\n" % (i, "abcdefghij" * (i % 7)) for i in range(300))

# (program, arguments) compared with the native build.
CASES = [
    ("hello", ["alpha", "beta"]),
    ("fibonacci.nda", []),
    ("fibonacci", ["30", "20"]),
    ("neural_n.nda", []),
    ("sieve", ["200000"]),
    ("mandel", []),
    ("mandel", ["40", "12", "200"]),
    ("sha256sum", ["notes.txt", "hello.nda"]),
    ("cat", ["notes.txt"]),
]


def split_output(out):
    """(program output, summary line) of a `run` transcript."""
    m = None
    for m in SUMMARY_RE.finditer(out):
        pass
    if not m:
        return out, ""
    return out[:m.start()], m.group(0)


def native(prog, args, cwd):
    name = prog[:-4] if prog.endswith(".nda") else prog
    p = subprocess.run([os.path.join(NATIVE, name)] + args, cwd=cwd, capture_output=True,
                       timeout=60)
    return p.stdout.decode(errors="replace"), p.returncode


def host_error(path):
    """The host tool's message for a bad program (what the OS must print too)."""
    p = subprocess.run([NDA, "run", path], capture_output=True, timeout=30)
    err = p.stderr.decode().strip()
    return err.split(": ", 2)[2] if err.count(": ") >= 2 else err


def setup(tmp):
    """The test disk: build/disk.img plus test programs, bad files and a text file."""
    disk = os.path.join(tmp, "disk.img")
    shutil.copy(os.path.join(BUILD, "disk.img"), disk)
    files = []
    env = dict(os.environ, NDA_CLANG=os.environ.get("BPFCC", "clang-19"))
    for name in ("peek", "forge", "recurse", "spin", "files", "greet"):
        out = os.path.join(tmp, name + ".nda")
        subprocess.run([NDA, "build", os.path.join(HERE, "nda", name + ".c"), "-o", out],
                       cwd=ROOT, env=env, check=True, timeout=120)
        files.append(out)
    hello = open(os.path.join(BUILD, "programs", "hello.nda"), "rb").read()
    bad = {"trunc.nda": hello[:100]}
    b = bytearray(hello)
    b[96 + 8 * 3 + 1] ^= 0x10
    bad["flip.nda"] = bytes(b)
    b = bytearray(hello)
    b[0] ^= 1
    bad["magic.nda"] = bytes(b)
    b = bytearray(hello)  # `ja -2` at instruction 2: into the lddw at 0; hash made valid
    b[96 + 16:96 + 24] = bytes([0x05, 0, 0xfe, 0xff, 0, 0, 0, 0])
    b[64:96] = bytes(32)
    b[64:96] = hashlib.sha256(b).digest()
    bad["intolddw.nda"] = bytes(b)
    for name, data in bad.items():
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)
        files.append(os.path.join(tmp, name))
    with open(os.path.join(tmp, "notes.txt"), "w") as f:
        f.write(NOTES)
    files.append(os.path.join(tmp, "notes.txt"))
    shutil.copy(os.path.join(BUILD, "programs", "hello.nda"), tmp)  # for the native sha256sum
    subprocess.run(["mcopy", "-o", "-i", disk] + files + ["::/"], check=True)
    return disk, bad


def test_run():
    tmp = tempfile.mkdtemp(prefix="test_run-")
    try:
        disk, bad = setup(tmp)
        with vmachine.Machine(disk=disk) as m:
            m.wait_prompt()
            jit = "jit, compiled" in m.cmd("run hello")
            check(True, "run hello (JIT %s)" % ("available" if jit else "not built: interpreter only"))
            engines = [("jit", ""), ("interp", "-i ")] if jit else [("interp", "-i ")]

            # Programs against their native builds.
            for prog, args in CASES:
                want, rc = native(prog, args, tmp)
                for eng, flag in engines:
                    out = m.cmd("run %s%s %s" % (flag, prog, " ".join(args)), timeout=120)
                    got, summary = split_output(out)
                    name = "run %s%s %s" % (flag, prog, " ".join(args))
                    check(got == want, name.strip() + ": output equals the native build's",
                          "got:\n%s\nwant:\n%s" % (got[-800:], want[-800:]))
                    check(summary.startswith("[exit %d]" % rc), name.strip() + ": exit value %d" % rc,
                          summary or out[-500:])
            hostsum = subprocess.run(["sha256sum", "notes.txt", "hello.nda"], cwd=tmp,
                                     capture_output=True).stdout.decode()
            got, _ = split_output(m.cmd("run sha256sum notes.txt hello.nda"))
            check(got == hostsum, "sha256sum.nda agrees with the host's sha256sum", got + hostsum)

            # The summary line: exit value and times.
            out = m.cmd("run fibonacci 5 10")
            check(re.search(r"\[exit 55\] run [\d.]+ ms; .*total [\d.]+ ms", out) is not None,
                  "summary: exit value and times", out)
            if jit:
                check("cache hit" in out, "second run of an unchanged program: cache hit", out)
                out = m.cmd("cache")
                mm = re.search(r"cache: (\d+) entries, (\d+) bytes.*\nhits (\d+), misses (\d+), "
                               r"evictions (\d+)", out)
                check(mm and int(mm.group(1)) >= 7 and int(mm.group(3)) >= 1,
                      "cache lists entries, bytes, hits, misses, evictions", out)
                check(out.count("\n  jit ") >= 7, "cache lists each JIT entry", out)

                # A program changed in the OS runs its new code: the key is the content, so
                # content seen before (hello) hits hello's code, new content is compiled.
                m.cmd("cp hello.nda fibonacci.nda")
                out = m.cmd("run fibonacci")
                check("Hello from NDA!" in out and "Fibonacci" not in out and "cache hit" in out,
                      "program replaced by known content: that content's code runs", out)
                m.cmd("cp greet.nda mandel.nda")
                out = m.cmd("run mandel")
                check("greetings from the replacement" in out and "[exit 42]" in out and
                      "cache miss" in out and "iterations" not in out,
                      "changed program: recompiled, the new code runs", out)
                out = m.cmd("run mandel")
                check("greetings from the replacement" in out and "cache hit" in out,
                      "changed program: cached again on its next run", out)

                # Eviction under a small budget; a program too big for it still runs.
                m.cmd("cache budget 16K")
                out = m.cmd("cache")
                ev0 = int(re.search(r"evictions (\d+)", out).group(1))
                check(re.search(r"\(\d+ KiB of 16 KiB budget", out) is not None and ev0 > 0,
                      "cache budget 16K: evicts down to the budget", out)
                want, _ = native("neural_n", [], tmp)
                for i in range(2):  # a cyclic working set larger than the budget: LRU misses
                    for p in ("mandel", "sieve 1000", "hello", "cat"):
                        m.cmd("run " + p)
                    out = m.cmd("run neural_n")
                    check(split_output(out)[0] == want and "cache miss" in out,
                          "neural_n after eviction: recompiled, same output (%d)" % i, out[-300:])
                out = m.cmd("cache")
                check(int(re.search(r"evictions (\d+)", out).group(1)) > ev0 and
                      re.search(r"\((\d+) KiB of 16 KiB", out) and
                      int(re.search(r"\((\d+) KiB of 16 KiB", out).group(1)) <= 16,
                      "LRU evictions keep the cache within its budget", out)
                m.cmd("cache budget 4K")
                out = m.cmd("run sha256sum notes.txt")
                check(hashlib.sha256(NOTES.encode()).hexdigest() in out and "too big" in out,
                      "code larger than the budget: runs uncached", out)
                m.cmd("cache budget 1M")

            # Adversarial programs: stopped, same message on both engines and the host.
            for prog, args, what in (("peek", "", "memory access violation: read of 8 bytes"),
                                     ("peek", str(0x200000), "read of 8 bytes at 0x200000"),
                                     ("forge", "", "write of 8 bytes at 0x100000"),
                                     ("recurse", "", "call depth limit exceeded"),
                                     ("spin", "", "time limit exceeded")):
                msgs = []
                for eng, flag in engines:
                    out = m.cmd("run %s-t 1 %s %s" % (flag, prog, args), timeout=60)
                    line = next((l for l in out.splitlines() if l.startswith("run: %s: " % prog)), "")
                    check(what in line and "[stopped:" in out,
                          "%s %s (%s): stopped with %r" % (prog, args, eng, what), out)
                    # Addresses below the program's own data differ per arena: compare the rest.
                    msgs.append(re.sub(r"at 0x[0-9a-f]+ at", "at ADDR at", line))
                if len(msgs) == 2:
                    check(msgs[0] == msgs[1], "%s %s: JIT and interpreter report the same" % (prog, args),
                          "\n".join(msgs))
            hello_want, _ = native("hello", [], tmp)

            # Ctrl-C stops an infinite loop (no time limit), on each engine.
            for eng, flag in engines:
                m.send("run %s-t 0 spin\r" % flag)
                m.read_until("spinning", timeout=30)
                time.sleep(0.5)
                m.send("\x03")
                out = m.wait_prompt(timeout=30)
                check("interrupted" in out and "[stopped: interrupted]" in out,
                      "Ctrl-C stops a runaway program (%s)" % eng, out)
                check(split_output(m.cmd("run hello"))[0] == hello_want,
                      "shell and run work after Ctrl-C (%s)" % eng)

            # Bad files: the loader's exact message.
            for name in bad:
                want = host_error(os.path.join(tmp, name))
                out = m.cmd("run " + name)
                check_in(want, out, "bad file %s rejected: %s" % (name, want))

            # File helpers through the volume.
            out = m.cmd("run files")
            check_in("read: 23 bytes\nfirst line\nsecond line\npart: [line]\nmissing file: error\n",
                     out, "files: write, append, read, read part, missing file")
            check(re.search(r"^out\.txt$", out, re.M) and re.search(r"^notes\.txt$", out, re.M),
                  "files: list_dir lists the root", out)
            check_in("first line\nsecond line\n", m.cmd("cat out.txt"),
                     "files: the shell sees what the program wrote")

            # Finding programs: case, missing .nda, from a subdirectory, not found.
            check_in("Hello from NDA!", m.cmd("run HELLO.NDA"), "run: names are case-insensitive")
            m.cmd("mkdir sub")
            m.cmd("cd sub")
            out = m.cmd("run cat ../notes.txt")
            check(split_output(out)[0] == NOTES, "run from a subdirectory finds /cat.nda; "
                  "relative paths resolve against the cwd", out[-300:])
            m.cmd("cd /")
            check_in("no such program", m.cmd("run nosuch"), "run: missing program")
            check_in("usage: run", m.cmd("run"), "run: usage")
            check_in("usage: run", m.cmd("run -t x hello"), "run: bad time limit")

            # The shell survived everything.
            check_in("up ", m.cmd("uptime"), "shell still works")
            check(split_output(m.cmd("run hello"))[0] == hello_want, "run still works at the end")
            m.poweroff()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run(test_run)
