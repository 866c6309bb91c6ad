#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Builds, once, a wineserver for Debian 12's Wine 8 (wine64 8.0~repack-4)
# that carries tests/harness/wine8-poll-list.patch, and prints its path as
# the last line on stdout. Wine 8's own wineserver takes minutes to recover
# when thousands of sockets hang up at once (the patch's header says why);
# test_mass_disconnect.py runs gale.exe against this one instead. Started
# first for a prefix (`WINEPREFIX=P wineserver -p`), it serves the
# installed wine64 unchanged: the same source, the same protocol version.
#
# This file owns: the pins of the two Debian source tarballs, fetching and
# verifying them, the recipe (Debian's patches, then ours; the generated
# request tables; configure only for include/config.h; the server's C files
# compiled directly, without Wine's makefiles), its cache key, and building
# it atomically. The script is idempotent: once built, a call checks the
# installed Wine, finds the binary and prints its path (a few milliseconds).
#
#   tests/harness/wineserver-fixed.sh      (prints WINESERVER on stdout)
#
# Exit status: 0 with the path; 3 if the installed Wine is not the one this
# patch is for (not x86-64, wine64 missing or another version), with the
# reason on stderr (tests/run.sh shows it, and test_mass_disconnect.py
# skips); 1 on any other failure.
#
# Its messages go to stderr, a line for each thing it does. What apt-get,
# curl, patch, autoconf, configure and cc print goes to
# $GALE_CACHE/logs/wineserver-fixed-<key>.log, named after the build
# (appended to, each command under a line naming it); if one fails, the
# log's last 30 lines and its path are shown and the script stops.
# Installing a missing package (apt-get) needs root; the build does not.
#
# Environment:
#   GALE_CACHE    cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/gale),
#                 shared with cmake/thirdparty.sh: the tarballs are kept in
#                 $GALE_CACHE/src/<sha256>/, as that script keeps its own
#   GALE_SOURCES  a local folder holding the pinned tarballs by file name;
#                 used before any download, and still checked by SHA-256
#   GALE_JOBS     parallel compiler jobs (default: 2)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf 'wineserver-fixed: %s\n' "$*" >&2; }
die() { printf 'wineserver-fixed: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=cmake/logfile.sh
. "$here/../../cmake/logfile.sh"
# shellcheck source=cmake/debian.sh
. "$here/../../cmake/debian.sh"

cache=${GALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gale}
jobs=${GALE_JOBS:-2}
EXIT_UNSUPPORTED=3

# The recipe. Changing anything here, or the patch, changes the key, so a
# new wineserver is built next to the old one. Bump RECIPE_VERSION when a
# change to how it is built does not show up in these variables.
RECIPE_VERSION=1
WINE_VERSION=8.0~repack-4     # the installed wine64 this wineserver serves
POOL=pool/main/w/wine         # in the Debian archive
ORIG=wine_8.0~repack.orig.tar.xz
ORIG_SHA=537c6889647a528ee9092b109e65b0fde288ba55d535044907cf168ca6f6e745
DEBIAN=wine_8.0~repack-4.debian.tar.xz
DEBIAN_SHA=caee4ff2551315abcee7e9db74c6bc4ad6c34b37e1a36fb667718f169a60c81a
PATCH=$here/wine8-poll-list.patch
# Wine's own flags for its C code keep -fno-strict-aliasing; the rest of
# them are warnings and hardening for its PE code.
CFLAGS_SERVER="-O2 -g0 -pipe -fno-strict-aliasing"
# configure runs only to write include/config.h. Every library Wine can use
# is turned off: the server links none of them, and configure stops when
# some (X11, FreeType) are missing unless told not to use them. inotify and
# pthread stay: on glibc they are headers, and the server uses inotify.
CONFIGURE_OPTS="--enable-win64 --disable-tests --without-x --without-freetype
  --without-mingw --without-gstreamer --without-pulse --without-alsa --without-oss
  --without-coreaudio --without-cups --without-sane --without-gphoto --without-v4l2
  --without-vulkan --without-opencl --without-opengl --without-osmesa --without-pcap
  --without-usb --without-dbus --without-gnutls --without-krb5 --without-gssapi
  --without-netapi --without-sdl --without-udev --without-unwind --without-capi
  --without-gettext --without-fontconfig --without-xcomposite"
# The installed Wine's data folder: l_intl.nls, which the server maps, is
# found there (the binary lives in the cache, away from any Wine tree).
NLSDIR=/usr/share/wine/nls
# What the build needs. flex and bison are not among them: configure
# insists on them, but only Wine's IDL and resource compilers use them.
PACKAGES="curl ca-certificates xz-utils patch autoconf gcc libc6-dev"

# unsupported WHY: the installed Wine is not the one this patch is for.
unsupported() {
    printf 'wineserver-fixed: %s; a fixed wineserver is built only for Debian 12'"'"'s wine64 %s on x86-64\n' \
        "$1" "$WINE_VERSION" >&2
    exit "$EXIT_UNSUPPORTED"
}

check_installed_wine() {
    local arch version
    arch=$(dpkg --print-architecture 2>/dev/null) || unsupported "dpkg is not available"
    [ "$arch" = amd64 ] || unsupported "this machine is $arch"
    version=$(dpkg-query -W -f='${Status} ${Version}' wine64 2>/dev/null) || version=""
    case "$version" in
        "install ok installed $WINE_VERSION") ;;
        "install ok installed "*) unsupported "the installed wine64 is ${version##* }" ;;
        *) unsupported "wine64 is not installed" ;;
    esac
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# ensure_packages: installs what is missing, and calls apt-get update only
# when something is.
ensure_packages() {
    local missing=() p
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return
    [ "$(id -u)" -eq 0 ] || die "needs ${missing[*]} (apt-get install, as root)"
    log "installing ${missing[*]} (log: $build_log)"
    # tests/run.sh runs this beside tests/harness/arm64-root.sh, which may
    # be installing too: wait for apt's lock rather than fail.
    logged "$build_log" apt-get -o DPkg::Lock::Timeout=600 update
    logged "$build_log" env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
}

# fetch FILE SHA: prints the path of the verified tarball in the cache,
# $cache/src/SHA/FILE (the layout cmake/thirdparty.sh uses).
fetch() {
    local file=$1 sha=$2 dest tmp got
    dest="$cache/src/$sha/$file"
    if [ -f "$dest" ] && [ "$(sha_of "$dest")" = "$sha" ]; then
        printf '%s\n' "$dest"; return
    fi
    mkdir -p "$cache/src/$sha"
    tmp=$(mktemp -d "$cache/src/.fetch.XXXXXX")
    if [ -n "${GALE_SOURCES:-}" ] && [ -f "$GALE_SOURCES/$file" ]; then
        log "using $GALE_SOURCES/$file"
        cp "$GALE_SOURCES/$file" "$tmp/$file"
    else
        log "downloading $file from the Debian archive"
        logged "$build_log" curl -fsSL --retry 3 -o "$tmp/$file" "$(debian_mirror "set GALE_SOURCES to a folder with $ORIG and $DEBIAN")/$POOL/$file" \
            || { rm -rf "$tmp"; die "download failed: $POOL/$file"; }
    fi
    got=$(sha_of "$tmp/$file")
    [ "$got" = "$sha" ] || { rm -rf "$tmp"; die "$file: SHA-256 mismatch (got $got, pinned $sha)"; }
    mv "$tmp/$file" "$dest"; rm -rf "$tmp"
    printf '%s\n' "$dest"
}

# apply_series DIR: Debian's patches, in the order of debian/patches/series
# (quilt's format: a name, optionally its patch options).
apply_series() {
    local name opts
    while read -r name opts; do
        case "$name" in ''|'#'*) continue ;; esac
        # shellcheck disable=SC2086  # opts is patch's options, word-split
        logged "$build_log" patch -d "$1" -s -N --no-backup-if-mismatch ${opts:--p1} \
            -i "debian/patches/$name" </dev/null || die "Debian's patch $name does not apply"
    done < "$1/debian/patches/series"
}

# make_var NAME: a variable configure computed for Wine's makefile, read
# from config.status (configure ran with --no-create, so there is no
# Makefile).
make_var() {
    sed -n "s/^$1 = //p" config.status | head -n 1
}

build() {
    local tmp src start aux libs
    start=$SECONDS
    mkdir -p "$cache"
    tmp=$(mktemp -d "$cache/.wineserver-fixed-$key.XXXXXX")
    # shellcheck disable=SC2064  # $tmp is fixed now
    trap "rm -rf '$tmp'" EXIT
    local orig deb
    orig=$(fetch "$ORIG" "$ORIG_SHA")
    deb=$(fetch "$DEBIAN" "$DEBIAN_SHA")
    log "building Debian's wine $WINE_VERSION wineserver with $(basename "$PATCH") in $tmp (log: $build_log)"
    logged "$build_log" tar -xJf "$orig" -C "$tmp"
    src=$tmp/wine-8.0
    [ -f "$src/server/sock.c" ] || die "$ORIG has no wine-8.0/server/sock.c"
    # The Debian tarball is mostly Unicode data for tables the server does
    # not use; the patches and the generator script are enough.
    logged "$build_log" tar -xJf "$deb" -C "$src" debian/patches debian/scripts/generate
    apply_series "$src"
    logged "$build_log" patch -d "$src" -s -N --no-backup-if-mismatch -p1 -i "$PATCH" </dev/null \
        || die "$(basename "$PATCH") does not apply to Debian's wine $WINE_VERSION"
    cd "$src"
    # The server's request tables and include/wine/server_protocol.h are
    # generated (Debian's tarball leaves them out), as debian/rules does.
    logged "$build_log" ./debian/scripts/generate server/trace.generated make_requests
    logged "$build_log" ./debian/scripts/generate server/request.generated make_requests
    logged "$build_log" perl tools/make_requests
    # Debian's tarball has no configure and no config.h.in either.
    for aux in /usr/share/autoconf/build-aux /usr/share/misc; do
        [ -f "$aux/config.guess" ] && [ -f "$aux/config.sub" ] && break
    done
    [ -f "$aux/config.guess" ] || die "no config.guess/config.sub (package autoconf)"
    cp "$aux/config.guess" "$aux/config.sub" tools/
    logged "$build_log" autoconf
    logged "$build_log" autoheader
    # shellcheck disable=SC2086  # CONFIGURE_OPTS is a list of options
    logged "$build_log" ./configure --no-create $CONFIGURE_OPTS FLEX=true BISON=true \
        || die "configure failed"
    logged "$build_log" ./config.status include/config.h
    libs="$(make_var LDEXECFLAGS) $(make_var RT_LIBS) $(make_var INOTIFY_LIBS) $(make_var PROCSTAT_LIBS)"
    # Only unicode.c reads the two NLS defines; BIN_TO_NLSDIR is the
    # installed layout's (/usr/lib/wine -> /usr/share/wine/nls).
    # shellcheck disable=SC2086  # CFLAGS_SERVER is a list of flags
    (printf '%s\n' server/*.c | xargs -P "$jobs" -I{} \
        cc $CFLAGS_SERVER -D__WINESRC__ -Iserver -Iinclude \
           "-DNLSDIR=\"$NLSDIR\"" '-DBIN_TO_NLSDIR="../../share/wine/nls"' \
           -c {} -o {}.o) >>"$build_log" 2>&1 || { show_log "$build_log"; die "compiling the server failed"; }
    # shellcheck disable=SC2086  # libs is a list of linker arguments
    logged "$build_log" cc -o server/wineserver server/*.c.o $libs
    server/wineserver --version >>"$build_log" 2>&1 || die "the built wineserver does not run"
    mkdir -p "$tmp/out"
    cp server/wineserver "$tmp/out/wineserver"
    printf 'recipe=%s wine=%s patch=%s cflags=%s\nbuilt=%s seconds=%s\n' \
        "$RECIPE_VERSION" "$WINE_VERSION" "$(sha_of "$PATCH")" "$CFLAGS_SERVER" \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - start))" >"$tmp/out/build-info"
    cd /
    # The rename is the commit point: $dir either does not exist or is whole.
    mv -T "$tmp/out" "$dir"
    rm -rf "$tmp"
    trap - EXIT
    log "built $dir/wineserver in $(took "$start")"
}

# set_key: $key, $dir and $build_log for the recipe and the compiler.
set_key() {
    key=$(printf 'recipe=%s\nwine=%s\norig=%s\ndebian=%s\npatch=%s\ncflags=%s\nconfigure=%s\ncc=%s\n' \
            "$RECIPE_VERSION" "$WINE_VERSION" "$ORIG_SHA" "$DEBIAN_SHA" "$(sha_of "$PATCH")" \
            "$CFLAGS_SERVER" "$CONFIGURE_OPTS" "$(cc --version 2>/dev/null | head -n 1)" \
        | sha256sum | cut -c1-16)
    dir="$cache/wineserver-fixed-$key"
    build_log="$cache/logs/wineserver-fixed-$key.log"
}

check_installed_wine
set_key

if [ ! -x "$dir/wineserver" ]; then
    mkdir -p "$cache"
    # One builder at a time; a second caller waits and then finds the binary.
    exec 9>"$cache/.wineserver-fixed.lock"
    flock 9
    ensure_packages
    set_key  # the compiler may have just been installed
    if [ ! -x "$dir/wineserver" ]; then
        # Only reachable if something other than this script wrote $dir.
        [ -e "$dir" ] && { log "removing the incomplete $dir"; rm -rf "$dir"; }
        build
    fi
    exec 9>&-
fi

printf '%s\n' "$dir/wineserver"
