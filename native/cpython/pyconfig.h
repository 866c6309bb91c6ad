/* SPDX-License-Identifier: MIT
 *
 * pyconfig.h for Gale's static CPython on Windows, built with zig cc for
 * x86_64-windows-gnu and aarch64-windows-gnu (mingw-w64 headers, UCRT).
 *
 * CPython's Windows config header is hand-written (PC/pyconfig.h.in) and
 * written for MSVC; its GCC branch is a stub. cmake/cpython/CMakeLists.txt
 * copies the pinned version's file unchanged next to this one as
 * pyconfig-pc.h, and this wrapper sets what must come before it and
 * corrects what its GCC branch gets wrong. Everything that consumes the
 * headers (CPython itself, Gale's launcher, built-in modules) sees the same
 * configuration, so the ABI cannot differ between them.
 */
#ifndef GALE_PYCONFIG_H
#define GALE_PYCONFIG_H

/* Static library, no python313.dll: PyAPI_FUNC/PyAPI_DATA must be plain
 * extern, neither dllexport nor dllimport. Without this the header defines
 * Py_ENABLE_SHARED and every consumer would expect __imp_ symbols. */
#ifndef Py_NO_ENABLE_SHARED
#  define Py_NO_ENABLE_SHARED 1
#endif

#include "pyconfig-pc.h"

#if !defined(__MINGW32__) || !defined(_UCRT)
#  error "Gale's pyconfig.h is for mingw-w64 on UCRT (zig cc -target <arch>-windows-gnu)"
#endif

/* sys.version carries COMPILER, and sysconfig.get_platform() and the
 * packaging tools derive win-amd64 / win-arm64 from "AMD64" / "(ARM64)" in
 * it; the GCC branch's "[gcc]" would make them say "win32". The text must
 * not contain ']' (platform._sys_version() parses up to it).
 * PYD_PLATFORM_TAG gives importlib's ".cp313-win_amd64.pyd" suffix, and
 * MS_DLL_ID becomes sys.winver exactly as PCbuild sets it ("3.13" on x64,
 * "3.13-arm64" on ARM64). */
#define _Gale_STR1(x) #x
#define _Gale_STR(x) _Gale_STR1(x)
#ifdef __clang__
#  define _Gale_CC "Clang " _Gale_STR(__clang_major__) "." _Gale_STR(__clang_minor__) "." _Gale_STR(__clang_patchlevel__)
#else
#  define _Gale_CC "GCC " __VERSION__
#endif
#undef COMPILER
#if defined(__x86_64__)
#  define COMPILER "[" _Gale_CC " 64 bit (AMD64) with mingw-w64 UCRT]"
#  define PYD_PLATFORM_TAG "win_amd64"
#  ifndef MS_DLL_ID
#    define MS_DLL_ID "3.13"
#  endif
#elif defined(__aarch64__)
#  define COMPILER "[" _Gale_CC " 64 bit (ARM64) with mingw-w64 UCRT]"
#  define PYD_PLATFORM_TAG "win_arm64"
#  ifndef MS_DLL_ID
#    define MS_DLL_ID "3.13-arm64"
#  endif
#else
#  error "unsupported Windows architecture"
#endif
/* Not a configuration upstream tests or supports (PEP 11 tier 0). */
#define PY_SUPPORT_TIER 0

/* MS_COREDLL is what makes sysmodule.c set sys.winver and sys.dllhandle;
 * site.py and sysconfig need sys.winver. Upstream ties it to the DLL build;
 * here it only means "this is the Windows core", and native/cpython/
 * static_win.c supplies the two variables PC/dl_nt.c would. The header's
 * own use of MS_COREDLL (MSVC's #pragma comment(lib)) is above and does not
 * apply to this compiler. */
#ifndef MS_COREDLL
#  define MS_COREDLL 1
#endif

/* UCRT has wcsftime; the header only enables it for _MSC_VER. With it,
 * time.strftime() formats through the wide-character API as the official
 * build does, so non-ASCII format strings and locale names work. */
#ifndef HAVE_WCSFTIME
#  define HAVE_WCSFTIME 1
#endif

#endif /* GALE_PYCONFIG_H */
