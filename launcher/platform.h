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

/* The OS's text for the last failing call (errno / GetLastError). */
const char *gale_platform_last_error(void);

#endif /* GALE_PLATFORM_H */
