#!/usr/bin/env python3
"""`make debug` end to end: QEMU starts paused with a gdb stub, the printed gdb command loads
the kernel's symbols at the address the firmware loads the image, and a breakpoint on kmain
hits with a symbolic backtrace."""

import os
import re
import shlex
import subprocess
import time

from qtest import check, run, vmachine

ROOT = os.path.dirname(vmachine.BUILD)


def test_debug():
    p = subprocess.Popen(["python3", os.path.join(ROOT, "tools", "vrun.py"), "--debug"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         cwd=ROOT, start_new_session=True)
    try:
        line = b""
        deadline = time.time() + 120
        while b"gdb -ex" not in line and time.time() < deadline:
            line = p.stdout.readline()
            if not line:
                break
        gdbcmd = line.decode().strip()
        check(gdbcmd.startswith("gdb -ex"), "make debug prints the gdb command", gdbcmd)
        argv = shlex.split(gdbcmd)
        check("-o" in " ".join(argv), "the command loads symbols at an offset (the load address)")
        time.sleep(1)
        argv = [argv[0], "-batch", "-nx"] + argv[1:] + ["-ex", "bt", "-ex", "info symbol $pc",
                                                          "-ex", "kill"]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=180, cwd=ROOT).stdout
        check(re.search(r"Breakpoint 1, kmain \(bi=", out) is not None,
              "the breakpoint on kmain hits with symbols", out[-1500:])
        check(re.search(r"kernel/main\.c:\d+", out) is not None,
              "gdb knows the source line (DWARF loaded at the right address)", out[-800:])
    finally:
        os.killpg(p.pid, 9)
        p.wait()


run(test_debug)
