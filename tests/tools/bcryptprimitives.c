/* SPDX-License-Identifier: MIT
 *
 * bcryptprimitives.dll for Debian 12's Wine 8, which lacks it: a test-only
 * stand-in, never shipped. Windows 10 and later have the real DLL, and so
 * does the arm64 root's Wine 10. Rust's standard library gets its random
 * numbers from ProcessPrng() there, so every Rust extension module
 * (cryptography, pydantic-core, bcrypt) imports it and cannot load without
 * it. test_deps.py puts this copy in the win-x64 Wine prefix's system32 and
 * selects it with WINEDLLOVERRIDES=bcryptprimitives=n. It does what the
 * real one does for this call: fills the buffer from the system's CSPRNG
 * (RtlGenRandom, advapi32's SystemFunction036).
 */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
