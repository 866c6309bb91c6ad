/* SPDX-License-Identifier: MIT
 *
 * Argument dispatch: decides, from argv alone, which part of Gale handles a
 * command line. It does not parse the commands' own options; the Python
 * runtime does that for serve/check/pack/--version.
 */
#ifndef GALE_CLI_H
#define GALE_CLI_H

enum gale_command {
    GALE_CMD_RUNTIME, /* gale's Python runtime: serve (default), check, pack, --version */
    GALE_CMD_PYTHON,  /* the embedded interpreter, like python.exe */
    GALE_CMD_HELP,    /* gale --help: printed by the launcher */
};

struct gale_cli {
    enum gale_command command;
    /* Index in argv of the first argument handed on: for GALE_CMD_PYTHON the
     * first interpreter argument, for GALE_CMD_RUNTIME the command word. */
    int first_arg;
};

/* Never fails: anything unknown goes to the runtime, which reports it. */
void gale_cli_parse(int argc, char *const *argv, struct gale_cli *out);

/* The text of `gale --help`. */
const char *gale_cli_usage(void);

#endif /* GALE_CLI_H */
