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
# Afterwards it runs tests/bench/mask_bench (the C kernel alone, against
# memcpy) if CMake has built it.
#
# Environment:
#   GALE_EXE     the executable to measure (default: dist/linux-x86_64/gale)
#   GALE_CACHE   cache root, as for the build
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
stock=$(bash "$here/build_stock.sh" | tail -n 1)
python3 "$here/bench.py" --stock "$stock" --gale "${GALE_EXE:-$root/dist/linux-x86_64/gale}" "$@"

# The C-level view of the same kernel (mask_bench.c, built by CMake with
# the tests), when it is built and the mask was asked for.
mask_bench=$root/build/linux-x86_64/tests/mask_bench
case " $* " in *" --only "*) case " $* " in *" mask "*) ;; *) exit 0 ;; esac ;; esac
if [ -x "$mask_bench" ]; then
    printf '\nwebsocket_mask without Python (%s):\n' "${mask_bench#"$root"/}"
    "$mask_bench"
fi
