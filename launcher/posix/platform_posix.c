/* SPDX-License-Identifier: MIT
 *
 * The POSIX side of platform.h (Linux: the executable's path comes from
 * /proc/self/exe).
 */
#define _POSIX_C_SOURCE 200809L /* readlink under -std=c11 */
#include "platform.h"

#include "gale_exit.h"
#include "gale_log.h"
#include "service.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void gale_platform_harden(void)
{
    /* Nothing to do: ELF lookup does not search the current directory. */
}

char *gale_platform_exe_path(void)
{
    size_t cap = 256;

    for (;;) {
        char *buf = malloc(cap);
        ssize_t n;

        if (buf == NULL)
            return NULL;
        n = readlink("/proc/self/exe", buf, cap);
        if (n < 0) {
            free(buf);
            return NULL;
        }
        if ((size_t)n < cap) {
            buf[n] = '\0';
            return buf;
        }
        free(buf);
        cap *= 2;
    }
}

FILE *gale_platform_fopen(const char *path, const char *mode)
{
    return fopen(path, mode);
}

int gale_platform_setenv(const char *name, const char *value)
{
    return setenv(name, value, 1);
}

const char *gale_platform_last_error(void)
{
    return strerror(errno);
}

int gale_platform_service_dispatch(struct gale_ctx *ctx, int (*run)(struct gale_ctx *))
{
    (void)ctx, (void)run;
    GALE_ERROR("`gale service` is for Windows; on Linux run `gale serve` under systemd");
    return GALE_EXIT_USAGE;
}

int gale_platform_console_prepare(int python)
{
    (void)python;
    return GALE_CONSOLE_NONE;
}

void gale_platform_console_finish(int console, int rc)
{
    (void)console, (void)rc;
}
