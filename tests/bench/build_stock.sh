#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Builds the benchmark baseline: a stock CPython from the same pinned source
# Gale uses, with the official release recipe (--enable-optimizations
# --with-lto, i.e. PGO + LTO), plus Tornado installed from the same pinned
# sdist with its own speedups.c compiled against that build. This file owns
# the baseline's recipe and its cache key; it builds nothing of Gale's.
#
#   tests/bench/build_stock.sh        prints the baseline's bin/python3.13
#
# The result is cached outside the clone, keyed by the source hashes, the
# recipe and the compiler:
#   ${GALE_CACHE:-~/.cache/gale}/build/bench/cpython-pgo-<key>/install/
# The tarballs are the ones cmake/thirdparty.sh fetched into
# $GALE_CACHE/src/<sha256>/; run the normal build first if they are missing.
# A first build takes tens of minutes (the PGO training run is most of it).
#
# Environment: GALE_CACHE, GALE_JOBS (default 2).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${GALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gale}
jobs=${GALE_JOBS:-2}

log() { printf 'bench-baseline: %s\n' "$*" >&2; }
die() { printf 'bench-baseline: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=../../cmake/pins.sh
. "$here/../../cmake/pins.sh"

# cached_tarball NAME: the verified tarball thirdparty.sh left in the cache.
cached_tarball() {
    local sha f
    sha=$(pin "$1" 5); f=$(pin_cache_path "$1")
    [ -f "$f" ] || die "$f is missing; run the normal build (cmake/thirdparty.sh linux-x86_64) first to fetch the pinned sources"
    [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sha" ] || die "$f: SHA-256 mismatch"
    printf '%s\n' "$f"
}

CONFIGURE_FLAGS="--enable-optimizations --with-lto"
recipe="stock cpython $CONFIGURE_FLAGS make install; tornado sdist speedups by hand v1"
key=$( { pin cpython 5; pin tornado 5; echo "$recipe"; cc --version 2>/dev/null | head -n1; } \
       | sha256sum | cut -c1-16 )
dir=$cache/build/bench/cpython-pgo-$key
py=$dir/install/bin/python3.13

if [ -f "$dir/.done" ]; then
    printf '%s\n' "$py"; exit 0
fi

cpython_tar=$(cached_tarball cpython)
tornado_tar=$(cached_tarball tornado)
start=$(date +%s)
[ -f "$dir/build-start" ] && start=$(cat "$dir/build-start")
log "building stock CPython $(pin cpython 2) with $CONFIGURE_FLAGS into $dir"
log "this takes tens of minutes on 2 cores (PGO training runs the test suite)"
if [ -f "$dir/src/config.status" ] && [ -f "$dir/src/Makefile" ]; then
    log "resuming the build left in $dir/src"
else
    rm -rf "$dir"; mkdir -p "$dir/src"; echo "$start" > "$dir/build-start"
    tar -xf "$cpython_tar" -C "$dir/src" --strip-components=1
    (cd "$dir/src" && ./configure $CONFIGURE_FLAGS --prefix="$dir/install" >&2)
fi
# Since 3.13 a failing test in the PGO training run fails the build, and a
# few tests are timing-sensitive on a loaded 2-core machine. make resumes at
# the training run, so retry it; the profile counts only add up.
for attempt in 1 2 3; do
    (cd "$dir/src" && make -j"$jobs" >&2) && break
    [ "$attempt" -lt 3 ] || die "make failed 3 times; see the output above"
    log "make failed (attempt $attempt); retrying"
done
(cd "$dir/src" && make install >&2)

# Tornado from the pinned sdist. Its setup.py needs setuptools, which a fresh
# 3.13 does not have, so do what setuptools would: compile speedups.c with the
# build's own sysconfig flags and the sdist's define (stable ABI, 3.11), then
# put the package in site-packages.
log "installing Tornado $(pin tornado 2) from the sdist, with its speedups.c"
mkdir -p "$dir/tornado-src"
tar -xzf "$tornado_tar" -C "$dir/tornado-src" --strip-components=1
site=$("$py" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
rm -rf "$site/tornado"; cp -r "$dir/tornado-src/tornado" "$site/tornado"
eval "$("$py" - <<'PY'
import shlex, sysconfig as s
v = s.get_config_var
for name, val in (("CC", v("CC")), ("CFLAGS", v("CFLAGS")), ("CCSHARED", v("CCSHARED")),
                  ("LDSHARED", v("LDSHARED")), ("INC", s.get_paths()["include"])):
    print(f"py_{name}={shlex.quote(val)}")
PY
)"
# shellcheck disable=SC2086
$py_CC $py_CFLAGS $py_CCSHARED -DPy_LIMITED_API=0x030b0000 -I"$py_INC" \
    -c "$dir/tornado-src/tornado/speedups.c" -o "$dir/tornado-src/speedups.o"
# shellcheck disable=SC2086
$py_LDSHARED "$dir/tornado-src/speedups.o" -o "$site/tornado/speedups.abi3.so"
"$py" -m compileall -q "$site/tornado" >&2   # as pip would
"$py" -c 'import tornado.speedups, tornado; print("tornado", tornado.version, tornado.speedups.__file__)' >&2

rm -rf "$dir/src" "$dir/tornado-src/speedups.o" "$dir/build-start"
echo "$(( $(date +%s) - start ))" > "$dir/build-seconds"
touch "$dir/.done"
log "done in $(cat "$dir/build-seconds") s"
printf '%s\n' "$py"
