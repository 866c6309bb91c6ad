# SPDX-License-Identifier: MIT
"""workers = N: a supervisor and N worker processes sharing one listening
socket (pylib/gale/workers.py, docs/workers.md).

tests/fixtures/svcapp answers / with its pid, its parent's pid (the
supervisor) and GALE_WORKER. linux-x86_64 and win-x64 run everything;
win-arm64 (Wine 10 under qemu) starts, serves from both workers and
stops with a drain. The Windows service with workers is in test_service.py.
"""

import collections
import json
import os
import re
import signal
import socket
import threading
import time

import pytest

from harness import exit_codes, free_port, get, load, one_error_line

REQUESTS = 400
CONCURRENCY = 8


def start_timeout(target) -> float:
    return 300.0 if target == "win-arm64" else 90.0


def full_suite_only(target):
    if target == "win-arm64":
        pytest.skip("win-arm64 runs start, serve and stop with 2 workers (Wine 10 under "
                    "qemu is slow)")


def serve_workers(host, target, *args, workers=2):
    port = free_port()
    proc = host.spawn("serve", "--port", str(port), "--workers", str(workers), *args)
    proc.follow_stderr()
    proc.wait_stderr(f"with {workers} workers", timeout=start_timeout(target))
    proc.port = port
    proc.url = f"http://127.0.0.1:{port}"
    return proc


def by_worker(answers) -> dict:
    """{GALE_WORKER: {pids that answered as it}}."""
    seen = collections.defaultdict(set)
    for answer in answers:
        seen[answer["worker"]].add(answer["pid"])
    return dict(seen)


def test_two_workers_share_the_load(apphost, target):
    proc = serve_workers(apphost, target)
    answers, failures = load(proc.url + "/", REQUESTS, CONCURRENCY)
    assert failures == 0 and len(answers) == REQUESTS
    per_pid = collections.Counter(a["pid"] for a in answers)
    print(f"requests per worker pid: {dict(per_pid)}")
    assert len(per_pid) == 2, per_pid
    assert min(per_pid.values()) >= REQUESTS // 4, per_pid
    workers = by_worker(answers)
    assert sorted(workers) == ["1", "2"] and all(len(p) == 1 for p in workers.values()), workers
    # The supervisor serves nothing: each answer comes from one of its children.
    assert len({a["ppid"] for a in answers}) == 1
    assert answers[0]["ppid"] not in per_pid
    # One log, each worker's lines tagged.
    for n in (1, 2):
        assert f"INFO [worker {n}] gale: Serving svcapp on {proc.url}/" in proc.stderr
        assert f"[worker {n}] stdout: svcapp: imported (stdout)" in proc.stderr
    assert proc.stop(timeout=120) == 0, proc.stderr
    assert proc.stderr.rstrip().endswith("INFO gale: stopped"), proc.stderr[-2000:]


def test_stop_drains_a_request_on_each_worker(apphost, target, stop_event):
    if target == "win-arm64" and stop_event != apphost.STOP_EVENTS[0]:
        pytest.skip("win-arm64 stops with the first stop event only")
    proc = serve_workers(apphost, target, "--drain-timeout", "30")
    results, threads = [], []

    def slow() -> None:
        try:
            results.append(get(proc.url + "/slow?seconds=4", timeout=90))
        except OSError as exc:
            results.append(exc)

    # Slow requests until each worker has one in flight.
    deadline = time.monotonic() + start_timeout(target)
    while not all(f"[worker {n}] stdout: svcapp: slow request started" in proc.stderr
                  for n in (1, 2)):
        assert time.monotonic() < deadline and len(threads) < 12, proc.stderr
        threads.append(threading.Thread(target=slow))
        threads[-1].start()
        time.sleep(0.3)
    proc.request_stop(stop_event)
    code = proc.wait(120)
    for t in threads:
        t.join(60)
    assert results == [(200, b"slow done")] * len(threads), (results, proc.stderr)
    assert code == 0, proc.stderr
    assert "stop requested: stopping 2 worker(s)" in proc.stderr
    for n in (1, 2):
        assert re.search(rf"\[worker {n}\] gale: draining \d request", proc.stderr), proc.stderr
        assert f"INFO [worker {n}] gale: stopped" in proc.stderr


def kill_hard(host, target, pid: int) -> None:
    """Ends process `pid` at once: SIGKILL, or TerminateProcess on Windows."""
    if target == "linux-x86_64":
        os.kill(pid, signal.SIGKILL)
        return
    out = host.run("python", "-c", f"import os; os.kill({pid}, 9)")
    assert out.returncode == 0, out.stderr


def test_a_killed_worker_is_restarted(apphost, target):
    full_suite_only(target)
    proc = serve_workers(apphost, target)
    before = by_worker(load(proc.url + "/", 40, 4)[0])
    (victim,) = before["1"]
    during = {}

    def keep_asking() -> None:
        during["answers"], during["failures"] = load(proc.url + "/", 300, 4)

    loader = threading.Thread(target=keep_asking)
    loader.start()
    time.sleep(0.5)
    kill_hard(apphost, target, victim)
    proc.wait_stderr(f"worker 1 (pid {victim}) exited with", timeout=60)
    proc.wait_stderr(re.compile(rf"worker 1 \(pid (?!{victim}\))\d+\) is serving"), timeout=120)
    loader.join(300)
    # Only what was in flight on the killed worker may fail: at most the
    # 4 concurrent requests.
    print(f"requests failed when a worker was killed: {during['failures']} of 300")
    assert during["failures"] <= 4, during["failures"]
    assert len(during["answers"]) + during["failures"] == 300
    after = by_worker(load(proc.url + "/", 80, 4)[0])
    assert sorted(after) == ["1", "2"], after
    assert victim not in after["1"] and after["2"] == before["2"], (before, after)
    assert proc.stop(timeout=120) == 0, proc.stderr


def still_running(host, target, pids) -> list:
    """The pids of `pids` that still run (Linux: not a zombie)."""
    if target == "linux-x86_64":
        alive = []
        for pid in pids:
            try:
                with open(f"/proc/{pid}/status") as f:
                    if "\nState:\tZ" not in f.read():
                        alive.append(pid)
            except FileNotFoundError:
                pass
        return alive
    code = f"""
import ctypes, json
k = ctypes.windll.kernel32
alive = []
for pid in {list(pids)}:
    h = k.OpenProcess(0x00100000, False, pid)  # SYNCHRONIZE
    if h and k.WaitForSingleObject(h, 0) != 0:
        alive.append(pid)
    if h:
        k.CloseHandle(h)
print(json.dumps(alive))
"""
    out = host.run("python", "-c", code)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_killing_the_supervisor_takes_the_workers(apphost, target):
    full_suite_only(target)
    proc = serve_workers(apphost, target)
    answers = load(proc.url + "/", 40, 4)[0]
    workers = {pid for pids in by_worker(answers).values() for pid in pids}
    assert len(workers) == 2, answers
    kill_hard(apphost, target, answers[0]["ppid"])
    proc.popen.wait(60)
    deadline = time.monotonic() + 30
    while still_running(apphost, target, workers):
        assert time.monotonic() < deadline, f"workers {workers} outlived their supervisor"
        time.sleep(0.5)
    # The port is free: nothing accepts on it, and it can be bound again.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", proc.port), timeout=5).close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", proc.port))


def test_a_failing_app_stops_the_supervisor(apphost, target):
    full_suite_only(target)
    out = apphost.run("serve", "--workers", "2", "--port", str(free_port()),
                      "--app", "svcapp_missing:make_app", timeout=300)
    assert out.returncode == exit_codes(apphost)["APP"], out.stderr
    line = one_error_line(out.stderr)
    assert "svcapp_missing" in line, line
    assert "failed to start 3 times in a row; stopping" in out.stderr
    # No restart storm: three tries for the worker that failed first, no more.
    tries = re.findall(r"\[worker (\d)\] stderr: gale: error: ", out.stderr)
    assert 3 <= len(tries) <= 6, out.stderr


def test_workers_settings_are_checked(apphost, target, tmp_path):
    if target != "linux-x86_64":
        pytest.skip("configuration is checked the same way on every target")
    codes = exit_codes(apphost)
    out = apphost.run("check", "--workers", "auto")
    assert out.returncode == 0, out.stderr
    assert f"workers = {len(os.sched_getaffinity(0))}" in out.stdout
    for value in ("0", "257"):
        out = apphost.run("check", "--workers", value)
        assert out.returncode == codes["CONFIG"], out.stderr
        assert "workers must be a number from 1 to 256" in one_error_line(out.stderr)
    out = apphost.run("check", "--workers", "many")
    assert out.returncode == codes["USAGE"], out.stderr
    assert "invalid workers value: 'many'" in one_error_line(out.stderr)
    with socket.socket() as taken:  # the supervisor binds: a port error is its own
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        out = apphost.run("serve", "--workers", "2", "--port", str(taken.getsockname()[1]))
    assert out.returncode == codes["ADDRESS"], out.stderr
    assert "address already in use" in one_error_line(out.stderr)
    assert "[worker" not in out.stderr
    out = apphost.run("worker")  # by hand: no supervisor's handoff
    assert out.returncode == codes["USAGE"], out.stderr
    assert "is started by a supervisor" in one_error_line(out.stderr)
    conf = tmp_path / "main.toml"
    conf.write_text('main = "svcapp:make_app"\nworkers = 2\n')
    out = apphost.run("check", "--config", str(conf))
    assert out.returncode == codes["CONFIG"], out.stderr
    assert "workers = 2 needs app =" in one_error_line(out.stderr)


def test_a_stop_sent_to_every_process_counts_once(apphost, target):
    """systemd stops a unit by sending SIGTERM to each of its processes: the
    workers hear it from the signal and from their supervisor, and drain
    once."""
    if target != "linux-x86_64":
        pytest.skip("systemd is Linux's")
    proc = serve_workers(apphost, target)
    pids = {a["pid"] for a in load(proc.url + "/", 40, 4)[0]}
    result = {}
    thread = threading.Thread(target=lambda: result.update(got=get(proc.url + "/slow?seconds=2")))
    thread.start()
    proc.wait_stderr("svcapp: slow request started")
    for pid in [proc.pid, *pids]:
        os.kill(pid, signal.SIGTERM)
    assert proc.wait(60) == 0, proc.stderr
    thread.join(30)
    assert result.get("got") == (200, b"slow done"), proc.stderr
    assert "second stop request" not in proc.stderr, proc.stderr
    assert proc.stderr.count("gale: stopped") == 3, proc.stderr
