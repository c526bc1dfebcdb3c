"""tools/vmachine.py: boot VELOCITY-OS in QEMU and talk to it like a person at the serial
console.  Used by `make run` (tools/vrun.py) and by every QEMU test (tests/qemu/).

    with Machine() as m:                 # q35 + OVMF, 64 MiB NVMe disk, ESP on AHCI
        m.wait_prompt()
        out = m.cmd("lspci")            # types the line, returns what it printed
        m.hmp("info pci")               # QEMU's own monitor, through QMP
        m.poweroff()                    # ACPI power-off; returns QEMU's exit status

The serial port and QMP are unix sockets in a private temporary directory, so several
machines can run at once.  Acceleration: KVM when a probe boot has shown it works on this
host (cached in build/accel), TCG otherwise; ACCEL=tcg|kvm overrides.  The NVMe disk's
image is read through Linux io_uring where QEMU can use it here (probed once, cached in
build/aio; AIO=threads|io_uring overrides), else through QEMU's thread pool."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
# The shell starts every prompt on a fresh line; the line editor's redraws start with a bare
# CR, so a prompt preceded by LF (or at the very start) is a real, new prompt.
PROMPT_RE = re.compile(rb"(?:^|\n)velocity:[^\r\n]*\$ $")
ANSI_RE = re.compile(rb"\x1b\[[0-9;?=]*[A-Za-z]")


class MachineError(Exception):
    pass


def _probed(env, name, default, probe):
    """A host property: ENV from the environment if set, else the result of PROBE() cached
    in build/NAME (probed once per build tree, so suites running side by side agree)."""
    forced = os.environ.get(env)
    if forced:
        return forced
    cache = os.path.join(BUILD, name)
    if os.path.exists(cache):
        with open(cache) as f:
            return f.read().strip() or default
    result = probe()
    os.makedirs(BUILD, exist_ok=True)
    with open(cache, "w") as f:
        f.write(result + "\n")
    return result


def _probe_kvm():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    # Proven, not assumed: boot the real image under KVM and run a command.
    try:
        with Machine(accel_override="kvm", boot_timeout=30, snapshot=True) as m:
            m.wait_prompt()
            ok = "up " in m.cmd("uptime", timeout=20)
            m.poweroff()
            return "kvm" if ok else "tcg"
    except Exception:
        return "tcg"


def accel():
    """The accelerator to use: ACCEL from the environment, else the cached probe result."""
    return _probed("ACCEL", "accel", "tcg", _probe_kvm)


def _probe_io_uring():
    with tempfile.TemporaryDirectory(prefix="aio-probe-") as tmp:
        img = os.path.join(tmp, "probe.img")
        with open(img, "wb") as f:
            f.truncate(1 << 20)
        try:
            p = subprocess.run(
                ["qemu-system-x86_64", "-machine", "q35,accel=tcg", "-nodefaults", "-display", "none",
                 "-S", "-monitor", "stdio", "-drive",
                 "if=none,id=d,format=raw,aio=io_uring,file=" + img, "-device", "nvme,serial=p,drive=d"],
                input=b"quit\n", capture_output=True, timeout=60)
            if p.returncode == 0 and b"io_uring" not in p.stderr:
                return "io_uring"
        except (OSError, subprocess.SubprocessError):
            pass
    return "threads"


def aio():
    """How QEMU reads the NVMe disk's image: io_uring when a probe shows QEMU can set it up
    on this host (a container's seccomp profile may forbid it), else QEMU's default thread
    pool.  io_uring hands a request to the kernel from QEMU's main loop, where the thread
    pool wakes a worker thread per request; under TCG on a small host that hop is most of
    a 4 KiB read's cost.  AIO from the environment overrides; the result is cached."""
    return _probed("AIO", "aio", "threads", _probe_io_uring)


def aio_backends():
    """Every disk backend QEMU can use here, best first: the benches measure each, since
    which is faster depends on the request size (io_uring: no worker-thread hop per
    request; the thread pool: copies on several host cores)."""
    return ["io_uring", "threads"] if aio() == "io_uring" else ["threads"]


def qemu_command(vars_path, disk=None, disks=None, extra=(), memory="256M", smp=1, nvme_args="",
                 accel_name="tcg", serial=(), gdb=False, paused=False, snapshot=False, aio_name=None):
    """The QEMU command line of a VELOCITY-OS machine: q35, OVMF (code read-only, a private
    copy of the variable store at VARS_PATH), the ESP on AHCI (boot entry 0), the NVMe data
    disk (boot entry 1, so the firmware's own NVMe driver connects it too).  Everything that
    boots the system, tests and `make run` alike, goes through here, so all see one machine."""
    args = [
        "qemu-system-x86_64", "-machine", "q35,accel=" + accel_name, "-m", memory,
        "-smp", str(smp), "-display", "none", "-vga", "none", "-nodefaults",
        "-cpu", "host" if accel_name == "kvm" else "max",
        "-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
        "-drive", "if=pflash,format=raw,file=" + vars_path,
        "-drive", "if=none,id=esp,format=raw,snapshot=on,file=" + os.path.join(BUILD, "esp.img"),
        "-device", "ide-hd,drive=esp,bootindex=0",
    ] + list(serial)
    if disks is not None:
        for d in disks:
            args += d
    else:
        if disk is None:
            disk = os.path.join(BUILD, "disk.img")
        if disk:
            # A snapshot reader takes no lock, so it never blocks a `make run` that writes.
            args += ["-drive", "if=none,id=nvm0,format=raw,aio=%s,file=%s" % (aio_name or aio(), disk) +
                     (",snapshot=on,file.locking=off" if snapshot else ""),
                     "-device", "nvme,serial=VELOCITY0,drive=nvm0,bootindex=1" + nvme_args]
    if gdb:
        args += ["-gdb", "tcp:127.0.0.1:%d" % (gdb if gdb is not True else 1234)]
    if paused:
        args += ["-S"]
    return args + list(extra)


class Machine:
    def __init__(self, disk=None, disks=None, extra=(), memory="256M", smp=1, nvme_args="",
                 accel_override=None, boot_timeout=120, echo=None, gdb=False, paused=False,
                 snapshot=None, aio_override=None):
        """disk: NVMe image (default build/disk.img; None-like "" for no disk).
        disks: list of full -drive/-device argument lists instead of the default disk.
        extra: more QEMU arguments.  echo: a file to copy serial output to as it arrives.
        snapshot: writes to the NVMe disk go to a temporary overlay, not the image; by
        default on for the shared build/disk.img (tests must not change it or collide on its
        lock), off for a disk the caller names.  aio_override: the disk's QEMU aio backend
        instead of aio()'s choice."""
        if snapshot is None:
            snapshot = disk is None and disks is None
        self.dir = tempfile.mkdtemp(prefix="velocity-")
        self.serial_path = os.path.join(self.dir, "serial")
        self.qmp_path = os.path.join(self.dir, "qmp")
        self.transcript = bytearray()
        self.pending = bytearray()
        self.echo = echo
        self.boot_timeout = boot_timeout
        vars_copy = os.path.join(self.dir, "vars.fd")
        shutil.copy(OVMF_VARS, vars_copy)
        args = qemu_command(vars_copy, disk=disk, disks=disks, extra=extra, memory=memory, smp=smp,
                            nvme_args=nvme_args, accel_name=accel_override or accel(),
                            serial=["-chardev", "socket,id=ser0,path=%s,server=on,wait=on" % self.serial_path,
                                    "-serial", "chardev:ser0",
                                    "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path],
                            gdb=gdb, paused=paused, snapshot=snapshot, aio_name=aio_override)
        self.args = args
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.serial = self._connect(self.serial_path)
        self.serial.setblocking(False)
        self._qmp = None

    def _connect(self, path, timeout=20):
        deadline = time.time() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return s
            except OSError:
                s.close()
                if self.proc.poll() is not None:
                    raise MachineError("QEMU exited: %s" % self.proc.stdout.read().decode(errors="replace"))
                if time.time() > deadline:
                    raise MachineError("cannot connect to " + path)
                time.sleep(0.05)

    # ---- serial console -------------------------------------------------------------
    def _pump(self, timeout):
        """Read what the guest sent within TIMEOUT seconds; False once QEMU has exited."""
        import select
        r, _, _ = select.select([self.serial], [], [], timeout)
        if r:
            try:
                data = self.serial.recv(65536)
            except BlockingIOError:
                return True
            if not data:
                return False
            self.transcript += data
            self.pending += data
            if self.echo:
                self.echo.write(data)
                self.echo.flush()
        return self.proc.poll() is None or bool(r)

    def read_until(self, pattern, timeout=30):
        """Consume output up to and including the first match of PATTERN (bytes regex);
        returns the consumed text (decoded)."""
        if isinstance(pattern, re.Pattern):
            rx = pattern
        else:
            rx = re.compile(pattern if isinstance(pattern, bytes) else pattern.encode())
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.pending)
            if m:
                out = bytes(self.pending[:m.end()])
                del self.pending[:m.end()]
                return out.decode(errors="replace")
            left = deadline - time.time()
            if left <= 0:
                raise MachineError("timed out waiting for %r; last output:\n%s" %
                                   (rx.pattern, bytes(self.pending[-2000:]).decode(errors="replace")))
            if not self._pump(min(left, 0.5)):
                m = rx.search(self.pending)
                if m:
                    continue
                qemu_says = self.proc.stdout.read().decode(errors="replace") if self.proc.poll() is not None else ""
                raise MachineError("QEMU exited (status %s) while waiting for %r; QEMU said: %s; last output:\n%s" %
                                   (self.proc.poll(), rx.pattern, qemu_says.strip()[-1500:],
                                    bytes(self.pending[-2000:]).decode(errors="replace")))

    def wait_prompt(self, timeout=None):
        return self.read_until(PROMPT_RE, timeout or self.boot_timeout)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.serial.setblocking(True)
        self.serial.sendall(data)
        self.serial.setblocking(False)

    def cmd(self, line, timeout=60):
        """Type LINE + Enter at the prompt; return the command's output (without the echo
        of the line and without the next prompt), with CR LF turned into LF."""
        self.send(line + "\r")
        out = self.read_until(PROMPT_RE, timeout)
        out = out.replace("\r\n", "\n")
        first_nl = out.find("\n")
        body = out[first_nl + 1:] if first_nl >= 0 else ""
        body = re.sub(rb"velocity:[^\r\n]*\$ $", b"", body.encode()).decode(errors="replace")
        return body

    def wait_exit(self, timeout=60):
        deadline = time.time() + timeout
        while self.proc.poll() is None and time.time() < deadline:
            self._pump(0.2)
        while self._pump(0):
            if self.proc.poll() is not None and not self.pending:
                break
            break
        if self.proc.poll() is None:
            raise MachineError("QEMU did not exit within %ds" % timeout)
        return self.proc.returncode

    def poweroff(self, timeout=60):
        self.send("poweroff\r")
        return self.wait_exit(timeout)

    # ---- QEMU monitor -----------------------------------------------------------------
    def qmp(self, command, **arguments):
        if self._qmp is None:
            self._qmp = self._connect(self.qmp_path)
            self._qmp_file = self._qmp.makefile("rwb")
            json.loads(self._qmp_file.readline())  # greeting
            self._qmp_send("qmp_capabilities")
        return self._qmp_send(command, **arguments)

    def _qmp_send(self, command, **arguments):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self._qmp_file.write(json.dumps(msg).encode() + b"\n")
        self._qmp_file.flush()
        while True:
            reply = json.loads(self._qmp_file.readline())
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise MachineError("QMP %s: %s" % (command, reply["error"]))

    def hmp(self, command_line):
        return self.qmp("human-monitor-command", **{"command-line": command_line})

    # ---- lifetime ---------------------------------------------------------------------
    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self):
        self.kill()
        for s in (self.serial, self._qmp):
            if s:
                s.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def clean(text):
    """Strip ANSI escape sequences (for comparing output)."""
    return ANSI_RE.sub(b"", text.encode()).decode(errors="replace")
