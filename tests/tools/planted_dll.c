/* SPDX-License-Identifier: MIT
 *
 * planted.dll: a stand-in for a DLL an attacker drops next to gale.exe.
 * The test copies it there under the names of the System32 DLLs a host
 * uses (iphlpapi.dll, winmm.dll...). It exports nothing and does one thing
 * when loaded: it creates "<its own path>.loaded", so the test sees which
 * copies the process loaded. None should be.
 */
#include <windows.h>

BOOL WINAPI DllMain(HINSTANCE self, DWORD reason, LPVOID reserved)
{
    wchar_t path[MAX_PATH + 8];
    DWORD n;
    HANDLE marker;

    (void)reserved;
    if (reason != DLL_PROCESS_ATTACH)
        return TRUE;
    n = GetModuleFileNameW(self, path, MAX_PATH);
    if (n == 0 || n >= MAX_PATH)
        return TRUE;
    lstrcpyW(path + n, L".loaded");
    marker = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (marker != INVALID_HANDLE_VALUE)
        CloseHandle(marker);
    return TRUE;
}
