# SPDX-License-Identifier: MIT
"""What an app's dependencies cost: pack time, start-up and size, each as a
ratio against a baseline measured in the same run (nothing here passes or
fails on a timing).

    python3 tests/bench/deps_bench.py [--gale dist/linux-x86_64/gale]
        [--runs N] [--index-url URL] [--results DIR]

The app is Tornado's hello world that also imports, at start, the binary
dependencies of tests/fixtures/binary-deps (orjson, MarkupSafe, pydantic,
cryptography, pyzmq), installed from that fixture's lock. The baseline is
the same app without them, packed with --no-deps.

  - pack time: the app with its wheels fetched from the index into an empty
    wheel cache (cold), then from the warm cache, against packing the
    baseline; runs alternate;
  - start to first 200: spawn, poll GET / every 2 ms; warm (a cache folder
    of the run's own, warmed first) and first start (an empty cache: the
    extension modules are extracted), each against the baseline's;
  - size: the executable with and without the wheels.

Results: DIR/deps.json (default $GALE_CACHE/bench/last).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench import free_port, http_status

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.environ.get("GALE_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gale")
LOCK = os.path.join(ROOT, "tests", "fixtures", "binary-deps", "requirements.txt")

APP = '''import tornado.web
{imports}

class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello, world\\n")


def make_app():
    return tornado.web.Application([("/", Hello)])
'''
DEPS_IMPORTS = """import orjson, markupsafe, pydantic, zmq
from cryptography.hazmat.primitives.ciphers.aead import AESGCM"""


def log(msg):
    print(f"deps-bench: {msg}", file=sys.stderr, flush=True)


def make_app(folder, with_deps):
    os.makedirs(folder)
    with open(os.path.join(folder, "gale.toml"), "w") as f:
        f.write('app = "benchapp:make_app"\n')
    with open(os.path.join(folder, "benchapp.py"), "w") as f:
        f.write(APP.format(imports=DEPS_IMPORTS if with_deps else ""))
    if with_deps:
        shutil.copyfile(LOCK, os.path.join(folder, "requirements.txt"))
    return folder


def pack(gale, app, out, wheel_cache, index_url, extra=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GALE_")}
    env["GALE_WHEEL_CACHE"] = wheel_cache
    args = [gale, "pack", app, "-o", out, *extra]
    if index_url:
        args += ["--index-url", index_url]
    t0 = time.perf_counter()
    run = subprocess.run(args, env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if run.returncode != 0:
        raise SystemExit(f"deps-bench: pack failed:\n{run.stderr}")
    return took


def first_200(exe, cache_home, timeout=60.0):
    port = free_port()
    env = dict(os.environ, XDG_CACHE_HOME=cache_home)
    t0 = time.perf_counter()
    proc = subprocess.Popen([exe, "serve", "--port", str(port), "--log-level", "warning"],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while http_status(port) != 200:
            if proc.poll() is not None:
                raise SystemExit(f"deps-bench: {exe} exited with {proc.returncode}")
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"deps-bench: {exe} did not serve in {timeout} s")
            time.sleep(0.002)
        return time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(10)


def row(name, with_deps, baseline, unit="s"):
    ratio = statistics.median(with_deps) / statistics.median(baseline)
    fmt = (lambda v: f"{v * 1000:.0f} ms") if unit == "s" else (lambda v: f"{v:.1f} MB")
    print(f"{name:<32} {fmt(statistics.median(with_deps)):>10} {fmt(statistics.median(baseline)):>10}"
          f"  {ratio:5.2f}x")
    return {"with": with_deps, "baseline": baseline, "ratio": ratio}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gale", default=os.path.join(ROOT, "dist", "linux-x86_64", "gale"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--index-url", help="the package index (default: pip's, read at run time)")
    ap.add_argument("--results", default=os.path.join(CACHE, "bench", "last"))
    args = ap.parse_args()
    index = args.index_url or os.environ.get("PIP_INDEX_URL")
    if not index:
        from pip._internal.models.index import PyPI

        index = PyPI.simple_url
    results = {}
    with tempfile.TemporaryDirectory(prefix="gale-deps-bench-") as tmp:
        deps_app = make_app(os.path.join(tmp, "deps"), True)
        base_app = make_app(os.path.join(tmp, "base"), False)
        deps_exe, base_exe = os.path.join(tmp, "deps-exe"), os.path.join(tmp, "base-exe")
        warm_cache = os.path.join(tmp, "wheels-warm")

        log(f"pack time: {args.runs} rounds (each cold pack fetches every wheel)")
        cold, warm, base = [], [], []
        for i in range(args.runs):
            base.append(pack(args.gale, base_app, base_exe, warm_cache, None, ["--no-deps"]))
            cold.append(pack(args.gale, deps_app, deps_exe, os.path.join(tmp, f"wheels-{i}"),
                             index))
            shutil.rmtree(os.path.join(tmp, f"wheels-{i}"))
            if i == 0:  # fill the warm cache
                pack(args.gale, deps_app, deps_exe, warm_cache, index)
            warm.append(pack(args.gale, deps_app, deps_exe, warm_cache, index))
        print(f"\n{'':<32} {'with deps':>10} {'baseline':>10}  ratio")
        results["pack_cold"] = row("pack, empty wheel cache", cold, base)
        results["pack_warm"] = row("pack, warm wheel cache", warm, base)

        log(f"start to first 200: {args.runs} rounds, alternating")
        warm_home = os.path.join(tmp, "home-warm")
        first_200(deps_exe, warm_home), first_200(base_exe, warm_home)  # warm-up
        sw, sb, fw, fb = [], [], [], []
        for i in range(args.runs):
            for exe, out in ((deps_exe, sw), (base_exe, sb)) if i % 2 == 0 else \
                    ((base_exe, sb), (deps_exe, sw)):
                out.append(first_200(exe, warm_home))
            for exe, out in ((deps_exe, fw), (base_exe, fb)):
                home = tempfile.mkdtemp(dir=tmp, prefix="home-")
                out.append(first_200(exe, home))
        results["start_warm"] = row("start to first 200, warm", sw, sb)
        results["start_first"] = row("start to first 200, empty cache", fw, fb)

        size_deps = os.path.getsize(deps_exe) / 1e6
        size_base = os.path.getsize(base_exe) / 1e6
        results["size"] = row("executable size", [size_deps], [size_base], unit="MB")
    os.makedirs(args.results, exist_ok=True)
    path = os.path.join(args.results, "deps.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    log(f"results in {path}")


if __name__ == "__main__":
    main()
