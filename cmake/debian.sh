# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Where the Debian archive is, from apt's own configuration, so that no
# mirror host is written into the repository. Sourced by the scripts that
# download from it (tests/harness/arm64-root.sh, tests/harness/wineserver-fixed.sh);
# the sourcing script provides die().
#
#   debian_mirror [HINT]  prints the main archive's base URL: the source that
#                         lists a release by its plain name (bookworm, not
#                         bookworm-security), which serves other suites too.
#                         Dies, with HINT after the cause, if apt names none.

debian_mirror() {
    local f=/etc/apt/sources.list.d/debian.sources m=""
    if [ -r "$f" ]; then
        m=$(awk 'BEGIN { RS = ""; FS = "\n" }
            {
                uri = ""; ok = 0
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^URIs:/) { split($i, u, /[ \t]+/); uri = u[2] }
                    if ($i ~ /^Suites:/) {
                        n = split($i, w, /[ \t]+/)
                        for (j = 2; j <= n; j++) if (w[j] ~ /^[a-z]+$/) ok = 1
                    }
                }
                if (ok && uri != "") { print uri; exit }
            }' "$f")
    fi
    if [ -z "$m" ] && [ -r /etc/apt/sources.list ]; then
        m=$(awk '$1 == "deb" { for (i = 2; i < NF; i++) if ($i ~ /^[a-z]+:\/\// && $(i + 1) ~ /^[a-z]+$/) { print $i; exit } }' \
            /etc/apt/sources.list)
    fi
    [ -n "$m" ] || die "cannot find the Debian archive URL in apt's configuration${1:+; $1}"
    printf '%s\n' "${m%/}"
}
