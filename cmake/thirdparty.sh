#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Fetches Gale's pinned third-party sources and builds them for one target,
# caching both outside the clone so a second build (and CI on the same
# machine) reuses them. This file owns: source pins lookup, fetch + SHA-256
# verification, the per-target recipes for zlib, SQLite, OpenSSL, libffi,
# bzip2 and xz (the last three for Windows; Linux uses Debian's) and CPython,
# the cache keys, and the builds' logs. It knows nothing about Gale's own
# code.
#
#   cmake/thirdparty.sh TARGET [OUTFILE]
#
# TARGET is linux-x86_64, win-x64 or win-arm64 (cross-built with zig through
# cmake/zig/).
# OUTFILE receives CMake `set()` lines naming what was built.
#
# The console gets two lines per component built (what it builds and where
# its log is; then how long it took) and none for one already in the cache.
# Everything the build prints, from the fetch to the compilers, goes to the
# log, whose path mirrors the build's folder in the cache: the build in
# $GALE_CACHE/build/PATH logs to $GALE_CACHE/logs/PATH.log (e.g.
# build/win-x64/openssl-<key> to logs/win-x64/openssl-<key>.log), one file
# per cache key, rewritten by each attempt. A failed build prints the log's
# last 30 lines and its path, then the error, and exits non-zero.
#
# Environment:
#   GALE_CACHE    cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/gale);
#                 it holds src/ (tarballs), build/ and logs/
#   GALE_SOURCES  a local folder holding the pinned tarballs by file name;
#                 used before any download, and still checked by SHA-256
#   GALE_JOBS     parallel jobs (default: 2)
#   GALE_ZIG      the zig executable for the Windows targets (default: the
#                 one in the venv cmake/setup-host.sh makes)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
target=${1:?usage: thirdparty.sh TARGET [OUTFILE]}
outfile=${2:-/dev/stdout}
cache=${GALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gale}
jobs=${GALE_JOBS:-2}

log() { printf 'thirdparty: %s\n' "$*" >&2; }
die() { printf 'thirdparty: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=cmake/pins.sh
. "$here/pins.sh"
# shellcheck source=cmake/logfile.sh
. "$here/logfile.sh"

# --- steps: a build's output goes to its log ---------------------------------
# Building one component is a step. From step_begin to step_done, whatever
# the script and its commands print goes to the step's log, and the console
# gets one line at each end. If the script exits in between (die, or a
# command failing under set -e), step_failed shows the log and repeats the
# error with the log's path. A component found in the cache is no step and
# prints nothing.

# step_begin DIR WHAT [NOTE]: WHAT (e.g. OpenSSL) is about to be built into
# DIR, $cache/build/...; its log is the same path under $cache/logs.
step_begin() {
    [ -z "${step_dir:-}" ] || die "step_begin $2 inside the step for $step_what"
    step_dir=$1 step_what=$2 step_start=$SECONDS
    step_log="$cache/logs/${1#"$cache/build/"}.log"
    mkdir -p "$(dirname "$step_log")"
    log "building $step_what for $target${3:+; $3} (log: $step_log)"
    exec {step_out}>&1 {step_err}>&2 >"$step_log" 2>&1
    trap step_failed EXIT
    log "$step_what for $target into $step_dir, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
}

# step_done: the step's DIR is complete (DIR/.done); back to the console.
step_done() {
    touch "$step_dir/.done"
    trap - EXIT
    exec 1>&"$step_out" 2>&"$step_err" {step_out}>&- {step_err}>&-
    log "$step_what for $target built in $(took "$step_start") (log: $step_log)"
    step_dir=
}

# step_failed: the EXIT trap during a step.
step_failed() {
    local rc=$? err
    exec 1>&"$step_out" 2>&"$step_err"
    if [ "$rc" -gt 128 ]; then
        log "$step_what for $target stopped by a signal after $(took "$step_start") (log: $step_log)"
        exit "$rc"
    fi
    log "$step_what for $target failed after $(took "$step_start")"
    show_log "$step_log"
    err=$(grep '^thirdparty: error: ' "$step_log" | tail -n 1) || true
    printf '%s (log: %s)\n' "${err:-thirdparty: error: $step_what for $target failed}" "$step_log" >&2
    exit $((rc ? rc : 1))
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# debian_mirror: the archive base URL from apt's own configuration, so no
# mirror host is ever written into the repository.
debian_mirror() {
    local m=""
    if [ -r /etc/apt/sources.list.d/debian.sources ]; then
        m=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$m" ] && [ -r /etc/apt/sources.list ]; then
        m=$(awk '$1 == "deb" && $0 ~ /debian/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
    fi
    [ -n "$m" ] || die "cannot find a Debian archive URL in apt's configuration; set GALE_SOURCES to a folder with the tarballs"
    printf '%s\n' "${m%/}"
}

# fetch NAME: prints the path of the verified tarball in the cache.
fetch() {
    local name=$1 path sha file dest tmp
    path=$(pin "$name" 4); sha=$(pin "$name" 5)
    dest=$(pin_cache_path "$name"); file=$(basename "$dest")
    if [ -f "$dest" ] && [ "$(sha_of "$dest")" = "$sha" ]; then
        printf '%s\n' "$dest"; return
    fi
    mkdir -p "$cache/src/$sha"
    tmp=$(mktemp -d "$cache/src/.fetch.XXXXXX")
    if [ -n "${GALE_SOURCES:-}" ] && [ -f "$GALE_SOURCES/$file" ]; then
        log "using $GALE_SOURCES/$file"
        cp "$GALE_SOURCES/$file" "$tmp/$file"
    elif [ "$(pin "$name" 3)" = pypi-wheel ]; then
        log "downloading $path (wheel) with pip"
        python3 -m pip download --quiet --no-deps --only-binary :all: \
            -d "$tmp" "$path" >&2 || die "pip could not download $path"
    elif [ "$(pin "$name" 3)" = pypi ]; then
        log "downloading $path (sdist) with pip"
        # pip reads the sdist's metadata before it saves it; with build
        # isolation that needs no setuptools/wheel in this python3 (a bare
        # pyenv python has no wheel). The tarball is still checked below.
        python3 -m pip download --quiet --no-deps --no-binary :all: \
            -d "$tmp" "$path" >&2 || die "pip could not download $path"
    else
        log "downloading $file from the Debian archive"
        curl -fsSL --retry 3 -o "$tmp/$file" "$(debian_mirror)/$path" \
            || die "download failed: $path"
    fi
    [ -f "$tmp/$file" ] || die "fetch of $name did not produce $file"
    local got; got=$(sha_of "$tmp/$file")
    [ "$got" = "$sha" ] || { rm -rf "$tmp"; die "$file: SHA-256 mismatch (got $got, pinned $sha)"; }
    mv "$tmp/$file" "$dest"; rm -rf "$tmp"
    printf '%s\n' "$dest"
}

# stamp_key NAME RECIPE...: a cache key over the source hash, the target,
# the recipe (flags) and the compiler, so any change rebuilds.
stamp_key() {
    local name=$1; shift
    { pin "$name" 5; echo "$target"; printf '%s\n' "$@"; ${CC:-cc} --version 2>/dev/null | head -n1; } \
        | sha256sum | cut -c1-16
}

# unpack TARBALL DIR: a fresh copy of the source tree in DIR.
unpack() {
    rm -rf "$2"; mkdir -p "$2"
    tar -xf "$1" -C "$2" --strip-components=1
}

# source_epoch DIR: the newest file time in a freshly unpacked tree, as
# SOURCE_DATE_EPOCH. OpenSSL ("built on") and CPython (sys.version's date)
# would otherwise put the time of the build into the library, and two builds
# of the same sources would differ; with it, they show the source's release.
source_epoch() {
    find "$1" -type f -printf '%T@\n' | sort -n | tail -n 1 | cut -d. -f1
}

build_zlib() {
    local recipe="zlib static -O2 -fPIC v1" key dir
    key=$(stamp_key zlib "$recipe"); dir="$cache/build/$target/zlib-$key"
    if [ ! -f "$dir/.done" ]; then
        step_begin "$dir" zlib
        unpack "$(fetch zlib)" "$dir/src"
        (cd "$dir/src" && CFLAGS="-O2 -fPIC" ./configure --static --prefix="$dir/install" >&2 \
            && make -j"$jobs" libz.a >&2 && make install >&2)
        rm -rf "$dir/src"; step_done
    fi
    ZLIB_DIR=$dir/install
}

# SQLite ships as its full source tree; the amalgamation is generated here
# (needs tclsh) and compiled with the options CPython's own Windows build uses.
SQLITE_DEFS="-DSQLITE_THREADSAFE=1 -DSQLITE_ENABLE_FTS4 -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_RTREE -DSQLITE_ENABLE_MATH_FUNCTIONS -DSQLITE_DEFAULT_WAL_SYNCHRONOUS=1 -DSQLITE_OMIT_LOAD_EXTENSION"
build_sqlite() {
    local recipe="sqlite amalgamation $SQLITE_DEFS -O2 -fPIC v1" key dir
    key=$(stamp_key sqlite "$recipe"); dir="$cache/build/$target/sqlite-$key"
    if [ ! -f "$dir/.done" ]; then
        step_begin "$dir" SQLite
        unpack "$(fetch sqlite)" "$dir/src"
        (cd "$dir/src" && ./configure --disable-tcl --disable-shared >&2 && make sqlite3.c >&2) \
            || die "SQLite amalgamation failed (is tclsh installed?)"
        mkdir -p "$dir/install/include" "$dir/install/lib" "$dir/amalgamation"
        cp "$dir/src/sqlite3.c" "$dir/src/sqlite3.h" "$dir/amalgamation/"
        cp "$dir/src/sqlite3.h" "$dir/install/include/"
        ${CC:-cc} -O2 -fPIC $SQLITE_DEFS -c "$dir/amalgamation/sqlite3.c" -o "$dir/sqlite3.o"
        ar rcs "$dir/install/lib/libsqlite3.a" "$dir/sqlite3.o"
        rm -rf "$dir/src" "$dir/sqlite3.o"; step_done
    fi
    SQLITE_DIR=$dir/install
}

# What no build needs: the parts of OpenSSL that CPython's _ssl and _hashlib
# never reach, whatever a program does with them (docs/windows.md, "What
# OpenSSL leaves out"). QUIC (OpenSSL 3.5's stack: Python's ssl has no QUIC
# API), DTLS (no datagram TLS in Python), OCSP stapling and certificate
# transparency (no API for them; _ssl only reads a certificate's OCSP URIs,
# which are plain extension data), SRP (no API), and the CMS, CMP,
# time-stamp and HTTP-client parts of libcrypto, which only OpenSSL's own
# command-line tools and those protocols use.
OPENSSL_LEAVE_OUT="no-quic no-dtls no-ocsp no-ct no-srp no-cms no-cmp no-ts no-http"

# OpenSSL: libraries only (no apps, tests or docs), static. OPENSSLDIR points
# at Debian's so the default CA paths find the system store.
build_openssl() {
    local opts="linux-x86_64 no-shared no-apps no-tests no-docs no-module no-engine no-dso $OPENSSL_LEAVE_OUT -fPIC --openssldir=/usr/lib/ssl --libdir=lib"
    local recipe="openssl $opts v1" key dir
    key=$(stamp_key openssl "$recipe"); dir="$cache/build/$target/openssl-$key"
    if [ ! -f "$dir/.done" ]; then
        step_begin "$dir" OpenSSL "it takes several minutes"
        unpack "$(fetch openssl)" "$dir/src"
        # shellcheck disable=SC2086
        (cd "$dir/src" && ./Configure $opts --prefix="$dir/install" >&2 \
            && make -j"$jobs" build_libs >&2 && make install_dev >&2)
        rm -rf "$dir/src"; step_done
    fi
    OPENSSL_DIR=$dir/install
}

# CPython: every stdlib extension module is built in (MODULE_BUILDTYPE=static),
# the library is static, and modules whose libraries would pull in shared
# objects beyond libc are switched off. The build tree is kept: it holds
# libpython, the headers, a build-machine python for compiling .pyc, and the
# frozen-module headers the Windows targets reuse.
#
# It is optimised as CPython's release builds are, with gcc: profile-guided
# (--enable-optimizations: an instrumented build, a training run, a rebuild
# with the counts) and ready for link-time optimisation. The training run is
# cmake/pgo_train.py: the stdlib's own set (-m test --pgo) and a Tornado
# server workload. The rebuild's objects are "fat" (-ffat-lto-objects):
# machine code, which every plain link uses (the build python, the test
# programs), and gcc's IR, which the link of gale itself optimises across
# the whole program (-flto, CMakeLists.txt). The instrumented build is not
# LTO; configure's own --with-lto would also make it so, and would link
# with -flto-partition=none, a single-threaded link of minutes. CPython's
# own programs (the build python, _freeze_module, _testembed) link with
# -fno-lto: gcc would otherwise optimise each of them whole, minutes more,
# for tools that only run at build time. No debug info (-g0): the host is
# stripped, and it would only slow the compiles and the LTO link.
CPYTHON_OFF="_tkinter _curses _curses_panel readline _dbm _gdbm _testcapi _testlimitedcapi _testinternalcapi _testbuffer _testimportmultiple _testmultiphase _testsinglephase _testexternalinspection _xxtestfuzz xxlimited xxlimited_35 xxsubtype _ctypes_test"
build_cpython() {
    local libdir=/usr/lib/x86_64-linux-gnu
    local train="$here/pgo_train.py"
    local pgo_use="-fprofile-use -fprofile-correction -flto=auto -ffat-lto-objects"
    local opt="-DNDEBUG -g0 -O3 -Wall"
    local recipe="cpython static MODULE_BUILDTYPE=static off=[$CPYTHON_OFF] zlib=$ZLIB_DIR sqlite=$SQLITE_DIR openssl=$OPENSSL_DIR pgo train=$(sha_of "$train") tornado=$(pin tornado 5) opt=[$opt] use=[$pgo_use] link=-fno-lto v4"
    local key dir off=()
    key=$(stamp_key cpython "$recipe"); dir="$cache/build/$target/cpython-$key"
    for m in $CPYTHON_OFF; do off+=("py_cv_module_$m=n/a"); done
    if [ ! -f "$dir/.done" ]; then
        step_begin "$dir" CPython "profile-guided: about 6 minutes on 2 cores, more beside other jobs"
        unpack "$(fetch cpython)" "$dir/src"
        unpack "$(fetch tornado)" "$dir/tornado"
        (cd "$dir/src" && MODULE_BUILDTYPE=static OPT="$opt" ./configure \
            --disable-shared --without-ensurepip --disable-test-modules \
            --enable-optimizations \
            --with-openssl="$OPENSSL_DIR" --with-openssl-rpath=no \
            "${off[@]}" \
            ZLIB_CFLAGS="-I$ZLIB_DIR/include" ZLIB_LIBS="-L$ZLIB_DIR/lib -lz" \
            LIBSQLITE3_CFLAGS="-I$SQLITE_DIR/include" LIBSQLITE3_LIBS="-L$SQLITE_DIR/lib -lsqlite3 -lm" \
            BZIP2_LIBS="$libdir/libbz2.a" LIBLZMA_LIBS="$libdir/liblzma.a" \
            LIBFFI_LIBS="$libdir/libffi.a" LIBUUID_LIBS="$libdir/libuuid.a" >&2 \
            && make -j"$jobs" profile-opt PROFILE_TASK="$train $dir/tornado" \
                PGO_PROF_USE_FLAG="$pgo_use" LDFLAGS_NODIST=-fno-lto >&2) \
            || die "the profile-guided CPython build failed (the training run's output is in the log)"
        rm -rf "$dir/tornado"
        # configure does not stop when a module's library is not found; we
        # do. (Its AC_CHECK_LIB probes link with a bare -lNAME, which is why
        # the libraries are given as -L/-l above: only our .a files sit in
        # those folders, so the link stays static.)
        local missing
        missing=$(sed -n 's/^MODULE_\(.*\)_STATE=missing$/\1/p' "$dir/src/Makefile" | tr '\n' ' ')
        [ -z "$missing" ] || die "CPython modules not built (their libraries were not found): $missing"
        # The exact libraries the static modules need, as CPython's own link
        # of `python` uses them.
        (cd "$dir/src" && printf 'gale-print-libs:\n\t@echo $(LIBS) $(MODLIBS) $(SYSLIBS)\n' \
            | make -s -f Makefile -f - gale-print-libs) > "$dir/link-libs.txt"
        step_done
    fi
    CPYTHON_DIR=$dir/src
}

# The libraries from link-libs.txt with CPython's build-relative paths made
# absolute (e.g. Modules/expat/libexpat.a).
cpython_link_libs() {
    local lib out=()
    for lib in $(cat "$CPYTHON_DIR/../link-libs.txt"); do
        case "$lib" in
            -*|/*) out+=("$lib") ;;
            *) out+=("$CPYTHON_DIR/$lib") ;;
        esac
    done
    printf '%s' "${out[*]}"
}

# --- Windows (win-x64, win-arm64): cross-built with zig -----------------------
# The compilers are cmake/zig/'s wrappers, the same ones the CMake toolchain
# files name; they find zig themselves (GALE_ZIG, else setup-host's venv).
# Every recipe's key names the zig version and target, so a new zig
# rebuilds. Libraries are static; the CRT is UCRT (zig's default for
# *-windows-gnu). Every compile says -g0: zig cc otherwise adds CodeView
# debug info, which made libcrypto.a 31 MB. See docs/windows-toolchain.md.

# win_tools: sets ZIG_TARGET, ZIG_VERSION, OPENSSL_TARGET and the tool
# paths for $target.
win_tools() {
    case "$target" in
        win-x64)   ZIG_TARGET=x86_64-windows-gnu  OPENSSL_TARGET=mingw-gale-x86_64 ;;
        win-arm64) ZIG_TARGET=aarch64-windows-gnu OPENSSL_TARGET=mingw-gale-aarch64 ;;
    esac
    ZIG_VERSION=$("$here/zig/zig" version) \
        || die "zig not found: run cmake/setup-host.sh or set GALE_ZIG"
    local t="$here/zig/$ZIG_TARGET"
    WIN_CC=$t-cc WIN_AR=$t-ar WIN_RANLIB=$t-ranlib WIN_RC=$t-rc
}

# win_key NAME RECIPE...: stamp_key with zig as the compiler.
win_key() { CC=$WIN_CC stamp_key "$@" "zig $ZIG_VERSION $ZIG_TARGET"; }

# zlib: Debian's tarball drops win32/ (and with it Makefile.gcc), and the
# Unix configure script does not cross to Windows, so the library's sources
# (every .c at the top level) are compiled directly. zconf.h as shipped is
# right for Windows.
build_zlib_win() {
    local recipe="zlib static win -O2 -g0 v1" key dir
    key=$(win_key zlib "$recipe"); dir="$cache/build/$target/zlib-$key"
    if [ ! -f "$dir/.done" ]; then
        step_begin "$dir" zlib
        unpack "$(fetch zlib)" "$dir/src"
        (cd "$dir/src" && printf '%s\n' *.c | sed 's/\.c$//' \
            | xargs -P "$jobs" -I{} "$WIN_CC" -O2 -g0 -c {}.c -o {}.o \
            && "$WIN_AR" rcs libz.a ./*.o) >&2 || die "zlib build for $target failed"
        mkdir -p "$dir/install/include" "$dir/install/lib"
        cp "$dir/src/zlib.h" "$dir/src/zconf.h" "$dir/install/include/"
        cp "$dir/src/libz.a" "$dir/install/lib/"
        rm -rf "$dir/src"; step_done
    fi
    ZLIB_DIR=$dir/install
}

# sqlite_amalgamation: the generated sqlite3.c and sqlite3.h are the same for
# every platform, so they are made once (with the host's cc and tclsh) and
# shared by the Windows targets.
sqlite_amalgamation() {
    local dir; dir="$cache/build/sqlite-amalgamation-$(pin sqlite 5 | cut -c1-16)"
    if [ ! -f "$dir/.done" ]; then
        step_begin "$dir" "the SQLite amalgamation"
        unpack "$(fetch sqlite)" "$dir/src"
        (cd "$dir/src" && env -u CC ./configure --disable-tcl --disable-shared >&2 \
            && make sqlite3.c >&2) || die "SQLite amalgamation failed (is tclsh installed?)"
        cp "$dir/src/sqlite3.c" "$dir/src/sqlite3.h" "$dir/"
        rm -rf "$dir/src"; step_done
    fi
    SQLITE_AMALGAMATION=$dir
}

build_sqlite_win() {
    local recipe="sqlite amalgamation win $SQLITE_DEFS -O2 -g0 v1" key dir
    key=$(win_key sqlite "$recipe"); dir="$cache/build/$target/sqlite-$key"
    if [ ! -f "$dir/.done" ]; then
        sqlite_amalgamation
        step_begin "$dir" SQLite
        rm -rf "$dir"; mkdir -p "$dir/install/include" "$dir/install/lib"
        cp "$SQLITE_AMALGAMATION/sqlite3.h" "$dir/install/include/"
        # shellcheck disable=SC2086
        "$WIN_CC" -O2 -g0 $SQLITE_DEFS -c "$SQLITE_AMALGAMATION/sqlite3.c" -o "$dir/sqlite3.o" \
            || die "SQLite build for $target failed"
        "$WIN_AR" rcs "$dir/install/lib/libsqlite3.a" "$dir/sqlite3.o"
        rm -f "$dir/sqlite3.o"; step_done
    fi
    SQLITE_DIR=$dir/install
}

# libffi, for _ctypes. The tarball is a source snapshot without a configure
# script (autoreconf would need autoconf, automake and libtool), so, as for
# zlib, the library is compiled directly: the sources configure.host and
# Makefile.am list for ARM_WIN64 / X86_WIN64 with a GNU toolchain (sysv.S
# and win64.S, not the MSVC-syntax *_armasm.S / *_intel.S), and the two
# generated headers written here. fficonfig.h holds only what those
# sources test; everything else configure would find is absent on Windows
# (alloca.h, memfd, mntent, hidden visibility). ffi.h is ffi.h.in with its
# substitutions; long double is wider than double on x86-64 MinGW
# (80-bit x87) and the same as double on ARM64 Windows, which is what
# configure's HAVE_LONG_DOUBLE records. FFI_VERSION_STRING and
# FFI_VERSION_NUMBER (3.5's ffi_get_version) are what configure.ac derives
# from the version.
build_libffi_win() {
    local ours="$here/../native/win/clear_cache.c"
    local recipe="libffi static win -O2 -g0 direct clear_cache=$(sha_of "$ours") v1"
    local key dir ffi_target arch_dir arch_src ld_size extra=()
    case "$target" in
        win-x64)   ffi_target=X86_WIN64 arch_dir=x86     arch_src="ffiw64.c win64.S" ;;
        # zig's compiler-rt has no __clear_cache for it: native/win/clear_cache.c.
        win-arm64) ffi_target=ARM_WIN64 arch_dir=aarch64 arch_src="ffi.c sysv.S" extra=("$ours") ;;
    esac
    key=$(win_key libffi "$recipe"); dir="$cache/build/$target/libffi-$key"
    if [ ! -f "$dir/.done" ]; then
        step_begin "$dir" libffi
        unpack "$(fetch libffi)" "$dir/src"
        ld_size=$(echo | "$WIN_CC" -E -dM - | sed -n 's/^#define __SIZEOF_LONG_DOUBLE__ //p')
        [ -n "$ld_size" ] || die "libffi: cannot tell the size of long double for $target"
        mkdir -p "$dir/gen"
        local v; v=$(pin libffi 2)
        sed -e "s/@VERSION@/$v/" -e "s/@TARGET@/$ffi_target/" \
            -e "s/@FFI_VERSION_STRING@/$v/" \
            -e "s/@FFI_VERSION_NUMBER@/$(echo "$v" | awk -F. '{ print $1 * 10000 + $2 * 100 + $3 }')/" \
            -e "s/@HAVE_LONG_DOUBLE@/$(( ld_size > 8 ? 1 : 0 ))/" \
            -e "s/@FFI_EXEC_TRAMPOLINE_TABLE@/0/" \
            "$dir/src/include/ffi.h.in" > "$dir/gen/ffi.h"
        ! grep -n '@[A-Z_]*@' "$dir/gen/ffi.h" >&2 || die "libffi: ffi.h.in has a substitution this recipe does not know"
        cat > "$dir/gen/fficonfig.h" <<CONF
/* Written by Gale's cmake/thirdparty.sh for $ZIG_TARGET (see build_libffi_win). */
#define STDC_HEADERS 1
#define HAVE_MEMCPY 1
#define SIZEOF_DOUBLE 8
#define SIZEOF_LONG_DOUBLE $ld_size
#define SIZEOF_SIZE_T 8
$([ "$ld_size" -gt 8 ] && echo "#define HAVE_LONG_DOUBLE 1")
#ifdef LIBFFI_ASM
#define FFI_HIDDEN(name)
#else
#define FFI_HIDDEN
#endif
CONF
        cp "$dir/src/src/$arch_dir/ffitarget.h" "$dir/gen/"
        local f
        (cd "$dir/src" && for f in prep_cif.c types.c raw_api.c java_raw_api.c closures.c tramp.c \
                $(printf "$arch_dir/%s " $arch_src); do
            "$WIN_CC" -O2 -g0 -DFFI_STATIC_BUILD -I"$dir/gen" -Iinclude -Isrc -Isrc/"$arch_dir" \
                -c "src/$f" -o "$(echo "$f" | tr / _).o" || exit 1
        done && for f in ${extra[@]+"${extra[@]}"}; do
            "$WIN_CC" -O2 -g0 -c "$f" -o "gale_$(basename "$f" .c).o" || exit 1
        done && "$WIN_AR" rcs libffi.a ./*.o) >&2 || die "libffi build for $target failed"
        mkdir -p "$dir/install/include" "$dir/install/lib"
        cp "$dir/gen/ffi.h" "$dir/gen/ffitarget.h" "$dir/install/include/"
        cp "$dir/src/libffi.a" "$dir/install/lib/"
        rm -rf "$dir/src" "$dir/gen"; step_done
    fi
    LIBFFI_DIR=$dir/install
}

# bzip2, for _bz2: the library's sources compiled directly (its Makefile is
# for Unix cc), the files and defines PCbuild/_bz2.vcxproj uses. bzlib.h
# declares the functions for a static or in-DLL build by itself unless
# BZ_IMPORT is set, which nothing here sets.
build_bzip2_win() {
    local recipe="bzip2 static win -O2 -g0 direct v1" key dir
    key=$(win_key bzip2 "$recipe"); dir="$cache/build/$target/bzip2-$key"
    if [ ! -f "$dir/.done" ]; then
        step_begin "$dir" bzip2
        unpack "$(fetch bzip2)" "$dir/src"
        (cd "$dir/src" && printf '%s\n' blocksort huffman crctable randtable compress decompress bzlib \
            | xargs -P "$jobs" -I{} "$WIN_CC" -O2 -g0 -D_FILE_OFFSET_BITS=64 -c {}.c -o {}.o \
            && "$WIN_AR" rcs libbz2.a ./*.o) >&2 || die "bzip2 build for $target failed"
        mkdir -p "$dir/install/include" "$dir/install/lib"
        cp "$dir/src/bzlib.h" "$dir/install/include/"
        cp "$dir/src/libbz2.a" "$dir/install/lib/"
        rm -rf "$dir/src"; step_done
    fi
    BZIP2_DIR=$dir/install
}

# xz's liblzma, for _lzma, through its own CMake project (upstream's
# supported way to build it for Windows; the tarball has no config.h for
# it) with the same zig toolchain file as CPython. Only the library: no
# tools, translations or docs. Threads are Windows' own (Vista API).
XZ_OPTS="-DBUILD_SHARED_LIBS=OFF -DXZ_NLS=OFF -DXZ_THREADS=vista -DXZ_TOOL_XZ=OFF -DXZ_TOOL_XZDEC=OFF -DXZ_TOOL_LZMADEC=OFF -DXZ_TOOL_LZMAINFO=OFF -DXZ_TOOL_SCRIPTS=OFF -DXZ_TOOL_SYMLINKS=OFF -DXZ_TOOL_SYMLINKS_LZMA=OFF -DXZ_DOC=OFF"
build_xz_win() {
    local recipe="xz liblzma cmake $XZ_OPTS -O2 -g0 v1" key dir
    key=$(win_key xz "$recipe"); dir="$cache/build/$target/xz-$key"
    if [ ! -f "$dir/.done" ]; then
        step_begin "$dir" liblzma
        unpack "$(fetch xz)" "$dir/src"
        # shellcheck disable=SC2086
        cmake -S "$dir/src" -B "$dir/build" -G Ninja \
            -DCMAKE_TOOLCHAIN_FILE="$here/toolchains/zig-$ZIG_TARGET.cmake" \
            -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG -g0" $XZ_OPTS >&2 \
            && cmake --build "$dir/build" --target liblzma -j "$jobs" >&2 \
            || die "liblzma build for $target failed"
        mkdir -p "$dir/install/include" "$dir/install/lib"
        cp -r "$dir/src/src/liblzma/api/lzma.h" "$dir/src/src/liblzma/api/lzma" "$dir/install/include/"
        cp "$dir/build/liblzma.a" "$dir/install/lib/"
        rm -rf "$dir/src" "$dir/build"; step_done
    fi
    XZ_DIR=$dir/install
}

# OpenSSL: libraries only, static, with our own Configure targets
# (cmake/openssl/50-gale-mingw.conf; upstream has no MinGW ARM64 target).
# Configure's default OPENSSLDIR is the install prefix: a path on this build
# machine which, on Windows, means "\root\.cache\..." on the current drive,
# a place any user can create and plant an openssl.cnf in. The three
# directories are set to those of official Windows builds (writable only by
# administrators) through make variables, because Configure, running on
# Linux, takes C:/... for a relative path and prepends the prefix.
WIN_OPENSSL_DIRS=(
    "OPENSSLDIR=C:/Program Files/Common Files/SSL"
    "ENGINESDIR=C:/Program Files/OpenSSL/lib/engines-3"
    "MODULESDIR=C:/Program Files/OpenSSL/lib/ossl-modules"
)
build_openssl_win() {
    local conf="$here/openssl/50-gale-mingw.conf" leave_out=$OPENSSL_LEAVE_OUT
    # ARM64 only: the SM2 curve's precomputed table (512 KB, for aarch64's
    # assembly); SM2 still works, computed without it.
    [ "$target" = win-arm64 ] && leave_out="$leave_out no-sm2-precomp"
    local opts="$OPENSSL_TARGET no-shared no-apps no-tests no-docs no-module no-engine no-dso $leave_out -g0 --libdir=lib"
    local recipe="openssl $opts ${WIN_OPENSSL_DIRS[*]} conf=$(sha_of "$conf") date=source v2" key dir
    key=$(win_key openssl "$recipe"); dir="$cache/build/$target/openssl-$key"
    if [ ! -f "$dir/.done" ]; then
        step_begin "$dir" OpenSSL "it takes several minutes"
        unpack "$(fetch openssl)" "$dir/src"
        # shellcheck disable=SC2086
        (export SOURCE_DATE_EPOCH; SOURCE_DATE_EPOCH=$(source_epoch "$dir/src") \
            && cd "$dir/src" && ./Configure --config="$conf" $opts --prefix="$dir/install" \
                CC="$WIN_CC" AR="$WIN_AR" RANLIB="$WIN_RANLIB" RC="$WIN_RC" >&2 \
            && make -j"$jobs" build_libs "${WIN_OPENSSL_DIRS[@]}" >&2 \
            && make install_dev "${WIN_OPENSSL_DIRS[@]}" >&2) \
            || die "OpenSSL build for $target failed"
        rm -rf "$dir/src"; step_done
    fi
    OPENSSL_DIR=$dir/install
}

# CPython for the Windows targets: the CMake project in cmake/cpython/ (our
# patches, config header, module table), cross-built with zig and installed
# into the cache. It needs the linux-x86_64 build too: its frozen-module
# headers are platform independent, and its interpreter compiles the
# payload's .pyc for every target. The key covers every file of that project
# and of native/cpython/, so editing a patch rebuilds.
#
# Link-time optimisation: the library's objects are LLVM bitcode
# (-flto=thin), which lld, in the link of gale.exe, optimises across the
# whole program (docs/windows-toolchain.md, "Optimisation").
WIN_CPYTHON_LTO=thin
build_cpython_windows() {
    local out ours frozen recipe key dir
    out=$(mktemp)
    GALE_JOBS=$jobs bash "$here/thirdparty.sh" linux-x86_64 "$out" \
        || die "the linux-x86_64 build, which the Windows targets need, failed"
    HOST_CPYTHON_DIR=$(sed -n 's/^set(GALE_CPYTHON_DIR "\(.*\)")$/\1/p' "$out")
    rm -f "$out"
    ours=$(cd "$here/.." && find cmake/cpython native/cpython -type f -print0 | sort -z \
        | xargs -0 sha256sum | sha256sum | cut -c1-16)
    # The frozen modules by content: a new Linux build (other flags, a new
    # profile) makes the same headers and must not rebuild this one.
    frozen=$(cd "$HOST_CPYTHON_DIR/Python/frozen_modules" && find . -name '*.h' -print0 | sort -z \
        | xargs -0 sha256sum | sha256sum | cut -c1-16)
    recipe="cpython win project=$ours frozen=$frozen lto=$WIN_CPYTHON_LTO zlib=$ZLIB_DIR sqlite=$SQLITE_DIR openssl=$OPENSSL_DIR libffi=$LIBFFI_DIR bzip2=$BZIP2_DIR xz=$XZ_DIR date=source v3"
    key=$(win_key cpython "$recipe"); dir="$cache/build/$target/cpython-$key"
    if [ ! -f "$dir/.done" ]; then
        step_begin "$dir" CPython "it takes several minutes"
        unpack "$(fetch cpython)" "$dir/src"
        rm -rf "$dir/build" "$dir/install"
        SOURCE_DATE_EPOCH=$(source_epoch "$dir/src") cmake -S "$here/cpython" -B "$dir/build" -G Ninja \
            -DCMAKE_TOOLCHAIN_FILE="$here/toolchains/zig-$ZIG_TARGET.cmake" \
            -DCMAKE_BUILD_TYPE=Release -DGALE_CPYTHON_SMOKE=OFF \
            -DGALE_CPYTHON_LTO="$WIN_CPYTHON_LTO" \
            -DGALE_CPYTHON_SRC="$dir/src" \
            -DGALE_CPYTHON_FROZEN_DIR="$HOST_CPYTHON_DIR/Python/frozen_modules" \
            -DGALE_ZLIB_DIR="$ZLIB_DIR" -DGALE_SQLITE_DIR="$SQLITE_DIR" \
            -DGALE_OPENSSL_DIR="$OPENSSL_DIR" -DGALE_LIBFFI_DIR="$LIBFFI_DIR" \
            -DGALE_BZIP2_DIR="$BZIP2_DIR" -DGALE_XZ_DIR="$XZ_DIR" >&2 \
            && cmake --build "$dir/build" -j "$jobs" >&2 \
            && cmake --install "$dir/build" --prefix "$dir/install" >&2 \
            || die "CPython for $target failed to build"
        rm -rf "$dir/build" "$dir/src"
        step_done
    fi
    CPYTHON_DIR=$dir/install
}

case "$target" in
    linux-x86_64) ;;
    win-x64|win-arm64)
        win_tools
        build_zlib_win
        build_sqlite_win
        build_openssl_win
        build_libffi_win
        build_bzip2_win
        build_xz_win
        build_cpython_windows
        TORNADO_SDIST=$(fetch tornado)
        PACK_WHEELS="$(fetch packaging);$(fetch installer)"
        cat > "$outfile" <<EOF
set(GALE_ZIG_TARGET "$ZIG_TARGET")
set(GALE_ZIG_VERSION "$ZIG_VERSION")
set(GALE_ZLIB_DIR "$ZLIB_DIR")
set(GALE_SQLITE_DIR "$SQLITE_DIR")
set(GALE_OPENSSL_DIR "$OPENSSL_DIR")
set(GALE_LIBFFI_DIR "$LIBFFI_DIR")
set(GALE_BZIP2_DIR "$BZIP2_DIR")
set(GALE_XZ_DIR "$XZ_DIR")
set(GALE_CPYTHON_DIR "$CPYTHON_DIR")
set(GALE_HOST_CPYTHON_DIR "$HOST_CPYTHON_DIR")
set(GALE_TORNADO_SDIST "$TORNADO_SDIST")
set(GALE_TORNADO_SDIST_SHA "$(pin tornado 5)")
set(GALE_PACK_WHEELS "$PACK_WHEELS")
EOF
        exit 0 ;;
    *) die "unknown target '$target' (known: linux-x86_64 win-x64 win-arm64)" ;;
esac

build_zlib
build_sqlite
build_openssl
build_cpython
TORNADO_SDIST=$(fetch tornado)
PACK_WHEELS="$(fetch packaging);$(fetch installer)"

cat > "$outfile" <<EOF
set(GALE_ZLIB_DIR "$ZLIB_DIR")
set(GALE_SQLITE_DIR "$SQLITE_DIR")
set(GALE_OPENSSL_DIR "$OPENSSL_DIR")
set(GALE_CPYTHON_DIR "$CPYTHON_DIR")
set(GALE_CPYTHON_LINK_LIBS "$(cpython_link_libs)")
set(GALE_TORNADO_SDIST "$TORNADO_SDIST")
set(GALE_TORNADO_SDIST_SHA "$(pin tornado 5)")
set(GALE_PACK_WHEELS "$PACK_WHEELS")
EOF
