# SPDX-License-Identifier: MIT
"""Gale's benchmarks, each measured side by side in one run against a stock
CPython (same pinned source, official PGO+LTO recipe) serving the same app
with Tornado from the same sdist. Prints a table of ratios gale/stock;
nothing here passes or fails on a timing.

This file owns the measurements:
  - start to first HTTP 200 (spawn, poll / until 200, median of N), warm
    and cold (the first start after a pack: an empty cache), and the -X
    importtime breakdown of a warm start (startup.py);
  - the executables' sizes against the previous run's (startup.py);
  - hello-world requests/s under wrk (median of R rounds);
  - websocket_mask throughput on 1 MiB, and a 1 MiB copy (memcpy) in the
    same interpreter as the yardstick.
Gale and stock runs alternate, and the side that goes first alternates too,
so drift on a noisy machine lands on both.

Driven by the machine's python3 (3.11 or later); tests/bench/run.sh builds
or reuses the baseline and calls this.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import startup

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.environ.get("GALE_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gale")
APPDIR = os.path.join(HERE, "helloapp")
SIDES = ("gale", "stock")

# Runs inside each interpreter under test; prints one JSON line. Both calls
# allocate a fresh 1 MiB bytes object and make one pass over the input, so
# bytes(bytearray) is the honest floor for websocket_mask.
MASK_CODE = r"""
import json, os, sys, time
import tornado.speedups as s
from tornado.util import _websocket_mask_python
size, loops, repeat = %(size)d, %(loops)d, %(repeat)d
data = os.urandom(size); mask = os.urandom(4); buf = bytearray(data)
small = os.urandom(1021)
assert s.websocket_mask(mask, small) == _websocket_mask_python(mask, small)
assert s.websocket_mask(mask, s.websocket_mask(mask, data)) == data
def best(fn, *args):
    t = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter_ns()
        for _ in range(loops):
            fn(*args)
        t = min(t, time.perf_counter_ns() - t0)
    return size * loops / t  # bytes per ns == GB/s
print(json.dumps({
    "mask": best(s.websocket_mask, mask, data),
    "memcpy": best(bytes, buf),
    "impl": getattr(s, "__file__", "built-in"),
}))
"""


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(port, timeout=0.5):
    """The status code of GET / on 127.0.0.1:port, or None if not serving."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            head = s.recv(64)
    except OSError:
        return None
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return int(m.group(1)) if m else None


def pinned(cmd, cpu, args):
    """cmd run on one CPU, so server and wrk do not trade places."""
    if args.no_pin or cpu is None or not shutil.which("taskset"):
        return cmd
    return ["taskset", "-c", str(cpu)] + cmd


class Server:
    """One server process this benchmark started; stopped by its own pid."""

    def __init__(self, name, argv, workdir, env=None):
        self.name = name
        self.port = free_port()
        self.argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.logfile = open(os.path.join(workdir, f"{name}-server.log"), "ab")
        self.proc = None
        self.workdir = workdir
        self.env = env

    def start(self, timeout=30.0):
        """Spawns and waits for the first 200; returns seconds from spawn."""
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                     stdout=self.logfile, stderr=subprocess.STDOUT, env=self.env)
        while True:
            if http_status(self.port) == 200:
                return time.perf_counter() - t0
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited with {self.proc.returncode} "
                                   f"before serving; see {self.logfile.name}")
            if time.perf_counter() - t0 > timeout:
                self.stop()
                raise RuntimeError(f"{self.name} server did not serve within {timeout} s; "
                                   f"see {self.logfile.name}")
            time.sleep(0.002)

    def peak_rss_mib(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                log(f"pid {self.proc.pid} ignored SIGTERM; killing it")
                self.proc.kill()
                self.proc.wait()
        self.logfile.close()


def order(i, sides):
    """Alternates which side goes first from one round to the next."""
    return sides if i % 2 == 0 else tuple(reversed(sides))


def bench_startup(cmds, args, workdir, envs):
    """Start to first 200; envs(side, run) is each start's environment (a
    fresh cache folder per run makes every start of that side a cold one)."""
    times = {side: [] for side in cmds}
    for side in cmds:  # warm the page cache and write any .pyc first; not counted
        srv = Server(side, cmds[side], workdir, envs(side, "warm-up"))
        try:
            srv.start()
        finally:
            srv.stop()
    for i in range(args.startup_runs):
        for side in order(i, tuple(cmds)):
            srv = Server(side, cmds[side], workdir, envs(side, i))
            try:
                times[side].append(srv.start())
            finally:
                srv.stop()
    return {side: {"median_ms": statistics.median(t) * 1e3, "best_ms": min(t) * 1e3,
                   "runs": len(t)} for side, t in times.items()}


def breakdown(cmd, workdir, cache, args):
    """One warm gale start with -X importtime (GALE_IMPORTTIME=1): its raw
    output is saved to the results folder and returned."""
    env = startup.cache_env(cache)
    env["GALE_IMPORTTIME"] = "1"
    srv = Server("gale-importtime", cmd, workdir, env)
    try:
        srv.start()
    finally:
        srv.stop()
    with open(os.path.join(workdir, "gale-importtime-server.log")) as f:
        text = f.read()
    with open(os.path.join(args.results, "importtime-serve.txt"), "w") as f:
        f.write(text)
    return text


def bench_bare(pythons, args):
    """Interpreter start and exit alone (`-c pass`): the floor under start-up."""
    times = {side: [] for side in pythons}
    for side in pythons:  # warm-up, not counted
        subprocess.run(pythons[side] + ["-c", "pass"], check=True)
    for i in range(args.startup_runs):
        for side in order(i, tuple(pythons)):
            t0 = time.perf_counter()
            subprocess.run(pinned(pythons[side] + ["-c", "pass"], args.server_cpu, args), check=True)
            times[side].append(time.perf_counter() - t0)
    return {side: {"median_ms": statistics.median(t) * 1e3, "best_ms": min(t) * 1e3}
            for side, t in times.items()}


def run_wrk(port, seconds, args):
    header = getattr(args, "wrk_header", None)  # e.g. "Connection: close" (limits_bench.py)
    cmd = pinned(["wrk", f"-t{args.wrk_threads}", f"-c{args.wrk_connections}",
                  *(["-H", header] if header else []),
                  f"-d{seconds}s", f"http://127.0.0.1:{port}/"], args.wrk_cpu, args)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s*([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if not rps:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    if errors:
        log(f"wrk reported errors on port {port}: {errors.group(0)}")
    return float(rps.group(1))


def bench_wrk(cmds, args, workdir):
    servers = {side: Server(side, cmds[side], workdir) for side in cmds}
    rps = {side: [] for side in cmds}
    try:
        for srv in servers.values():
            srv.start()
        for side in cmds:
            run_wrk(servers[side].port, 1, args)  # warm-up, not counted
        for i in range(args.wrk_rounds):
            for side in order(i, tuple(cmds)):
                rps[side].append(run_wrk(servers[side].port, args.wrk_seconds, args))
        rss = {side: servers[side].peak_rss_mib() for side in cmds}
    finally:
        for srv in servers.values():
            srv.stop()
    return {side: {"median_rps": statistics.median(r), "best_rps": max(r), "runs": r,
                   "peak_rss_mib": rss[side]} for side, r in rps.items()}


def bench_mask(pythons, args):
    code = MASK_CODE % {"size": 1 << 20, "loops": args.mask_loops, "repeat": args.mask_repeat}
    runs = {side: [] for side in pythons}
    for i in range(args.mask_runs):
        for side in order(i, tuple(pythons)):
            out = subprocess.run(pinned(pythons[side] + ["-c", code], args.server_cpu, args),
                                 capture_output=True, text=True)
            if out.returncode != 0:
                raise RuntimeError(f"{side}: websocket_mask run failed:\n{out.stderr}")
            runs[side].append(json.loads(out.stdout.strip().splitlines()[-1]))
    result = {}
    for side, rs in runs.items():
        result[side] = {"mask_gbps": max(r["mask"] for r in rs),
                        "memcpy_gbps": max(r["memcpy"] for r in rs),
                        "impl": rs[0]["impl"]}
        result[side]["mask_vs_memcpy"] = result[side]["mask_gbps"] / result[side]["memcpy_gbps"]
    return result


def version_of(argv):
    code = ("import sys, tornado, ssl; print(sys.version.split()[0], 'tornado', tornado.version,"
            " ssl.OPENSSL_VERSION.split()[1])")
    try:
        return subprocess.run(argv + ["-c", code], capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def print_table(res, sides, args):
    rows = []  # (label, unit, better, values by side)
    if "startup" in res:
        s = res["startup"]
        rows.append((f"start to first 200, median of {args.startup_runs}", "ms", "lower",
                     {k: s[k]["median_ms"] for k in sides}))
        rows.append((f"start to first 200, best of {args.startup_runs}", "ms", "lower",
                     {k: s[k]["best_ms"] for k in sides}))
    if "repacked" in res:
        s = res["repacked"]
        rows.append((f"first start after a pack, median of {args.startup_runs}", "ms",
                     "lower", {k: s[k]["median_ms"] for k in sides}))
    if "cold" in res:
        s = res["cold"]
        rows.append((f"first start, empty cache, median of {args.startup_runs}", "ms",
                     "lower", {k: s[k]["median_ms"] for k in sides}))
    if "bare" in res:
        rows.append((f"interpreter alone (-c pass), median of {args.startup_runs}", "ms", "lower",
                     {k: res["bare"][k]["median_ms"] for k in sides}))
    if "wrk" in res:
        w = res["wrk"]
        label = (f"hello req/s, wrk -t{args.wrk_threads} -c{args.wrk_connections} "
                 f"-d{args.wrk_seconds}s, median of {args.wrk_rounds}")
        rows.append((label, "req/s", "higher", {k: w[k]["median_rps"] for k in sides}))
        rows.append((f"hello req/s, best of {args.wrk_rounds}", "req/s", "higher",
                     {k: w[k]["best_rps"] for k in sides}))
        if all(w[k]["peak_rss_mib"] for k in sides):
            rows.append(("server peak RSS after wrk", "MiB", "lower",
                         {k: w[k]["peak_rss_mib"] for k in sides}))
    if "mask" in res:
        m = res["mask"]
        rows.append((f"websocket_mask 1 MiB, best of {args.mask_runs}x{args.mask_repeat}", "GB/s",
                     "higher", {k: m[k]["mask_gbps"] for k in sides}))
        rows.append(("memcpy 1 MiB (bytes(bytearray)), same interpreter", "GB/s", "higher",
                     {k: m[k]["memcpy_gbps"] for k in sides}))
        rows.append(("websocket_mask / memcpy", "x", "higher",
                     {k: m[k]["mask_vs_memcpy"] for k in sides}))

    print_rows(rows, sides)
    if "mask" in res:
        for s in sides:
            print(f"  {s}: tornado.speedups = {res['mask'][s]['impl']}")


def print_rows(rows, sides):
    """The table: rows of (label, unit, which is better, {side: value}); a
    value may be a string (a side that could not be measured: no ratio)."""
    width = max(len(r[0]) for r in rows) + 2
    head = f"{'benchmark':<{width}}{'unit':>6}" + "".join(f"{s:>12}" for s in sides)
    if len(sides) == 2:
        head += f"{sides[0] + '/' + sides[1]:>12}  better"
    print(head)
    print("-" * len(head))
    for label, unit, better, vals in rows:
        line = f"{label:<{width}}{unit:>6}" + "".join(f"{fmt(vals[s]):>12}" for s in sides)
        if len(sides) == 2:
            numbers = all(not isinstance(vals[s], str) for s in sides)
            line += f"{vals[sides[0]] / vals[sides[1]]:>12.2f}" if numbers else f"{'-':>12}"
            line += f"  {better}"
        print(line)


def fmt(v):
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:,.0f}" if v >= 1000 else f"{v:.2f}" if v < 100 else f"{v:.1f}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stock", required=True, help="the baseline's python3.13")
    p.add_argument("--gale", default=os.path.join(ROOT, "dist", "linux-x86_64", "gale"),
                   help="the gale executable (default: dist/linux-x86_64/gale); "
                        "if missing, only the baseline is measured")
    p.add_argument("--only", action="append", choices=("startup", "wrk", "mask", "size"),
                   help="run only these benchmarks (repeatable)")
    p.add_argument("--results", default=os.path.join(CACHE, "bench", "last"),
                   help="folder for results.json, importtime-serve.txt and sizes.json "
                        "(default: $GALE_CACHE/bench/last; sizes.json there is also the "
                        "previous run's figures)")
    p.add_argument("--startup-runs", type=int, default=10)
    p.add_argument("--wrk-rounds", type=int, default=3)
    p.add_argument("--wrk-seconds", type=int, default=5)
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument("--wrk-connections", type=int, default=32)
    p.add_argument("--mask-runs", type=int, default=3, help="processes per side")
    p.add_argument("--mask-repeat", type=int, default=15, help="timed batches per process")
    p.add_argument("--mask-loops", type=int, default=200, help="1 MiB calls per batch")
    p.add_argument("--server-cpu", type=int, default=0, help="CPU for servers and mask runs")
    p.add_argument("--wrk-cpu", type=int, default=1, help="CPU for wrk")
    p.add_argument("--no-pin", action="store_true", help="do not pin with taskset")
    p.add_argument("--json", help="also write the raw results here")
    args = p.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    wanted = args.only or ["startup", "wrk", "mask", "size"]
    os.makedirs(args.results, exist_ok=True)
    if (os.cpu_count() or 1) < 2:
        args.no_pin = True

    workdir = tempfile.mkdtemp(prefix="gale-bench-")
    log(f"work folder {workdir} (server logs)")
    # The baseline serves a plain copy of the app folder, so no __pycache__
    # lands in the clone.
    stock_app = os.path.join(workdir, "helloapp")
    shutil.copytree(APPDIR, stock_app)
    stock_py = [os.path.abspath(args.stock)]
    servers = {}
    pythons = {}
    have_gale = os.access(args.gale, os.X_OK)
    if have_gale:
        gale = os.path.abspath(args.gale)
        packed = os.path.join(workdir, "hellobench")
        log(f"packing {APPDIR} with {gale}")
        r = subprocess.run([gale, "pack", APPDIR, "-o", packed], capture_output=True, text=True)
        if r.returncode != 0 or not os.access(packed, os.X_OK):
            sys.exit(f"bench: gale pack failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        servers["gale"] = pinned([packed, "serve", "--host", "127.0.0.1", "--port", "{port}"],
                                 args.server_cpu, args)
        pythons["gale"] = [gale, "python"]
    else:
        log(f"{args.gale} does not exist yet: measuring the baseline only")
    servers["stock"] = pinned(stock_py + ["-I", os.path.join(HERE, "serve_stock.py"), stock_app,
                                          "--port", "{port}"], args.server_cpu, args)
    pythons["stock"] = stock_py + ["-I"]
    sides = tuple(s for s in SIDES if s in servers)

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Linux {platform.release()}, "
          f"{'pinned: servers on CPU %d, wrk on CPU %d' % (args.server_cpu, args.wrk_cpu) if not args.no_pin else 'not pinned'}")
    for side in sides:
        built = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.stat(pythons[side][0]).st_mtime))
        print(f"{side}: {' '.join(pythons[side])} (built {built}) -> {version_of(pythons[side])}")
    print()

    res = {}
    warm_cache = os.path.join(workdir, "cache-warm")

    def warm(side, run):
        return startup.cache_env(warm_cache) if side == "gale" else None

    def cold(side, run):
        if side != "gale" or run == "warm-up":
            return warm(side, run)
        return startup.cache_env(os.path.join(workdir, f"cache-cold-{run}"))

    def repacked(side, run):
        # A new pack of an app on a machine that has run this Gale build:
        # the library's unpacked code is cached, the app's files are not.
        if side != "gale" or run == "warm-up":
            return warm(side, run)
        folder = os.path.join(workdir, f"cache-repacked-{run}")
        shutil.copytree(os.path.join(warm_cache, "gale", "apps", ".code"),
                        os.path.join(folder, "gale", "apps", ".code"))
        return startup.cache_env(folder)

    try:
        if "startup" in wanted:
            log("start to first 200")
            res["startup"] = bench_startup(servers, args, workdir, warm)
            log("first start after a pack, library unpacked already (gale)")
            res["repacked"] = bench_startup(servers, args, workdir, repacked)
            log("first start on a fresh machine (an empty cache for each gale run)")
            res["cold"] = bench_startup(servers, args, workdir, cold)
            res["bare"] = bench_bare(pythons, args)
            if "gale" in servers:
                res["breakdown"] = breakdown(servers["gale"], workdir, warm_cache, args)
        if "wrk" in wanted:
            log("wrk hello-world")
            res["wrk"] = bench_wrk(servers, args, workdir)
        if "mask" in wanted:
            log("websocket_mask 1 MiB")
            res["mask"] = bench_mask(pythons, args)
    except (RuntimeError, subprocess.CalledProcessError) as e:
        sys.exit(f"bench: {e}")
    print_table(res, sides, args)
    if "breakdown" in res:
        res["breakdown"] = startup.print_breakdown(res["breakdown"], os.path.join(
            args.results, "importtime-serve.txt"))
    if "size" in wanted:
        previous = os.path.join(args.results, "sizes.json")
        rows, now = startup.sizes(ROOT, previous)
        if rows:
            print("\nexecutables (dist/), against the previous run's figures:")
            print_rows(rows, ("now", "previous"))
            with open(previous, "w") as f:
                json.dump(now, f, indent=2)
            res["size"] = now
    with open(os.path.join(args.results, "results.json"), "w") as f:
        json.dump({"sides": sides, "results": res, "args": vars(args)}, f, indent=2)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sides": sides, "results": res, "args": vars(args)}, f, indent=2)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
