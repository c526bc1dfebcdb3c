#!/usr/bin/env python3
"""tools/vrun.py: what `make run` and `make debug` execute.

  vrun.py                       interactive: QEMU with the serial console on this terminal
  vrun.py --cmds 'a; b'         boot, type each command at the prompt, print the transcript,
                                power off after the last (implicit poweroff)
  vrun.py --debug               QEMU paused with a gdb stub; prints the gdb command
  --disk IMG                    attach IMG as the NVMe disk instead of build/disk.img
  --qemu-extra '...'            more QEMU arguments (shell-quoted)"""

import argparse
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmachine  # noqa: E402


def split_cmds(text):
    """Split on ';' outside quotes (the shell's own rule), dropping empty commands."""
    cmds, cur, quote = [], "", None
    for ch in text:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            cur += ch
        elif ch == ";" or ch == "\n":
            cmds.append(cur.strip())
            cur = ""
        else:
            cur += ch
    cmds.append(cur.strip())
    return [c for c in cmds if c]


def run_cmds(args, extra):
    cmds = split_cmds(args.cmds)
    if not cmds or cmds[-1] != "poweroff":
        cmds.append("poweroff")
    out = sys.stdout.buffer
    with vmachine.Machine(disk=args.disk, extra=extra, memory=args.memory, smp=args.smp,
                          snapshot=False) as m:
        try:
            boot = m.wait_prompt()
        except vmachine.MachineError as e:
            sys.stderr.write("vrun: the system did not reach the prompt: %s\n" % e)
            return 1
        # Show the boot from our banner on (the firmware's screen-clearing noise is not ours).
        start = boot.find("VELOCITY-OS")
        out.write(boot[max(start, 0):].encode())
        out.flush()
        m.echo = out
        for i, c in enumerate(cmds):
            m.send(c + "\r")
            if c == "poweroff" and i == len(cmds) - 1:
                try:
                    status = m.wait_exit(args.timeout)
                except vmachine.MachineError as e:
                    sys.stderr.write("\nvrun: %s\n" % e)
                    return 1
                out.write(b"\n")
                return status
            try:
                m.read_until(vmachine.PROMPT_RE, args.timeout)
            except vmachine.MachineError as e:
                sys.stderr.write("\nvrun: command %r: %s\n" % (c, e))
                return 1
    return 0


def interactive(args, extra):
    """QEMU owns the terminal: serial and monitor multiplexed on stdio (Ctrl-A x quits,
    Ctrl-A c switches to the monitor)."""
    import shutil
    import tempfile
    tmp = tempfile.mkdtemp(prefix="velocity-run-")
    vars_copy = os.path.join(tmp, "vars.fd")
    shutil.copy(vmachine.OVMF_VARS, vars_copy)
    cmd = vmachine.qemu_command(vars_copy, disk=args.disk, extra=extra, memory=args.memory,
                                smp=args.smp, accel_name=vmachine.accel(),
                                serial=["-serial", "mon:stdio"], gdb=args.gdb_port if args.debug else False,
                                paused=args.debug,
                                snapshot=args.debug)
    try:
        return subprocess.call(cmd)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def free_port():
    """1234, gdb's habit, unless something else (another debug session) holds it."""
    import socket
    for port in [1234] + list(range(1235, 1300)):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    return 1234


def debug(args, extra):
    """Learn where the firmware loads the image (it is the same for the same machine shape)
    by a quick boot, then start QEMU paused with a gdb stub and print the gdb command."""
    base = None
    with vmachine.Machine(disk=args.disk, extra=extra, memory=args.memory, smp=args.smp,
                          snapshot=True) as m:
        m.wait_prompt()
        out = m.cmd("version")
        mm = re.search(r"image-base (0x[0-9a-f]+)", out)
        if mm:
            base = mm.group(1)
        m.kill()
    elf = os.path.join(vmachine.BUILD, "kernel.elf")
    args.gdb_port = free_port()
    if base:
        print("gdb -ex 'target remote :%d' -ex 'add-symbol-file %s -o %s' "
              "-ex 'hbreak kmain' -ex 'continue'" % (args.gdb_port, elf, base))
    else:
        print("vrun: could not learn the image base; symbols: %s" % elf)
    print("QEMU is paused with a gdb stub on :%d (serial console below; Ctrl-A x quits)." % args.gdb_port)
    sys.stdout.flush()
    return interactive(args, extra)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cmds")
    p.add_argument("--disk")
    p.add_argument("--qemu-extra", default="")
    p.add_argument("--memory", default=os.environ.get("MEMORY", "256M"))
    p.add_argument("--smp", default=os.environ.get("SMP", "1"))
    p.add_argument("--timeout", type=float, default=float(os.environ.get("CMD_TIMEOUT", "120")))
    p.add_argument("--debug", action="store_true")
    args = p.parse_args()
    extra = shlex.split(args.qemu_extra)
    if args.disk and not os.path.exists(args.disk):
        sys.stderr.write("vrun: no such disk image: %s\n" % args.disk)
        return 2
    if args.debug:
        return debug(args, extra)
    if args.cmds is not None:
        return run_cmds(args, extra)
    return interactive(args, extra)


if __name__ == "__main__":
    sys.exit(main())
