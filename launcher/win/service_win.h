/* SPDX-License-Identifier: MIT
 *
 * The Windows service, C side. service_run_win.c speaks the service
 * manager's protocol for `service run`; service_config_win.c installs,
 * configures, controls and queries services for the other `service`
 * commands (called from Python through _gale, native/service_module_win.c).
 */
#ifndef GALE_SERVICE_WIN_H
#define GALE_SERVICE_WIN_H

#include <stddef.h>

/* --- service_run_win.c --------------------------------------------------- */

/* 1 once the Python side has said the app is serving (RUNNING is reported),
 * 0 outside service mode. Safe from any thread. */
int gale_service_report_running(void);

/* The service's name while running as one, else NULL. */
const char *gale_service_running_name(void);

/* Writes `text` (UTF-8) to the Event Log as the running service's source,
 * or as `name`'s if not NULL. type: EVENTLOG_*_TYPE. 0 or -1. */
int gale_service_event(const char *name, unsigned short type, const char *text);

/* --- service_config_win.c ------------------------------------------------ */

/* Everything `gale service install` writes. Strings are UTF-8. */
struct gale_service_spec {
    const char *name;
    const char *display_name;
    const char *description;
    const char *start;          /* "auto", "delayed" or "manual" */
    const char *account;        /* as CreateServiceW takes it */
    const char *command_line;   /* the quoted ImagePath (gale_service_command_line) */
    unsigned long preshutdown_ms;
    const char *event_message_file; /* the executable */
};

/* A failed step: the Win32 error and which call it was. */
struct gale_service_error {
    unsigned long code;
    const char *step;
};

/* Warnings (config levels this system does not keep) are appended to
 * `warnings` as lines, up to `cap` bytes. 0, or -1 with `err` set; a
 * failed install removes the service again. */
int gale_service_install(const struct gale_service_spec *spec, char *warnings, size_t cap,
                         struct gale_service_error *err);

/* Stops the service first if it runs (waiting up to `stop_wait_ms`), then
 * deletes it and its Event Log source. The data and logs folders stay. */
int gale_service_uninstall(const char *name, unsigned long stop_wait_ms,
                           struct gale_service_error *err);

int gale_service_start(const char *name, struct gale_service_error *err);
int gale_service_stop(const char *name, struct gale_service_error *err);

/* Creates %ProgramData%\<name> with data and logs below it, protected by
 * gale_service_folder_sddl for the service's SID. `root` gets the path
 * (UTF-8). */
int gale_service_make_folders(const char *name, char *root, size_t rootlen,
                              struct gale_service_error *err);

/* What `gale service status` shows. -1 in a field: not reported by this
 * system. Strings are malloc'd UTF-8 or NULL (free with
 * gale_service_status_free). */
struct gale_service_status {
    unsigned long state, pid, win32_exit, specific_exit, checkpoint, wait_hint;
    unsigned long start_type;
    long delayed;               /* 0/1, -1 not reported */
    char *account, *image_path, *display_name, *description;
    long reset_period_s;        /* -1 not reported */
    int nactions;               /* -1 not reported */
    struct { int type; unsigned long delay_ms; } actions[8];
    long failure_actions_flag;  /* -1 not reported */
    long sid_type;              /* -1 not reported */
    long preshutdown_ms;        /* -1 not reported */
};
int gale_service_query(const char *name, struct gale_service_status *out,
                       struct gale_service_error *err);
void gale_service_status_free(struct gale_service_status *st);

/* %ProgramData% as Windows records it (ProfileList\ProgramData), not as
 * the environment says: a service's environment may differ (Wine gives
 * services C:\users\Public). Never fails: C:\ProgramData at worst. */
void gale_service_program_data(wchar_t *out, size_t cap);

/* Waits up to `timeout_ms` until no other process runs the executable
 * `exe` (UTF-8): what an MSI upgrade waits for after StopServices, which
 * does not wait for the old service's process to exit. The number of
 * processes still running (0: all gone), or -1 with `err` set. */
int gale_service_wait_exe_exit(const char *exe, unsigned long timeout_ms,
                               struct gale_service_error *err);

/* 1 under Wine (ntdll exports wine_get_version). */
int gale_service_under_wine(void);

#endif /* GALE_SERVICE_WIN_H */
