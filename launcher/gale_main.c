/* SPDX-License-Identifier: MIT
 *
 * The orchestration every command goes through: dispatch, find ourselves,
 * find the payload, hand over to the interpreter. Failures are logged once,
 * here, with the OS's reason, and mapped to the exit codes of gale_exit.h.
 */
#include "gale.h"
#include "gale_exit.h"
#include "gale_log.h"
#include "platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Finds the payload and runs the interpreter on it. */
static int run_payload(struct gale_ctx *ctx)
{
    if (gale_payload_locate(ctx->exe_path, &ctx->payload) != 0) {
        if (errno == ENOEXEC)
            GALE_ERROR("%s carries no payload (a bare host template, or a "
                       "damaged file); make an executable with `gale pack`",
                       ctx->exe_path);
        else
            GALE_ERROR("cannot read %s: %s", ctx->exe_path,
                       gale_platform_last_error());
        return GALE_EXIT_PAYLOAD;
    }
    GALE_DEBUG("payload at %llu, %llu bytes, sha256 %s",
               (unsigned long long)ctx->payload.offset,
               (unsigned long long)ctx->payload.size, ctx->payload.digest_hex);

    return gale_interp_run(ctx);
}

int gale_main(struct gale_ctx *ctx)
{
    int rc;

    const char *python_exe;

    gale_log_init();
    ctx->exe_path = gale_platform_exe_path();
    if (ctx->exe_path == NULL) {
        GALE_ERROR("cannot find the path of this executable: %s",
                   gale_platform_last_error());
        return GALE_EXIT_PAYLOAD;
    }
    python_exe = getenv(GALE_CLI_PYTHON_ENV);
    gale_cli_parse(ctx->argc, ctx->argv,
                   python_exe != NULL && strcmp(python_exe, ctx->exe_path) == 0, &ctx->cli);
    if (ctx->cli.debug)
        gale_log_enable_debug();
    if (ctx->cli.command == GALE_CMD_HELP) {
        fputs(gale_cli_usage(), stdout);
        rc = GALE_EXIT_OK;
        goto end;
    }
    if (ctx->cli.command == GALE_CMD_PYTHON &&
        gale_platform_setenv(GALE_CLI_PYTHON_ENV, ctx->exe_path) != 0)
        GALE_WARN("cannot set %s: %s", GALE_CLI_PYTHON_ENV, gale_platform_last_error());
    if (ctx->cli.command == GALE_CMD_SERVICE_RUN)
        rc = gale_platform_service_dispatch(ctx, run_payload);
    else
        rc = run_payload(ctx);
end:
    free(ctx->exe_path);
    ctx->exe_path = NULL;
    return rc;
}
