#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The README's test command: installs prerequisites, builds every target this
# machine can build, and runs the whole test suite (Check unit tests, pytest
# integration tests against the real executables, Tornado's own suite inside
# the host). Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=$(bash cmake/setup-host.sh | tail -n 1)
preset=linux-x86_64

cmake --preset "$preset" -DGALE_PYTEST="$venv/bin/pytest"
cmake --build --preset "$preset"
ctest --preset "$preset"
