#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Runs a Windows ARM64 executable under arm64 Wine, inside the root that
# tests/harness/arm64-root.sh prints, and exits with the executable's exit
# code (125 if this script itself fails). See docs/arm64-wine.md.
#
#   tests/harness/arm64-run.sh [OPTIONS] ROOT EXE [ARGS...]      (as root)
#
#   --share DIR        bind-mount DIR read-write at the same path inside ROOT,
#                      so paths under it mean the same inside and out
#                      (repeatable; the tests share their temporary folders
#                      and the source tree this way)
#   --env NAME=VALUE   put NAME=VALUE in the exe's environment (repeatable)
#   --cwd DIR          the working directory inside ROOT (default /root)
#
# This file owns: the mounts a run needs in ROOT and their lifetime, the
# environment Wine gets, and passing signals on to the Wine process.
#
# - EXE's folder, unless it is under a shared DIR or inside ROOT, is bind-mounted read-only
#   at /gale/<folder>-<hash> inside ROOT, so the exe sees its neighbours
#   (gale.toml) and the clone stays unwritable from inside. Wine sees it as
#   Z:\gale\<folder>-<hash>\. ARGS are passed unchanged, so paths in them
#   must be paths inside ROOT: under a shared DIR they are the same.
# - The working directory is /root (HOME, writable) unless --cwd says.
# - stdin, stdout and stderr are the caller's, except that a regular file as
#   stdout or stderr is fed through a pipe: CPython under Wine fails to start
#   when a std handle is a regular file (docs/cpython-windows.md).
# - The environment is HOME=/root, WINEPREFIX=/root/.wine-gale, WINEDEBUG=-all
#   (GALE_WINEDEBUG overrides it), LANG=C.UTF-8, plus the caller's GALE_*
#   variables and the --env ones. The prefix lives in the cached root, so only the first run
#   ever creates it.
# - SIGTERM, SIGINT and SIGHUP sent to this script go to the Wine process,
#   so a test can stop a server by this script's PID. Wine ends the process
#   at once on SIGTERM; SIGINT does not become a CTRL_C_EVENT.
#
# Mount lifetime. ROOT/proc, ROOT/dev and the /gale/* folders are shared by
# every run in ROOT at the same time, so each run registers itself, under a
# flock, as a file named by its PID in ROOT/.gale-run/users/, listing the
# mounts it needs. A run mounts what is missing. When it ends it removes its
# file, drops the files of PIDs that no longer exist (a run killed with
# SIGKILL), and unmounts the /gale/* folders no remaining run needs. The
# last run out also waits for the root's wineserver to exit before it
# unmounts /proc and /dev: Wine's own processes (services.exe,
# winedevice.exe, a prefix update) outlive the exe by a few seconds and fail
# with "could not load ntdll.so" once /proc is gone. If the wineserver is
# still there after LINGER_TIMEOUT, something in the root hung, and that run
# ends every process left in the root. A run that starts meanwhile
# registers first, and then the mounts stay.
#
# The functions run through `locked` look unreachable to shellcheck:
# shellcheck disable=SC2317
set -euo pipefail

log() { printf 'arm64-run: %s\n' "$*" >&2; }
die() { printf 'arm64-run: error: %s\n' "$*" >&2; exit 125; }

# How long the last run waits for the wineserver before it unmounts anyway
# (lazily, so nothing fails at once).
LINGER_TIMEOUT=60

usage="usage: arm64-run.sh [--share DIR]... [--env NAME=VALUE]... [--cwd DIR] ROOT EXE [ARGS...]"
shares=()
extra_env=()
cwd=/root
while [ $# -gt 0 ]; do
    case $1 in
        --share) [ $# -ge 2 ] || die "$usage"
                 shares+=("$(realpath -e "$2")") || die "no folder at $2"; shift 2 ;;
        --env) if [ $# -lt 2 ] || [[ $2 != ?*=* ]]; then die "--env needs NAME=VALUE"; fi
               extra_env+=("$2"); shift 2 ;;
        --cwd) [ $# -ge 2 ] || die "$usage"; cwd=$2; shift 2 ;;
        --) shift; break ;;
        -*) die "$usage" ;;
        *) break ;;
    esac
done
[ $# -ge 2 ] || die "$usage"
[ "$(id -u)" -eq 0 ] || die "must run as root (mount, chroot)"

root=$(realpath -e "$1") || die "no root at $1"
[ -f "$root/.gale-root-complete" ] || die "$root is not a finished root from arm64-root.sh"
[ -x "$root/usr/lib/wine/wine64" ] || die "$root has no /usr/lib/wine/wine64"
exe=$(realpath -e "$2") || die "no executable at $2"
shift 2

# under DIR PATH: PATH is DIR or inside it.
under() { [ "$2" = "$1" ] || [[ $2 == "$1"/* ]]; }

for dir in ${shares[@]+"${shares[@]}"}; do
    [ -d "$dir" ] || die "--share $dir is not a folder"
    if [ "$dir" = / ] || under "$dir" "$root" || under "$root" "$dir"; then
        die "--share $dir overlaps the root $root"
    fi
done

# The exe keeps its own path if a share holds it; otherwise its folder gets
# a read-only mount of its own. The hash keeps two folders with the same
# name (dist/win-arm64 in two clones) apart.
inner_dir=
inner_exe=
for dir in ${shares[@]+"${shares[@]}"}; do
    under "$dir" "$exe" && inner_exe=$exe
done
# An exe inside ROOT (installed into the Wine prefix, as the service tests
# do) runs from where it is, so that Wine names it by its C: path.
if under "$root" "$exe"; then
    inner_exe=${exe#"$root"}
fi
if [ -z "$inner_exe" ]; then
    exe_dir=$(dirname "$exe")
    inner_dir="/gale/$(basename "$exe_dir")-$(printf '%s' "$exe_dir" | sha256sum | cut -c1-8)"
    inner_exe="$inner_dir/$(basename "$exe")"
fi

state="$root/.gale-run"
users="$state/users"
mkdir -p "$users"

wine_env=(
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    HOME=/root
    WINEPREFIX=/root/.wine-gale
    WINEDEBUG="${GALE_WINEDEBUG:--all}"
    # No wine-mono or wine-gecko prompt when the prefix is created, no
    # winedbg (Wine starts it on a crash; under qemu it hung for good and
    # kept the wineserver up), no winemenubuilder (desktop menu entries; one
    # hung the same way after a prefix update), and no Wayland
    # driver (it prints "XDG_RUNTIME_DIR is invalid" on every run, and one
    # run ended with a qemu segfault in a Wine helper while it was enabled).
    # There is no display either way. tests/integration/harness.py's
    # WINE_DLL_OVERRIDES is the same list.
    WINEDLLOVERRIDES="mscoree,mshtml=;winedbg.exe,winemenubuilder.exe=d;winewayland.drv=d"
    LANG=C.UTF-8
    # qemu-user reads its CPU model from QEMU_CPU. Its default, "max", has
    # BTI, and trixie's ntdll.so is marked for BTI while its hand-written
    # __wine_syscall_dispatcher has no landing pad: every system call then
    # raises SIGILL and Wine spins. neoverse-n1 (ARMv8.2) has no BTI.
    QEMU_CPU="${QEMU_CPU:-neoverse-n1}"
)
while IFS= read -r var; do
    wine_env+=("$var=${!var}")
done < <(compgen -e | grep '^GALE_' | grep -vx GALE_WINEDEBUG || true)
wine_env+=(${extra_env[@]+"${extra_env[@]}"})
# By path: env looks commands up in the PATH it sets, which --env may change.
chroot_bin=$(command -v chroot) || die "no chroot command"

# locked CMD...: CMD under the root's lock. The lock fd is closed again, so
# the Wine process never inherits it.
locked() {
    { flock 8 && "$@"; } 8>"$state/lock"
}

is_mounted() { mountpoint -q "$1"; }

# unmount PATH: a plain unmount, or a lazy one if something still uses it.
unmount() {
    umount "$1" 2>/dev/null || umount -l "$1" || log "cannot unmount $1"
}

# needed: the mounts (paths inside ROOT) that live runs have registered.
needed() {
    local f
    for f in "$users"/*; do
        [ -e "$f" ] || continue
        kill -0 "$(basename "$f")" 2>/dev/null || rm -f "$f"
    done
    cat "$users"/* 2>/dev/null | sort -u || true
}

# The functions below run as `locked ... || ...`, where set -e does not
# apply, so they check each step themselves.
enter() {
    local dir
    printf '%s\n' /proc /dev ${inner_dir:+"$inner_dir"} ${shares[@]+"${shares[@]}"} >"$users/$$" || return 1
    is_mounted "$root/proc" || mount -t proc proc "$root/proc" || return 1
    is_mounted "$root/dev" || mount --bind /dev "$root/dev" || return 1
    if [ -n "$inner_dir" ] && ! is_mounted "$root$inner_dir"; then
        mkdir -p "$root$inner_dir" \
            && mount --bind "$exe_dir" "$root$inner_dir" \
            && mount -o remount,bind,ro "$root$inner_dir" || return 1
    fi
    for dir in ${shares[@]+"${shares[@]}"}; do
        is_mounted "$root$dir" && continue
        mkdir -p "$root$dir" && mount --bind "$dir" "$root$dir" || return 1
    done
}

# release: deregisters this run and unmounts the exe folders and shares
# nobody needs (deepest first). Succeeds if no other run is left, that is if
# /proc and /dev may go.
release() {
    local need m
    rm -f "$users/$$"
    need=$(needed)
    for m in $(findmnt -rn -o TARGET | awk -v r="$root/" -v p="$root/proc" -v d="$root/dev" \
                   'index($0, r) == 1 && $0 != p && $0 != d' | sort -r); do
        grep -qxF "${m#"$root"}" <<<"$need" && continue
        unmount "$m"
        if [[ $m == "$root/gale/"* ]]; then rmdir "$m" 2>/dev/null || true; fi
    done
    [ -z "$need" ]
}

unmount_system() {
    [ -z "$(needed)" ] || return 0
    local m
    for m in "$root/proc" "$root/dev"; do
        is_mounted "$m" && unmount "$m"
    done
    return 0
}

# end_strays: ends every process still running in the root. Only the last
# run out calls it, when no other run uses the root, so these are strays: a
# Wine process that hung (arm64 Wine under qemu sometimes leaves one with
# live threads; docs/arm64-wine.md) keeps the wineserver, and with it every
# later run's wait above, alive for good.
end_strays() {
    local proc
    [ -z "$(needed)" ] || return 0  # a new run came in meanwhile
    env -i "${wine_env[@]}" "$chroot_bin" "$root" /usr/lib/wine/wineserver -k 2>/dev/null || true
    sleep 1
    for proc in /proc/[0-9]*; do
        [ "$(readlink "$proc/root" 2>/dev/null)" = "$root" ] && kill -KILL "${proc#/proc/}" 2>/dev/null
    done
    return 0
}

leave() {
    locked release || return 0
    # -w returns at once if no wineserver runs for the prefix.
    if ! timeout "$LINGER_TIMEOUT" env -i "${wine_env[@]}" "$chroot_bin" "$root" /usr/lib/wine/wineserver -w; then
        log "the wineserver in $root still runs after ${LINGER_TIMEOUT}s: ending what is left in the root"
        locked end_strays
    fi
    locked unmount_system
}

trap 'leave || log "cannot clean up the mounts in $root"' EXIT
locked enter || die "cannot set up the mounts in $root"

# A regular file as stdout or stderr gets a pipe and a cat in between; the
# script waits for the cats, so the file is complete when it exits.
cats=()
if [ -f /proc/self/fd/1 ]; then
    exec 4>&1
    exec 1> >(exec cat >&4)
    cats+=($!)
    exec 4>&-
fi
if [ -f /proc/self/fd/2 ]; then
    exec 4>&2
    exec 2> >(exec cat >&4)
    cats+=($!)
    exec 4>&-
fi

# A background job of a non-interactive shell starts with SIGINT and SIGQUIT
# ignored and stdin on /dev/null; the subshell undoes both, so the exe gets
# the caller's stdin and a forwarded SIGINT reaches it.
exec 3<&0
(
    trap - INT QUIT
    # shellcheck disable=SC2016  # $0 and $@ are the inner shell's
    exec env -i "${wine_env[@]}" "$chroot_bin" "$root" /bin/sh -c 'cd "$0" && exec "$@"' "$cwd" \
        /usr/lib/wine/wine64 "$inner_exe" "$@" <&3 3<&-
) &
child=$!
exec 3<&-
for sig in TERM INT HUP; do
    # shellcheck disable=SC2064  # $child and $sig are fixed now
    trap "kill -s $sig $child 2>/dev/null || true" "$sig"
done

# wait returns early (above 128) when a trapped signal arrives; wait again
# until the child has really ended.
while :; do
    rc=0
    wait "$child" || rc=$?
    kill -0 "$child" 2>/dev/null || break
done
if [ ${#cats[@]} -gt 0 ]; then
    leave || log "cannot clean up the mounts in $root"
    trap - EXIT
    exec >/dev/null 2>&1
    wait "${cats[@]}" || true
fi
exit "$rc"
