/* SPDX-License-Identifier: MIT
 *
 * Argument dispatch (see cli.h). Besides `gale python ...`, a first argument
 * that is one of python's own options (-c, -m, -u, -I, ...) also selects the
 * interpreter. That is what keeps sys.executable useful: multiprocessing,
 * subprocess-based tests and tools run `sys.executable -c ...` and expect a
 * Python. Gale's own options are all long (--help, --version, --config), so
 * the two never collide.
 */
#include "cli.h"

#include <string.h>

/* python's options that may start a command line; see `python --help`. -V
 * and -h are left out on purpose: they mean Gale's version and help. */
static int is_python_option(const char *arg)
{
    static const char *const exact[] = {
        "-c", "-m", "-i", "-u", "-E", "-I", "-s", "-S", "-B", "-b", "-bb",
        "-d", "-O", "-OO", "-q", "-v", "-P", "-R", "-x", "-",
    };
    size_t i;

    if (arg[0] != '-' || strncmp(arg, "--", 2) == 0)
        return 0;
    for (i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(arg, exact[i]) == 0)
            return 1;
    /* -W<arg>, -X<opt> and bundled forms such as -Es or -c<code>. */
    return strchr("cmiuEIsSBbdOqvPRxWX", arg[1]) != NULL && arg[1] != '\0';
}

static int asks_for_help(int argc, char *const *argv, int from)
{
    int i;

    for (i = from; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

void gale_cli_parse(int argc, char *const *argv, int python_default, struct gale_cli *out)
{
    int at = 1;
    const char *first;

    out->command = python_default ? GALE_CMD_PYTHON : GALE_CMD_RUNTIME;
    /* argc is 0 when a process is started with an empty argv: there is
     * then nothing to hand on (and no argv[1] to start from). */
    out->first_arg = argc < 1 ? argc : 1;
    out->debug = 0;
    if (python_default)
        return;
    /* `gale --debug COMMAND ...`: Gale's one option that may come before
     * the command. The runtime still sees it (first_arg stays 1) and drops
     * it itself; the launcher's own debug lines need it now. */
    while (at < argc && strcmp(argv[at], "--debug") == 0) {
        out->debug = 1;
        at++;
    }
    first = at < argc ? argv[at] : NULL;
    if (first == NULL)
        return;
    if (strcmp(first, "python") == 0) {
        out->command = GALE_CMD_PYTHON;
        out->first_arg = at + 1;
    } else if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0 ||
               strcmp(first, "help") == 0) {
        out->command = GALE_CMD_HELP;
        out->first_arg = at + 1;
    } else if (strcmp(first, "service") == 0 && at + 1 < argc && strcmp(argv[at + 1], "run") == 0 &&
               !asks_for_help(argc, argv, at + 2)) {
        /* Only the service manager's command line reaches the dispatcher:
         * the other `service` commands are the runtime's, and so is
         * `service run --help`, which prints the options on any platform. */
        out->command = GALE_CMD_SERVICE_RUN;
        out->first_arg = at + 2;
    } else if (is_python_option(first)) {
        out->command = GALE_CMD_PYTHON;
        out->first_arg = at;
    }
}

int gale_cli_python_dev_mode(int argc, char *const *argv, int first)
{
    int i, dev = 0;

    for (i = first; i < argc; i++) {
        const char *arg = argv[i], *p;

        if (arg[0] != '-' || arg[1] == '\0' || strcmp(arg, "--") == 0)
            break; /* the script, `-` (stdin) or the end of the options */
        if (arg[1] == '-') {
            if (strcmp(arg, "--check-hash-based-pycs") == 0)
                i++; /* its value */
            continue;
        }
        for (p = arg + 1; *p != '\0'; p++) {
            if (*p == 'c' || *p == 'm')
                return dev; /* the rest is the command's */
            if (*p == 'W' || *p == 'X') {
                const char *value = p[1] != '\0' ? p + 1 : (i + 1 < argc ? argv[++i] : "");

                if (*p == 'X' && strcmp(value, "dev") == 0)
                    dev = 1;
                break;
            }
        }
    }
    return dev;
}

const char *gale_cli_usage(void)
{
    return
        "usage: gale [--debug] [COMMAND] [OPTIONS]\n"
        "\n"
        "Runs the Tornado app carried inside this executable.\n"
        "\n"
        "commands:\n"
        "  serve            serve the app (the default when no command is given)\n"
        "  check            load the configuration and the app, print them, exit\n"
        "  pack APPDIR -o OUT [--name NAME] [--target TARGET] [--host-template PATH] [--sbom FILE]\n"
        "       [--msi] [--version V] [--display-name T] [--publisher T] [--icon FILE] ...\n"
        "                   write a new executable that carries APPDIR (and its SBOM, its MSI)\n"
        "  sbom             print what this executable contains (CycloneDX 1.6 JSON)\n"
        "  service COMMAND  Windows: install, uninstall, start, stop, status (and run,\n"
        "                   which the service manager starts); see `gale service --help`\n"
        "  python [ARGS]    the embedded Python interpreter, like python.exe\n"
        "\n"
        "options:\n"
        "  -V, --version    print the versions of Gale, the app and everything it carries\n"
        "  -h, --help       print this text\n"
        "  --debug          debug output, and tracebacks with errors (or GALE_DEBUG=1)\n"
        "\n"
        "`gale COMMAND --help` describes a command's options. docs/reference.md\n"
        "lists every command, option, gale.toml key, exit code and variable.\n";
}
