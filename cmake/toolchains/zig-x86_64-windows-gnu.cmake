# SPDX-License-Identifier: MIT
#
# Toolchain for win-x64: Windows x86-64 on UCRT, cross-compiled with zig cc.
# The shared settings are in zig-windows-gnu.cmake.
set(GALE_ZIG_TARGET x86_64-windows-gnu)
set(GALE_ZIG_PROCESSOR AMD64)
include("${CMAKE_CURRENT_LIST_DIR}/zig-windows-gnu.cmake")
