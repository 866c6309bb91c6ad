#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Makes this x86-64 Linux machine able to run Windows ARM64 executables, and
# prints the path of a Debian arm64 root that has Wine in it. The exe runs
# under arm64 Wine, and qemu-user (through binfmt_misc) runs Wine. Run
# tests/harness/arm64-run.sh ROOT EXE with that path. See docs/arm64-wine.md.
#
# This file owns: the host packages (qemu-user-static, binfmt-support,
# debootstrap), the binfmt_misc mount and the qemu-aarch64 handler, and the
# cached root: its recipe, its cache key, and building it atomically. The
# script is idempotent. Once the root exists, later calls only check the host
# set-up and print the path.
#
#   tests/harness/arm64-root.sh        (as root; prints ROOT on stdout)
#
# Its messages go to stderr, a line for each thing it does. What apt-get and
# debootstrap print goes to $GALE_CACHE/logs/arm64-wine-root-<key>.log, named
# after the root (appended to, each command under a line naming it); if one
# fails, the log's last 30 lines and its path are shown and the script stops.
#
# Environment:
#   GALE_CACHE        cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/gale),
#                     shared with cmake/thirdparty.sh
#   GALE_ARM64_SUITE  the Debian suite of the root (default: trixie)
set -euo pipefail

log() { printf 'arm64-root: %s\n' "$*" >&2; }
die() { printf 'arm64-root: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=cmake/logfile.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../cmake/logfile.sh"
# shellcheck source=cmake/debian.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../cmake/debian.sh"

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, mount, chroot)"

cache=${GALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gale}

# The recipe. Changing anything here changes the key, so a new root is built
# next to the old one. Bump RECIPE_VERSION when a change to how the root is
# built does not show up in these variables.
#
# trixie, not the host's bookworm: bookworm's arm64 Wine 8.0 was built with
# GCC and no PE cross-compiler, so its DLLs use the Linux ABI for va_list
# (every printf-family call with arguments crashes) and some of them return
# with x18, the TEB register, cleared (gale.exe crashes in mimalloc's start-up).
# trixie's Wine 10.0 builds its DLLs as real ARM64 PE files. See
# docs/arm64-wine.md for both failures.
RECIPE_VERSION=1
SUITE=${GALE_ARM64_SUITE:-trixie}
ARCH=arm64
VARIANT=minbase
INCLUDE=wine,wine64,ca-certificates
MARKER=.gale-root-complete

# Ends in /usr/lib/wine/wine64 and wineserver, which arm64-run.sh relies on.
key=$(printf 'recipe=%s\nsuite=%s\narch=%s\nvariant=%s\ninclude=%s\n' \
        "$RECIPE_VERSION" "$SUITE" "$ARCH" "$VARIANT" "$INCLUDE" \
    | sha256sum | cut -c1-16)
root="$cache/arm64-wine-root-$key"
root_log="$cache/logs/arm64-wine-root-$key.log"

# ensure_packages: installs what is missing, and calls apt-get update only
# when something is.
ensure_packages() {
    local missing=() p
    for p in qemu-user-static binfmt-support debootstrap; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return
    log "installing ${missing[*]} (log: $root_log)"
    logged "$root_log" apt-get update
    logged "$root_log" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
}

# ensure_binfmt: qemu-aarch64 registered and enabled, with the F flag. The
# kernel opens the interpreter at registration time, so no qemu binary is
# needed inside the root.
ensure_binfmt() {
    local dir=/proc/sys/fs/binfmt_misc entry
    if [ ! -e "$dir/register" ]; then
        log "mounting binfmt_misc"
        mount -t binfmt_misc binfmt_misc "$dir"
    fi
    # binfmt-support installed after qemu-user-static has not imported
    # qemu's format yet.
    if ! update-binfmts --display qemu-aarch64 >/dev/null 2>&1; then
        update-binfmts --import qemu-aarch64
    fi
    entry="$dir/qemu-aarch64"
    if ! [ -e "$entry" ] || ! grep -qx enabled "$entry"; then
        update-binfmts --enable qemu-aarch64
    fi
    grep -qx enabled "$entry" || die "qemu-aarch64 is registered but not enabled ($entry)"
    grep -q '^flags: .*F' "$entry" \
        || die "qemu-aarch64 lacks the F flag; a chroot would not find the interpreter ($entry)"
}

# unmount_under DIR: unmounts anything still mounted inside DIR (debootstrap
# mounts proc and sys in the target and may leave them if killed), deepest
# first, so that the rm -rf after it cannot walk into the host's /proc or /dev.
unmount_under() {
    local m
    findmnt -rn -o TARGET | awk -v d="$1/" 'index($0 "/", d) == 1' | sort -r \
        | while IFS= read -r m; do umount "$m" || umount -l "$m"; done
}

remove_tree() {
    unmount_under "$1"
    rm -rf --one-file-system "$1"
}

build_root() {
    local tmp mirror start
    mkdir -p "$cache"
    tmp=$(mktemp -d "$cache/.arm64-wine-root-$key.XXXXXX")
    # shellcheck disable=SC2064  # $tmp is fixed now
    trap "remove_tree '$tmp'" EXIT
    mirror=$(debian_mirror)
    start=$SECONDS
    log "building the $SUITE $ARCH root with $INCLUDE in $tmp (takes minutes, once; log: $root_log)"
    logged "$root_log" debootstrap --arch="$ARCH" --variant="$VARIANT" --include="$INCLUDE" \
        "$SUITE" "$tmp" "$mirror"
    [ -x "$tmp/usr/lib/wine/wine64" ] || die "the root has no /usr/lib/wine/wine64"
    [ -x "$tmp/usr/lib/wine/wineserver" ] || die "the root has no /usr/lib/wine/wineserver"
    # The packages' caches are not needed to run anything.
    rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
    mkdir -p "$tmp/gale"
    unmount_under "$tmp"
    printf 'recipe=%s suite=%s arch=%s variant=%s include=%s\nbuilt=%s seconds=%s\n' \
        "$RECIPE_VERSION" "$SUITE" "$ARCH" "$VARIANT" "$INCLUDE" \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - start))" >"$tmp/$MARKER"
    # The rename is the commit point: $root either does not exist or is whole.
    mv -T "$tmp" "$root"
    trap - EXIT
    log "root ready after $(took "$start")"
}

ensure_packages
ensure_binfmt

if [ ! -f "$root/$MARKER" ]; then
    mkdir -p "$cache"
    # One builder at a time; a second caller waits and then finds the root.
    exec 9>"$cache/.arm64-wine-root-$key.lock"
    flock 9
    if [ ! -f "$root/$MARKER" ]; then
        # Only reachable if something other than this script wrote $root.
        if [ -e "$root" ]; then
            log "removing the incomplete $root"
            remove_tree "$root"
        fi
        build_root
    fi
    exec 9>&-
fi

# debootstrap writes no /etc/hosts, so "localhost" went to DNS, which may
# not answer (Tornado's tests resolve it). Added here rather than in the
# recipe, so roots built before this line get it too.
if [ ! -s "$root/etc/hosts" ]; then
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
        >"$root/etc/hosts.tmp"
    mv -f "$root/etc/hosts.tmp" "$root/etc/hosts"
fi

printf '%s\n' "$root"
