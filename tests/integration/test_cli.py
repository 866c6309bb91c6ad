# SPDX-License-Identifier: MIT
"""The command line as a user meets it: `--debug` before any command, an
unknown command, and systemd's readiness protocol (NOTIFY_SOCKET) on Linux."""

import os
import re
import socket

import pytest

from harness import exit_codes, free_port, get, help_commands, one_error_line


def test_debug_may_come_before_the_command(host):
    code = exit_codes(host)["APP"]
    out = host.run("--debug", "check", "--app", "nope:app")
    assert out.returncode == code, out.stderr
    assert "Traceback" in out.stderr and "gale: error: " in out.stderr
    # The launcher's own debug lines are on as well, and python takes it too.
    out = host.run("--debug", "python", "-c", "print('from python')")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "from python"
    assert "debug: payload at " in out.stderr, out.stderr


def test_unknown_command_lists_every_command(host):
    out = host.run("--help")
    assert out.returncode == 0, out.stderr
    commands = help_commands(out.stdout)
    assert {"serve", "check", "pack", "sbom", "service", "python"} <= set(commands), commands
    out = host.run("bogus")
    assert out.returncode == exit_codes(host)["USAGE"], out.stderr
    line = one_error_line(out.stderr)
    assert "'bogus'" in line
    for word in commands:
        assert re.search(rf"\b{word}\b", line), (word, line)


# --- systemd (Type=notify) ----------------------------------------------------

linux_only = pytest.mark.skipif("config.getoption('--gale-target') != 'linux-x86_64'",
                                reason="systemd's NOTIFY_SOCKET is Linux's")


def notify_socket(path):
    """A datagram socket standing in for systemd's; `path` "@name" is in the
    abstract namespace, as systemd's own often is."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + path[1:] if path.startswith("@") else path)
    sock.settimeout(60)
    return sock


def messages(sock) -> dict:
    """One datagram's fields, as a dict."""
    data = sock.recv(4096).decode()
    return dict(line.split("=", 1) for line in data.splitlines())


@linux_only
@pytest.mark.parametrize("where", ["path", "abstract"])
def test_systemd_notify_ready_and_stopping(host, tmp_path, where):
    path = str(tmp_path / "notify") if where == "path" else f"@gale-test-{os.getpid()}"
    port = free_port()
    with notify_socket(path) as sock:
        proc = host.spawn("--port", str(port), "--drain-timeout", "5",
                          env={"NOTIFY_SOCKET": path})
        ready = messages(sock)
        # READY=1 comes once the server listens: it answers right away.
        assert ready["READY"] == "1", ready
        assert f"127.0.0.1:{port}" in ready["STATUS"], ready
        assert get(f"http://127.0.0.1:{port}/")[0] == 200
        proc.request_stop("TERM")
        assert messages(sock)["STOPPING"] == "1"
        assert proc.wait(30) == 0, proc.stderr


@linux_only
def test_systemd_notify_socket_gone_is_not_fatal(host, tmp_path):
    port = free_port()
    proc = host.spawn("--port", str(port), env={"NOTIFY_SOCKET": str(tmp_path / "nobody")})
    proc.wait_http(f"http://127.0.0.1:{port}/")
    proc.wait_stderr("cannot notify systemd")
    proc.request_stop("TERM")
    assert proc.wait(30) == 0, proc.stderr
