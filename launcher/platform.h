/* SPDX-License-Identifier: MIT
 *
 * What a platform must provide to the launcher. Exactly one implementation
 * is compiled: posix/platform_posix.c or win/platform_win.c (chosen in
 * CMake), so no platform #ifdefs are needed in the shared files.
 */
#ifndef GALE_PLATFORM_H
#define GALE_PLATFORM_H

#include <stdio.h>

/* First thing in the process: on Windows, restrict the DLL search order. */
void gale_platform_harden(void);

/* The absolute path of the running executable, UTF-8, malloc'd; NULL on
 * failure, logged by the caller with gale_platform_last_error(). */
char *gale_platform_exe_path(void);

/* fopen() for a UTF-8 path (the wide API on Windows). */
FILE *gale_platform_fopen(const char *path, const char *mode);

/* Sets an environment variable (UTF-8) for this process and its children;
 * 0 or -1. */
int gale_platform_setenv(const char *name, const char *value);

struct gale_ctx;

/* Before the interpreter starts: who owns the console (enum
 * gale_console_kind, launcher/service.h). Windows switches QuickEdit off
 * on a console Gale owns, unless `python` (the interactive interpreter,
 * where selecting text is wanted). POSIX: GALE_CONSOLE_NONE. */
int gale_platform_console_prepare(int python);

/* After it ends with `rc`: on a console Gale owns, a failure's message stays
 * on screen until a key is pressed. */
void gale_platform_console_finish(int console, int rc);

/* `gale service run`: hands the process to the service manager, which
 * calls `run` (the payload and the interpreter) on a thread of its own;
 * returns the exit code. POSIX: a USAGE error, there is no such thing. */
int gale_platform_service_dispatch(struct gale_ctx *ctx, int (*run)(struct gale_ctx *));

/* The OS's text for the last failing call (errno / GetLastError). */
const char *gale_platform_last_error(void);

#endif /* GALE_PLATFORM_H */
