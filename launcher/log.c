/* SPDX-License-Identifier: MIT
 *
 * The console sink for the launcher's log macros, and the hook for one more
 * (see gale_log.h).
 */
#include "gale_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef _WIN32
#include <process.h>
#define gale_getpid _getpid
#else
#include <unistd.h>
#define gale_getpid getpid
#endif

static int debug_enabled = -1;
static void (*extra_sink)(enum gale_log_level, const char *);

void gale_log_set_sink(void (*sink)(enum gale_log_level level, const char *line))
{
    extra_sink = sink;
}

void gale_log_init(void)
{
    const char *v = getenv("GALE_DEBUG");
    debug_enabled = v != NULL && v[0] != '\0' && !(v[0] == '0' && v[1] == '\0');
}

void gale_log_enable_debug(void)
{
    debug_enabled = 1;
}

int gale_log_debug_enabled(void)
{
    if (debug_enabled < 0)
        gale_log_init();
    return debug_enabled;
}

void gale_log_write(enum gale_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warning", "error"};
    va_list ap;

    if (level == GALE_LOG_DEBUG && !gale_log_debug_enabled())
        return;
    if (level == GALE_LOG_DEBUG)
        fprintf(stderr, "gale[%d]: debug: ", (int)gale_getpid());
    else
        fprintf(stderr, "gale: %s: ", names[level]);
    va_start(ap, fmt);
    if (extra_sink != NULL) {
        char line[1024];
        va_list copy;

        va_copy(copy, ap);
        vsnprintf(line, sizeof line, fmt, copy);
        va_end(copy);
        extra_sink(level, line);
    }
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}
