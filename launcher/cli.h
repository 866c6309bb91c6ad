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
    GALE_CMD_SERVICE_RUN, /* gale service run ...: what the Windows service manager starts */
};

struct gale_cli {
    enum gale_command command;
    /* Index in argv of the first argument handed on: for GALE_CMD_PYTHON the
     * first interpreter argument, for GALE_CMD_RUNTIME 1 (the runtime
     * reads a leading --debug itself, then the command word),
     * for GALE_CMD_SERVICE_RUN the first argument after `service run`. */
    int first_arg;
    /* `--debug` came before the command: the launcher's debug lines too. */
    int debug;
};

/* Never fails: anything unknown goes to the runtime, which reports it.
 * `python_default` makes the whole command line python's, as for a child
 * started through sys.executable (see GALE_CLI_PYTHON_ENV). */
void gale_cli_parse(int argc, char *const *argv, int python_default, struct gale_cli *out);

/* Whether python's options in argv[first..argc) ask for -X dev: they are
 * read as python reads them, up to the script, -c or -m. The
 * pre-initialisation needs this before the interpreter parses its command
 * line, to put the debug hooks on the memory allocators. */
int gale_cli_python_dev_mode(int argc, char *const *argv, int first);

/* Set by `gale python` to its own executable's path, and so inherited by its
 * children: an executable that finds its own path there acts as python for
 * any command line. That is how `subprocess.Popen([sys.executable])` or
 * `[sys.executable, "script.py"]` keep working inside the interpreter. */
#define GALE_CLI_PYTHON_ENV "GALE_PYTHON_EXE"

/* The text of `gale --help`. */
const char *gale_cli_usage(void);

#endif /* GALE_CLI_H */
