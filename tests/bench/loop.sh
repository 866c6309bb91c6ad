#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The event-loop benchmark, one command: Gale's loop against stock Tornado's
# selector-thread loop on one target's executable (default win-x64, under
# Wine). Benchmarks, not tests: nothing fails on a timing. See
# tests/bench/README.md.
#
#   tests/bench/loop.sh [loop_bench.py options]   e.g. --target win-arm64 --only held
#
# Needs wrk, a built dist/linux-x86_64/gale (it packs the hello app) and the
# target's dist/<target>/gale[.exe]; win-arm64 also needs the arm64 root,
# which tests/harness/arm64-root.sh makes or finds (as root).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
extra=()
case " $* " in
    *" win-arm64 "*) extra=(--arm64-root "$(bash "$here/../harness/arm64-root.sh" | tail -n 1)") ;;
esac
exec python3 "$here/loop_bench.py" "${extra[@]}" "$@"
