/* SPDX-License-Identifier: MIT
 *
 * Check tests for argument dispatch (launcher/cli.c): which part of Gale
 * gets a command line, and where its arguments start.
 */
#include "cli.h"

#include "gale_check.h"
#include <stdlib.h>
#include <string.h>

#define PARSE(cli, ...)                                                 \
    do {                                                                \
        char *argv_[] = {"gale", __VA_ARGS__, NULL};                    \
        gale_cli_parse((int)(sizeof argv_ / sizeof argv_[0]) - 1, argv_, 0, &(cli)); \
    } while (0)

START_TEST(no_arguments_serve)
{
    char *argv[] = {"gale", NULL};
    struct gale_cli cli;

    gale_cli_parse(1, argv, 0, &cli);
    ck_assert_int_eq(cli.command, GALE_CMD_RUNTIME);
    ck_assert_int_eq(cli.first_arg, 1);
}
END_TEST

START_TEST(runtime_commands)
{
    static const char *const words[] = {"serve", "check", "pack", "--version",
                                        "--config", "nonsense", "-V"};
    size_t i;

    for (i = 0; i < sizeof words / sizeof words[0]; i++) {
        char *argv[] = {"gale", (char *)words[i], "x", NULL};
        struct gale_cli cli;

        gale_cli_parse(3, argv, 0, &cli);
        ck_assert_msg(cli.command == GALE_CMD_RUNTIME, "%s", words[i]);
        ck_assert_int_eq(cli.first_arg, 1);
    }
}
END_TEST

START_TEST(python_subcommand)
{
    struct gale_cli cli;

    PARSE(cli, "python", "-c", "print(1)");
    ck_assert_int_eq(cli.command, GALE_CMD_PYTHON);
    ck_assert_int_eq(cli.first_arg, 2);

    PARSE(cli, "python");
    ck_assert_int_eq(cli.command, GALE_CMD_PYTHON);
    ck_assert_int_eq(cli.first_arg, 2);
}
END_TEST

START_TEST(python_options_select_interpreter)
{
    static const char *const opts[] = {"-c", "-m", "-u", "-I", "-E", "-B",
                                       "-s", "-S", "-Wignore", "-Xutf8",
                                       "-OO", "-bb", "-Es", "-", "-i"};
    size_t i;

    for (i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        char *argv[] = {"gale", (char *)opts[i], "arg", NULL};
        struct gale_cli cli;

        gale_cli_parse(3, argv, 0, &cli);
        ck_assert_msg(cli.command == GALE_CMD_PYTHON, "%s", opts[i]);
        ck_assert_int_eq(cli.first_arg, 1);
    }
}
END_TEST

START_TEST(help)
{
    static const char *const words[] = {"--help", "-h", "help"};
    size_t i;

    for (i = 0; i < 3; i++) {
        char *argv[] = {"gale", (char *)words[i], NULL};
        struct gale_cli cli;

        gale_cli_parse(2, argv, 0, &cli);
        ck_assert_msg(cli.command == GALE_CMD_HELP, "%s", words[i]);
    }
    ck_assert_ptr_nonnull(strstr(gale_cli_usage(), "pack APPDIR"));
}
END_TEST

START_TEST(python_word_only_first)
{
    struct gale_cli cli;

    /* "python" after another word is the runtime's business. */
    PARSE(cli, "serve", "python");
    ck_assert_int_eq(cli.command, GALE_CMD_RUNTIME);
    /* Long options are Gale's, never python's. */
    PARSE(cli, "--check-hash-based-pycs", "x");
    ck_assert_int_eq(cli.command, GALE_CMD_RUNTIME);
}
END_TEST

START_TEST(debug_may_lead_any_command)
{
    struct gale_cli cli;

    PARSE(cli, "--debug", "check");
    ck_assert_int_eq(cli.command, GALE_CMD_RUNTIME);
    ck_assert_int_eq(cli.first_arg, 1); /* the runtime reads --debug too */
    ck_assert_int_eq(cli.debug, 1);
    PARSE(cli, "--debug", "python", "-c", "pass");
    ck_assert_int_eq(cli.command, GALE_CMD_PYTHON);
    ck_assert_int_eq(cli.first_arg, 3);
    ck_assert_int_eq(cli.debug, 1);
    PARSE(cli, "--debug", "-c", "pass");
    ck_assert_int_eq(cli.command, GALE_CMD_PYTHON);
    ck_assert_int_eq(cli.first_arg, 2);
    PARSE(cli, "--debug", "--help");
    ck_assert_int_eq(cli.command, GALE_CMD_HELP);
    PARSE(cli, "--debug", "service", "run", "--name", "x");
    ck_assert_int_eq(cli.command, GALE_CMD_SERVICE_RUN);
    ck_assert_int_eq(cli.first_arg, 4);
    PARSE(cli, "--debug");
    ck_assert_int_eq(cli.command, GALE_CMD_RUNTIME);
    ck_assert_int_eq(cli.debug, 1);
    /* Anywhere else it is the command's own option. */
    PARSE(cli, "check", "--debug");
    ck_assert_int_eq(cli.debug, 0);
    PARSE(cli, "python", "--debug");
    ck_assert_int_eq(cli.command, GALE_CMD_PYTHON);
    ck_assert_int_eq(cli.debug, 0);
}
END_TEST

START_TEST(python_default_takes_everything)
{
    static const char *const lines[][3] = {
        {"gale", NULL}, {"gale", "script.py", NULL}, {"gale", "serve", NULL},
        {"gale", "--help", NULL}, {"gale", "-c", NULL},
    };
    size_t i;

    for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        int argc = 0;
        struct gale_cli cli;

        while (argc < 3 && lines[i][argc] != NULL)
            argc++;
        gale_cli_parse(argc, (char *const *)lines[i], 1, &cli);
        ck_assert_int_eq(cli.command, GALE_CMD_PYTHON);
        ck_assert_int_eq(cli.first_arg, 1);
    }
}
END_TEST

START_TEST(service_run_is_the_launchers)
{
    struct gale_cli cli;

    PARSE(cli, "service", "run", "--name", "x");
    ck_assert_int_eq(cli.command, GALE_CMD_SERVICE_RUN);
    ck_assert_int_eq(cli.first_arg, 3);
    /* The other service commands, and `run` anywhere else, are the runtime's. */
    PARSE(cli, "service", "install");
    ck_assert_int_eq(cli.command, GALE_CMD_RUNTIME);
    PARSE(cli, "service");
    ck_assert_int_eq(cli.command, GALE_CMD_RUNTIME);
    /* Its help is the runtime's to print. */
    PARSE(cli, "service", "run", "--help");
    ck_assert_int_eq(cli.command, GALE_CMD_RUNTIME);
    ck_assert_int_eq(cli.first_arg, 1);
    PARSE(cli, "serve", "run");
    ck_assert_int_eq(cli.command, GALE_CMD_RUNTIME);
}
END_TEST

START_TEST(python_dev_mode_is_read_as_python_reads_it)
{
    static const struct {
        const char *args[5];
        int dev;
    } cases[] = {
        {{"-X", "dev", "-c", "pass"}, 1},
        {{"-Xdev", "-c", "pass"}, 1},
        {{"-EX", "dev"}, 1},
        {{"-W", "error", "-X", "dev"}, 1},
        {{"-X", "importtime", "-c", "pass"}, 0},
        {{"-X", "dev=1"}, 0},
        /* after the command, the script or "--", it is the program's */
        {{"-c", "pass", "-X", "dev"}, 0},
        {{"-cpass", "-Xdev"}, 0},
        {{"-m", "mod", "-Xdev"}, 0},
        {{"script.py", "-X", "dev"}, 0},
        {{"--", "-Xdev"}, 0},
        /* an option's value is not an option */
        {{"-W", "-Xdev"}, 0},
        {{"--check-hash-based-pycs", "-Xdev", "-c", "pass"}, 0},
        {{"-X"}, 0},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[7] = {"gale", "python"};
        int argc = 2;

        while (argc - 2 < 5 && cases[i].args[argc - 2] != NULL) {
            argv[argc] = (char *)cases[i].args[argc - 2];
            argc++;
        }
        ck_assert_msg(gale_cli_python_dev_mode(argc, argv, 2) == cases[i].dev,
                      "case %zu", i);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("dispatch");

    tcase_add_test(tc, no_arguments_serve);
    tcase_add_test(tc, runtime_commands);
    tcase_add_test(tc, python_subcommand);
    tcase_add_test(tc, python_options_select_interpreter);
    tcase_add_test(tc, help);
    tcase_add_test(tc, python_word_only_first);
    tcase_add_test(tc, debug_may_lead_any_command);
    tcase_add_test(tc, python_default_takes_everything);
    tcase_add_test(tc, service_run_is_the_launchers);
    tcase_add_test(tc, python_dev_mode_is_read_as_python_reads_it);
    suite_add_tcase(s, tc);
    return gale_check_run(s);
}
