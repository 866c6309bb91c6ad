/* SPDX-License-Identifier: MIT
 *
 * Entry points only: everything else is gale_main(). On Windows the wide
 * argv is turned into UTF-8 once, here, so that non-ASCII paths survive.
 */
#include "gale.h"
#include "platform.h"

#ifdef _WIN32
#include <stdlib.h>
#include <windows.h>

static char *utf8_from_wide(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    char *s = n > 0 ? malloc((size_t)n) : NULL;

    if (s != NULL)
        WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
    return s;
}

int wmain(int argc, wchar_t **wargv)
{
    struct gale_ctx ctx = {0};
    int i;

    gale_platform_harden();
    ctx.argc = argc;
    ctx.argv = calloc((size_t)argc + 1, sizeof *ctx.argv);
    if (ctx.argv == NULL)
        return 1;
    for (i = 0; i < argc; i++)
        if ((ctx.argv[i] = utf8_from_wide(wargv[i])) == NULL)
            return 1;
    return gale_main(&ctx);
}
#else
int main(int argc, char **argv)
{
    struct gale_ctx ctx = {0};

    gale_platform_harden();
    ctx.argc = argc;
    ctx.argv = argv;
    return gale_main(&ctx);
}
#endif
