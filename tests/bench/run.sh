#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Gale's benchmark suite, one command: builds (or reuses from the cache) the
# stock CPython baseline, then measures Gale and the baseline side by side
# and prints a table of gale/stock ratios. Benchmarks, not tests: nothing
# fails on a timing. See tests/bench/README.md.
#
#   tests/bench/run.sh [bench.py options]     e.g. --only wrk --wrk-rounds 5
#
# Environment:
#   GALE_EXE     the executable to measure (default: dist/linux-x86_64/gale)
#   GALE_CACHE   cache root, as for the build
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
stock=$(bash "$here/build_stock.sh" | tail -n 1)
exec python3 "$here/bench.py" --stock "$stock" --gale "${GALE_EXE:-$root/dist/linux-x86_64/gale}" "$@"
