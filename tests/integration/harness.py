# SPDX-License-Identifier: MIT
"""Drives a real Gale executable from the Linux side.

A Host knows how to run an executable for its target and hands back
processes the tests talk to over 127.0.0.1:

    linux-x86_64  natively
    win-x64       under Debian's wine64, in one Wine prefix per test session
    win-arm64     under arm64 Wine through qemu, in the cached Debian arm64
                  root (tests/harness/arm64-run.sh); the session's temporary
                  folder and the source tree are shared into the root at the
                  same paths, so a path means the same on both sides

Every process a test starts is stopped by PID when the test ends; output is
captured through pipes (CPython under Wine fails when a std handle is a
regular file).
"""

import codecs
import json
import ntpath
import os
import posixpath
import re
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, **kw):
    """(status, body) of a GET; `kw` goes to urlopen (e.g. context=)."""
    kw.setdefault("timeout", 30)
    with urllib.request.urlopen(url, **kw) as r:
        return r.status, r.read()


def load(url: str, total: int, concurrency: int, timeout=60.0):
    """GETs `url` `total` times from `concurrency` threads, each request on
    a new connection; returns ([the JSON body of each answer], failures)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    lock = threading.Lock()
    left, answers, failures = [total], [], [0]

    def run() -> None:
        while True:
            with lock:
                if not left[0]:
                    return
                left[0] -= 1
            try:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
                conn.request("GET", parts.path or "/")
                body = json.loads(conn.getresponse().read())
                conn.close()
                with lock:
                    answers.append(body)
            except (OSError, ValueError, http.client.HTTPException):
                with lock:
                    failures[0] += 1

    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers, failures[0]


def timed_get(url: str) -> float:
    """Seconds a GET of url takes; fails unless it answers 200."""
    start = time.monotonic()
    status, _ = get(url)
    assert status == 200, status
    return time.monotonic() - start


_exit_codes = {}  # exe -> its table: one run per session (a run under qemu costs seconds)


def exit_codes(host) -> dict:
    """The exit-code table as the executable names it (name -> number)."""
    if host.exe not in _exit_codes:
        out = host.run("python", "-c", "import _gale, json; print(json.dumps(_gale.exit_codes))")
        assert out.returncode == 0, out.stderr
        _exit_codes[host.exe] = json.loads(out.stdout)
    return dict(_exit_codes[host.exe])


def help_commands(help_text: str) -> list:
    """The command words `gale --help` lists under "commands:"."""
    section = help_text.split("\ncommands:\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^ {2}([a-z]+)\b", section, re.M)


def one_error_line(stderr):
    """The single `gale: error: ...` line of `stderr`; fails if there is not
    exactly one, or if a traceback was printed."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("gale: error: ")]
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr
    return errors[0]


class Process:
    """A running executable with its output captured."""

    def __init__(self, popen: subprocess.Popen, host=None):
        self.popen = popen
        self.host = host
        self.stdout = ""
        self.stderr = ""
        self.stoppers = []  # helper processes that delivered stop events

    @property
    def pid(self) -> int:
        return self.popen.pid

    def signal(self, sig) -> None:
        """Sends a POSIX signal to the process (or, for win-arm64, to the
        runner, which passes it on)."""
        self.popen.send_signal(sig)

    def request_stop(self, event=None) -> None:
        """Delivers one of the host's STOP_EVENTS (its first by default): what
        a user or the system does to stop the server gracefully."""
        self.host.send_stop(self, event or self.host.STOP_EVENTS[0])

    def wait(self, timeout=30.0) -> int:
        """Waits for the exit (and for the helpers that delivered stop
        events, which must have succeeded); returns the exit code."""
        if getattr(self, "_following", None) is not None:
            self.popen.wait(timeout)
            self._following.join(timeout)
            self.stdout += self.popen.stdout.read()
            for stopper in self.stoppers:
                assert stopper.wait(timeout) == 0, stopper.stderr
            return self.popen.returncode
        out, err = self.popen.communicate(timeout=timeout)
        self.stdout += out
        self.stderr += err
        for stopper in self.stoppers:
            code = stopper.wait(timeout)
            assert code == 0, f"{stopper.popen.args} exited with {code}:\n{stopper.stderr}"
        return self.popen.returncode

    def stop(self, timeout=30.0) -> int:
        """Requests a graceful stop and returns the exit code."""
        if self.popen.poll() is None:
            self.request_stop()
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.wait(10)
            raise

    def follow_stderr(self) -> None:
        """Keeps reading stderr into self.stderr on a thread, so that a
        chatty server never blocks on a full pipe while the test is busy."""
        def follow() -> None:
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            fd = self.popen.stderr.fileno()
            while chunk := os.read(fd, 65536):
                self.stderr += decoder.decode(chunk)

        self._following = threading.Thread(target=follow, daemon=True)
        self._following.start()

    def wait_stderr(self, text, timeout=START_TIMEOUT):
        """Reads stderr (kept in self.stderr) until it contains text, or a
        match of the compiled pattern text; fails with the output."""
        def found():
            return text.search(self.stderr) if hasattr(text, "search") else text in self.stderr

        if getattr(self, "_following", None) is not None:
            deadline = time.monotonic() + timeout
            while not found():
                if not self._following.is_alive() or time.monotonic() > deadline:
                    why = "exited" if not self._following.is_alive() else f"still running after {timeout}s"
                    raise AssertionError(f"{why} without {text!r} on stderr:\n{self.stderr}")
                time.sleep(0.05)
            return found()
        fd = self.popen.stderr.fileno()
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        deadline = time.monotonic() + timeout
        while not found():
            left = deadline - time.monotonic()
            ready = left > 0 and select.select([fd], [], [], left)[0]
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                why = "exited" if ready else f"still running after {timeout}s"
                raise AssertionError(f"{why} without {text!r} on stderr:\n{self.stderr}")
            self.stderr += decoder.decode(chunk)
        return found()

    def wait_http(self, url: str, timeout=START_TIMEOUT, context=None) -> None:
        """Polls until url answers (any HTTP status), or fails with the output."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                self.wait(5)
                raise AssertionError(f"exited with {self.popen.returncode} before serving:\n"
                                     f"{self.stdout}\n{self.stderr}")
            try:
                urllib.request.urlopen(url, timeout=2, context=context).close()
                return
            except urllib.error.HTTPError:
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        self.popen.kill()
        self.wait(10)
        raise AssertionError(f"not serving {url} after {timeout}s:\n{self.stdout}\n{self.stderr}")


class Host:
    """One target's executable plus the environment tests run it in.

    This is the native Linux host; WineHost and Arm64Host change how an
    executable is started and where Windows keeps per-user files."""

    target = "linux-x86_64"
    windows = False
    suffix = ""  # what executables' names end with
    # The ways to stop a server gracefully; the first is the usual one.
    STOP_EVENTS = ("TERM", "INT")
    SIGNALS = {"TERM": signal.SIGTERM, "INT": signal.SIGINT}

    def __init__(self, exe: str, home: str):
        self.exe = exe
        self.home = home
        self.procs = []

    def env(self, extra=None) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTHON", "GALE_", "XDG_"))}
        env.update(HOME=self.home,
                   XDG_CACHE_HOME=os.path.join(self.home, "cache"),
                   XDG_DATA_HOME=os.path.join(self.home, "data"))
        env.update(extra or {})
        return env

    def argv(self, exe, args, env=None, cwd=None) -> list:
        return [exe or self.exe, *args]

    def path(self, path) -> str:
        """How the executable names the Linux path `path`."""
        return str(path)

    # How the executable joins paths (ntpath for Windows targets).
    pathmod = posixpath

    def cache_root(self) -> str:
        """The Linux path of the folder Gale extracts app resources into."""
        return os.path.join(self.home, "cache", "gale", "apps")

    def exe_cache_root(self) -> str:
        """cache_root() as the executable names it."""
        return self.cache_root()

    def exe_data_root(self) -> str:
        """The folder relative data_dir values land under, as the executable
        names it (gale.paths.data_root)."""
        return os.path.join(self.home, "data", "gale")

    def exe_default_data_dir(self, name) -> str:
        """An app's default data folder, as the executable names it."""
        return os.path.join(self.exe_data_root(), name)

    def exe_path(self, path) -> str:
        """`path` with the target's executable suffix."""
        return str(path) + self.suffix

    def run(self, *args, env=None, exe=None, timeout=120, input=None, cwd=None):
        cwd = cwd or self.home
        return subprocess.run(self.argv(exe, args, env, cwd), env=self.env(env), cwd=cwd,
                              input=input, capture_output=True, text=True, timeout=timeout)

    def spawn(self, *args, env=None, exe=None, cwd=None) -> Process:
        cwd = cwd or self.home
        popen = subprocess.Popen(self.argv(exe, args, env, cwd), env=self.env(env), cwd=cwd,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        proc = Process(popen, self)
        self.procs.append(proc)
        return proc

    def send_stop(self, proc, event) -> None:
        proc.signal(self.SIGNALS[event])

    def serve(self, *args, exe=None, env=None, port=None, scheme="http", context=None):
        """Starts `serve` on a free port and waits until it answers."""
        port = port or free_port()
        proc = self.spawn("serve", "--port", str(port), *args, exe=exe, env=env)
        proc.port = port
        proc.url = f"{scheme}://127.0.0.1:{port}"
        proc.wait_http(proc.url + "/", context=context)
        return proc

    def cleanup(self) -> None:
        for proc in self.procs:
            if proc.popen.poll() is None:
                proc.popen.kill()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass


def windows_path(path) -> str:
    """The Wine name of a Linux absolute path (drive Z: is the Linux root)."""
    return "Z:" + str(path).replace("/", "\\")


def linux_path(path: str) -> str:
    """The Linux path of a Wine path on drive Z:."""
    assert path[:3].upper() == "Z:\\", path
    return path[2:].replace("\\", "/")


class _WindowsHost(Host):
    """What every Windows target has in common: Wine's drive Z: and the
    per-user folder in the Wine prefix (local_appdata, from the subclass)."""

    windows = True
    suffix = ".exe"
    pathmod = ntpath
    LOCAL_APPDATA = "C:\\users\\root\\AppData\\Local"  # in a Wine prefix made as root

    prefix = ""  # the Linux path of the Wine prefix (set by the subclass)
    # Ctrl+C, Ctrl+Break, closing the console window. Under Wine, SIGINT
    # becomes CTRL_C_EVENT; the others are delivered by ctrl_event, a small
    # Windows program (tests/tools/ctrl_event.c) that starts the handler
    # thread in the process the way Windows does. It needs the process's
    # Windows PID, which the launcher's first debug line names: Windows
    # servers start with GALE_DEBUG=1.
    STOP_EVENTS = ("CTRL_C", "CTRL_BREAK", "CLOSE")
    CTRL_EVENT_ARGS = {"CTRL_BREAK": "break", "CLOSE": "close"}
    ctrl_event = ""  # the ctrl-event.exe of the target

    def spawn(self, *args, env=None, exe=None, cwd=None) -> Process:
        return super().spawn(*args, env={"GALE_DEBUG": "1", **(env or {})}, exe=exe, cwd=cwd)

    def send_stop(self, proc, event) -> None:
        if event == "CTRL_C":
            proc.signal(signal.SIGINT)
            return
        assert self.ctrl_event, "no ctrl-event.exe given (--gale-ctrl-event)"
        winpid = proc.wait_stderr(re.compile(r"gale\[(\d+)\]: debug: ")).group(1)
        proc.stoppers.append(self.spawn(self.CTRL_EVENT_ARGS[event], winpid, exe=self.ctrl_event))

    def path(self, path) -> str:
        return windows_path(path)

    def linux_path(self, path: str) -> str:
        """The Linux path of a path the executable printed (drive C: is in
        the Wine prefix, Z: is the Linux root)."""
        drive, rest = path[:3].upper(), path[3:].split("\\")
        if drive == "C:\\":
            return os.path.join(self.prefix, "drive_c", *rest)
        return linux_path(path)

    def local_appdata(self, *parts) -> str:
        return self.linux_path(ntpath.join(self.LOCAL_APPDATA, *parts))

    def cache_root(self) -> str:
        return self.local_appdata("Gale", "apps")

    def exe_cache_root(self) -> str:
        return ntpath.join(self.LOCAL_APPDATA, "Gale", "apps")

    def exe_data_root(self) -> str:
        return ntpath.join(self.LOCAL_APPDATA, "Gale")

    def exe_default_data_dir(self, name) -> str:
        return ntpath.join(self.exe_data_root(), name, "data")


class WineHost(_WindowsHost):
    """win-x64 under Debian's wine64. `prefix` is a Wine prefix the session
    made; Gale's per-user folder in it is emptied for each test, which stands
    in for the fresh home a Linux test gets."""

    target = "win-x64"
    WINE = "/usr/lib/wine/wine64"
    WINESERVER = "/usr/lib/wine/wineserver64"

    def __init__(self, exe: str, home: str, prefix: str):
        super().__init__(exe, home)
        self.prefix = prefix
        shutil.rmtree(self.local_appdata("Gale"), ignore_errors=True)

    def env(self, extra=None) -> dict:
        env = super().env()
        env.update(wine_env(self.prefix))
        env.update(extra or {})
        return env

    def argv(self, exe, args, env=None, cwd=None) -> list:
        return [self.WINE, exe or self.exe, *args]


# Wine's DLL overrides for every run: no wine-mono or wine-gecko prompt, no
# winedbg (started on a crash) and no winemenubuilder (desktop menu
# entries), either of which can hang under qemu and keep the wineserver up,
# and no Wayland driver. tests/harness/arm64-run.sh uses the
# same list; a test that sets WINEDLLOVERRIDES starts from this one.
WINE_DLL_OVERRIDES = "mscoree,mshtml=;winedbg.exe,winemenubuilder.exe=d;winewayland.drv=d"


def wine_env(prefix: str) -> dict:
    """What every Wine run of the session gets, unless a test says otherwise:
    its prefix, no debug chatter, and WINE_DLL_OVERRIDES."""
    return {"WINEPREFIX": prefix, "WINEDEBUG": "-all",
            "WINEDLLOVERRIDES": WINE_DLL_OVERRIDES}


class Arm64Host(_WindowsHost):
    """win-arm64 under arm64 Wine in the Debian arm64 root `root`, through
    tests/harness/arm64-run.sh. `shares` are Linux folders mounted at the
    same paths inside the root; every path a test hands the exe must be in
    one of them. The root's Wine prefix is shared by all runs."""

    target = "win-arm64"
    PREFIX = "root/.wine-gale"  # arm64-run.sh's WINEPREFIX, inside the root

    def __init__(self, exe: str, home: str, runner: str, root: str, shares):
        super().__init__(exe, home)
        self.runner = runner
        self.root = root
        self.shares = list(shares)
        self.prefix = os.path.join(root, self.PREFIX)
        shutil.rmtree(self.local_appdata("Gale"), ignore_errors=True)

    def env(self, extra=None) -> dict:
        # What reaches the exe is passed with --env; this is the runner's own.
        return {k: v for k, v in os.environ.items()
                if not k.startswith(("PYTHON", "GALE_", "XDG_", "QEMU_"))}

    def argv(self, exe, args, env=None, cwd=None) -> list:
        argv = ["bash", self.runner]
        for share in self.shares:
            argv += ["--share", share]
        for name, value in (env or {}).items():
            argv += ["--env", f"{name}={value}"]
        argv += ["--cwd", str(cwd or self.home), self.root, exe or self.exe, *args]
        return argv

    # qemu sometimes prints this when a Wine helper process crashes as the
    # exe exits (docs/arm64-wine.md); the exe's own exit code is unaffected.
    QEMU_NOISE = re.compile(r"^qemu: uncaught target signal 11 \(Segmentation fault\) - "
                            r"core dumped\n", re.M)

    def run(self, *args, **kw):
        out = super().run(*args, **kw)
        out.stderr = self.QEMU_NOISE.sub("", out.stderr)
        return out
