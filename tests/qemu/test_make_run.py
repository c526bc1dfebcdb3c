#!/usr/bin/env python3
"""The unattended interface exactly as the README gives it:
make run CMDS='...' [DISK=IMAGE] [QEMU_EXTRA='...'] boots, types the commands at the prompt
(prompt and echo in the transcript), and QEMU exits after the last one with an implicit
poweroff (status 0)."""

import os
import re
import shutil
import subprocess
import tempfile

from qtest import check, check_in, run, vmachine

ROOT = os.path.dirname(vmachine.BUILD)


def make_run(*assignments, timeout=300):
    p = subprocess.run(["make", "--no-print-directory", "run"] + list(assignments), cwd=ROOT,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def test_cmds_disk_extra_together():
    tmp = tempfile.mkdtemp()
    try:
        disk = os.path.join(tmp, "other.img")
        subprocess.run(["truncate", "-s", "16M", disk], check=True)
        subprocess.run(["mkfs.fat", "-F", "16", "-n", "OTHERDISK", disk], check=True,
                       capture_output=True)
        subprocess.run(["mcopy", "-i", disk, "/dev/null", "::/MARKER.TXT"], check=True)
        rc, out, err = make_run("CMDS=help uptime; ls; mem", "DISK=" + disk,
                                "QEMU_EXTRA=-smp 2 -m 512M")
        check(rc == 0, "make run CMDS=... exits with QEMU's status 0", "rc=%d %s" % (rc, err[-500:]))
        check(re.search(r"velocity:/\$ help uptime\s*\n\s*usage: uptime", out) is not None,
              "the transcript shows the prompt, the typed command and its output", out[-1500:])
        check_in("MARKER.TXT", out, "DISK= attaches the given image as the NVMe disk")
        check_in("2 CPUs", out, "QEMU_EXTRA= reaches QEMU (-smp 2)")
        check(re.search(r"velocity:/\$ poweroff", out) is not None,
              "an implicit poweroff ends the session", out[-300:])
        check("BdsDxe" not in out, "the transcript starts at our banner, not the firmware's noise")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_explicit_poweroff_and_bad_disk():
    tmp = tempfile.mkdtemp()
    try:
        disk = os.path.join(tmp, "copy.img")
        shutil.copy(os.path.join(vmachine.BUILD, "disk.img"), disk)
        rc, out, err = make_run("CMDS=uptime; poweroff", "DISK=" + disk)
        check(rc == 0 and out.count("velocity:/$ poweroff") == 1,
              "an explicit poweroff is not doubled", "rc=%d %s %s" % (rc, out[-400:], err[-400:]))
        rc, out, err = make_run("CMDS=write /made-here.txt hello from the OS", "DISK=" + disk)
        got = subprocess.run(["mtype", "-i", disk, "::/made-here.txt"], capture_output=True,
                             text=True).stdout
        check(rc == 0 and "hello from the OS" in got,
              "make run writes to the DISK= image itself (files survive poweroff)", got + err[-300:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rc, out, err = make_run("CMDS=uptime", "DISK=/nonexistent/disk.img")
    check(rc != 0 and "no such disk image" in err, "a missing DISK= image is a clear error",
          "rc=%d %s" % (rc, err[-300:]))


run(test_cmds_disk_extra_together, test_explicit_poweroff_and_bad_disk)
