# SPDX-License-Identifier: MIT
#
# Toolchain for win-arm64: Windows on ARM64 (native, no x64 emulation) on
# UCRT, cross-compiled with zig cc. The shared settings are in
# zig-windows-gnu.cmake.
set(GALE_ZIG_TARGET aarch64-windows-gnu)
set(GALE_ZIG_PROCESSOR ARM64)
include("${CMAKE_CURRENT_LIST_DIR}/zig-windows-gnu.cmake")
