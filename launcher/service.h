/* SPDX-License-Identifier: MIT
 *
 * The parts of the Windows service that need no Windows, so that they are
 * unit-tested on the build machine: the `service run` command line the
 * service manager starts, quoting an ImagePath, the recovery actions, the
 * service SID of a name, the SDDL of the service's folders, and whether
 * Gale owns the console it runs in. launcher/win/service_*_win.c use them.
 */
#ifndef GALE_SERVICE_H
#define GALE_SERVICE_H

#include <stddef.h>

/* What `gale service run --name NAME [serve options]` says. Only the name
 * matters to the launcher; the serve options are checked again, and used,
 * by the Python runtime. */
struct gale_service_run {
    const char *name; /* points into argv */
};

/* Parses argv[first..argc): --name NAME (or --name=NAME), required, once;
 * the serve overrides --host, --port, --config and --workers (each with
 * a value), and --debug. 0, or -1 with a one-line reason in `err`. */
int gale_service_parse_run(int argc, char *const *argv, int first,
                           struct gale_service_run *out, char *err, size_t errlen);

/* 1 if `name` is a valid app or service name: 1-64 of [A-Za-z0-9._-],
 * starting with a letter or digit (the rule of gale.toml's `name`). */
int gale_service_name_ok(const char *name);

/* The command line for `exe` and `args` (UTF-8), as CommandLineToArgvW and
 * the CRT split it back: the executable always in quotes, an argument in
 * quotes only when it needs them, with backslashes and quotes escaped.
 * malloc'd; NULL if out of memory or if `exe` is empty or holds a quote
 * (not a valid Windows path). */
char *gale_service_command_line(const char *exe, const char *const *args, int nargs);

/* The recovery actions every installed service gets: restart after 5 s,
 * 10 s and 60 s, and count failures from zero again after a day. The types
 * are SC_ACTION_TYPE's values. */
enum { GALE_SC_ACTION_NONE = 0, GALE_SC_ACTION_RESTART = 1 };
#define GALE_SERVICE_FAILURE_ACTIONS 3
struct gale_service_failure_actions {
    unsigned long reset_period_s;
    int count;
    struct {
        int type;
        unsigned long delay_ms;
    } actions[GALE_SERVICE_FAILURE_ACTIONS];
};
void gale_service_failure_actions(struct gale_service_failure_actions *out);

/* The service SID of service `name` (S-1-5-80-...: the SHA-1 of the
 * upper-cased UTF-16LE name as five sub-authorities), the SID the service's
 * processes carry when its SID type is unrestricted. 0, or -1 if `name` is
 * not a valid name or `out` is too small (GALE_SID_MAX is enough). */
#define GALE_SID_MAX 80
int gale_service_sid(const char *name, char *out, size_t outlen);

/* The SDDL of %ProgramData%\<Name> and its data and logs folders: a
 * protected DACL (nothing inherited from ProgramData, whose ACL lets every
 * user create files) giving full control, inherited by everything below,
 * to SYSTEM, Administrators and `sid` only. 0, or -1 if `out` is too small
 * or `sid` is not an S-1-... string. */
int gale_service_folder_sddl(const char *sid, char *out, size_t outlen);

/* Who owns the console: GALE_CONSOLE_OWNED when Gale is the only process
 * attached to it (Explorer made it for a double-click), SHARED when a shell
 * or another program is attached too, NONE when there is no console (a
 * service, or output to pipes). `attached` is GetConsoleProcessList's
 * count. */
enum gale_console_kind { GALE_CONSOLE_NONE, GALE_CONSOLE_SHARED, GALE_CONSOLE_OWNED };
enum gale_console_kind gale_console_classify(int has_console, unsigned long attached);

#endif /* GALE_SERVICE_H */
