/* SPDX-License-Identifier: MIT
 *
 * _gale's service functions: Python objects in, C structs to
 * launcher/win/service_config_win.c and service_run_win.c, results and
 * errors back. A failed call raises OSError(errno, text, step, winerror),
 * so Python sees the Win32 error (exc.winerror) and the step that failed
 * (exc.filename); pylib/gale/service.py turns them into messages.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* first, as CPython requires */

#include "service_module_win.h"
#include "service_win.h"

#include <string.h>
#include <windows.h>

static PyObject *raise_error(const struct gale_service_error *err)
{
    wchar_t text[256];
    DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                             err->code, 0, text, 256, NULL);
    PyObject *args;

    while (n > 0 && (text[n - 1] == L'\r' || text[n - 1] == L'\n' || text[n - 1] == L'.'))
        text[--n] = L'\0';
    args = Py_BuildValue("(iu#sk)", 0, n > 0 ? text : L"", (Py_ssize_t)n, err->step,
                         (unsigned long)err->code);
    if (args != NULL) {
        PyErr_SetObject(PyExc_OSError, args);
        Py_DECREF(args);
    }
    return NULL;
}

PyObject *gale_py_service_install(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"name", "display_name", "description", "start", "account",
                            "command_line", "preshutdown_ms", "exe", NULL};
    struct gale_service_spec spec;
    struct gale_service_error err;
    char warnings[2048];
    PyObject *text, *lines;
    int rc;

    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "ssssssks:service_install", names,
                                     &spec.name, &spec.display_name, &spec.description,
                                     &spec.start, &spec.account, &spec.command_line,
                                     &spec.preshutdown_ms, &spec.event_message_file))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = gale_service_install(&spec, warnings, sizeof warnings, &err);
    Py_END_ALLOW_THREADS
    if (rc != 0)
        return raise_error(&err);
    text = PyUnicode_FromString(warnings);
    lines = text != NULL ? PyUnicode_Splitlines(text, 0) : NULL;
    Py_XDECREF(text);
    return lines;
}

PyObject *gale_py_service_uninstall(PyObject *module, PyObject *args)
{
    const char *name;
    unsigned long wait_ms;
    struct gale_service_error err;
    int rc;

    (void)module;
    if (!PyArg_ParseTuple(args, "sk:service_uninstall", &name, &wait_ms))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = gale_service_uninstall(name, wait_ms, &err);
    Py_END_ALLOW_THREADS
    if (rc != 0)
        return raise_error(&err);
    Py_RETURN_NONE;
}

/* The UTF-8 of a name argument, or NULL with TypeError set. */
static const char *name_of(PyObject *arg)
{
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;

    if (name == NULL && !PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "expected the service's name (str)");
    return name;
}

static PyObject *by_name(PyObject *arg, int (*call)(const char *, struct gale_service_error *))
{
    const char *name = name_of(arg);
    struct gale_service_error err;
    int rc;

    if (name == NULL)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = call(name, &err);
    Py_END_ALLOW_THREADS
    if (rc != 0)
        return raise_error(&err);
    Py_RETURN_NONE;
}

PyObject *gale_py_service_start(PyObject *module, PyObject *name)
{
    (void)module;
    return by_name(name, gale_service_start);
}

PyObject *gale_py_service_stop(PyObject *module, PyObject *name)
{
    (void)module;
    return by_name(name, gale_service_stop);
}

/* -1 (not reported) becomes None. */
static PyObject *maybe(long value)
{
    if (value < 0)
        Py_RETURN_NONE;
    return PyLong_FromLong(value);
}

static PyObject *text_or_none(const char *s)
{
    if (s == NULL)
        Py_RETURN_NONE;
    return PyUnicode_FromString(s);
}

PyObject *gale_py_service_query(PyObject *module, PyObject *arg)
{
    const char *name = name_of(arg);
    struct gale_service_status st;
    struct gale_service_error err;
    PyObject *actions = NULL, *result = NULL;
    int rc, i;

    (void)module;
    if (name == NULL)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = gale_service_query(name, &st, &err);
    Py_END_ALLOW_THREADS
    if (rc != 0)
        return raise_error(&err);
    if (st.nactions >= 0) {
        if ((actions = PyList_New(st.nactions)) == NULL)
            goto end;
        for (i = 0; i < st.nactions; i++) {
            PyObject *item = Py_BuildValue("(ik)", st.actions[i].type, st.actions[i].delay_ms);

            if (item == NULL)
                goto end;
            PyList_SET_ITEM(actions, i, item);
        }
    } else {
        actions = Py_NewRef(Py_None);
    }
    result = Py_BuildValue(
        "{s:k,s:k,s:k,s:k,s:k,s:k,s:k,s:N,s:N,s:N,s:N,s:N,s:N,s:O,s:N,s:N,s:N}",
        "state", st.state, "pid", st.pid, "win32_exit", st.win32_exit,
        "specific_exit", st.specific_exit, "checkpoint", st.checkpoint,
        "wait_hint", st.wait_hint, "start_type", st.start_type,
        "delayed", maybe(st.delayed), "account", text_or_none(st.account),
        "image_path", text_or_none(st.image_path), "display_name", text_or_none(st.display_name),
        "description", text_or_none(st.description), "reset_period_s", maybe(st.reset_period_s),
        "actions", actions, "failure_actions_flag", maybe(st.failure_actions_flag),
        "sid_type", maybe(st.sid_type), "preshutdown_ms", maybe(st.preshutdown_ms));
end:
    Py_XDECREF(actions);
    gale_service_status_free(&st);
    return result;
}

PyObject *gale_py_service_make_folders(PyObject *module, PyObject *arg)
{
    const char *name = name_of(arg);
    struct gale_service_error err;
    char root[MAX_PATH * 3] = "";
    int rc;

    (void)module;
    if (name == NULL)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = gale_service_make_folders(name, root, sizeof root, &err);
    Py_END_ALLOW_THREADS
    if (rc != 0)
        return raise_error(&err);
    return PyUnicode_FromString(root);
}

PyObject *gale_py_service_report_running(PyObject *module, PyObject *unused)
{
    (void)module, (void)unused;
    return PyBool_FromLong(gale_service_report_running());
}

PyObject *gale_py_service_event(PyObject *module, PyObject *args)
{
    const char *kind, *text, *name = NULL;
    unsigned short type;

    (void)module;
    if (!PyArg_ParseTuple(args, "ss|z:service_event", &kind, &text, &name))
        return NULL;
    if (strcmp(kind, "error") == 0)
        type = EVENTLOG_ERROR_TYPE;
    else if (strcmp(kind, "warning") == 0)
        type = EVENTLOG_WARNING_TYPE;
    else if (strcmp(kind, "info") == 0)
        type = EVENTLOG_INFORMATION_TYPE;
    else {
        PyErr_SetString(PyExc_ValueError, "service_event: kind is info, warning or error");
        return NULL;
    }
    return PyBool_FromLong(gale_service_event(name, type, text) == 0);
}

PyObject *gale_py_service_wait_exe_exit(PyObject *module, PyObject *args)
{
    const char *exe;
    unsigned long timeout_ms;
    struct gale_service_error err;
    int left;

    (void)module;
    if (!PyArg_ParseTuple(args, "sk:service_wait_exe_exit", &exe, &timeout_ms))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    left = gale_service_wait_exe_exit(exe, timeout_ms, &err);
    Py_END_ALLOW_THREADS
    if (left < 0)
        return raise_error(&err);
    return PyLong_FromLong(left);
}
