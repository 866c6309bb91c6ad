/* SPDX-License-Identifier: MIT
 *
 * What a static (non-DLL) CPython on Windows needs in place of two upstream
 * files that assume python313.dll:
 *
 *   PC/dl_nt.c         DllMain, which records the DLL's module handle and
 *                      version string. sysmodule.c turns them into
 *                      sys.dllhandle and sys.winver (see MS_COREDLL in
 *                      native/cpython/pyconfig.h), and getpath.c asks the
 *                      handle for the DLL's path. In a static build there is
 *                      no DLL: the handle is NULL, which getpath.c and
 *                      GetModuleFileNameW() read as "the executable".
 *
 *   Python/dynload_win.c  loads extension modules (.pyd). This file keeps
 *                      its suffix table; the loader itself,
 *                      _PyImport_FindSharedFuncptrWindows(), is Gale's and
 *                      lives in the host (native/win/extload_win.c): a .pyd
 *                      imports python313.dll or python3.dll, which does not
 *                      exist here, and that file binds those imports to the
 *                      running executable instead. Keeping it out of
 *                      libpython lets it change without a CPython rebuild.
 */
#include "Python.h"
#include "pycore_importdl.h"      /* PYD_TAGGED_SUFFIX */

#include <windows.h>

HMODULE PyWin_DLLhModule = NULL;
const char *PyWin_DLLVersionString = MS_DLL_ID;

const char *_PyImport_DynLoadFiletab[] = {
    PYD_TAGGED_SUFFIX,
    PYD_UNTAGGED_SUFFIX,
    NULL
};
