/* SPDX-License-Identifier: MIT
 *
 * `gale service run`: the service manager's protocol, by Microsoft's rules
 * ("Service ServiceMain Function", "Service Control Handler Function").
 *
 * - The dispatcher is started before the interpreter, and only for this
 *   command: from a console it fails with 1063, after 10 s under Wine
 *   when any service runs.
 * - ServiceMain reports START_PENDING before Py_Initialize, and a status
 *   thread raises the checkpoint every TICK_MS while the interpreter
 *   starts and the app imports, so a slow first start cannot end in 1053.
 * - RUNNING is reported when the Python side says the app is serving
 *   (_gale.service_report_running).
 * - The control handler only records a request and wakes the status
 *   thread, which owns every state change: STOP, SHUTDOWN and PRESHUTDOWN
 *   become STOP_PENDING, with the checkpoint rising while the app drains,
 *   and are delivered to the app's stop handler, the same one as Ctrl+C
 *   (native/console_win.c), retried until the app has set it.
 * - One STOPPED report ends it, sent after the status thread is gone. A
 *   failure carries ERROR_SERVICE_SPECIFIC_ERROR and Gale's exit code, so
 *   `sc query` shows why and the recovery actions run.
 * - The working directory is %ProgramData%\<name>\data, never System32.
 * - The launcher's warnings and errors go to the Event Log (there is no
 *   console); the Python side logs to a file in ...\logs.
 */
#include "gale.h"
#include "gale_exit.h"
#include "gale_log.h"
#include "platform.h"
#include "service.h"
#include "service_win.h"
#include "console_win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#define TICK_MS 1000
/* Each pending report promises the next checkpoint within this time. */
#define WAIT_HINT_MS 5000

static struct {
    SERVICE_STATUS_HANDLE handle;
    wchar_t wname[80];
    char name[80];
    struct gale_ctx *ctx;
    int (*run)(struct gale_ctx *);
    int rc;

    CRITICAL_SECTION lock;  /* guards everything below */
    HANDLE wake;            /* the status thread's event */
    DWORD state, checkpoint;
    int running_said, stop_requested, stop_delivered, quit;
} svc;

static void report_locked(DWORD state, DWORD win32_exit, DWORD specific_exit)
{
    SERVICE_STATUS st = {0};

    st.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    st.dwCurrentState = state;
    st.dwWin32ExitCode = win32_exit;
    st.dwServiceSpecificExitCode = specific_exit;
    if (state == SERVICE_RUNNING)
        st.dwControlsAccepted =
            SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PRESHUTDOWN;
    if (state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING) {
        st.dwCheckPoint = ++svc.checkpoint;
        st.dwWaitHint = WAIT_HINT_MS;
    } else {
        svc.checkpoint = 0;
    }
    svc.state = state;
    if (!SetServiceStatus(svc.handle, &st))
        GALE_WARN("SetServiceStatus(%lu): %s", (unsigned long)state, gale_platform_last_error());
}

static DWORD WINAPI on_control(DWORD control, DWORD type, void *data, void *context)
{
    (void)type, (void)data, (void)context;
    switch (control) {
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
    case SERVICE_CONTROL_PRESHUTDOWN:
        EnterCriticalSection(&svc.lock);
        svc.stop_requested = 1;
        LeaveCriticalSection(&svc.lock);
        SetEvent(svc.wake);
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

/* Owns the state from START_PENDING until just before STOPPED. */
static DWORD WINAPI status_thread(void *unused)
{
    (void)unused;
    for (;;) {
        int deliver;

        WaitForSingleObject(svc.wake, TICK_MS);
        EnterCriticalSection(&svc.lock);
        if (svc.quit) {
            LeaveCriticalSection(&svc.lock);
            return 0;
        }
        if (svc.stop_requested && svc.state != SERVICE_STOP_PENDING) {
            svc.checkpoint = 0;
            report_locked(SERVICE_STOP_PENDING, NO_ERROR, 0);
        } else if (svc.running_said && svc.state == SERVICE_START_PENDING) {
            report_locked(SERVICE_RUNNING, NO_ERROR, 0);
        } else if (svc.state != SERVICE_RUNNING) {
            report_locked(svc.state, NO_ERROR, 0); /* the next checkpoint */
        }
        deliver = svc.stop_requested && !svc.stop_delivered;
        LeaveCriticalSection(&svc.lock);
        /* Outside the lock: the stop handler takes the GIL. */
        if (deliver && gale_console_call_stop_handler()) {
            EnterCriticalSection(&svc.lock);
            svc.stop_delivered = 1;
            LeaveCriticalSection(&svc.lock);
        }
    }
}

int gale_service_report_running(void)
{
    int in_service = svc.handle != NULL;

    if (in_service) {
        EnterCriticalSection(&svc.lock);
        svc.running_said = 1;
        LeaveCriticalSection(&svc.lock);
        SetEvent(svc.wake);
    }
    return in_service;
}

const char *gale_service_running_name(void)
{
    return svc.handle != NULL ? svc.name : NULL;
}

static wchar_t *wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;

    if (w != NULL && MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n) <= 0) {
        free(w);
        w = NULL;
    }
    return w;
}

int gale_service_event(const char *name, unsigned short type, const char *text)
{
    const char *source = name != NULL ? name : gale_service_running_name();
    wchar_t *wsource = source != NULL ? wide(source) : NULL, *wtext = wide(text);
    HANDLE log = wsource != NULL ? RegisterEventSourceW(NULL, wsource) : NULL;
    const wchar_t *strings[1] = {wtext};
    int rc = -1;

    /* Event 1 of the executable's message table is "%1". */
    if (log != NULL && wtext != NULL && ReportEventW(log, type, 0, 1, NULL, 1, 0, strings, NULL))
        rc = 0;
    if (log != NULL)
        DeregisterEventSource(log);
    free(wsource);
    free(wtext);
    return rc;
}

/* The launcher's own warnings and errors, in service mode. */
static void event_sink(enum gale_log_level level, const char *line)
{
    if (level >= GALE_LOG_WARN)
        gale_service_event(NULL, level == GALE_LOG_ERROR ? EVENTLOG_ERROR_TYPE
                                                         : EVENTLOG_WARNING_TYPE, line);
}

static LONG WINAPI on_crash(EXCEPTION_POINTERS *info)
{
    char text[160];

    snprintf(text, sizeof text, "%s crashed: exception 0x%08lx at %p", svc.name,
             (unsigned long)info->ExceptionRecord->ExceptionCode,
             info->ExceptionRecord->ExceptionAddress);
    gale_service_event(NULL, EVENTLOG_ERROR_TYPE, text);
    return EXCEPTION_CONTINUE_SEARCH;
}

/* %ProgramData%\<name>\data, made if missing (install makes it with its
 * ACL), as the working directory. */
static void enter_data_folder(void)
{
    wchar_t base[MAX_PATH], path[MAX_PATH + 160];

    gale_service_program_data(base, MAX_PATH);
    _snwprintf(path, sizeof path / sizeof *path - 1, L"%ls\\%ls", base, svc.wname);
    path[sizeof path / sizeof *path - 1] = L'\0';
    CreateDirectoryW(path, NULL);
    wcscat(path, L"\\data");
    CreateDirectoryW(path, NULL);
    if (!SetCurrentDirectoryW(path))
        GALE_WARN("cannot enter the data folder: %s", gale_platform_last_error());
}

static void WINAPI service_main(DWORD argc, wchar_t **argv)
{
    HANDLE thread;
    char text[200];

    (void)argc, (void)argv;
    svc.handle = RegisterServiceCtrlHandlerExW(svc.wname, on_control, NULL);
    if (svc.handle == NULL) {
        GALE_ERROR("RegisterServiceCtrlHandlerExW: %s", gale_platform_last_error());
        svc.rc = GALE_EXIT_ERROR;
        return;
    }
    gale_log_set_sink(event_sink);
    SetUnhandledExceptionFilter(on_crash);
    EnterCriticalSection(&svc.lock);
    report_locked(SERVICE_START_PENDING, NO_ERROR, 0);
    LeaveCriticalSection(&svc.lock);
    thread = CreateThread(NULL, 0, status_thread, NULL, 0, NULL);
    if (thread == NULL)
        GALE_WARN("cannot start the status thread: %s", gale_platform_last_error());
    enter_data_folder();

    svc.rc = svc.run(svc.ctx);

    EnterCriticalSection(&svc.lock);
    svc.quit = 1;
    LeaveCriticalSection(&svc.lock);
    SetEvent(svc.wake);
    if (thread != NULL) {
        WaitForSingleObject(thread, INFINITE);
        CloseHandle(thread);
    }
    if (svc.rc != 0)
        snprintf(text, sizeof text, "%s stopped with exit code %d", svc.name, svc.rc);
    else
        snprintf(text, sizeof text, "%s stopped", svc.name);
    gale_service_event(NULL, svc.rc != 0 ? EVENTLOG_ERROR_TYPE : EVENTLOG_INFORMATION_TYPE, text);
    EnterCriticalSection(&svc.lock);
    report_locked(SERVICE_STOPPED, svc.rc == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR,
                  (DWORD)svc.rc);
    LeaveCriticalSection(&svc.lock);
    /* The handle stays valid; the process ends when the dispatcher returns. */
}

int gale_platform_service_dispatch(struct gale_ctx *ctx, int (*run)(struct gale_ctx *))
{
    struct gale_service_run args;
    char err[200];
    SERVICE_TABLE_ENTRYW table[2] = {{NULL, NULL}, {NULL, NULL}};

    if (gale_service_parse_run(ctx->argc, ctx->argv, ctx->cli.first_arg, &args, err,
                               sizeof err) != 0) {
        GALE_ERROR("%s", err);
        return GALE_EXIT_USAGE;
    }
    snprintf(svc.name, sizeof svc.name, "%s", args.name);
    MultiByteToWideChar(CP_UTF8, 0, svc.name, -1, svc.wname, 80);
    ctx->service_name = svc.name;
    svc.ctx = ctx;
    svc.run = run;
    svc.rc = GALE_EXIT_ERROR;
    InitializeCriticalSection(&svc.lock);
    svc.wake = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (svc.wake == NULL) {
        GALE_ERROR("CreateEvent: %s", gale_platform_last_error());
        return GALE_EXIT_ERROR;
    }
    /* An own-process service's table name is not checked; ours is given
     * anyway, for clarity in a debugger. */
    table[0].lpServiceName = svc.wname;
    table[0].lpServiceProc = service_main;
    if (!StartServiceCtrlDispatcherW(table)) {
        if (GetLastError() == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
            GALE_ERROR("`service run` is what the Windows service manager starts; "
                       "use `gale service start %s`, or `gale serve` to serve in this console",
                       svc.name);
            return GALE_EXIT_USAGE;
        }
        GALE_ERROR("StartServiceCtrlDispatcherW: %s", gale_platform_last_error());
        return GALE_EXIT_ERROR;
    }
    return svc.rc;
}
