# SPDX-License-Identifier: MIT
"""The start-up and size parts of Gale's benchmarks (bench.py calls these).

  - cold start: the first start after a pack, on a machine that has never
    run it: an empty cache, so Gale unpacks its code chunk and extracts the
    app's data files. Each cold run gets a fresh cache folder;
  - warm start: later starts (bench.py's start to first 200), with a cache
    folder of the bench's own, warmed first;
  - the start-up breakdown: one more warm start with GALE_IMPORTTIME=1 (-X
    importtime), its raw output saved and its largest self times printed;
  - the size of each target's executable (dist/<target>/gale[.exe]), its
    host and payload, against the figures the previous run recorded.

Results go to a folder outside the clone (--results, default
$GALE_CACHE/bench/last/): results.json, importtime-serve.txt, sizes.json.
"""
import json
import os
import struct

TARGETS = (("linux-x86_64", "gale"), ("win-x64", "gale.exe"), ("win-arm64", "gale.exe"))
_TRAILER = struct.Struct("<8sQQ32s")  # pylib/gale/pack/payload.py


def cache_env(folder):
    """The environment that points Gale's per-user cache at `folder`."""
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = folder
    return env


def importtime_rows(text: str):
    """(self us, cumulative us, module) of each line of -X importtime output."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, total, name = line[len("import time:"):].split("|")
        rows.append((int(own), int(total), name.rstrip()))
    return rows


def print_breakdown(text: str, path: str, top: int = 15) -> dict:
    rows = importtime_rows(text)
    total = sum(own for own, _, _ in rows)
    print(f"\nstart-up breakdown (gale, warm, -X importtime; raw output in {path}):")
    print(f"  {len(rows)} modules, {total / 1000:.1f} ms of imports in all; largest self times:")
    for own, cumulative, name in sorted(rows, reverse=True)[:top]:
        print(f"  {own / 1000:7.2f} ms self {cumulative / 1000:7.2f} ms cumulative  {name.strip()}")
    return {"modules": len(rows), "total_us": total,
            "top": [[own, cum, name.strip()] for own, cum, name in sorted(rows, reverse=True)[:top]]}


def payload_size(path: str):
    """The size of the payload appended to executable `path`, or None."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = f.tell()
        f.seek(max(0, end - (1 << 20)))
        tail = f.read()
    at = tail.rfind(b"GALEPAY1")
    if at < 0:
        return None
    _, _, size, _ = _TRAILER.unpack(tail[at:at + _TRAILER.size])
    return size


def sizes(root: str, previous_file: str) -> list:
    """Rows for bench.print_rows: each built target's executable, host and
    payload, in MB, now and as the previous run recorded them."""
    previous = {}
    if os.path.isfile(previous_file):
        with open(previous_file) as f:
            previous = json.load(f)
    now, rows = {}, []
    for target, name in TARGETS:
        exe = os.path.join(root, "dist", target, name)
        if not os.path.isfile(exe):
            continue
        total = os.path.getsize(exe)
        payload = payload_size(exe) or 0
        now[target] = {"exe": total, "host": total - payload, "payload": payload}
        for part in ("exe", "host", "payload"):
            before = previous.get(target, {}).get(part)
            rows.append((f"{target} {name if part == 'exe' else part}", "MB", "lower",
                         {"now": now[target][part] / 1e6,
                          "previous": before / 1e6 if before else "-"}))
    return rows, now
