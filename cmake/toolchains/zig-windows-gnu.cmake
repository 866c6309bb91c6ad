# SPDX-License-Identifier: MIT
#
# Shared part of the zig-<arch>-windows-gnu.cmake toolchain files: Windows
# (UCRT, mingw-w64 headers and CRT shipped with zig) cross-compiled from
# Linux with `zig cc`. The including file sets GALE_ZIG_TARGET (a zig target
# triple) and GALE_ZIG_PROCESSOR (AMD64 or ARM64, as Windows names them).
#
# The compilers are the wrappers in cmake/zig/, one path per tool with the
# target in its name, because CMake wants a single executable path and
# cannot hand an environment to the build tool. The wrappers find zig
# through $GALE_ZIG or the venv cmake/setup-host.sh made.
#
# What zig gives by default, checked with zig 0.17.1 (docs/windows-toolchain.md):
# UCRT (api-ms-win-crt-*.dll, not msvcrt.dll), _WIN32_WINNT 0x0A00, and the
# mingw/compiler-rt runtime linked statically: an executable imports only
# system DLLs. `wmain` needs `-municode` on the link line. zig cc adds
# CodeView debug info and writes a .pdb beside each executable unless told
# otherwise: compile with -g0 (the presets do) and link with -s.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_VERSION 10.0)
set(CMAKE_SYSTEM_PROCESSOR "${GALE_ZIG_PROCESSOR}")

get_filename_component(_gale_zig_dir "${CMAKE_CURRENT_LIST_DIR}/../zig" ABSOLUTE)
set(CMAKE_C_COMPILER   "${_gale_zig_dir}/${GALE_ZIG_TARGET}-cc")
set(CMAKE_CXX_COMPILER "${_gale_zig_dir}/${GALE_ZIG_TARGET}-c++")
set(CMAKE_RC_COMPILER  "${_gale_zig_dir}/${GALE_ZIG_TARGET}-rc")
# Cache entries, so CMake's binutils search does not replace them with the
# host's ar/ranlib.
set(CMAKE_AR      "${_gale_zig_dir}/${GALE_ZIG_TARGET}-ar"      CACHE FILEPATH "zig ar")
set(CMAKE_RANLIB  "${_gale_zig_dir}/${GALE_ZIG_TARGET}-ranlib"  CACHE FILEPATH "zig ranlib")
set(CMAKE_DLLTOOL "${_gale_zig_dir}/${GALE_ZIG_TARGET}-dlltool" CACHE FILEPATH "zig dlltool")
set(CMAKE_OBJCOPY "${_gale_zig_dir}/${GALE_ZIG_TARGET}-objcopy" CACHE FILEPATH "zig objcopy")

# zig rc takes rc.exe's options. A source path that starts with "/" looks
# like an option to it, so "--" ends the options first.
set(CMAKE_RC_COMPILE_OBJECT
    "<CMAKE_RC_COMPILER> <DEFINES> <INCLUDES> <FLAGS> /fo <OBJECT> -- <SOURCE>")

# Cross build: programs come from the host, libraries and headers only from
# the target (zig's own sysroot and the paths the project names).
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
