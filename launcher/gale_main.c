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

int gale_main(struct gale_ctx *ctx)
{
    int rc;

    gale_log_init();
    gale_cli_parse(ctx->argc, ctx->argv, &ctx->cli);
    if (ctx->cli.command == GALE_CMD_HELP) {
        fputs(gale_cli_usage(), stdout);
        return GALE_EXIT_OK;
    }

    ctx->exe_path = gale_platform_exe_path();
    if (ctx->exe_path == NULL) {
        GALE_ERROR("cannot find the path of this executable: %s",
                   gale_platform_last_error());
        return GALE_EXIT_PAYLOAD;
    }
    if (gale_payload_locate(ctx->exe_path, &ctx->payload) != 0) {
        if (errno == ENOEXEC)
            GALE_ERROR("%s carries no payload (a bare host template, or a "
                       "damaged file); make an executable with `gale pack`",
                       ctx->exe_path);
        else
            GALE_ERROR("cannot read %s: %s", ctx->exe_path,
                       gale_platform_last_error());
        rc = GALE_EXIT_PAYLOAD;
        goto end;
    }
    GALE_DEBUG("payload at %llu, %llu bytes, sha256 %s",
               (unsigned long long)ctx->payload.offset,
               (unsigned long long)ctx->payload.size, ctx->payload.digest_hex);

    rc = gale_interp_run(ctx);
end:
    free(ctx->exe_path);
    ctx->exe_path = NULL;
    return rc;
}
