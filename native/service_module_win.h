/* SPDX-License-Identifier: MIT
 *
 * The Windows service's part of _gale (service_module_win.c).
 */
#ifndef GALE_SERVICE_MODULE_WIN_H
#define GALE_SERVICE_MODULE_WIN_H

/* PyMethodDef entries, ending with no sentinel: spliced into _gale's table. */
#define GALE_SERVICE_METHODS                                                        \
    {"service_install", (PyCFunction)(void (*)(void))gale_py_service_install,        \
     METH_VARARGS | METH_KEYWORDS,                                                   \
     "service_install(name, display_name, description, start, account,\n"          \
     "                command_line, preshutdown_ms, exe) -> [warning, ...]"},        \
    {"service_uninstall", gale_py_service_uninstall, METH_VARARGS,                   \
     "service_uninstall(name, stop_wait_ms)"},                                       \
    {"service_start", gale_py_service_start, METH_O, "service_start(name)"},         \
    {"service_stop", gale_py_service_stop, METH_O, "service_stop(name)"},            \
    {"service_query", gale_py_service_query, METH_O, "service_query(name) -> dict"}, \
    {"service_make_folders", gale_py_service_make_folders, METH_O,                   \
     "service_make_folders(name) -> %ProgramData%\\\\<name>"},                       \
    {"service_report_running", gale_py_service_report_running, METH_NOARGS,          \
     "service_report_running() -> True if running as a service (RUNNING is sent)"},  \
    {"service_wait_exe_exit", gale_py_service_wait_exe_exit, METH_VARARGS,           \
     "service_wait_exe_exit(exe, timeout_ms) -> processes of exe still running"},    \
    {"service_event", gale_py_service_event, METH_VARARGS,                           \
     "service_event(kind, text, name=None): kind is info, warning or error"},

struct _object *gale_py_service_install(struct _object *, struct _object *, struct _object *);
struct _object *gale_py_service_uninstall(struct _object *, struct _object *);
struct _object *gale_py_service_start(struct _object *, struct _object *);
struct _object *gale_py_service_stop(struct _object *, struct _object *);
struct _object *gale_py_service_query(struct _object *, struct _object *);
struct _object *gale_py_service_make_folders(struct _object *, struct _object *);
struct _object *gale_py_service_report_running(struct _object *, struct _object *);
struct _object *gale_py_service_event(struct _object *, struct _object *);
struct _object *gale_py_service_wait_exe_exit(struct _object *, struct _object *);

#endif /* GALE_SERVICE_MODULE_WIN_H */
