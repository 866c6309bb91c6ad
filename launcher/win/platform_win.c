/* SPDX-License-Identifier: MIT
 *
 * The Windows side of platform.h: DLL search-order hardening, the
 * executable's path, environment and error text, and the console Gale
 * may own. Strings cross this
 * boundary as UTF-8; the wide API is used underneath so that paths with
 * spaces and non-ASCII characters survive.
 */
#include "platform.h"
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <windows.h>

void gale_platform_harden(void)
{
    /* Only System32 and explicitly added folders for every later
     * LoadLibrary: a planted DLL next to the executable or in the current
     * directory is not loaded. The import table was resolved before this
     * runs; it names only KnownDLLs (system_imports.c). */
    SetDefaultDllDirectories(LOAD_LIBRARY_SEARCH_SYSTEM32);
    SetDllDirectoryW(L"");
}

static char *utf8_from_wide(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    char *s = n > 0 ? malloc((size_t)n) : NULL;

    if (s != NULL && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) <= 0) {
        free(s);
        s = NULL;
    }
    return s;
}

static wchar_t *wide_from_utf8(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;

    if (w != NULL && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) <= 0) {
        free(w);
        w = NULL;
    }
    return w;
}

char *gale_platform_exe_path(void)
{
    DWORD cap = MAX_PATH;

    for (;;) {
        wchar_t *buf = malloc(cap * sizeof *buf);
        DWORD n;
        char *path;

        if (buf == NULL)
            return NULL;
        n = GetModuleFileNameW(NULL, buf, cap);
        if (n == 0) {
            free(buf);
            return NULL;
        }
        if (n < cap) {
            path = utf8_from_wide(buf);
            free(buf);
            return path;
        }
        free(buf);
        if (cap >= 32768)
            return NULL;
        cap *= 2;
    }
}

FILE *gale_platform_fopen(const char *path, const char *mode)
{
    wchar_t *wpath = wide_from_utf8(path), *wmode = wide_from_utf8(mode);
    FILE *f = NULL;

    if (wpath != NULL && wmode != NULL)
        f = _wfopen(wpath, wmode);
    free(wpath);
    free(wmode);
    return f;
}

int gale_platform_setenv(const char *name, const char *value)
{
    wchar_t *wname = wide_from_utf8(name), *wvalue = wide_from_utf8(value);
    int rc = -1;

    /* _wputenv_s updates both the CRT's copy (which os.environ reads) and
     * the process environment that children inherit. */
    if (wname != NULL && wvalue != NULL && _wputenv_s(wname, wvalue) == 0)
        rc = 0;
    free(wname);
    free(wvalue);
    return rc;
}

const char *gale_platform_last_error(void)
{
    static char text[512];
    DWORD code = GetLastError();
    wchar_t wide[256];
    DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                             NULL, code, 0, wide, 256, NULL);

    while (n > 0 && (wide[n - 1] == L'\r' || wide[n - 1] == L'\n' || wide[n - 1] == L'.'))
        wide[--n] = L'\0';
    if (n == 0 || WideCharToMultiByte(CP_UTF8, 0, wide, -1, text, sizeof text, NULL, NULL) <= 0)
        snprintf(text, sizeof text, "Windows error %lu", (unsigned long)code);
    return text;
}

int gale_platform_console_prepare(int python)
{
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    DWORD pids[4], mode, attached = 0;
    /* A console whose input is a keyboard: not one with stdin redirected. */
    int has_console = GetConsoleWindow() != NULL && GetConsoleMode(in, &mode);
    int kind;

    if (has_console)
        attached = GetConsoleProcessList(pids, 4);
    kind = gale_console_classify(has_console, attached);
    /* With QuickEdit on, one click in the window selects text and blocks
     * every write to the console, and with it the server, until a key is
     * pressed. */
    if (kind == GALE_CONSOLE_OWNED && !python)
        SetConsoleMode(in, (mode & ~(DWORD)ENABLE_QUICK_EDIT_MODE) | ENABLE_EXTENDED_FLAGS);
    return kind;
}

void gale_platform_console_finish(int console, int rc)
{
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    INPUT_RECORD rec;
    DWORD got;

    /* The window closes with the process: keep the error readable. */
    if (console != GALE_CONSOLE_OWNED || rc == 0)
        return;
    fputs("\nPress any key to close this window.\n", stderr);
    fflush(stderr);
    FlushConsoleInputBuffer(in);
    while (ReadConsoleInputW(in, &rec, 1, &got) && got == 1)
        if (rec.EventType == KEY_EVENT && rec.Event.KeyEvent.bKeyDown)
            break;
}
