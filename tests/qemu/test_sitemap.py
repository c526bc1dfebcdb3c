#!/usr/bin/env python3
"""The sitemap in the OS (shell/cmds_sitemap.c, docs/SITEMAP.md) against the host tool.

Two boots on a copy of a volume made with mkfs.fat + mtools (programs, nested files):
  1. the OS's root equals `fatimg IMG sitemap`'s; `sitemap save` then `verify` is OK; a file
     changed in the OS (`write`) is rehashed incrementally (1 block) and `verify` names it
     and its block; after a new save and poweroff, `fatimg IMG verify` agrees with the OS's
     SITEMAP.BIN and prints the OS's root.
  2. hello.nda replaced on the host (mtools) behind the saved sitemap: the boot log names
     it, `run hello` is refused with a message that says how to accept it, an unchanged
     program still runs, and after `sitemap save` hello runs again.
  3. a nearly full volume where a new SITEMAP.BIN reuses the old one's cluster and size:
     `verify` after the re-save compares with the new file; a failed save's error reaches
     the terminal past a redirection."""

import os
import re
import shutil
import subprocess
import tempfile

from qtest import check, check_in, run, vmachine

Machine = vmachine.Machine
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
FATIMG = os.path.join(BUILD, "fatimg")
ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")
TMP = tempfile.mkdtemp(prefix="test-sitemap-")
IMG = os.path.join(TMP, "disk.img")


def sh(*args):
    r = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=ENV)
    return r.returncode, r.stdout.decode(errors="replace")


def root_of(text):
    m = re.search(r"^root ([0-9a-f]{64})", text, re.M)
    return m.group(1) if m else None


def setup():
    with open(IMG, "wb") as f:
        f.truncate(64 << 20)
    sh("mkfs.fat", "-F", "32", "-s", "1", "-n", "SITEMAP", IMG)
    progs = [os.path.join(BUILD, "programs", p + ".nda") for p in ("hello", "fibonacci", "sieve")]
    sh("mcopy", "-i", IMG, *progs, "::/")
    sh("mmd", "-i", IMG, "::/docs", "::/docs/deep")
    src = os.path.join(TMP, "src")
    os.makedirs(src)
    with open(os.path.join(src, "note.txt"), "w") as f:
        f.write("original note\n")
    with open(os.path.join(src, "data.bin"), "wb") as f:
        f.write(os.urandom(30000))
    sh("mcopy", "-i", IMG, os.path.join(src, "note.txt"), "::/docs/")
    sh("mcopy", "-i", IMG, os.path.join(src, "data.bin"), "::/docs/deep/")


def test_host_and_os_agree():
    rc, host = sh(FATIMG, IMG, "sitemap")
    host_root = root_of(host)
    check(rc == 0 and host_root is not None, "fatimg sitemap prints a root", host)
    with Machine(disk=IMG) as m:
        m.wait_prompt()
        out = m.cmd("sitemap")
        check(host_root is not None and root_of(out) == host_root, "OS root = host root",
              "%s vs %s" % (out, host_root))
        check_in("(full build)", out, "first sitemap in the OS is a full build")
        out = m.cmd("verify")
        check_in("no saved sitemap", out, "verify without SITEMAP.BIN says so")
        check_in("saved /SITEMAP.BIN", m.cmd("sitemap save"), "sitemap save")
        out = m.cmd("verify")
        check_in("verify: OK", out, "verify right after save is OK")
        m.cmd("write /docs/note.txt changed in the OS")
        out = m.cmd("sitemap")
        check_in("hashed 1 blocks", out, "incremental refresh after a write hashes 1 block")
        check_in("(incremental)", out, "refresh after a write is incremental")
        os_root = root_of(out)
        out = m.cmd("verify")
        check_in("changed /docs/note.txt: blocks 0 of 1", out, "verify names the file and block")
        check_in("verify: CHANGED: 0 added, 0 removed, 1 changed", out, "verify counts it")
        m.cmd("sitemap save")
        m.poweroff()
    rc, out = sh(FATIMG, IMG, "verify")
    check(rc == 0 and "verify: OK" in out, "fatimg verify accepts the OS's SITEMAP.BIN", out)
    check(os_root is not None and root_of(out) == os_root,
          "host root after the OS's change = OS root",
          "%s vs %s" % (out, os_root))
    rc, out = sh("fsck.fat", "-n", IMG)
    check(rc == 0, "fsck.fat clean after the OS saved the sitemap", out[-500:])


def test_refuse_modified_program():
    # hello.nda gets fibonacci's bytes: a valid program, but not the saved content.
    sh("mcopy", "-o", "-i", IMG, os.path.join(BUILD, "programs", "fibonacci.nda"), "::/hello.nda")
    rc, out = sh(FATIMG, IMG, "verify")
    check(rc == 1 and "changed /hello.nda" in out, "fatimg verify sees the host's change", out)
    with Machine(disk=IMG) as m:
        m.wait_prompt()
        log = m.cmd("log")
        check_in("sitemap: /hello.nda modified since the saved sitemap", log,
                 "the boot log names the modified program")
        check_in("1 modified", log, "the boot summary counts it")
        out = m.cmd("run hello")
        check_in("refused: content no longer matches the saved sitemap", out,
                 "run refuses the modified program")
        check_in("sitemap save", out, "the refusal says how to accept the change")
        out = m.cmd("run sieve")
        check("refused" not in out and "[exit " in out, "an unchanged program still runs", out)
        m.cmd("sitemap save")
        out = m.cmd("run hello")
        check("refused" not in out and "[exit " in out, "after sitemap save the program runs", out)
        m.poweroff()


def test_resave_on_full_volume():
    # A FAT12 volume of 32 KiB clusters with two free: each save's SITEMAP.TMP takes the
    # other free cluster, so the third save lands in the first one's cluster with the same
    # size within the same 2 s of FAT time - the entry the OS used to recognise a loaded
    # saved tree by.  verify must compare with what was saved last.
    img = os.path.join(TMP, "full.img")
    with open(img, "wb") as f:
        f.truncate(4 << 20)
    sh("mkfs.fat", "-F", "12", "-S", "512", "-s", "64", "-n", "FULL", img)
    note = os.path.join(TMP, "one.txt")
    with open(note, "w") as f:
        f.write("one\n")
    sh("mcopy", "-i", img, os.path.join(BUILD, "programs", "hello.nda"), note, "::/")
    _, info = sh(FATIMG, img, "info")
    free = int(re.search(r"free clusters (\d+)", info).group(1))
    fill = os.path.join(TMP, "fill.bin")
    with open(fill, "wb") as f:
        f.truncate((free - 2) * 32768)
    sh("mcopy", "-i", img, fill, "::/")
    with Machine(disk=img) as m:
        m.wait_prompt()
        m.cmd("sitemap save")
        check_in("verify: OK", m.cmd("verify"), "full volume: verify after the first save")
        m.cmd("write /one.txt two")
        m.cmd("sitemap save")
        out = m.cmd("sitemap save")
        check_in("saved /SITEMAP.BIN", out, "full volume: third save")
        out = m.cmd("verify")
        check("verify: OK" in out and "changed" not in out,
              "verify compares with the last save, not an older tree in the same cluster", out)
        # A failing save reports on the terminal, not into the redirection's file.
        out = m.cmd("sitemap save > /SITEMAP.BIN")
        check_in("sitemap: /SITEMAP.BIN:", out, "a failed save's error reaches the terminal")
        m.poweroff()


def main():
    try:
        setup()
        run(test_host_and_os_agree, test_refuse_modified_program, test_resave_on_full_volume)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
