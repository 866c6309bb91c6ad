# SPDX-License-Identifier: MIT
#
# Reading cmake/pins.txt, for the scripts that fetch or reuse the pinned
# sources (cmake/thirdparty.sh, tests/bench/build_stock.sh): sourced, the
# sourcing script provides die() and sets $cache. Run, it is the
# maintainer's check for stale pins (cmake/pins_outdated.py):
#
#   bash cmake/pins.sh outdated [--suites "..."] [--archive URL] ...
#
# which prints a table and exits 1 when a newer patch release is served.

pins_file=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/pins.txt

# pin NAME FIELD: one field of pins.txt (2 version, 3 origin, 4 path, 5 sha)
pin() {
    awk -v n="$1" -v f="$2" '$1 == n { print $f; found = 1 } END { exit !found }' \
        "$pins_file" || die "no pin named $1 in cmake/pins.txt"
}

# pin_cache_path NAME: where the verified tarball of NAME lives in the cache,
# $cache/src/<sha256>/<file> (whether or not it is there yet).
pin_cache_path() {
    local path file
    path=$(pin "$1" 4)
    if [ "$(pin "$1" 3)" = pypi ]; then
        file="${path%%==*}-${path##*==}.tar.gz"
    elif [ "$(pin "$1" 3)" = pypi-wheel ]; then
        file="${path%%==*}-${path##*==}-py3-none-any.whl"
    else
        file=$(basename "$path")
    fi
    printf '%s\n' "$cache/src/$(pin "$1" 5)/$file"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case "${1:-}" in
        outdated) shift; exec python3 "$(dirname "$pins_file")/pins_outdated.py" --pins "$pins_file" "$@" ;;
        *) echo "usage: bash cmake/pins.sh outdated [options]  (see cmake/pins_outdated.py)" >&2; exit 2 ;;
    esac
fi
