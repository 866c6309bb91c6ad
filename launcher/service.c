/* SPDX-License-Identifier: MIT
 *
 * The Windows service's pure parts (see service.h): they decide what is
 * written to the service manager and the file system, and are tested on
 * the build machine; the Windows calls that use them are in launcher/win/.
 */
#include "service.h"

#include "sha1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gale_service_name_ok(const char *name)
{
    size_t i, n = strlen(name);

    if (n == 0 || n > 64)
        return 0;
    for (i = 0; i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return 0;
    }
    return 1;
}

/* The serve overrides an ImagePath may carry, besides --name. */
static int takes_value(const char *opt)
{
    static const char *const with_value[] = {"--host", "--port", "--config", "--workers"};
    size_t i;

    for (i = 0; i < sizeof with_value / sizeof with_value[0]; i++)
        if (strcmp(opt, with_value[i]) == 0)
            return 1;
    return 0;
}

int gale_service_parse_run(int argc, char *const *argv, int first,
                           struct gale_service_run *out, char *err, size_t errlen)
{
    int i;

    out->name = NULL;
    for (i = first; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        char opt[16];
        const char *eq = strchr(arg, '=');
        size_t optlen = eq != NULL && strncmp(arg, "--", 2) == 0 ? (size_t)(eq - arg) : strlen(arg);

        if (optlen >= sizeof opt) {
            snprintf(err, errlen, "service run: unknown option '%s'", arg);
            return -1;
        }
        memcpy(opt, arg, optlen);
        opt[optlen] = '\0';
        if (strcmp(opt, "--debug") == 0 && eq == NULL)
            continue;
        if (strcmp(opt, "--name") != 0 && !takes_value(opt)) {
            snprintf(err, errlen, "service run: unknown option '%s'", arg);
            return -1;
        }
        if (eq != NULL && optlen < strlen(arg))
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            snprintf(err, errlen, "service run: %s needs a value", opt);
            return -1;
        }
        if (strcmp(opt, "--name") != 0)
            continue;
        if (out->name != NULL) {
            snprintf(err, errlen, "service run: --name given twice");
            return -1;
        }
        if (!gale_service_name_ok(value)) {
            snprintf(err, errlen, "service run: '%s' is not a service name "
                     "(1-64 letters, digits, '.', '_' or '-')", value);
            return -1;
        }
        out->name = value;
    }
    if (out->name == NULL) {
        snprintf(err, errlen, "service run: --name NAME is required");
        return -1;
    }
    return 0;
}

/* Appends `arg` to `out` (which has room) by the CRT's rules: 2n
 * backslashes before a quote stand for n, 2n+1 for n and a literal quote;
 * backslashes elsewhere are literal. Returns the new end. */
static char *append_quoted(char *out, const char *arg)
{
    size_t backslashes = 0;
    const char *p;

    *out++ = '"';
    for (p = arg; *p != '\0'; p++) {
        if (*p == '\\') {
            backslashes++;
            continue;
        }
        if (*p == '"')
            backslashes = 2 * backslashes + 1;
        while (backslashes > 0) {
            *out++ = '\\';
            backslashes--;
        }
        *out++ = *p;
    }
    /* Before the closing quote every backslash is doubled. */
    for (backslashes *= 2; backslashes > 0; backslashes--)
        *out++ = '\\';
    *out++ = '"';
    return out;
}

static int needs_quotes(const char *arg)
{
    return arg[0] == '\0' || strpbrk(arg, " \t\n\v\"") != NULL;
}

char *gale_service_command_line(const char *exe, const char *const *args, int nargs)
{
    size_t cap = strlen(exe) + 3;
    char *line, *end;
    int i;

    /* The program name is split on quotes alone, with no escapes, so a
     * quote cannot be in it (nor can it be in a Windows path). */
    if (exe[0] == '\0' || strchr(exe, '"') != NULL)
        return NULL;
    for (i = 0; i < nargs; i++)
        cap += 2 * strlen(args[i]) + 3; /* every character escaped, quotes, space */
    if ((line = malloc(cap + 1)) == NULL)
        return NULL;
    end = line;
    *end++ = '"';
    memcpy(end, exe, strlen(exe));
    end += strlen(exe);
    *end++ = '"';
    for (i = 0; i < nargs; i++) {
        *end++ = ' ';
        if (needs_quotes(args[i]))
            end = append_quoted(end, args[i]);
        else {
            memcpy(end, args[i], strlen(args[i]));
            end += strlen(args[i]);
        }
    }
    *end = '\0';
    return line;
}

void gale_service_failure_actions(struct gale_service_failure_actions *out)
{
    static const unsigned long delays_ms[GALE_SERVICE_FAILURE_ACTIONS] = {5000, 10000, 60000};
    int i;

    out->reset_period_s = 24 * 60 * 60;
    out->count = GALE_SERVICE_FAILURE_ACTIONS;
    for (i = 0; i < GALE_SERVICE_FAILURE_ACTIONS; i++) {
        out->actions[i].type = GALE_SC_ACTION_RESTART;
        out->actions[i].delay_ms = delays_ms[i];
    }
}

int gale_service_sid(const char *name, char *out, size_t outlen)
{
    unsigned char utf16[2 * 64], digest[20];
    size_t i, n;
    int len;

    if (!gale_service_name_ok(name))
        return -1;
    n = strlen(name);
    for (i = 0; i < n; i++) {
        char c = name[i];

        utf16[2 * i] = (unsigned char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
        utf16[2 * i + 1] = 0;
    }
    gale_sha1(utf16, 2 * n, digest);
    len = snprintf(out, outlen, "S-1-5-80");
    for (i = 0; i < 5 && len > 0 && (size_t)len < outlen; i++) {
        const unsigned char *d = digest + 4 * i;
        unsigned long sub = (unsigned long)d[0] | (unsigned long)d[1] << 8 |
                            (unsigned long)d[2] << 16 | (unsigned long)d[3] << 24;

        len += snprintf(out + len, outlen - (size_t)len, "-%lu", sub);
    }
    return len > 0 && (size_t)len < outlen ? 0 : -1;
}

int gale_service_folder_sddl(const char *sid, char *out, size_t outlen)
{
    int len;

    if (strncmp(sid, "S-1-", 4) != 0 || strspn(sid + 4, "0123456789-") != strlen(sid + 4))
        return -1;
    /* P: protected, so ProgramData's "Users may create" is not inherited.
     * OICI: files and folders below inherit each entry. FA: full access. */
    len = snprintf(out, outlen, "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;%s)", sid);
    return len > 0 && (size_t)len < outlen ? 0 : -1;
}

enum gale_console_kind gale_console_classify(int has_console, unsigned long attached)
{
    if (!has_console || attached == 0)
        return GALE_CONSOLE_NONE;
    return attached == 1 ? GALE_CONSOLE_OWNED : GALE_CONSOLE_SHARED;
}
