/* SPDX-License-Identifier: MIT
 *
 * `gale service install | uninstall | start | stop | status`: the service
 * manager's configuration side, kept apart from running a service
 * (service_run_win.c). What is written is decided by launcher/service.c;
 * this file makes the calls and reports the first that fails, with its
 * Win32 error, to the Python side (native/service_module_win.c), which
 * turns it into a one-line message and an exit code.
 *
 * Config levels that Wine does not implement fail there with
 * ERROR_INVALID_LEVEL (124); under Wine that is a warning, on Windows the
 * install fails and is rolled back (docs/windows-service.md).
 */
#include "service.h"
#include "service_win.h"

#include <aclapi.h>
#include <sddl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <tlhelp32.h>

#define EVENTLOG_KEY L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\"

static int fail(struct gale_service_error *err, const char *step)
{
    err->code = GetLastError();
    err->step = step;
    return -1;
}

static int fail_code(struct gale_service_error *err, const char *step, unsigned long code)
{
    err->code = code;
    err->step = step;
    return -1;
}

static wchar_t *wide(const char *s)
{
    int n;
    wchar_t *w;

    if (s == NULL)
        return NULL;
    n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
    w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;
    if (w != NULL && MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n) <= 0) {
        free(w);
        w = NULL;
    }
    return w;
}

static char *narrow(const wchar_t *w)
{
    int n;
    char *s;

    if (w == NULL)
        return NULL;
    n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    s = n > 0 ? malloc((size_t)n) : NULL;
    if (s != NULL && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) <= 0) {
        free(s);
        s = NULL;
    }
    return s;
}

int gale_service_under_wine(void)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");

    return ntdll != NULL && GetProcAddress(ntdll, "wine_get_version") != NULL;
}

void gale_service_program_data(wchar_t *out, size_t cap)
{
    DWORD size = (DWORD)(cap * sizeof *out);

    /* RegGetValueW expands the REG_EXPAND_SZ value (%SystemDrive%\ProgramData). */
    if (RegGetValueW(HKEY_LOCAL_MACHINE,
                     L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList",
                     L"ProgramData", RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ, NULL, out,
                     &size) == ERROR_SUCCESS && out[0] != L'\0')
        return;
    _snwprintf(out, cap - 1, L"C:\\ProgramData");
    out[cap - 1] = L'\0';
}

static void warn(char *warnings, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(warnings);
    va_list ap;

    if (used + 1 >= cap)
        return;
    va_start(ap, fmt);
    vsnprintf(warnings + used, cap - used, fmt, ap);
    va_end(ap);
    used = strlen(warnings);
    if (used + 1 < cap)
        strcat(warnings, "\n");
}

/* ChangeServiceConfig2W, where Wine's ERROR_INVALID_LEVEL is a warning. */
static int config2(SC_HANDLE service, DWORD level, void *info, const char *what,
                   char *warnings, size_t cap, struct gale_service_error *err)
{
    if (ChangeServiceConfig2W(service, level, info))
        return 0;
    if (GetLastError() == ERROR_INVALID_LEVEL && gale_service_under_wine()) {
        warn(warnings, cap, "%s: not supported by this system (Wine: error 124); "
             "Windows keeps it", what);
        return 0;
    }
    return fail(err, what);
}

static int set_failure_actions(SC_HANDLE service, char *warnings, size_t cap,
                               struct gale_service_error *err)
{
    struct gale_service_failure_actions plan;
    SC_ACTION actions[GALE_SERVICE_FAILURE_ACTIONS];
    SERVICE_FAILURE_ACTIONSW fa = {0};
    SERVICE_FAILURE_ACTIONS_FLAG flag = {TRUE};
    BYTE back[512];
    DWORD need;
    int i;

    gale_service_failure_actions(&plan);
    for (i = 0; i < plan.count; i++) {
        actions[i].Type = (SC_ACTION_TYPE)plan.actions[i].type;
        actions[i].Delay = plan.actions[i].delay_ms;
    }
    fa.dwResetPeriod = plan.reset_period_s;
    fa.cActions = (DWORD)plan.count;
    fa.lpsaActions = actions;
    if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, &fa))
        return fail(err, "recovery actions (SERVICE_CONFIG_FAILURE_ACTIONS)");
    /* Wine says yes and keeps nothing: read it back. */
    if (!QueryServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, back, sizeof back, &need)) {
        if (GetLastError() == ERROR_INVALID_LEVEL && gale_service_under_wine())
            warn(warnings, cap, "recovery actions: accepted but not kept by this system "
                 "(Wine); Windows keeps them");
        else
            return fail(err, "reading back the recovery actions");
    }
    /* So that a non-zero exit code (not only a crash) counts as a failure. */
    return config2(service, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &flag,
                   "failure actions on a non-zero exit (SERVICE_CONFIG_FAILURE_ACTIONS_FLAG)",
                   warnings, cap, err);
}

static int register_event_source(const wchar_t *name, const wchar_t *exe,
                                 struct gale_service_error *err)
{
    wchar_t key[200];
    HKEY h;
    DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
    LSTATUS rc;

    _snwprintf(key, 199, L"%ls%ls", EVENTLOG_KEY, name);
    key[199] = L'\0';
    rc = RegCreateKeyExW(HKEY_LOCAL_MACHINE, key, 0, NULL, 0, KEY_SET_VALUE, NULL, &h, NULL);
    if (rc != ERROR_SUCCESS)
        return fail_code(err, "registering the Event Log source", (unsigned long)rc);
    rc = RegSetValueExW(h, L"EventMessageFile", 0, REG_EXPAND_SZ, (const BYTE *)exe,
                        (DWORD)((wcslen(exe) + 1) * sizeof *exe));
    if (rc == ERROR_SUCCESS)
        rc = RegSetValueExW(h, L"TypesSupported", 0, REG_DWORD, (const BYTE *)&types, sizeof types);
    RegCloseKey(h);
    if (rc != ERROR_SUCCESS)
        return fail_code(err, "registering the Event Log source", (unsigned long)rc);
    return 0;
}

static void remove_event_source(const wchar_t *name)
{
    wchar_t key[200];

    _snwprintf(key, 199, L"%ls%ls", EVENTLOG_KEY, name);
    key[199] = L'\0';
    RegDeleteKeyW(HKEY_LOCAL_MACHINE, key);
}

/* Creates `path` with `sd`, or gives an existing one `sd`'s DACL (and so,
 * by inheritance, everything below it). */
static int secure_folder(const wchar_t *path, PSECURITY_DESCRIPTOR sd, int apply_existing)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, sd, FALSE};
    PACL dacl = NULL;
    BOOL present = FALSE, defaulted = FALSE;

    if (CreateDirectoryW(path, &sa))
        return 0;
    if (GetLastError() != ERROR_ALREADY_EXISTS)
        return -1;
    if (!apply_existing)
        return 0;
    if (!GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) || !present)
        return -1;
    if (SetNamedSecurityInfoW((wchar_t *)path, SE_FILE_OBJECT,
                              DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                              NULL, NULL, dacl, NULL) != ERROR_SUCCESS)
        return -1;
    return 0;
}

int gale_service_make_folders(const char *name, char *root, size_t rootlen,
                              struct gale_service_error *err)
{
    char sid[GALE_SID_MAX], sddl[256];
    wchar_t base[MAX_PATH], path[MAX_PATH + 160], *wsddl = NULL, *wname = wide(name);
    PSECURITY_DESCRIPTOR sd = NULL;
    char *utf8;
    size_t len;
    int rc = -1;

    gale_service_program_data(base, MAX_PATH);
    if (wname == NULL || gale_service_sid(name, sid, sizeof sid) != 0 ||
        gale_service_folder_sddl(sid, sddl, sizeof sddl) != 0 || (wsddl = wide(sddl)) == NULL) {
        fail_code(err, "building the folders' ACL", ERROR_INVALID_NAME);
        goto end;
    }
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(wsddl, SDDL_REVISION_1, &sd, NULL)) {
        fail(err, "building the folders' ACL (ConvertStringSecurityDescriptor)");
        goto end;
    }
    _snwprintf(path, MAX_PATH + 159, L"%ls\\%ls", base, wname);
    path[MAX_PATH + 159] = L'\0';
    if (secure_folder(path, sd, 1) != 0) {
        fail(err, "creating the service's folder in ProgramData");
        goto end;
    }
    if ((utf8 = narrow(path)) != NULL) {
        snprintf(root, rootlen, "%s", utf8);
        free(utf8);
    }
    len = wcslen(path);
    wcscpy(path + len, L"\\data");
    if (secure_folder(path, sd, 0) != 0) {
        fail(err, "creating the data folder");
        goto end;
    }
    wcscpy(path + len, L"\\logs");
    if (secure_folder(path, sd, 0) != 0) {
        fail(err, "creating the logs folder");
        goto end;
    }
    rc = 0;
end:
    if (sd != NULL)
        LocalFree(sd);
    free(wsddl);
    free(wname);
    return rc;
}

static DWORD start_type_of(const char *start)
{
    return strcmp(start, "manual") == 0 ? SERVICE_DEMAND_START : SERVICE_AUTO_START;
}

int gale_service_install(const struct gale_service_spec *spec, char *warnings, size_t cap,
                         struct gale_service_error *err)
{
    wchar_t *name = wide(spec->name), *display = wide(spec->display_name);
    wchar_t *desc = wide(spec->description), *account = wide(spec->account);
    wchar_t *line = wide(spec->command_line), *exe = wide(spec->event_message_file);
    SC_HANDLE scm = NULL, service = NULL;
    SERVICE_DESCRIPTIONW description;
    SERVICE_DELAYED_AUTO_START_INFO delayed = {TRUE};
    SERVICE_SID_INFO sid_info = {SERVICE_SID_TYPE_UNRESTRICTED};
    SERVICE_PRESHUTDOWN_INFO preshutdown;
    char root[MAX_PATH * 3];
    int rc = -1;

    warnings[0] = '\0';
    if (!name || !display || !desc || !account || !line || !exe) {
        fail_code(err, "converting the arguments", ERROR_NOT_ENOUGH_MEMORY);
        goto end;
    }
    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE);
    if (scm == NULL) {
        fail(err, "OpenSCManager");
        goto end;
    }
    /* Virtual accounts, LocalService, NetworkService and gMSAs have no
     * password: NULL. */
    service = CreateServiceW(scm, name, display, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
                             start_type_of(spec->start), SERVICE_ERROR_NORMAL, line, NULL,
                             NULL, NULL, account, NULL);
    if (service == NULL) {
        fail(err, "CreateService");
        goto end;
    }
    description.lpDescription = desc;
    if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_DESCRIPTION, &description)) {
        fail(err, "setting the description");
        goto undo;
    }
    if (set_failure_actions(service, warnings, cap, err) != 0)
        goto undo;
    if (strcmp(spec->start, "delayed") == 0 &&
        config2(service, SERVICE_CONFIG_DELAYED_AUTO_START_INFO, &delayed,
                "delayed start (SERVICE_CONFIG_DELAYED_AUTO_START_INFO)", warnings, cap, err) != 0)
        goto undo;
    if (config2(service, SERVICE_CONFIG_SERVICE_SID_INFO, &sid_info,
                "service SID type unrestricted (SERVICE_CONFIG_SERVICE_SID_INFO)",
                warnings, cap, err) != 0)
        goto undo;
    preshutdown.dwPreshutdownTimeout = spec->preshutdown_ms;
    if (config2(service, SERVICE_CONFIG_PRESHUTDOWN_INFO, &preshutdown,
                "preshutdown timeout (SERVICE_CONFIG_PRESHUTDOWN_INFO)", warnings, cap, err) != 0)
        goto undo;
    if (gale_service_make_folders(spec->name, root, sizeof root, err) != 0)
        goto undo;
    if (register_event_source(name, exe, err) != 0)
        goto undo;
    rc = 0;
    goto end;
undo:
    DeleteService(service);
end:
    if (service != NULL)
        CloseServiceHandle(service);
    if (scm != NULL)
        CloseServiceHandle(scm);
    free(name), free(display), free(desc), free(account), free(line), free(exe);
    return rc;
}

/* Opens service `name` with `access`; NULL with `err` set. */
static SC_HANDLE open_service(const char *name, DWORD access, SC_HANDLE *scm,
                              struct gale_service_error *err)
{
    wchar_t *wname = wide(name);
    SC_HANDLE service = NULL;

    *scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (*scm == NULL)
        fail(err, "OpenSCManager");
    else if (wname == NULL)
        fail_code(err, "converting the name", ERROR_INVALID_NAME);
    else if ((service = OpenServiceW(*scm, wname, access)) == NULL)
        fail(err, "OpenService");
    free(wname);
    if (service == NULL && *scm != NULL) {
        CloseServiceHandle(*scm);
        *scm = NULL;
    }
    return service;
}

static void close_service(SC_HANDLE service, SC_HANDLE scm)
{
    CloseServiceHandle(service);
    CloseServiceHandle(scm);
}

int gale_service_uninstall(const char *name, unsigned long stop_wait_ms,
                           struct gale_service_error *err)
{
    SC_HANDLE scm, service = open_service(name, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE,
                                          &scm, err);
    SERVICE_STATUS st;
    ULONGLONG deadline = GetTickCount64() + stop_wait_ms;
    wchar_t *wname;
    int rc = 0;

    if (service == NULL)
        return -1;
    if (QueryServiceStatus(service, &st) && st.dwCurrentState != SERVICE_STOPPED) {
        ControlService(service, SERVICE_CONTROL_STOP, &st);
        while (QueryServiceStatus(service, &st) && st.dwCurrentState != SERVICE_STOPPED &&
               GetTickCount64() < deadline)
            Sleep(100);
    }
    if (!DeleteService(service))
        rc = fail(err, "DeleteService");
    close_service(service, scm);
    if (rc == 0 && (wname = wide(name)) != NULL) {
        remove_event_source(wname);
        free(wname);
    }
    return rc;
}

int gale_service_start(const char *name, struct gale_service_error *err)
{
    SC_HANDLE scm, service = open_service(name, SERVICE_START, &scm, err);
    int rc = 0;

    if (service == NULL)
        return -1;
    if (!StartServiceW(service, 0, NULL))
        rc = fail(err, "StartService");
    close_service(service, scm);
    return rc;
}

int gale_service_stop(const char *name, struct gale_service_error *err)
{
    SC_HANDLE scm, service = open_service(name, SERVICE_STOP, &scm, err);
    SERVICE_STATUS st;
    int rc = 0;

    if (service == NULL)
        return -1;
    if (!ControlService(service, SERVICE_CONTROL_STOP, &st))
        rc = fail(err, "ControlService(STOP)");
    close_service(service, scm);
    return rc;
}

/* QueryServiceConfig2W into a malloc'd buffer; NULL if this system does
 * not report the level (or anything else failed). */
static void *query2(SC_HANDLE service, DWORD level)
{
    DWORD need = 0;
    void *buf;

    if (QueryServiceConfig2W(service, level, NULL, 0, &need) ||
        GetLastError() != ERROR_INSUFFICIENT_BUFFER || need == 0)
        return NULL;
    if ((buf = malloc(need)) == NULL)
        return NULL;
    if (!QueryServiceConfig2W(service, level, buf, need, &need)) {
        free(buf);
        return NULL;
    }
    return buf;
}

int gale_service_query(const char *name, struct gale_service_status *out,
                       struct gale_service_error *err)
{
    SC_HANDLE scm, service = open_service(name, SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG,
                                          &scm, err);
    SERVICE_STATUS_PROCESS sp;
    QUERY_SERVICE_CONFIGW *qc = NULL;
    SERVICE_DESCRIPTIONW *desc;
    SERVICE_FAILURE_ACTIONSW *fa;
    SERVICE_FAILURE_ACTIONS_FLAG *flag;
    SERVICE_DELAYED_AUTO_START_INFO *delayed;
    SERVICE_SID_INFO *sid;
    SERVICE_PRESHUTDOWN_INFO *pre;
    DWORD need = 0, i;

    memset(out, 0, sizeof *out);
    if (service == NULL)
        return -1;
    if (!QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, (BYTE *)&sp, sizeof sp, &need)) {
        fail(err, "QueryServiceStatusEx");
        close_service(service, scm);
        return -1;
    }
    out->state = sp.dwCurrentState;
    out->pid = sp.dwProcessId;
    out->win32_exit = sp.dwWin32ExitCode;
    out->specific_exit = sp.dwServiceSpecificExitCode;
    out->checkpoint = sp.dwCheckPoint;
    out->wait_hint = sp.dwWaitHint;
    if (!QueryServiceConfigW(service, NULL, 0, &need) &&
        GetLastError() == ERROR_INSUFFICIENT_BUFFER && (qc = malloc(need)) != NULL &&
        QueryServiceConfigW(service, qc, need, &need)) {
        out->start_type = qc->dwStartType;
        out->account = narrow(qc->lpServiceStartName);
        out->image_path = narrow(qc->lpBinaryPathName);
        out->display_name = narrow(qc->lpDisplayName);
    }
    free(qc);
    if ((desc = query2(service, SERVICE_CONFIG_DESCRIPTION)) != NULL)
        out->description = narrow(desc->lpDescription ? desc->lpDescription : L"");
    free(desc);
    out->reset_period_s = out->nactions = -1;
    if ((fa = query2(service, SERVICE_CONFIG_FAILURE_ACTIONS)) != NULL) {
        out->reset_period_s = (long)fa->dwResetPeriod;
        out->nactions = (int)(fa->cActions < 8 ? fa->cActions : 8);
        for (i = 0; i < (DWORD)out->nactions; i++) {
            out->actions[i].type = (int)fa->lpsaActions[i].Type;
            out->actions[i].delay_ms = fa->lpsaActions[i].Delay;
        }
    }
    free(fa);
    flag = query2(service, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG);
    out->failure_actions_flag = flag != NULL ? (long)flag->fFailureActionsOnNonCrashFailures : -1;
    free(flag);
    delayed = query2(service, SERVICE_CONFIG_DELAYED_AUTO_START_INFO);
    out->delayed = delayed != NULL ? (long)delayed->fDelayedAutostart : -1;
    free(delayed);
    sid = query2(service, SERVICE_CONFIG_SERVICE_SID_INFO);
    out->sid_type = sid != NULL ? (long)sid->dwServiceSidType : -1;
    free(sid);
    pre = query2(service, SERVICE_CONFIG_PRESHUTDOWN_INFO);
    out->preshutdown_ms = pre != NULL ? (long)pre->dwPreshutdownTimeout : -1;
    free(pre);
    close_service(service, scm);
    return 0;
}

void gale_service_status_free(struct gale_service_status *st)
{
    free(st->account);
    free(st->image_path);
    free(st->display_name);
    free(st->description);
    st->account = st->image_path = st->display_name = st->description = NULL;
}

/* 1 if process `pid` runs `exe` (a full path, compared case-insensitively);
 * its handle, opened for waiting, is left in *handle. */
static int runs_exe(DWORD pid, const wchar_t *exe, HANDLE *handle)
{
    wchar_t path[MAX_PATH * 2];
    DWORD n = MAX_PATH * 2;
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, pid);

    *handle = NULL;
    if (h == NULL)
        return 0;
    if (QueryFullProcessImageNameW(h, 0, path, &n) && _wcsicmp(path, exe) == 0) {
        *handle = h;
        return 1;
    }
    CloseHandle(h);
    return 0;
}

int gale_service_wait_exe_exit(const char *exe, unsigned long timeout_ms,
                               struct gale_service_error *err)
{
    wchar_t *wexe = wide(exe);
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    int left = 0;

    if (wexe == NULL)
        return fail_code(err, "converting the path", ERROR_INVALID_NAME);
    for (;;) {
        HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
        PROCESSENTRY32W entry;
        HANDLE waiting = NULL;

        memset(&entry, 0, sizeof entry);
        entry.dwSize = sizeof entry;
        if (snap == INVALID_HANDLE_VALUE) {
            free(wexe);
            return fail(err, "CreateToolhelp32Snapshot");
        }
        left = 0;
        if (Process32FirstW(snap, &entry)) {
            do {
                HANDLE h;

                if (entry.th32ProcessID == GetCurrentProcessId() ||
                    !runs_exe(entry.th32ProcessID, wexe, &h))
                    continue;
                left++;
                if (waiting == NULL)
                    waiting = h;
                else
                    CloseHandle(h);
            } while (Process32NextW(snap, &entry));
        }
        CloseHandle(snap);
        if (waiting == NULL || GetTickCount64() >= deadline) {
            if (waiting != NULL)
                CloseHandle(waiting);
            break;
        }
        WaitForSingleObject(waiting, (DWORD)(deadline - GetTickCount64()));
        CloseHandle(waiting);
    }
    free(wexe);
    return left;
}
