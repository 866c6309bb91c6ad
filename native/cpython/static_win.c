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
 *   Python/dynload_win.c  loads extension modules (.pyd). Every .pyd is
 *                      linked against python3XY.dll. Loading one into a
 *                      process whose interpreter is linked in statically
 *                      would load a second, uninitialised interpreter from
 *                      that DLL (or fail to find it), so importing a .pyd is
 *                      refused with an ImportError that says why. The
 *                      suffix table is kept, so importlib still finds .pyd
 *                      files and the user gets this message instead of a
 *                      bare "No module named ...".
 */
#include "Python.h"
#include "pycore_importdl.h"      /* dl_funcptr, PYD_TAGGED_SUFFIX */

#include <windows.h>

HMODULE PyWin_DLLhModule = NULL;
const char *PyWin_DLLVersionString = MS_DLL_ID;

const char *_PyImport_DynLoadFiletab[] = {
    PYD_TAGGED_SUFFIX,
    PYD_UNTAGGED_SUFFIX,
    NULL
};

dl_funcptr
_PyImport_FindSharedFuncptrWindows(const char *prefix, const char *shortname,
                                   PyObject *pathname, FILE *fp)
{
    (void)prefix;
    (void)fp;
    PyObject *name = PyUnicode_FromString(shortname);
    if (name == NULL) {
        return NULL;
    }
    PyObject *msg = PyUnicode_FromFormat(
        "cannot load binary extension module '%U' from %R: this Python is "
        "linked statically into the executable (there is no python%d%d.dll), "
        "so .pyd files cannot be loaded; only built-in and pure-Python "
        "modules are available",
        name, pathname, PY_MAJOR_VERSION, PY_MINOR_VERSION);
    if (msg != NULL) {
        PyErr_SetImportError(msg, name, pathname);
        Py_DECREF(msg);
    }
    Py_DECREF(name);
    return NULL;
}
