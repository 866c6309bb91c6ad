#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Runs Gale's fuzz targets (tests/fuzz/README.md): builds the C harnesses
# with clang's libFuzzer (cached by a hash of their sources and flags),
# makes the Python fuzzer's venv (cached by its pins), then runs each
# target for SECONDS over its saved corpus (tests/fuzz/corpus/<target>)
# plus what earlier runs in the same work folder added. Prints one line per
# target with its executions, and exits non-zero if any target found a
# crash, a hang, a leak or a broken check; the input is kept under
# WORK/artifacts/<target>/ and named in the output.
#
#   tests/fuzz/run.sh [options] [SECONDS]    SECONDS per target (default 30;
#                                            0 replays the saved corpus only)
#   --python PATH   a CPython 3.13 for the Python targets (default
#                   $GALE_FUZZ_PYTHON, else the linux-x86_64 build's own
#                   interpreter in the cache)
#   --work DIR      binaries, logs, artifacts, added corpus (default
#                   $GALE_CACHE/fuzz)
#   --only LIST     comma-separated targets (default: all)
#   --jobs N        targets run at once (default 1)
#   --source DIR    fuzz the launcher/ and pylib/ of another tree (a copy
#                   with a fix under trial; default: this repo)
#
# Needs clang-16 and libclang-rt-16-dev (Debian 12), or CC naming another
# clang with libFuzzer; llvm-16's llvm-symbolizer, if present, names the
# lines in a C crash's stack. Environment: GALE_CACHE (as in
# cmake/thirdparty.sh), CC, GALE_FUZZ_PYTHON.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${GALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gale}

C_TARGETS=(fuzz_payload fuzz_cli)
PY_TARGETS=(fuzz_config fuzz_icons fuzz_peresources fuzz_requirements)

log() { printf 'fuzz: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

seconds=30 python=${GALE_FUZZ_PYTHON:-} work=$cache/fuzz only="" jobs=1 src=$root
while [ $# -gt 0 ]; do
    case "$1" in
        --python) python=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --source) src=$(cd "$2" && pwd); shift 2 ;;
        -h|--help) sed -n '3,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) seconds=$1; shift ;;
    esac
done
[[ "$seconds" =~ ^[0-9]+$ ]] || die "SECONDS must be a whole number, not '$seconds'"

targets=("${C_TARGETS[@]}" "${PY_TARGETS[@]}")
if [ -n "$only" ]; then
    IFS=, read -r -a targets <<<"$only"
    for t in "${targets[@]}"; do
        [[ " ${C_TARGETS[*]} ${PY_TARGETS[*]} " == *" $t "* ]] || die "unknown target '$t'"
    done
fi
wants() { [[ " ${targets[*]} " == *" $1 "* ]]; }
wants_any() { local t; for t in "$@"; do wants "$t" && return 0; done; return 1; }

mkdir -p "$work/bin" "$work/logs"
start=$SECONDS

# --- the C harnesses ---------------------------------------------------------
# Each links only the launcher files it tests: cli.c alone; payload.c with
# the POSIX platform file (gale_platform_fopen) and log.c, which that uses.
cc=${CC:-clang-16}
cflags=(-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
        -fno-sanitize-recover=all -std=c11 -Wall -Wextra -Werror -I"$src/launcher")
declare -A c_sources=(
    [fuzz_payload]="launcher/payload.c launcher/posix/platform_posix.c launcher/log.c"
    [fuzz_cli]="launcher/cli.c"
)
if wants_any "${C_TARGETS[@]}"; then
    command -v "$cc" >/dev/null || die "$cc not found: apt-get install clang-16 libclang-rt-16-dev (or set CC)"
    for t in "${C_TARGETS[@]}"; do
        wants "$t" || continue
        srcs=("$here/$t.c")
        for s in ${c_sources[$t]}; do srcs+=("$src/$s"); done
        key=$( { "$cc" --version; printf '%s\n' "${cflags[@]}"; cat "${srcs[@]}" "$src"/launcher/*.h; } \
               | sha256sum | cut -c1-16)
        if [ "$(cat "$work/bin/$t.key" 2>/dev/null)" != "$key" ]; then
            log "building $t"
            "$cc" "${cflags[@]}" -o "$work/bin/$t" "${srcs[@]}" 2>"$work/logs/$t.build.log" \
                || { cat "$work/logs/$t.build.log" >&2; die "building $t failed"; }
            echo "$key" >"$work/bin/$t.key"
        fi
    done
    symbolizer=$(command -v llvm-symbolizer-16 || ls /usr/lib/llvm-16/bin/llvm-symbolizer 2>/dev/null || true)
    [ -z "$symbolizer" ] || export ASAN_SYMBOLIZER_PATH=$symbolizer
fi

# --- the Python fuzzer's venv ------------------------------------------------
# atheris from tests/fuzz/requirements.txt; packaging (which deps.py uses) at
# the version and hash cmake/pins.txt pins for the payload.
if wants_any "${PY_TARGETS[@]}"; then
    if [ -z "$python" ]; then
        python=$(ls -t "$cache"/build/linux-x86_64/cpython-*/src/python 2>/dev/null | head -n 1 || true)
        [ -n "$python" ] || die "no CPython 3.13: build the linux-x86_64 preset first, or pass --python"
    fi
    "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' \
        || die "$python is not CPython 3.13 (Gale's pack code is written for it)"
    read -r _ pk_version _ pk_req pk_sha _ < <(grep -E '^packaging[[:space:]]' "$root/cmake/pins.txt")
    key=$( { "$python" -VV; cat "$here/requirements.txt"; echo "$pk_req $pk_sha"; } | sha256sum | cut -c1-12)
    venv=$cache/fuzz-venv-$key
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import atheris, packaging' 2>/dev/null; then
        log "creating $venv"
        rm -rf "$venv"
        reqs=$(mktemp)
        { cat "$here/requirements.txt"; echo "$pk_req --hash=sha256:$pk_sha"; } >"$reqs"
        { "$python" -m venv "$venv" &&
          "$venv/bin/python" -m pip install --quiet --require-hashes -r "$reqs"; } \
            >"$work/logs/venv.log" 2>&1 || { tail -n 30 "$work/logs/venv.log" >&2; rm -f "$reqs"; die "making the venv failed"; }
        rm -f "$reqs"
        [ "$("$venv/bin/python" -c 'import packaging; print(packaging.__version__)')" = "$pk_version" ] \
            || die "the venv's packaging is not $pk_version"
    fi
fi
export GALE_FUZZ_PYLIB=$src/pylib
log "ready in $((SECONDS - start)) s"

# --- running -----------------------------------------------------------------
run_target() {
    local t=$1 out=$work/logs/$1.log cmd rc=0
    local added=$work/corpus/$t artifacts=$work/artifacts/$t/
    mkdir -p "$added" "$artifacts"
    if [[ " ${C_TARGETS[*]} " == *" $t "* ]]; then
        cmd=("$work/bin/$t")
    else
        cmd=("$venv/bin/python" "$here/$t.py")
    fi
    local opts=(-dict="$here/$t.dict" -artifact_prefix="$artifacts" -timeout=25
                -rss_limit_mb=2560 -print_final_stats=1)
    if [ "$seconds" -eq 0 ]; then
        opts+=(-runs=0)
    else
        opts+=(-max_total_time="$seconds")
    fi
    # New inputs go to the first folder (the work dir), never into the repo.
    (cd "$work" && "${cmd[@]}" "${opts[@]}" "$added" "$here/corpus/$t") >"$out" 2>&1 || rc=$?
    local execs
    execs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$out" | awk '{s += $2} END {print s + 0}')
    local found
    found=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \
             -o -name 'leak-*' -o -name 'slow-unit-*' \) -newer "$work/logs/.start" | grep -v slow-unit || true)
    printf '%s\t%s\t%s\t%s\n' "$t" "$execs" "$(echo -n "$found" | grep -c . || true)" "$rc" >"$work/logs/$t.result"
    if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
        log "$t: FAILED (status $rc) after $execs executions; log: $out"
        grep -aE -A40 '==ERROR|Traceback|deadly signal|ERROR: libFuzzer|Finding:|SUMMARY' "$out" | head -n 80 >&2 || true
        [ -z "$found" ] || printf 'fuzz: %s: input kept at %s\n' "$t" $found >&2
    else
        log "$t: $execs executions, no crash"
    fi
}

touch "$work/logs/.start"
rm -f "$work"/logs/*.result
running=0
for t in "${targets[@]}"; do
    run_target "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

total=0 failed=0
for t in "${targets[@]}"; do
    execs=0 crashes=1 rc=1  # a target that wrote no result failed
    [ ! -f "$work/logs/$t.result" ] || IFS=$'\t' read -r _ execs crashes rc <"$work/logs/$t.result"
    total=$((total + execs))
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then failed=$((failed + 1)); fi
done
log "$total executions over ${#targets[@]} targets in $((SECONDS - start)) s; $failed failed"
[ "$failed" -eq 0 ]
