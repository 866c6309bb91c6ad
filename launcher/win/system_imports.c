/* SPDX-License-Identifier: MIT
 *
 * Functions from System32 DLLs that are not KnownDLLs, bound on first call
 * from System32 only.
 *
 * The loader resolves an executable's import table before any of our code
 * runs, and for a DLL that is not one of the KnownDLLs it looks in the
 * executable's own folder first. A `version.dll` dropped next to gale.exe
 * (in Downloads, say) would be loaded and run. gale_platform_harden()
 * cannot help there: it runs after the imports are resolved.
 *
 * So the CPython and OpenSSL functions that live in such DLLs are not
 * imported at all: this file defines the symbols their import libraries
 * would have provided, so the linker takes no member of those libraries.
 * Each function's pointer starts at a stub that loads the DLL with
 * LOAD_LIBRARY_SEARCH_SYSTEM32, stores the real address in the pointer
 * and makes the call. Later calls go straight to the DLL. This is what MSVC's /DELAYLOAD does; zig's linker
 * has no option for it.
 *
 * The list is the non-KnownDLL imports the static CPython and OpenSSL
 * actually make. A new one shows up as an import of the DLL again, and
 * tests/integration/test_windows.py fails on it: add it here.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdio.h>
#include <string.h>

#include "gale_exit.h"

#if !defined(_WIN64)
#error "the __imp_ names below are those of 64-bit Windows (no underscore, no @N)"
#endif

enum system_dll { DLL_BCRYPT, DLL_CRYPT32, DLL_IPHLPAPI, DLL_VERSION, DLL_WINMM };

static const wchar_t *const dll_names[] = {
    [DLL_BCRYPT] = L"bcrypt.dll",
    [DLL_CRYPT32] = L"crypt32.dll",
    [DLL_IPHLPAPI] = L"iphlpapi.dll",
    [DLL_VERSION] = L"version.dll",
    [DLL_WINMM] = L"winmm.dll",
};

/* Store the address of NAME from DLL in *slot. A System32 DLL without one
 * of its documented functions is not a Windows Gale runs on: say which
 * and stop, as a failed delay-load would. */
static void resolve(enum system_dll dll, const char *name, void **slot)
{
    HMODULE module = LoadLibraryExW(dll_names[dll], NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
    FARPROC proc = module != NULL ? GetProcAddress(module, name) : NULL;
    void *address;

    if (proc == NULL) {
        fprintf(stderr, "gale: error: %s from %ls is not in System32 (Windows error %lu)\n",
                name, dll_names[dll], (unsigned long)GetLastError());
        fflush(stderr);
        ExitProcess(GALE_EXIT_ERROR);
    }
    memcpy(&address, &proc, sizeof address);
    InterlockedExchangePointer(slot, address);
}

/* SYSTEM_IMPORT(dll, return type, name, (parameters), (arguments))
 *
 * Defines both names a caller can link against: the pointer __imp_NAME
 * (callers that saw a dllimport declaration) and the function NAME
 * (callers whose header declared it without one, as mingw-w64's winver.h,
 * bcrypt.h and netioapi.h do). With both defined here, no member of the
 * DLL's import library is taken. The asm labels give the link names; the
 * C names stay out of the way of the Windows headers. */
#define SYSTEM_IMPORT(dll, ret, name, params, args)                       \
    static ret WINAPI bind_##name params;                                 \
    ret (WINAPI *imp_##name) params __asm__("__imp_" #name) = bind_##name; \
    ret WINAPI call_##name params __asm__(#name);                         \
    ret WINAPI call_##name params                                         \
    {                                                                     \
        return imp_##name args;                                           \
    }                                                                     \
    static ret WINAPI bind_##name params                                  \
    {                                                                     \
        resolve(dll, #name, (void **)&imp_##name);                        \
        return imp_##name args;                                           \
    }

/* bcrypt.dll: os.urandom and hash randomisation. */
SYSTEM_IMPORT(DLL_BCRYPT, LONG, BCryptGenRandom,
              (void *alg, PUCHAR buf, ULONG len, ULONG flags), (alg, buf, len, flags))

/* crypt32.dll: ssl.enum_certificates / enum_crls and OpenSSL's Windows
 * certificate store. */
SYSTEM_IMPORT(DLL_CRYPT32, BOOL, CertAddStoreToCollection,
              (void *collection, void *sibling, DWORD flags, DWORD priority),
              (collection, sibling, flags, priority))
SYSTEM_IMPORT(DLL_CRYPT32, BOOL, CertCloseStore, (void *store, DWORD flags), (store, flags))
SYSTEM_IMPORT(DLL_CRYPT32, const void *, CertEnumCRLsInStore,
              (void *store, const void *prev), (store, prev))
SYSTEM_IMPORT(DLL_CRYPT32, const void *, CertEnumCertificatesInStore,
              (void *store, const void *prev), (store, prev))
SYSTEM_IMPORT(DLL_CRYPT32, const void *, CertFindCertificateInStore,
              (void *store, DWORD encoding, DWORD flags, DWORD type, const void *para,
               const void *prev),
              (store, encoding, flags, type, para, prev))
SYSTEM_IMPORT(DLL_CRYPT32, BOOL, CertFreeCRLContext, (const void *crl), (crl))
SYSTEM_IMPORT(DLL_CRYPT32, BOOL, CertFreeCertificateContext, (const void *cert), (cert))
SYSTEM_IMPORT(DLL_CRYPT32, BOOL, CertGetEnhancedKeyUsage,
              (const void *cert, DWORD flags, void *usage, DWORD *size),
              (cert, flags, usage, size))
SYSTEM_IMPORT(DLL_CRYPT32, void *, CertOpenStore,
              (const char *provider, DWORD encoding, ULONG_PTR prov, DWORD flags,
               const void *para),
              (provider, encoding, prov, flags, para))
SYSTEM_IMPORT(DLL_CRYPT32, void *, CertOpenSystemStoreW,
              (ULONG_PTR prov, const wchar_t *name), (prov, name))

/* iphlpapi.dll: socket.if_nameindex, if_nametoindex, if_indextoname. */
SYSTEM_IMPORT(DLL_IPHLPAPI, DWORD, ConvertInterfaceLuidToNameW,
              (const void *luid, wchar_t *name, SIZE_T length), (luid, name, length))
SYSTEM_IMPORT(DLL_IPHLPAPI, DWORD, GetIfTable2Ex,
              (int level, void **table), (level, table))
SYSTEM_IMPORT(DLL_IPHLPAPI, char *, if_indextoname,
              (ULONG index, char *name), (index, name))
SYSTEM_IMPORT(DLL_IPHLPAPI, ULONG, if_nametoindex, (const char *name), (name))

/* FreeMibTable returns nothing, so it cannot use the macro's return. */
static void WINAPI bind_FreeMibTable(void *table);
void (WINAPI *imp_FreeMibTable)(void *table) __asm__("__imp_FreeMibTable") = bind_FreeMibTable;
void WINAPI call_FreeMibTable(void *table) __asm__("FreeMibTable");
void WINAPI call_FreeMibTable(void *table)
{
    imp_FreeMibTable(table);
}
static void WINAPI bind_FreeMibTable(void *table)
{
    resolve(DLL_IPHLPAPI, "FreeMibTable", (void **)&imp_FreeMibTable);
    imp_FreeMibTable(table);
}

/* version.dll: sys.getwindowsversion() reads kernel32's version. */
SYSTEM_IMPORT(DLL_VERSION, DWORD, GetFileVersionInfoSizeW,
              (const wchar_t *file, DWORD *handle), (file, handle))
SYSTEM_IMPORT(DLL_VERSION, BOOL, GetFileVersionInfoW,
              (const wchar_t *file, DWORD handle, DWORD length, void *data),
              (file, handle, length, data))
SYSTEM_IMPORT(DLL_VERSION, BOOL, VerQueryValueW,
              (const void *block, const wchar_t *sub, void **buffer, UINT *length),
              (block, sub, buffer, length))

/* winmm.dll: winsound.PlaySound. */
SYSTEM_IMPORT(DLL_WINMM, BOOL, PlaySoundW,
              (const wchar_t *sound, HMODULE module, DWORD flags), (sound, module, flags))
