/* SPDX-License-Identifier: MIT
 *
 * Loads binary extension modules (.pyd) into the static host: CPython's
 * _PyImport_FindSharedFuncptrWindows(), which Python/dynload_win.c defines
 * in a python313.dll build (native/cpython/static_win.c says why it is here).
 *
 * A .pyd from a wheel imports the C API from python313.dll, or from
 * python3.dll if it uses the stable ABI. There is no such DLL here: the
 * interpreter is linked into the executable, which exports the whole C API
 * under the same names (cmake/exports.py). `gale pack` moves each PE file's
 * python3*.dll import entries to just after the terminating empty entry of
 * its import directory (pylib/gale/pack/pe.py), so the Windows loader never
 * looks for those DLLs: a python313.dll planted beside the executable is
 * never loaded, and a renamed executable still works. After the loader has
 * mapped the .pyd and its own dependencies, this file fills those entries'
 * import address table from the running executable's exports, data
 * included (the address of the variable, as the loader would write it).
 *
 * The entries are bound after the DLL's entry point has run (the loader
 * runs it before LoadLibraryExW returns), so code in a DllMain or a static
 * constructor must not call the C API. Extensions start in PyInit_*, which
 * runs later; docs/extensions.md lists what was checked.
 *
 * Search path: the .pyd's own folder, the folders given to
 * os.add_dll_directory(), and System32. Not the executable's folder, not
 * the current folder, not PATH.
 */
#include "Python.h"

#define WIN32_LEAN_AND_MEAN
#define PSAPI_VERSION 2      /* EnumProcessModules is kernel32's K32 one */
#include <windows.h>
#include <psapi.h>

#include <stddef.h>

/* The ABI python.org's extensions are built for (docs/extensions.md). */
#if !defined(MS_WINDOWS) || !defined(NT_THREADS) || !defined(_WIN64)
#error "extensions from wheels need a 64-bit MS_WINDOWS build with NT threads"
#endif
#if defined(Py_DEBUG) || defined(Py_TRACE_REFS) || defined(Py_GIL_DISABLED) || defined(Py_LIMITED_API)
#error "a debug, trace-refs or free-threaded build has another ABI than python.org's"
#endif
_Static_assert(sizeof(long) == 4, "LLP64, as MSVC");
_Static_assert(sizeof(Py_tss_t) == 8, "Py_tss_t is {int, unsigned long} with NT threads");
_Static_assert(sizeof(PyObject) == 16 && sizeof(PyVarObject) == 24, "object header");
_Static_assert(sizeof(PyASCIIObject) == 40 && sizeof(PyCompactUnicodeObject) == 56,
               "str layout as MSVC lays out its bitfields (extensions read it inline)");

typedef void (*dl_funcptr)(void);   /* as pycore_importdl.h, a core-only header */

dl_funcptr _PyImport_FindSharedFuncptrWindows(const char *prefix, const char *shortname,
                                              PyObject *pathname, FILE *fp);

#define SEARCH_FLAGS (LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_USER_DIRS \
                      | LOAD_LIBRARY_SEARCH_SYSTEM32)

/* Modules whose hidden entries are bound already. Only touched with the
 * GIL held. */
static HMODULE *bound;
static size_t bound_count, bound_cap;

static int is_bound(HMODULE m)
{
    for (size_t i = 0; i < bound_count; i++) {
        if (bound[i] == m) {
            return 1;
        }
    }
    return 0;
}

static int remember(HMODULE m)
{
    if (bound_count == bound_cap) {
        size_t cap = bound_cap ? bound_cap * 2 : 32;
        HMODULE *grown = PyMem_Realloc(bound, cap * sizeof *grown);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        bound = grown;
        bound_cap = cap;
    }
    bound[bound_count++] = m;
    return 0;
}

/* python3.dll, python313.dll, any case: what `gale pack` hides. */
static int is_python_dll(const char *name)
{
    size_t len = strnlen(name, 17);
    return len <= 16 && _strnicmp(name, "python3", 7) == 0
        && _stricmp(name + len - 4, ".dll") == 0;
}

static const IMAGE_NT_HEADERS *nt_headers(const BYTE *base)
{
    const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)base;
    return (const IMAGE_NT_HEADERS *)(base + dos->e_lfanew);
}

/* Fills one hidden descriptor's import address table from the executable. */
static int bind_descriptor(BYTE *base, const IMAGE_IMPORT_DESCRIPTOR *d, HMODULE exe,
                           const wchar_t *module_path)
{
    const char *dll = (const char *)(base + d->Name);
    IMAGE_THUNK_DATA *iat = (IMAGE_THUNK_DATA *)(base + d->FirstThunk);
    const IMAGE_THUNK_DATA *names = d->OriginalFirstThunk
        ? (const IMAGE_THUNK_DATA *)(base + d->OriginalFirstThunk) : iat;
    size_t count = 0;
    while (names[count].u1.AddressOfData != 0) {
        count++;
    }
    DWORD old;
    if (!VirtualProtect(iat, count * sizeof *iat, PAGE_READWRITE, &old)) {
        PyErr_Format(PyExc_ImportError, "cannot bind %ls's imports from %s: "
                     "VirtualProtect failed (error %lu)", module_path, dll, GetLastError());
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        if (IMAGE_SNAP_BY_ORDINAL(names[i].u1.Ordinal)) {
            PyErr_Format(PyExc_ImportError, "%ls imports from %s by ordinal, which this "
                         "executable cannot provide", module_path, dll);
            rc = -1;
            break;
        }
        const IMAGE_IMPORT_BY_NAME *by_name =
            (const IMAGE_IMPORT_BY_NAME *)(base + names[i].u1.AddressOfData);
        FARPROC found = GetProcAddress(exe, (const char *)by_name->Name);
        if (found == NULL) {
            PyErr_Format(PyExc_ImportError, "%ls needs %s from %s, which this executable "
                         "does not export (it is not part of CPython %s's C API)",
                         module_path, (const char *)by_name->Name, dll, PY_VERSION);
            rc = -1;
            break;
        }
        iat[i].u1.Function = (ULONG_PTR)found;
    }
    VirtualProtect(iat, count * sizeof *iat, old, &old);
    return rc;
}

/* Binds module `m`'s hidden python3*.dll entries, if it has any. */
static int bind_module(HMODULE m)
{
    BYTE *base = (BYTE *)m;
    const IMAGE_NT_HEADERS *nt = nt_headers(base);
    IMAGE_DATA_DIRECTORY dir = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
    DWORD image_size = nt->OptionalHeader.SizeOfImage;
    if (dir.VirtualAddress == 0 || dir.Size < sizeof(IMAGE_IMPORT_DESCRIPTOR)
        || dir.VirtualAddress > image_size || dir.Size > image_size - dir.VirtualAddress) {
        return 0;
    }
    const IMAGE_IMPORT_DESCRIPTOR *d = (const IMAGE_IMPORT_DESCRIPTOR *)(base + dir.VirtualAddress);
    size_t n = dir.Size / sizeof *d, i = 0;
    while (i < n && d[i].Name != 0) {  /* the loader's entries */
        i++;
    }
    HMODULE exe = GetModuleHandleW(NULL);
    wchar_t path[MAX_PATH];
    /* Past the terminator, only what `gale pack` put there: anything else
     * (another linker's padding) ends the search. */
    for (i++; i < n && d[i].Name != 0 && d[i].FirstThunk != 0; i++) {
        if (d[i].Name >= image_size - 16 || d[i].FirstThunk >= image_size
            || d[i].OriginalFirstThunk >= image_size
            || !is_python_dll((const char *)(base + d[i].Name))) {
            break;
        }
        if (GetModuleFileNameW(m, path, MAX_PATH) == 0) {
            wcscpy(path, L"an extension");
        }
        if (bind_descriptor(base, &d[i], exe, path) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Binds every loaded module not bound yet: the .pyd just loaded and the
 * DLLs the loader brought in with it (pywin32's pywintypes313.dll imports
 * python313.dll too). The executable itself and DLLs without hidden
 * entries are simply remembered. */
static int bind_new_modules(void)
{
    HMODULE stack[512];
    HMODULE *mods = stack;
    DWORD needed = 0;
    if (!EnumProcessModules(GetCurrentProcess(), mods, sizeof stack, &needed)) {
        PyErr_Format(PyExc_ImportError, "cannot list the loaded modules (error %lu)",
                     GetLastError());
        return -1;
    }
    if (needed > sizeof stack) {
        mods = PyMem_Malloc(needed);
        if (mods == NULL || !EnumProcessModules(GetCurrentProcess(), mods, needed, &needed)) {
            PyMem_Free(mods);
            PyErr_NoMemory();
            return -1;
        }
    }
    int rc = 0;
    for (DWORD i = 0; i < needed / sizeof *mods && rc == 0; i++) {
        if (!is_bound(mods[i])) {
            rc = bind_module(mods[i]);
            if (rc == 0) {
                rc = remember(mods[i]);
            }
        }
    }
    if (mods != stack) {
        PyMem_Free(mods);
    }
    return rc;
}

/* Raises ImportError(msg, name=shortname, path=pathname); takes `msg`'s
 * reference (NULL: the error from making it stands). */
static void set_import_error(const char *shortname, PyObject *pathname, PyObject *msg)
{
    PyObject *name = PyUnicode_FromString(shortname);
    if (name != NULL && msg != NULL) {
        PyErr_SetImportError(msg, name, pathname);
    }
    Py_XDECREF(name);
    Py_XDECREF(msg);
}

/* The C runtime DLLs that MSVC-built extensions import and Windows does
 * not ship: the Visual C++ Redistributable installs them. */
static int is_vc_runtime(const char *name)
{
    static const char *const names[] = {"vcruntime140.dll", "vcruntime140_1.dll",
                                        "msvcp140.dll", "msvcp140_1.dll", "msvcp140_2.dll",
                                        "msvcp140_atomic_wait.dll", "concrt140.dll"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (_stricmp(name, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

#if defined(_M_ARM64) || defined(__aarch64__)
#define VC_ARCH "ARM64", "arm64"
#else
#define VC_ARCH "x64", "x64"
#endif

/* After ERROR_MOD_NOT_FOUND: which DLL that `wpath` imports directly cannot
 * be found where the loader looked? Sets the error and returns 1 if one is
 * found, 0 if not (then the caller reports the loader's own message). */
static int report_missing_dll(const char *shortname, PyObject *pathname, const wchar_t *wpath)
{
    HMODULE image = LoadLibraryExW(wpath, NULL, LOAD_LIBRARY_AS_IMAGE_RESOURCE);
    if (image == NULL) {
        return 0;
    }
    /* A resource mapping's handle has its low bits set; the mapping is laid
     * out as an image, so RVAs apply. */
    const BYTE *base = (const BYTE *)((ULONG_PTR)image & ~(ULONG_PTR)3);
    const IMAGE_NT_HEADERS *nt = nt_headers(base);
    IMAGE_DATA_DIRECTORY dir = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
    DWORD image_size = nt->OptionalHeader.SizeOfImage;
    wchar_t folder[MAX_PATH];
    wcsncpy(folder, wpath, MAX_PATH - 1);
    folder[MAX_PATH - 1] = 0;
    wchar_t *slash = wcsrchr(folder, L'\\');
    if (slash != NULL) {
        slash[1] = 0;
    }
    int found = 0;
    if (dir.VirtualAddress != 0 && dir.VirtualAddress < image_size) {
        const IMAGE_IMPORT_DESCRIPTOR *d = (const IMAGE_IMPORT_DESCRIPTOR *)(base + dir.VirtualAddress);
        for (; !found && d->Name != 0 && d->Name < image_size - 16; d++) {
            const char *dll = (const char *)(base + d->Name);
            if (_strnicmp(dll, "api-ms-", 7) == 0 || _strnicmp(dll, "ext-ms-", 7) == 0) {
                continue;  /* API sets: Windows resolves them itself */
            }
            wchar_t wdll[MAX_PATH], beside[MAX_PATH];
            if (MultiByteToWideChar(CP_ACP, 0, dll, -1, wdll, MAX_PATH) == 0) {
                continue;
            }
            HMODULE dep = NULL;
            if (_snwprintf(beside, MAX_PATH, L"%ls%ls", folder, wdll) > 0
                && GetFileAttributesW(beside) != INVALID_FILE_ATTRIBUTES) {
                continue;  /* beside it: present (its own dependencies are its business) */
            }
            dep = LoadLibraryExW(wdll, NULL, LOAD_LIBRARY_SEARCH_USER_DIRS
                                 | LOAD_LIBRARY_SEARCH_SYSTEM32);
            if (dep != NULL) {
                FreeLibrary(dep);
                continue;
            }
            if (GetLastError() != ERROR_MOD_NOT_FOUND) {
                continue;
            }
            found = 1;
            if (is_vc_runtime(dll)) {
                set_import_error(shortname, pathname, PyUnicode_FromFormat(
                    "cannot load extension module '%s' (%U): it needs %s, which Windows does "
                    "not include; install the Microsoft Visual C++ Redistributable for %s "
                    "(vc_redist.%s.exe), or pack the app with --msvc-runtime",
                    shortname, pathname, dll, VC_ARCH));
            } else {
                set_import_error(shortname, pathname, PyUnicode_FromFormat(
                    "cannot load extension module '%s' (%U): it needs %s, which is not beside "
                    "it, in a folder given to os.add_dll_directory() or in System32",
                    shortname, pathname, dll));
            }
        }
    }
    FreeLibrary(image);
    return found;
}

static void set_load_error(const char *shortname, PyObject *pathname, DWORD err)
{
    wchar_t text[512];
    DWORD len = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                               NULL, err, MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT),
                               text, sizeof text / sizeof *text, NULL);
    while (len > 0 && (text[len - 1] == L'\r' || text[len - 1] == L'\n' || text[len - 1] == L' '
                       || text[len - 1] == L'.')) {
        len--;
    }
    text[len] = 0;
    set_import_error(shortname, pathname, PyUnicode_FromFormat(
        "cannot load extension module '%s': %ls (error %lu)",
        shortname, len ? text : L"unknown error", err));
}

dl_funcptr _PyImport_FindSharedFuncptrWindows(const char *prefix, const char *shortname,
                                              PyObject *pathname, FILE *fp)
{
    (void)fp;
    wchar_t *wpath = PyUnicode_AsWideCharString(pathname, NULL);
    if (wpath == NULL) {
        return NULL;
    }
    HMODULE h;
    DWORD err = 0;
    Py_BEGIN_ALLOW_THREADS
    DWORD old_mode;
    SetThreadErrorMode(SEM_FAILCRITICALERRORS, &old_mode);  /* no dialog box */
    h = LoadLibraryExW(wpath, NULL, SEARCH_FLAGS);
    if (h == NULL) {
        err = GetLastError();
    }
    SetThreadErrorMode(old_mode, NULL);
    Py_END_ALLOW_THREADS
    if (h == NULL) {
        if (err != ERROR_MOD_NOT_FOUND || !report_missing_dll(shortname, pathname, wpath)) {
            set_load_error(shortname, pathname, err);
        }
        PyMem_Free(wpath);
        return NULL;
    }
    PyMem_Free(wpath);
    if (bind_new_modules() < 0) {
        FreeLibrary(h);
        return NULL;
    }
    char funcname[258];
    PyOS_snprintf(funcname, sizeof funcname, "%.20s_%.200s", prefix, shortname);
    return (dl_funcptr)GetProcAddress(h, funcname);
}
