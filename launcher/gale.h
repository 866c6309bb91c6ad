/* SPDX-License-Identifier: MIT
 *
 * The launcher's context and its one entry point. main.c fills argc/argv
 * (UTF-8 on every platform) and calls gale_main(); everything after that is
 * shared code plus the platform layer (platform.h).
 */
#ifndef GALE_H
#define GALE_H

#include "cli.h"
#include "payload.h"

struct gale_ctx {
    int argc;
    char **argv;                /* UTF-8 */
    struct gale_cli cli;        /* what argv asks for */
    char *exe_path;             /* UTF-8, malloc'd */
    struct gale_payload payload;
    const char *service_name;   /* set while running as a Windows service */
};

/* Runs the command that ctx->argv names; returns the process exit code. */
int gale_main(struct gale_ctx *ctx);

/* Starts the interpreter for ctx (interp.c) and runs it to completion. */
int gale_interp_run(struct gale_ctx *ctx);

#endif /* GALE_H */
