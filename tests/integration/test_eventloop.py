# SPDX-License-Identifier: MIT
"""The event loop Gale serves with (pylib/gale/eventloop.py; on Windows
gale/winloop.py over native/readiness_win.c): many connections without a
cliff, the connection cap, the loop's edge cases, and a broken loop ending
Gale loudly instead of wedging it."""

import asyncio
import json
import os
import re
import resource
import time
import urllib.request

from harness import exit_codes, free_port, timed_get
from wsclient import close_all, echo_all, ws_echo, ws_open, ws_open_batches

# Concurrent WebSockets per target: Wine's single-threaded wineserver and
# qemu bound the Windows figures (docs/windows-event-loop.md).
MANY = {"linux-x86_64": 10000, "win-x64": 2000, "win-arm64": 1000}
STATS = {"GALE_DEBUG_CONNECTIONS": "1"}
LOAD_TIMEOUT = 900


def raise_own_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    assert hard >= need + 100, f"the test needs {need} sockets; RLIMIT_NOFILE is {hard}"


def closed_pattern(peak: int):
    """The stats line once every connection of a peak of `peak` (plus the
    test's few HTTP requests) has closed."""
    return re.compile(rf"connections: open 0, peak ({peak}|{peak + 1}|{peak + 2}),")


def test_many_websockets_then_all_closed(host):
    count = MANY[host.target]
    raise_own_fd_limit(count)
    proc = host.serve(env=STATS)
    proc.follow_stderr()

    async def run() -> float:
        start = time.monotonic()
        conns = await ws_open_batches(proc.port, count)
        try:
            opened = time.monotonic()
            await echo_all(conns)
            print(f"{count} WebSockets: opened in {opened - start:.1f} s, "
                  f"echoed in {time.monotonic() - opened:.1f} s")
            return await asyncio.get_running_loop().run_in_executor(
                None, timed_get, proc.url + "/")
        finally:
            close_all(conns)

    elapsed = asyncio.run(asyncio.wait_for(run(), LOAD_TIMEOUT))
    print(f"{count} WebSockets open: GET / took {elapsed:.3f} s")
    assert elapsed < 1.0
    start = time.monotonic()
    try:
        proc.wait_stderr(closed_pattern(count), timeout=600)
    finally:
        print(f"closing: {time.monotonic() - start:.1f} s; last counts: "
              f"{re.findall(r'connections: open .*', proc.stderr)[-3:]}")
    assert "Tornado selector" not in proc.stderr
    assert proc.stop(timeout=120) == 0


def test_connections_past_the_cap_are_closed(host):
    cap = 20
    proc = host.serve("--max-connections", str(cap), env=STATS)
    proc.follow_stderr()

    async def shut_at_once(port) -> bool:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(reader.read(1), 30) == b""
        except ConnectionResetError:
            return True
        finally:
            writer.close()

    async def run():
        held = await ws_open_batches(proc.port, cap)
        shed = await asyncio.gather(*(shut_at_once(proc.port) for _ in range(3 * cap)))
        assert all(shed)
        await echo_all(held)  # the held ones are still served
        close_all(held[:5])
        # Room again once the server has seen the closes.
        deadline = time.monotonic() + 60
        while True:
            try:
                extra = await ws_open(proc.port)
                break
            except (asyncio.IncompleteReadError, ConnectionError, AssertionError):
                assert time.monotonic() < deadline, "no room after closing 5 connections"
                await asyncio.sleep(0.1)
        assert await ws_echo(extra, "after") == "after"
        close_all(held[5:] + [extra])

    asyncio.run(asyncio.wait_for(run(), LOAD_TIMEOUT))
    proc.wait_stderr(re.compile(r"connections: open 0, peak 2\d,"), timeout=120)
    warnings = re.findall(r"connection limit reached: (\d+) open \(max_connections = (\d+)\); "
                          r"closed (\d+) new", proc.stderr)
    # One warning for the whole burst (the interval is 10 s): the first
    # refused connection's.
    assert warnings == [(str(cap), str(cap), "1")], warnings
    assert proc.stop(timeout=60) == 0


def test_max_connections_must_be_positive(host):
    out = host.run("serve", "--max-connections", "0")
    assert out.returncode == exit_codes(host)["CONFIG"], out.stderr
    assert "max_connections must be 1 or more" in out.stderr


def test_check_shows_the_default_cap(host):
    out = host.run("check")
    assert out.returncode == 0, out.stderr
    cap = int(re.search(r"^max_connections = (\d+)$", out.stdout, re.M).group(1))
    if host.windows:
        assert cap == 16384
    else:
        # Sized from the hard RLIMIT_NOFILE, which serve raises the soft one to.
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        assert 0 < cap < hard and cap >= hard - hard // 16 - 64


def test_loop_edge_cases(host, source_dir):
    script = os.path.join(source_dir, "tests", "integration", "loop_cases.py")
    out = host.run("python", host.path(script), timeout=600)
    results = [json.loads(line[len("GALE-CASE "):]) for line in out.stdout.splitlines()
               if line.startswith("GALE-CASE ")]
    names = [r["case"] for r in results]
    assert names == ["loop_type", "level_triggered", "peer_reset", "half_close",
                     "closed_while_registered", "remove_inside_callback", "reader_and_writer",
                     "listening_backlog", "subprocess_runs"], (names, out.stderr[-3000:])
    for r in results:
        print(f"{r['case']}: {r['detail'].splitlines()[-1] if r['detail'] else ''}")
    failed = {r["case"]: r["detail"] for r in results if not r["ok"]}
    assert not failed, failed
    kind = results[0]["detail"]
    assert kind.startswith("iocp-afd: gale.winloop.EventLoop" if host.windows else "selector:")
    assert out.returncode == 0, out.stderr[-3000:]


def test_broken_loop_exits_with_its_code(host):
    port = free_port()
    proc = host.spawn("serve", "--port", str(port), env={"GALE_DEBUG_LOOP_FAULT": "150"})
    proc.follow_stderr()
    served = 0
    deadline = time.monotonic() + 300
    while proc.popen.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                served += r.status == 200
        except OSError:
            time.sleep(0.05)
    code = proc.wait(60)
    assert code == exit_codes(host)["EVENT_LOOP"], proc.stderr
    assert served > 0, "the fault came before the server answered once"
    cause = "readiness wait failed" if host.windows else "select() failed"
    assert re.search(rf"CRITICAL gale: the event loop's {re.escape(cause)}: .*; stopping",
                     proc.stderr), proc.stderr
    assert f"gale: error: the event loop's {cause}" in proc.stderr
