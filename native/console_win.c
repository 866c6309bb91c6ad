/* SPDX-License-Identifier: MIT
 *
 * Windows console control events as stop requests:
 * _gale.set_console_stop_handler(callable | None). While a callable is set,
 * Ctrl+C, Ctrl+Break, closing the console and shutdown call it, so they
 * drain the server as SIGTERM does on Linux. While none is set, every event
 * goes on to the next handler (the UCRT's, which raises SIGINT/SIGBREAK in
 * Python), so `gale python` gets KeyboardInterrupt as python.exe does.
 *
 * Windows runs a console handler on a thread of its own, so the call into
 * Python goes through PyGILState_Ensure. For CTRL_CLOSE_EVENT and
 * CTRL_SHUTDOWN_EVENT the process is ended as soon as the handler returns
 * (and about 5 s after the event in any case), so the handler holds on while
 * the drain runs; the process normally exits on its own first, which ends
 * this thread too.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* first, as CPython requires */

#include "console_win.h"

#include <windows.h>

/* How long a close or shutdown event may hold the process open: under the
 * 5 s after which Windows ends it anyway. */
#define CLOSE_WAIT_MS 4500

/* The callable (a strong reference) or NULL. Handler threads read it under
 * the shared lock and keep the lock while they call it, so the setter, which
 * takes the lock exclusively, never frees a callable in use. */
static SRWLOCK handler_lock = SRWLOCK_INIT;
static PyObject *stop_handler;
static int registered; /* guarded by the GIL */

static int serving(void)
{
    int set;

    AcquireSRWLockShared(&handler_lock);
    set = stop_handler != NULL;
    ReleaseSRWLockShared(&handler_lock);
    return set;
}

int gale_console_call_stop_handler(void)
{
    int called = 0;

    AcquireSRWLockShared(&handler_lock);
    /* Once finalization has begun, a new thread must not take the GIL. */
    if (stop_handler != NULL && !Py_IsFinalizing()) {
        PyGILState_STATE gil = PyGILState_Ensure();
        PyObject *result = PyObject_CallNoArgs(stop_handler);

        if (result == NULL)
            PyErr_WriteUnraisable(stop_handler);
        Py_XDECREF(result);
        PyGILState_Release(gil);
        called = 1;
    }
    ReleaseSRWLockShared(&handler_lock);
    return called;
}

static BOOL WINAPI on_console_event(DWORD event)
{
    switch (event) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
        return gale_console_call_stop_handler() ? TRUE : FALSE;
    case CTRL_CLOSE_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        if (!gale_console_call_stop_handler())
            return FALSE;
        Sleep(CLOSE_WAIT_MS);
        return TRUE;
    case CTRL_LOGOFF_EVENT:
        /* Only services see it, and for any user's logoff: no reason to
         * stop. Handled, so that the UCRT does not turn it into SIGBREAK. */
        return serving() ? TRUE : FALSE;
    default:
        return FALSE;
    }
}

PyObject *gale_console_set_stop_handler(PyObject *module, PyObject *handler)
{
    PyObject *old;

    (void)module;
    /* PyGILState_Ensure can only enter the main interpreter. */
    if (PyInterpreterState_Get() != PyInterpreterState_Main()) {
        PyErr_SetString(PyExc_RuntimeError,
                        "set_console_stop_handler: only the main interpreter can use it");
        return NULL;
    }
    if (handler != Py_None && !PyCallable_Check(handler)) {
        PyErr_SetString(PyExc_TypeError, "set_console_stop_handler: expected a callable or None");
        return NULL;
    }
    /* Registered once and never removed: the system holds its handler-list
     * lock while a handler runs (up to CLOSE_WAIT_MS), so removing it could
     * stall the caller. While unset, the handler passes every event on. */
    if (!registered) {
        if (!SetConsoleCtrlHandler(on_console_event, TRUE))
            return PyErr_SetFromWindowsErr(0);
        registered = 1;
    }
    /* A handler thread may hold the lock while it waits for the GIL. */
    Py_BEGIN_ALLOW_THREADS
    AcquireSRWLockExclusive(&handler_lock);
    Py_END_ALLOW_THREADS
    old = stop_handler;
    stop_handler = handler != Py_None ? Py_NewRef(handler) : NULL;
    ReleaseSRWLockExclusive(&handler_lock);
    Py_XDECREF(old);
    Py_RETURN_NONE;
}

PyObject *gale_console_set_title(PyObject *module, PyObject *text)
{
    wchar_t *wide;
    BOOL ok;

    (void)module;
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "set_console_title: expected a str");
        return NULL;
    }
    if ((wide = PyUnicode_AsWideCharString(text, NULL)) == NULL)
        return NULL;
    ok = SetConsoleTitleW(wide);
    PyMem_Free(wide);
    return PyBool_FromLong(ok);
}
