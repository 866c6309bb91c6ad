#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The README's test command: installs prerequisites, builds all three targets
# (linux-x86_64, win-x64, win-arm64), prepares the arm64 Wine root, and runs
# the whole test suite (Check unit tests; pytest integration tests against
# each target's real executable, the Windows ones under Wine; Tornado's own
# suite inside each host). Exits non-zero if anything fails. Needs root (the
# arm64 root is a chroot with mounts). Everything fetched or built outside
# the clone is cached under ${GALE_CACHE:-~/.cache/gale}.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=$(bash cmake/setup-host.sh | tail -n 1)
targets="linux-x86_64;win-x64;win-arm64"

# The arm64 root (debootstrap, mostly waiting on downloads and qemu) is made
# while the targets build; its output is shown when it is done.
root_out=$(mktemp) root_log=$(mktemp) ws_out=$(mktemp) ws_log=$(mktemp)
trap 'rm -f "$root_out" "$root_log" "$ws_out" "$ws_log"' EXIT
bash tests/harness/arm64-root.sh >"$root_out" 2>"$root_log" &
root_pid=$!
# Wine 8's wineserver with the poll-list fix, for test_mass_disconnect.py
# (about a minute once, then a cache hit), also while the targets build.
bash tests/harness/wineserver-fixed.sh >"$ws_out" 2>"$ws_log" &
ws_pid=$!

# linux-x86_64 first: the Windows CPython builds use its build Python.
for preset in ${targets//;/ }; do
    cmake --preset "$preset"
    cmake --build --preset "$preset"
done

root_status=0
wait "$root_pid" || root_status=$?
cat "$root_log" >&2
[ "$root_status" -eq 0 ] || { echo "run.sh: tests/harness/arm64-root.sh failed" >&2; exit 1; }
root=$(tail -n 1 "$root_out")
ws_status=0
wait "$ws_pid" || ws_status=$?
cat "$ws_log" >&2
case "$ws_status" in
    0) wineserver_fixed=$(tail -n 1 "$ws_out") ;;
    3) wineserver_fixed="" ;;  # not Debian 12's Wine 8 (said above): the test skips
    *) echo "run.sh: tests/harness/wineserver-fixed.sh failed" >&2; exit 1 ;;
esac

cmake --preset linux-x86_64 -DGALE_PYTEST="$venv/bin/pytest" \
    -DGALE_TEST_TARGETS="$targets" -DGALE_ARM64_ROOT="$root" \
    -DGALE_WINESERVER_FIXED="$wineserver_fixed"
ctest --preset linux-x86_64
