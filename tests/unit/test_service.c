/* SPDX-License-Identifier: MIT
 *
 * Check tests for the Windows service's pure parts (launcher/service.c):
 * the `service run` command line, ImagePath quoting (checked against the
 * CRT's splitting rules by a splitter written here from Microsoft's
 * description), the recovery actions, service SIDs, the folders' SDDL and
 * the console-ownership decision. Also SHA-1, which the SIDs rest on.
 */
#include "service.h"
#include "sha1.h"

#include "gale_check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

START_TEST(run_parses_name_and_overrides)
{
    char *argv[] = {"gale", "service", "run", "--name", "Hello", "--host", "0.0.0.0",
                    "--port=8080", "--config", "C:\\x y\\gale.toml", "--workers", "4",
                    "--debug"};
    struct gale_service_run run;
    char err[200] = "";

    ck_assert_int_eq(gale_service_parse_run(NARGS(argv), argv, 3, &run, err, sizeof err), 0);
    ck_assert_str_eq(run.name, "Hello");
}
END_TEST

START_TEST(run_name_forms)
{
    char *argv[] = {"gale", "service", "run", "--port", "1", "--name=a.b_c-9"};
    struct gale_service_run run;
    char err[200];

    ck_assert_int_eq(gale_service_parse_run(NARGS(argv), argv, 3, &run, err, sizeof err), 0);
    ck_assert_str_eq(run.name, "a.b_c-9");
}
END_TEST

/* Each bad line and a word its message must contain. */
START_TEST(run_rejects)
{
    static const struct {
        const char *args[4];
        const char *says;
    } cases[] = {
        {{NULL}, "--name NAME is required"},
        {{"--port", "80", NULL}, "--name NAME is required"},
        {{"--name", NULL}, "--name needs a value"},
        {{"--name", "a", "--name", "b"}, "given twice"},
        {{"--name", "-x", NULL}, "not a service name"},
        {{"--name", "has space", NULL}, "not a service name"},
        {{"--name=", NULL}, "not a service name"},
        {{"--name", "a", "--verbose", NULL}, "unknown option '--verbose'"},
        {{"--name", "a", "--debug=1", NULL}, "unknown option '--debug=1'"},
        {{"--name", "a", "serve", NULL}, "unknown option 'serve'"},
        {{"--name", "a", "--port", NULL}, "--port needs a value"},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[8] = {"gale", "service", "run"};
        int argc = 3, j;
        struct gale_service_run run;
        char err[200] = "";

        for (j = 0; j < 4 && cases[i].args[j] != NULL; j++)
            argv[argc++] = (char *)cases[i].args[j];
        ck_assert_int_eq(gale_service_parse_run(argc, argv, 3, &run, err, sizeof err), -1);
        ck_assert_msg(strstr(err, cases[i].says) != NULL, "case %zu: %s", i, err);
        ck_assert_msg(strncmp(err, "service run: ", 13) == 0, "case %zu: %s", i, err);
    }
}
END_TEST

START_TEST(names)
{
    char long_name[66];

    ck_assert(gale_service_name_ok("a"));
    ck_assert(gale_service_name_ok("Hello.App_2-x"));
    ck_assert(!gale_service_name_ok(""));
    ck_assert(!gale_service_name_ok(".a"));
    ck_assert(!gale_service_name_ok("a b"));
    ck_assert(!gale_service_name_ok("a\\b"));
    ck_assert(!gale_service_name_ok("caf\xc3\xa9"));
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    ck_assert(gale_service_name_ok(long_name));
    long_name[64] = 'a';
    long_name[65] = '\0';
    ck_assert(!gale_service_name_ok(long_name));
}
END_TEST

/* The CRT's argument splitting (after the program name), from Microsoft's
 * "Parsing C command-line arguments": enough to prove the quoting round-trips. */
static int split(const char *line, char out[][64], int max)
{
    int n = 0;

    while (*line != '\0') {
        char *w;
        int quoted = 0;

        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '\0' || n == max)
            break;
        w = out[n++];
        while (*line != '\0' && (quoted || (*line != ' ' && *line != '\t'))) {
            size_t bs = 0;

            while (*line == '\\') {
                bs++;
                line++;
            }
            if (*line == '"') {
                for (; bs >= 2; bs -= 2)
                    *w++ = '\\';
                if (bs == 1)
                    *w++ = '"';
                else
                    quoted = !quoted;
                line++;
            } else {
                for (; bs > 0; bs--)
                    *w++ = '\\';
                if (*line != '\0' && (quoted || (*line != ' ' && *line != '\t')))
                    *w++ = *line++;
            }
        }
        *w = '\0';
    }
    return n;
}

START_TEST(command_line_quotes_exe_always)
{
    const char *args[] = {"service", "run", "--name", "Hello"};
    char *line = gale_service_command_line("C:\\Program Files\\Hello\\hello.exe", args, 4);

    ck_assert_str_eq(line, "\"C:\\Program Files\\Hello\\hello.exe\" service run --name Hello");
    free(line);
    line = gale_service_command_line("C:\\apps\\hello.exe", args, 0);
    ck_assert_str_eq(line, "\"C:\\apps\\hello.exe\"");
    free(line);
    ck_assert_ptr_null(gale_service_command_line("C:\\a\"b.exe", args, 0));
    ck_assert_ptr_null(gale_service_command_line("", args, 0));
}
END_TEST

START_TEST(command_line_round_trips)
{
    static const char *const args[] = {
        "plain", "with space", "", "C:\\dir\\", "C:\\dir with space\\",
        "say \"hi\"", "back\\\"slash", "tab\there", "trailing\\\\", "\\\\server\\share x",
    };
    char *line = gale_service_command_line("C:\\x\\a.exe", args, NARGS(args));
    const char *rest;
    char got[16][64];
    int i, n;

    ck_assert_ptr_nonnull(line);
    ck_assert(strncmp(line, "\"C:\\x\\a.exe\" ", 13) == 0);
    rest = line + 13;
    n = split(rest, got, 16);
    ck_assert_int_eq(n, NARGS(args));
    for (i = 0; i < n; i++)
        ck_assert_str_eq(got[i], args[i]);
    /* Unquoted where nothing needs quotes, so `sc qc` reads naturally. */
    ck_assert(strstr(line, " plain \"with space\" \"\" C:\\dir\\ \"C:\\dir with space\\\\\" ") != NULL);
    free(line);
}
END_TEST

START_TEST(failure_actions)
{
    struct gale_service_failure_actions fa;

    memset(&fa, 0xff, sizeof fa);
    gale_service_failure_actions(&fa);
    ck_assert_uint_eq(fa.reset_period_s, 86400);
    ck_assert_int_eq(fa.count, 3);
    ck_assert_int_eq(fa.actions[0].type, GALE_SC_ACTION_RESTART);
    ck_assert_int_eq(fa.actions[1].type, GALE_SC_ACTION_RESTART);
    ck_assert_int_eq(fa.actions[2].type, GALE_SC_ACTION_RESTART);
    ck_assert_uint_eq(fa.actions[0].delay_ms, 5000);
    ck_assert_uint_eq(fa.actions[1].delay_ms, 10000);
    ck_assert_uint_eq(fa.actions[2].delay_ms, 60000);
}
END_TEST

static void hex(const unsigned char *d, char *out)
{
    int i;

    for (i = 0; i < 20; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

START_TEST(sha1_vectors)
{
    static const char million_a_hex[] = "34aa973cd4c4daa4f61eeb2bdbad27316534016f";
    unsigned char d[20];
    char h[41];
    char *a = malloc(1000000);

    gale_sha1("abc", 3, d);
    hex(d, h);
    ck_assert_str_eq(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
    gale_sha1("", 0, d);
    hex(d, h);
    ck_assert_str_eq(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    gale_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
    hex(d, h);
    ck_assert_str_eq(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    memset(a, 'a', 1000000);
    gale_sha1(a, 1000000, d);
    hex(d, h);
    ck_assert_str_eq(h, million_a_hex);
    free(a);
}
END_TEST

START_TEST(service_sids)
{
    char sid[GALE_SID_MAX], lower[GALE_SID_MAX];

    /* Windows' own: `sc showsid TrustedInstaller`. Case does not matter. */
    ck_assert_int_eq(gale_service_sid("TrustedInstaller", sid, sizeof sid), 0);
    ck_assert_str_eq(sid, "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464");
    ck_assert_int_eq(gale_service_sid("trustedinstaller", lower, sizeof lower), 0);
    ck_assert_str_eq(lower, sid);
    ck_assert_int_eq(gale_service_sid("bad name", sid, sizeof sid), -1);
    ck_assert_int_eq(gale_service_sid("TrustedInstaller", sid, 20), -1);
}
END_TEST

START_TEST(folder_sddl)
{
    char sddl[256];

    ck_assert_int_eq(gale_service_folder_sddl("S-1-5-80-1-2-3-4-5", sddl, sizeof sddl), 0);
    ck_assert_str_eq(sddl, "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;S-1-5-80-1-2-3-4-5)");
    ck_assert_int_eq(gale_service_folder_sddl("BU", sddl, sizeof sddl), -1);
    ck_assert_int_eq(gale_service_folder_sddl("S-1-5-80-1)(A;;FA;;;WD", sddl, sizeof sddl), -1);
    ck_assert_int_eq(gale_service_folder_sddl("S-1-5-80-1-2-3-4-5", sddl, 30), -1);
}
END_TEST

START_TEST(console_ownership)
{
    ck_assert_int_eq(gale_console_classify(1, 1), GALE_CONSOLE_OWNED);
    ck_assert_int_eq(gale_console_classify(1, 2), GALE_CONSOLE_SHARED);
    ck_assert_int_eq(gale_console_classify(1, 5), GALE_CONSOLE_SHARED);
    ck_assert_int_eq(gale_console_classify(0, 1), GALE_CONSOLE_NONE);
    ck_assert_int_eq(gale_console_classify(1, 0), GALE_CONSOLE_NONE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("service");
    TCase *tc = tcase_create("pure");

    tcase_add_test(tc, run_parses_name_and_overrides);
    tcase_add_test(tc, run_name_forms);
    tcase_add_test(tc, run_rejects);
    tcase_add_test(tc, names);
    tcase_add_test(tc, command_line_quotes_exe_always);
    tcase_add_test(tc, command_line_round_trips);
    tcase_add_test(tc, failure_actions);
    tcase_add_test(tc, sha1_vectors);
    tcase_add_test(tc, service_sids);
    tcase_add_test(tc, folder_sddl);
    tcase_add_test(tc, console_ownership);
    suite_add_tcase(s, tc);
    return gale_check_run(s);
}
