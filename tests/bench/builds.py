# SPDX-License-Identifier: MIT
"""Two builds of Gale side by side: the same CPU-bound Python workload in
`gale python` of each, alternating, so a build option (LTO, PGO, -Os) can be
judged by a ratio measured in one run (tests/bench/README.md, "Two builds").

    python3 tests/bench/builds.py NEW_EXE OLD_EXE [--rounds 7]

A `.exe` runs under Wine (`/usr/lib/wine/wine64`, a Wine prefix of the
run's own unless WINEPREFIX is set; its wineserver is stopped at the end).
Each run prints the workload's own time, measured inside the interpreter
(so Wine's and the process's start-up are left out). The table gives the
median and best of each build and NEW / OLD.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import print_rows  # noqa: E402

WINE = "/usr/lib/wine/wine64"

# Calls, attribute access, dicts, str building, json, re and sorting: the
# interpreter's everyday work, with no I/O. Prints its own seconds.
WORKLOAD = r"""
import json, re, time
def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)
class P:
    def __init__(self, x): self.x = x
    def m(self): return self.x * 2
t = time.perf_counter()
fib(24)
d = [{"a": i, "b": str(i) * 3, "c": [i, i + 1]} for i in range(20000)]
for _ in range(4):
    assert json.loads(json.dumps(d)) == d
sum(P(i).m() for i in range(200000))
"".join(str(i) for i in range(200000))
r = re.compile(r"(\w+)=(\d+)")
for _ in range(20000):
    r.findall("a=1 b=22 c=333")
sorted(d, key=lambda e: e["b"])
print(f"{time.perf_counter() - t:.6f}")
"""


def run_once(exe: str, script: str, env: dict) -> float:
    if exe.endswith(".exe"):
        cmd = [WINE, exe, "python", "Z:" + script.replace("/", "\\")]
    else:
        cmd = [exe, "python", script]
    # Pipes, not files: Wine's CPython cannot use a regular file as stdout.
    out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         env=env, timeout=300)
    if out.returncode != 0:
        sys.exit(f"builds: error: {exe} exited {out.returncode}: {out.stderr.strip()[-300:]}")
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("new")
    parser.add_argument("old")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    for exe in (args.new, args.old):
        if not os.path.isfile(exe):
            sys.exit(f"builds: error: no such executable: {exe}")
    with tempfile.TemporaryDirectory(prefix="gale-bench-builds-") as tmp:
        script = os.path.join(tmp, "workload.py")
        with open(script, "w") as f:
            f.write(WORKLOAD)
        env = dict(os.environ, WINEDEBUG="-all")
        env.setdefault("WINEPREFIX", os.path.join(tmp, "wineprefix"))
        times = {"new": [], "old": []}
        try:
            for i in range(args.rounds + 1):  # round 0 warms both up (caches, Wine prefix)
                order = ("new", "old") if i % 2 else ("old", "new")
                for side in order:
                    t = run_once(getattr(args, side), script, env)
                    if i:
                        times[side].append(t)
        finally:
            if env["WINEPREFIX"].startswith(tmp):
                subprocess.run(["/usr/lib/wine/wineserver64", "-k"], env=env, check=False,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"new: {args.new}\nold: {args.old}")
    print_rows([
        (f"workload, median of {args.rounds}", "s", "lower",
         {s: statistics.median(v) for s, v in times.items()}),
        (f"workload, best of {args.rounds}", "s", "lower", {s: min(v) for s, v in times.items()}),
    ], ["new", "old"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
