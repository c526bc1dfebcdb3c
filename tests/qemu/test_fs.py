#!/usr/bin/env python3
"""The FAT volume inside the OS, checked against the standard tools on the host.

Three boots, each on copies of images this script makes with mkfs.fat/mtools/sgdisk/sfdisk:
  1. a bare FAT32 volume: files put there by mtools (long, non-ASCII, deep, empty, exact
     cluster multiples, a few MiB) read back byte-exact in the OS (sha256sum); the OS then
     writes (write, echo >>, redirection, cp, mv, rm, mkdir, rmdir, long and non-ASCII
     names, a multi-MiB file grown by >>), and after poweroff mtools reads exactly that
     and fsck.fat -n finds the volume clean; error messages; tab completion.
  2. a GPT disk (FAT16 in partition 2) and an MBR disk (FAT12 in partition 1) on two NVMe
     controllers: the GPT one mounts at boot, umount/mount switch to the MBR one.
  3. a volume whose second FAT copy was damaged and with a lost chain (a file whose entry
     was deleted but not its clusters): fsck finds both, fsck --repair mends the copy and
     saves the chain as FSCK0000.REC, fsck.fat -n and mtools agree after poweroff; mount -r
     and -c options."""

import hashlib
import os
import random
import re
import shutil
import subprocess
import tempfile
import time

from qtest import check, check_in, run, vmachine

Machine = vmachine.Machine
ENV = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", MTOOLS_SKIP_CHECK="1")
TMP = tempfile.mkdtemp(prefix="test-fs-")


def sh(*args, inp=None):
    r = subprocess.run(list(args), input=inp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=ENV)
    if r.returncode:
        raise RuntimeError("%s: %s" % (" ".join(args), r.stdout.decode(errors="replace")[-500:]))
    return r.stdout


def mk_volume(path, mib, fat, spc=1, label="TESTVOL"):
    with open(path, "wb") as f:
        f.truncate(mib << 20)
    sh("mkfs.fat", "-F", str(fat), "-s", str(spc), "-n", label, path)


def fsck_clean(img, name):
    r = subprocess.run(["fsck.fat", "-n", img], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    check(r.returncode == 0, name, r.stdout.decode(errors="replace")[-800:])


def mread(img, path):
    """A file's bytes as mtools reads them (None if mtools cannot)."""
    out = os.path.join(TMP, "mread.out")
    if os.path.exists(out):
        os.unlink(out)
    r = subprocess.run(["mcopy", "-n", "-i", img, "::" + path, out], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, env=ENV)
    if r.returncode:
        return None
    with open(out, "rb") as f:
        return f.read()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def os_sha(m, path):
    out = m.cmd('sha256sum "%s"' % path, timeout=120)
    mm = re.match(r"([0-9a-f]{64})  ", out)
    return mm.group(1) if mm else out.strip()


def nvme(img, idx, boot=False):
    return ["-drive", "if=none,id=nvm%d,format=raw,file=%s" % (idx, img),
            "-device", "nvme,serial=VELOCITY%d,drive=nvm%d%s" % (idx, idx, ",bootindex=1" if boot else "")]


# ---- boot 1: bare FAT32, both directions ---------------------------------------------------

def populate(img):
    """mtools fills the volume; returns {path: bytes} of every file it holds."""
    rnd = random.Random(5)
    src = os.path.join(TMP, "src")
    files = {
        "/empty.txt": b"",
        "/one cluster.bin": bytes(rnd.getrandbits(8) for _ in range(512)),
        "/Docs/report-2023.txt": b"twenty twenty-three\n",
        "/Docs/report-2024.txt": b"twenty twenty-four\n",
        "/Docs/A name that is much longer than eight point three.text": b"long name\n",
        "/café.txt": b"cafe\n",
        "/Ünïcödé dir/файл данных.txt": "grüße\n".encode(),
        "/deep/a/b/c/d/e/f/g/leaf.TXT": b"deep\n",
        "/big.bin": rnd.randbytes(3 * 1024 * 1024 + 123),
    }
    for p, data in files.items():
        full = src + p
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    sh("mcopy", "-s", "-i", img, *[os.path.join(src, n) for n in sorted(os.listdir(src))], "::/")
    return files


def test_bare_fat32_both_ways():
    img = os.path.join(TMP, "bare.img")
    mk_volume(img, 64, 32)
    files = populate(img)
    fsck_clean(img, "image made by mtools is clean")
    with Machine(disk=img) as m:
        boot = m.wait_prompt()
        check(re.search(r'fs: mounted nvme0n1 at /: FAT32 "TESTVOL"', boot) is not None,
              "mounted at boot with one log line", boot[-1500:])

        # mtools -> OS
        bad = [p for p, d in files.items() if os_sha(m, p) != sha(d)]
        check(not bad, "files written by mtools read byte-exact in the OS (sha256sum)", bad)
        out = m.cmd("ls /")
        for name in ("empty.txt", "café.txt", "Ünïcödé dir/", "deep/", "Docs/", "big.bin"):
            check_in(name, out, "ls / shows %s" % name)
        out = m.cmd("ls -l /Docs")
        check(re.search(r"^-{4}a\s+10 \d{4}-\d\d-\d\d \d\d:\d\d \S+\s+A name that is much longer "
                        r"than eight point three.text$", out, re.M) is not None,
              "ls -l: attributes, size, time, 8.3 alias, long name", out)
        check_in("cafe", m.cmd("cat /CAFÉ.TXT"), "case-insensitive lookup of a non-ASCII name")
        check_in("deep", m.cmd("cat /DEEP/A/b/C/d/E/f/G/LEAF.txt"), "deep path, any case")
        out = m.cmd("hexdump -n 20 /Docs/report-2023.txt")
        check_in("00000000  74 77 65 6e 74 79 20 74  77 65 6e 74 79 2d 74 68  |twenty twenty-th|",
                 out, "hexdump -C layout")

        # cwd and the prompt
        m.cmd('cd "/ünïcödé DIR"')
        out = m.cmd("pwd")
        check(out.strip() == "/Ünïcödé dir", "cd canonicalises the case; pwd", out)
        m.send("cd ..\r")
        check_in("velocity:/$ ", m.wait_prompt(), "prompt shows the current directory")
        m.cmd("cd /Docs")
        check_in("grüße", m.cmd("cat ../Ünïcödé\\ dir/файл\\ данных.txt"), "relative path with ..")

        # OS -> mtools
        m.cmd("mkdir /made")
        m.cmd("cd /made")
        m.cmd("write hello.txt Hello from the OS")
        m.cmd("echo second line >> hello.txt")
        m.cmd("write 'A long file name, with spaces.txt' long")
        m.cmd("write /made/naïve-Ελληνικά.txt unicode")
        m.cmd("ls -l / > listing.txt")
        listing = m.cmd("ls -l /")
        m.cmd("cp /big.bin copy.bin")
        m.cmd("cp /big.bin grow.bin")
        m.cmd("cat /big.bin >> grow.bin")
        m.cmd("mkdir sub")
        m.cmd("cp hello.txt sub")
        m.cmd("mv sub/hello.txt sub/moved.txt")
        m.cmd("mkdir gone")
        m.cmd("write gone/x x")
        m.cmd("rm gone/x")
        m.cmd("rmdir gone")
        m.cmd('mv "/one cluster.bin" /made')
        m.cmd("rm /empty.txt")
        out = m.cmd("fsck")
        check_in("volume clean", out, "fsck in the OS: clean after the writes")
        check(m.cmd("sync") == "", "sync", "")
        out = m.cmd("df -v")
        check(re.search(r"^nvme0n1\s+FAT32\s+\d+\s+\d+\s+\d+\s+\d+%  /$", out, re.M) is not None,
              "df: size, used, available", out)
        check(re.search(r"block cache: \d+ buffers x 512 B, [1-9]\d* hits, \d+ misses", out) is not None,
              "df -v: block cache hit and miss counts", out)

        # errors: one clear line each
        for cmd, want in (("cat /nosuch", "cat: /nosuch: no such file or directory"),
                          ("cd /big.bin", "cd: /big.bin: not a directory"),
                          ("rmdir /made", "rmdir: /made: directory not empty"),
                          ("mkdir /made", "mkdir: /made: "),
                          ("cat /made", "cat: /made: is a directory"),
                          ("ls /nosuch/x", "ls: /nosuch/x: no such file or directory"),
                          ("rm /nosuch", "rm: /nosuch: no such file or directory"),
                          ("mv /made /made/sub/x", "mv: /made: cannot move a directory into itself"),
                          ("cp /nosuch /x", "cp: /nosuch: no such file or directory"),
                          ("write /big.bin/x y", "write: /big.bin/x: not a directory"),
                          ("write /bad:name x", "write: /bad:name: "),
                          ("echo hi > /nosuchdir/f", "redirect: /nosuchdir/f: no such file or directory")):
            out = m.cmd(cmd)
            check(out.startswith(want) and out.count("\n") == 1, "error: %s" % cmd, out)

        # tab completion
        m.send("cd /\r")
        m.wait_prompt()
        m.send("ls /DO\t")
        got = m.read_until(rb"cs/", 10)
        m.send("\r")
        out = m.wait_prompt()
        check("report-2024.txt" in out, "tab completes a directory: ls /DO<Tab> -> /DOcs/", got + out)
        m.send("cat Docs/rep\t")
        m.read_until(rb"ort-202", 10)
        m.send("\t")
        got = m.read_until(rb"report-2024.txt", 10)
        m.send("\x15\r")   # Ctrl-U, Enter: abandon the line
        m.wait_prompt()
        check("report-2024.txt" in got, "tab: common prefix, then a second Tab lists", got)
        check(m.poweroff() == 0, "poweroff unmounts and exits", "")

    fsck_clean(img, "fsck.fat -n clean after the OS wrote")
    big = files["/big.bin"]
    expect = {
        "/made/hello.txt": b"Hello from the OS\nsecond line\n",
        "/made/A long file name, with spaces.txt": b"long\n",
        "/made/naïve-Ελληνικά.txt": b"unicode\n",
        "/made/copy.bin": big,
        "/made/grow.bin": big + big,
        "/made/sub/moved.txt": b"Hello from the OS\nsecond line\n",
        "/made/one cluster.bin": files["/one cluster.bin"],
    }
    bad = [p for p, d in expect.items() if mread(img, p) != d]
    check(not bad, "mtools reads what the OS wrote byte-exact", bad)
    lst = mread(img, "/made/listing.txt") or b""
    check(lst.decode(errors="replace") == listing,
          "redirection: ls -l > file holds the command's output", lst[:300])
    gone = [p for p in ("/empty.txt", "/made/gone", "/made/sub/hello.txt", "/one cluster.bin")
            if mread(img, p) is not None or p == "/made/gone" and
            subprocess.run(["mdir", "-i", img, "::/made/gone"], env=ENV,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0]
    check(not gone, "what the OS deleted or moved is gone for mtools", gone)


# ---- boot 2: GPT and MBR partitions ----------------------------------------------------------

def partitioned(kind, fat, spc, mib=24):
    vol = os.path.join(TMP, "vol-%s.img" % kind)
    img = os.path.join(TMP, "%s.img" % kind)
    mk_volume(vol, mib, fat, spc)
    with open(os.path.join(TMP, "in.txt"), "wb") as f:
        f.write(("%s partition\n" % kind).encode())
    sh("mcopy", "-i", vol, os.path.join(TMP, "in.txt"), "::/%s.txt" % kind)
    with open(img, "wb") as f:
        f.truncate((mib + 4) << 20)
    if kind == "gpt":   # partition 1 is not FAT, so the mount has to look further
        sh("sgdisk", "-o", "-n", "1:2048:+1M", "-t", "1:8300", "-n", "2:4096:+%dM" % mib,
           "-t", "2:0700", img)
        start = 4096
    else:
        sh("sfdisk", "-q", img, inp=b"2048,%d,1\n" % (mib * 2048))
        start = 2048
    subprocess.run(["dd", "if=" + vol, "of=" + img, "bs=512", "seek=%d" % start, "conv=notrunc",
                    "status=none"], check=True)
    return img, start


def extract(img, start, mib=24):
    part = img + ".part"
    subprocess.run(["dd", "if=" + img, "of=" + part, "bs=512", "skip=%d" % start,
                    "count=%d" % (mib * 2048), "status=none"], check=True)
    return part


def test_gpt_and_mbr():
    gpt, gstart = partitioned("gpt", 16, 4)
    mbr, mstart = partitioned("mbr", 12, 16)
    with Machine(disks=[nvme(gpt, 0, True), nvme(mbr, 1)]) as m:
        boot = m.wait_prompt()
        check(re.search(r"fs: mounted nvme0n1 partition 2 \(GPT\) at /: FAT16", boot) is not None,
              "GPT disk: FAT16 in partition 2 mounted at boot", boot[-1500:])
        check_in("gpt partition", m.cmd("cat /GPT.TXT"), "GPT: file made by mtools read")
        m.cmd("write /from-os.txt written on GPT")
        check_in("umount first", m.cmd("mount nvme1n1"), "mount while mounted is refused")
        check_in("unmounted", m.cmd("umount"), "umount")
        check_in("no filesystem mounted", m.cmd("ls"), "commands say when nothing is mounted")
        check_in("no such partition", m.cmd("mount nvme1n1@3"), "mount of a missing partition")
        check_in("no such block device", m.cmd("mount nvme9n1"), "mount of a missing device")
        out = m.cmd("mount nvme1n1")
        check(re.search(r"mounted nvme1n1 partition 1 \(MBR\) at /: FAT12", out) is not None,
              "MBR disk: FAT12 in partition 1 mounted by 'mount DEV'", out)
        check_in("mbr partition", m.cmd("cat /mbr.txt"), "MBR: file made by mtools read")
        m.cmd("mkdir /dir")
        m.cmd("echo on MBR > /dir/from-os.txt")
        check_in("nvme1n1 partition 1 (MBR) on / type FAT12 (rw)", m.cmd("mount"), "mount shows it")
        check(m.poweroff() == 0, "poweroff", "")
    for img, start, path, data in ((gpt, gstart, "/from-os.txt", b"written on GPT\n"),
                                   (mbr, mstart, "/dir/from-os.txt", b"on MBR\n")):
        part = extract(img, start)
        fsck_clean(part, "%s: fsck.fat -n clean after the OS wrote" % os.path.basename(img))
        check(mread(part, path) == data, "%s: mtools reads the OS's file" % os.path.basename(img),
              mread(part, path))


# ---- boot 3: fsck repairs a damaged FAT copy ---------------------------------------------------

def test_fsck_repairs_fat_copy():
    img = os.path.join(TMP, "damaged.img")
    mk_volume(img, 32, 16, 2)
    src = os.path.join(TMP, "f.bin")
    with open(src, "wb") as f:
        f.write(random.Random(7).randbytes(200000))
    sh("mcopy", "-i", img, src, "::/f.bin")
    lost = random.Random(8).randbytes(5000)
    lost_src = os.path.join(TMP, "LOST.BIN")
    with open(lost_src, "wb") as f:
        f.write(lost)
    sh("mcopy", "-i", img, lost_src, "::/LOST.BIN")
    boot = open(img, "rb").read(512)
    reserved = int.from_bytes(boot[14:16], "little")
    fat_sectors = int.from_bytes(boot[22:24], "little")
    with open(img, "r+b") as f:
        # Scribble over sector 0 of the second FAT copy.
        f.seek((reserved + fat_sectors) * 512)
        f.write(b"\xa5" * 512)
        # Delete LOST.BIN's entry but not its chain: a lost chain, as a crash can leave.
        root = (reserved + 2 * fat_sectors) * 512
        f.seek(root)
        ents = f.read(512)
        for o in range(0, 512, 32):
            if ents[o:o + 11] == b"LOST    BIN":
                f.seek(root + o)
                f.write(b"\xe5")
    r = subprocess.run(["fsck.fat", "-n", img], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    check(r.returncode != 0, "host: fsck.fat -n sees the damage", r.stdout.decode()[-300:])
    with Machine(disk=img) as m:
        m.wait_prompt()
        out = m.cmd("fsck")
        check(re.search(r"fsck: [1-9]\d* problem\(s\) \(run 'fsck --repair' to fix\)", out) is not None,
              "fsck reports the differing FAT copy", out)
        out = m.cmd("fsck --repair")
        check_in("repaired", out, "fsck --repair mends it")
        check_in("saved as /FSCK0000.REC", out, "fsck --repair saves the lost chain as a file")
        check_in("volume clean", m.cmd("fsck"), "fsck clean after the repair")
        check(os_sha(m, "/f.bin") == sha(open(src, "rb").read()), "file intact after the repair")
        m.cmd("umount")
        check_in("read-only", m.cmd("mount -r -c 256"), "mount -r -c KIB")
        check_in("cache 256 KiB", m.cmd("mount"), "cache size as asked")
        check_in("read-only", m.cmd("write /x y"), "writes refused on a read-only mount")
        check(m.poweroff() == 0, "poweroff", "")
    fsck_clean(img, "fsck.fat -n clean after the OS repaired the FAT copy and saved the lost chain")
    rec = mread(img, "/FSCK0000.REC")
    check(rec is not None and rec[:len(lost)] == lost, "mtools reads the lost file's bytes from FSCK0000.REC",
          "%s bytes" % (len(rec) if rec is not None else None))


# ---- boot 4: what a user gets wrong ------------------------------------------------------------

def test_user_edges():
    """Trailing slashes, moving or removing the current directory, errors with `> FILE`,
    Ctrl-C in the middle of a command, completing names with blanks."""
    img = os.path.join(TMP, "edges.img")
    mk_volume(img, 256, 32)
    src = os.path.join(TMP, "edges")
    os.makedirs(src + "/New Folder")
    big = random.Random(9).randbytes(96 << 20)
    for name, data in (("keep.txt", b"keep me\n"), ("big.bin", big),
                       ("New Folder/my file.txt", b"spaced\n")):
        with open(os.path.join(src, name), "wb") as f:
            f.write(data)
    sh("mcopy", "-s", "-i", img, *[os.path.join(src, n) for n in sorted(os.listdir(src))], "::/")
    with Machine(disk=img) as m:
        m.wait_prompt()
        # A trailing '/' means a directory: never acts on, or creates, a file.
        for cmd, want in (("rm keep.txt/", "rm: keep.txt/: not a directory"),
                          ("cat keep.txt/", "cat: keep.txt/: not a directory"),
                          ("cp keep.txt new/", "cp: new/: not a directory"),
                          ("mv keep.txt new/", "mv: new/: not a directory"),
                          ("write new/ x", "write: new/: not a directory"),
                          ("echo x > new/", "redirect: new/: not a directory"),
                          ("echo x > keep.txt/", "redirect: keep.txt/: not a directory")):
            out = m.cmd(cmd)
            check(out == want + "\n", "trailing slash: %s" % cmd, out)
        out = m.cmd("run keep.txt/")
        check(out == "run: keep.txt/: no such program file\n", "trailing slash: run FILE/", out)
        out = m.cmd("run nosuch")
        check(out == "run: nosuch: no such program (looked in /, with and without .nda)\n",
              "run: where it looked, each place once", out)
        check_in("keep me", m.cmd("cat keep.txt"), "trailing slash: the file is still there")
        # The redirection's target is open for writing: a command may not write, remove or
        # rename it too (two writers of one entry would orphan one's clusters).
        m.cmd("cp keep.txt twin.txt")
        for cmd, want in (("cp keep.txt twin.txt > twin.txt", "cp: twin.txt: file or directory in use"),
                          ("rm twin.txt > twin.txt", "rm: twin.txt: file or directory in use"),
                          ("mv twin.txt t2.txt > twin.txt", "mv: twin.txt: file or directory in use")):
            out = m.cmd(cmd)
            check(out == want + "\n", "open target: %s" % cmd, out)
        check_in("volume clean", m.cmd("fsck"), "open target: the volume stays clean")
        check_in("no such file", m.cmd("ls new"), "trailing slash: nothing named new was made")
        m.cmd("mkdir d")
        check(m.cmd("mv d e/") == "", "mv DIR NEW/ renames the directory", "")
        # The current directory follows a move and cannot be removed from under the shell.
        m.cmd("mkdir e/sub")
        m.cmd("cd e/sub")
        m.cmd("mv /e /moved")
        check(m.cmd("pwd") == "/moved/sub\n", "cwd follows the move of its parent", m.cmd("pwd"))
        m.cmd("mv . ../renamed")
        check(m.cmd("pwd") == "/moved/renamed\n", "cwd follows its own move", m.cmd("pwd"))
        check(m.cmd("ls") == "", "ls works in the moved cwd", m.cmd("ls"))
        out = m.cmd("rmdir /moved/renamed")
        check(out == "cd: /moved/renamed is gone; now in /moved\n", "rmdir of the cwd: says so", out)
        check(m.cmd("pwd") == "/moved\n" and m.cmd("ls") == "",
              "rmdir of the cwd: the shell is in its parent", m.cmd("pwd"))
        m.cmd("cd /")
        check(m.cmd("mv moved moved/renamed/x") ==
              "mv: moved: cannot move a directory into itself\n", "mv into itself: clear error", "")
        # Errors reach the terminal, not the redirection's file.
        out = m.cmd("cat keep.txt nosuch > out.txt")
        check(out == "cat: nosuch: no such file or directory\n", "error shown despite > FILE", out)
        out = m.cmd("ls nosuch >> out.txt")
        check(out == "ls: nosuch: no such file or directory\n", "error shown despite >> FILE", out)
        # Redirection syntax: `>` or `>>` needs a file name and ends the command; quoted it is
        # text; alone, `> FILE` empties or creates FILE and `>> FILE` creates it if missing.
        m.cmd("write trunc.txt some text")
        m.cmd("write app.txt kept")
        for cmd, want in (("echo hi >", "missing file name after >\n"),
                          ("echo hi >>", "missing file name after >>\n"),
                          (">", "missing file name after >\n"),
                          ("echo hi > x1 x2", "> FILE must end the command\n"),
                          ("echo '>' x3", "> x3\n"),
                          ("echo \\>\\>", ">>\n"),
                          ("> trunc.txt", ""), (">> app.txt", ""), (">> made.txt", "")):
            out = m.cmd(cmd)
            check(out == want, "redirect syntax: %s" % cmd, out)
        check_in("no such file", m.cmd("ls x3"), "redirect syntax: a quoted '>' redirects nothing")
        # hexdump -s past the end dumps nothing and succeeds, as util-linux hexdump.
        keep = os.path.join(src, "keep.txt")
        for off in ("8", "100", "0xffffffff"):
            want = sh("hexdump", "-C", "-s", off, keep).decode()
            out = m.cmd("hexdump -s %s keep.txt" % off)
            check(out == want, "hexdump -s %s: as hexdump -C" % off, out)
        # An empty path names nothing (POSIX), not the current directory.
        for cmd in ("cat ''", "cp '' x", "cp keep.txt ''", "mv '' x", "rm ''", "rmdir ''",
                    "mkdir ''", "write '' x", "cd ''", "ls ''", "hexdump ''", "sha256sum ''"):
            out = m.cmd(cmd)
            check(out == "%s: '': no such file or directory\n" % cmd.split()[0],
                  "empty path: %s" % cmd, out)
        out = m.cmd("echo x > ''")
        check(out == "redirect: '': no such file or directory\n", "empty path: > ''", out)
        check(m.cmd("pwd") == "/\n", "empty path: cd '' stays", m.cmd("pwd"))
        # A command does not read the file its own output goes to (`cat a >> a` never ends),
        # whatever the spelling: case, or the 8.3 alias.
        m.cmd("write self.txt abc")
        m.cmd("write 'long name file.txt' abc")
        check_in("LONGNA~1.TXT", m.cmd("ls -l 'long name file.txt'"), "self: the 8.3 alias")
        for cmd, name in (("cat self.txt >> self.txt", "self.txt"),
                          ("cat keep.txt SELF.TXT >> self.txt", "SELF.TXT"),
                          ("sha256sum self.txt >> Self.txt", "self.txt"),
                          ("hexdump self.txt >> self.txt", "self.txt"),
                          ("cp self.txt c2.txt >> self.txt", "self.txt"),
                          ("cat LONGNA~1.TXT >> 'long name file.txt'", "LONGNA~1.TXT")):
            out = m.cmd(cmd)
            check(out == "%s: %s: input file is output file\n" % (cmd.split()[0], name),
                  "self: %s refused" % cmd, out)
        out = m.cmd("cat self.txt")
        check(out == "abc\nkeep me\n", "self: only the other input was appended", out)
        check_in("no such file", m.cmd("ls c2.txt"), "self: cp made no copy")
        # Ctrl-C: no hash of part of a file, the copy says it is incomplete, the rest of the
        # line is dropped, and the next prompt is not eaten by the ^C byte.
        for cmd, want in (("sha256sum big.bin; echo AFTER", "sha256sum: big.bin: interrupted"),
                          ("cp big.bin copy.bin", "cp: copy.bin: interrupted, the copy is incomplete")):
            m.send(cmd + "\r")
            m.read_until(re.escape(cmd).encode() + rb"\r+\n", 10)
            time.sleep(0.3)
            m.send("\x03")
            out = m.wait_prompt(120)
            check(want in out and "AFTER" not in out and not re.search(r"[0-9a-f]{64}", out),
                  "Ctrl-C: %s" % cmd, out)
            check(m.cmd("echo next") == "next\n", "Ctrl-C: the next command runs (%s)" % cmd, "")
        # Tab completion escapes blanks so the word reads back as one name.
        m.send("cat New\t")
        out = m.read_until(rb"Folder/", 10)
        m.send("my\t\r")
        out += m.wait_prompt()
        check("New\\ Folder/my\\ file.txt" in out and "spaced" in out,
              "tab: names with blanks are completed escaped", out)
        m.send('cat "New\t')
        m.read_until(rb'Folder"/', 10)
        m.send("my\t\r")
        check_in("spaced", m.wait_prompt(), "tab: completion inside quotes closes them")
        m.send("echo x; ech\ty\r")
        check_in("x\r\ny\r\n", m.wait_prompt(), "tab: a command name after ';'")
        check(m.poweroff() == 0, "poweroff", "")
    fsck_clean(img, "fsck.fat -n clean after the edge cases")
    check(mread(img, "/keep.txt") == b"keep me\n", "mtools: keep.txt intact", "")
    check(mread(img, "/out.txt") == b"keep me\n", "mtools: the redirected file holds only output",
          repr(mread(img, "/out.txt")))
    for path, want in (("/trunc.txt", b""), ("/app.txt", b"kept\n"), ("/made.txt", b"")):
        check(mread(img, path) == want, "mtools: > / >> FILE alone: %s" % path, repr(mread(img, path)))


try:
    run(test_bare_fat32_both_ways, test_gpt_and_mbr, test_fsck_repairs_fat_copy, test_user_edges)
finally:
    shutil.rmtree(TMP, ignore_errors=True)
