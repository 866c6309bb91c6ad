# SPDX-License-Identifier: MIT
"""Drives a real Gale executable from the Linux side.

A Host knows how to run an executable for its target (natively for
linux-x86_64; Wine-based runners will join it) and hands back processes the
tests talk to over 127.0.0.1. Every process a test starts is stopped by PID
when the test ends; output is captured through pipes.
"""

import codecs
import json
import os
import select
import signal
import socket
import subprocess
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
    with urllib.request.urlopen(url, timeout=30, **kw) as r:
        return r.status, r.read()


def exit_codes(host) -> dict:
    """The exit-code table as the executable names it (name -> number)."""
    out = host.run("python", "-c", "import _gale, json; print(json.dumps(_gale.exit_codes))")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


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

    def __init__(self, popen: subprocess.Popen):
        self.popen = popen
        self.stdout = ""
        self.stderr = ""

    @property
    def pid(self) -> int:
        return self.popen.pid

    def signal(self, sig=signal.SIGTERM) -> None:
        self.popen.send_signal(sig)

    def wait(self, timeout=30.0) -> int:
        out, err = self.popen.communicate(timeout=timeout)
        self.stdout += out
        self.stderr += err
        return self.popen.returncode

    def stop(self, timeout=30.0) -> int:
        if self.popen.poll() is None:
            self.signal(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.wait(10)
            raise

    def wait_stderr(self, text: str, timeout=START_TIMEOUT) -> None:
        """Reads stderr (kept in self.stderr) until it contains text, or fails
        with the output."""
        fd = self.popen.stderr.fileno()
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        deadline = time.monotonic() + timeout
        while text not in self.stderr:
            left = deadline - time.monotonic()
            ready = left > 0 and select.select([fd], [], [], left)[0]
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                why = "exited" if ready else f"still running after {timeout}s"
                raise AssertionError(f"{why} without {text!r} on stderr:\n{self.stderr}")
            self.stderr += decoder.decode(chunk)

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
    """One target's executable plus the environment tests run it in."""

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

    def argv(self, exe, args) -> list:
        return [exe or self.exe, *args]

    def run(self, *args, env=None, exe=None, timeout=120, input=None, cwd=None):
        return subprocess.run(self.argv(exe, args), env=self.env(env), cwd=cwd or self.home,
                              input=input, capture_output=True, text=True, timeout=timeout)

    def spawn(self, *args, env=None, exe=None, cwd=None) -> Process:
        popen = subprocess.Popen(self.argv(exe, args), env=self.env(env), cwd=cwd or self.home,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        proc = Process(popen)
        self.procs.append(proc)
        return proc

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
