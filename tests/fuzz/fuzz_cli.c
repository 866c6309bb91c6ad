/* SPDX-License-Identifier: MIT
 *
 * libFuzzer target for argument dispatch (launcher/cli.c). The input is a
 * command line: its NUL-separated pieces are argv, argv[0] included (an
 * empty input is argc 0, which an execve() with an empty argv gives). Each
 * piece gets its own exact-size allocation, so ASan sees a read past any
 * argument's end, and argv[argc] is NULL as main() gets it.
 *
 * Checked beyond the sanitizers: what cli.h promises. first_arg indexes
 * argv or is argc (the launcher's interp.c copies argc - first_arg
 * arguments), the command word is where the result says, and python's
 * -X dev scan answers 0 or 1 from any starting index.
 */
#include "cli.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 64

static int is(const char *arg, const char *word)
{
    return arg != NULL && strcmp(arg, word) == 0;
}

static void check(int argc, char **argv, int python_default)
{
    struct gale_cli cli;
    int i, at, dev;

    memset(&cli, 0x55, sizeof cli);
    gale_cli_parse(argc, argv, python_default, &cli);
    if (cli.first_arg < 0 || cli.first_arg > argc)
        abort(); /* interp.c: memcpy of argc - first_arg arguments */
    if (cli.debug != 0 && cli.debug != 1)
        abort();
    if (python_default) {
        if (cli.command != GALE_CMD_PYTHON || cli.first_arg != (argc > 0) || cli.debug)
            abort();
    } else {
        for (at = 1; at < argc && is(argv[at], "--debug"); at++)
            ;
        if (cli.debug != (at > 1))
            abort();
        switch (cli.command) {
        case GALE_CMD_RUNTIME: /* argv[1] on, or nothing when argc is 0 */
            if (cli.first_arg != (argc > 0))
                abort();
            break;
        case GALE_CMD_PYTHON:
            if (!(cli.first_arg == at + 1 && is(argv[at], "python")) &&
                !(cli.first_arg == at && argv[at][0] == '-' && argv[at][1] != '-'))
                abort();
            break;
        case GALE_CMD_HELP:
            if (cli.first_arg != at + 1 ||
                !(is(argv[at], "--help") || is(argv[at], "-h") || is(argv[at], "help")))
                abort();
            break;
        case GALE_CMD_SERVICE_RUN:
            if (cli.first_arg != at + 2 || !is(argv[at], "service") || !is(argv[at + 1], "run"))
                abort();
            for (i = at + 2; i < argc; i++)
                if (is(argv[i], "--help") || is(argv[i], "-h"))
                    abort();
            break;
        default:
            abort();
        }
    }
    if (cli.command == GALE_CMD_PYTHON) {
        for (i = cli.first_arg; i <= argc; i++) {
            dev = gale_cli_python_dev_mode(argc, argv, i);
            if (dev != 0 && dev != 1)
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[MAX_ARGS + 1];
    int argc = 0, i;
    size_t start = 0, end;

    while (size > 0 && start <= size && argc < MAX_ARGS) {
        const uint8_t *nul = memchr(data + start, 0, size - start);

        end = nul != NULL ? (size_t)(nul - data) : size;
        argv[argc] = malloc(end - start + 1);
        if (argv[argc] == NULL)
            abort();
        memcpy(argv[argc], data + start, end - start);
        argv[argc][end - start] = '\0';
        argc++;
        start = end + 1;
    }
    argv[argc] = NULL;

    check(argc, argv, 0);
    check(argc, argv, 1);
    if (gale_cli_usage()[0] == '\0')
        abort();

    for (i = 0; i < argc; i++)
        free(argv[i]);
    return 0;
}
