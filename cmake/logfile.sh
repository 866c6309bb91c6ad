# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Keeping the console to a line per step: what configure, make, the
# compilers, apt-get, pip and debootstrap print goes to a log file in the
# cache, and only a failure brings it to the console, as the log's last 30
# lines and its path. Sourced by the scripts that build or install things
# (cmake/thirdparty.sh, cmake/setup-host.sh, tests/harness/arm64-root.sh,
# tests/harness/wineserver-fixed.sh);
# the sourcing script provides log() (its one-line messages on stderr). This
# file owns how a log is shown and how a time is written; where each
# script's logs go is the script's, and its header says.
#
#   logged LOG CMD...   runs the program CMD (not a shell function: set -e
#                       would not apply inside one) with its stdout and
#                       stderr appended to LOG, after a line naming it; if
#                       it fails, shows LOG and returns CMD's status
#   show_log LOG        LOG's last 30 lines on stderr, under a line naming it
#   took START          the time since START, a $SECONDS value: "42 s",
#                       "3 min 12 s"

logged() {
    local file=$1 rc=0; shift
    mkdir -p "$(dirname "$file")"
    printf '== %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$file"
    "$@" >>"$file" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        show_log "$file"
        log "error: '$*' failed with status $rc (log: $file)"
    fi
    return "$rc"
}

show_log() {
    log "the last 30 lines of $1:"
    tail -n 30 "$1" | sed 's/^/    /' >&2
}

took() {
    local s=$((SECONDS - $1))
    if [ "$s" -lt 60 ]; then
        printf '%d s\n' "$s"
    else
        printf '%d min %d s\n' $((s / 60)) $((s % 60))
    fi
}
