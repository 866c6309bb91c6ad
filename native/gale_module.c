/* SPDX-License-Identifier: MIT
 *
 * The built-in module _gale (see gale_module.h): read-only data set at
 * start-up, what the host is built from (components.c), and the platform
 * services as functions (Windows: the console's stop handler and title,
 * console_win.c; the service, service_module_win.c; the event loop's
 * readiness, readiness_win.c). The service's pure
 * helpers (launcher/service.c) are here on every platform, so `gale pack`
 * and the tests can use them anywhere.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* first, as CPython requires */

#include "gale_module.h"
#include "components.h"
#include "frozen_boot.h"
#include "gale_exit.h"
#include "service.h"
#include "workers.h"
#ifdef _WIN32
#include "console_win.h"
#include "readiness_win.h"
#include "service_module_win.h"
#include "service_win.h"

#include <windows.h>
#endif

#include <stdlib.h>

static struct gale_module_info module_info;
/* Set by payload_damaged(): `gale python`'s code met a damaged payload. */
static int payload_damaged_seen;

int gale_module_payload_damaged(void)
{
    return payload_damaged_seen;
}

/* payload_damaged(): the exception python reports for `gale python` was
 * a damaged payload (gale/pythonmode.py); the launcher then exits with
 * PAYLOAD instead of python's 1. */
static PyObject *payload_damaged(PyObject *module, PyObject *unused)
{
    (void)module, (void)unused;
    payload_damaged_seen = 1;
    Py_RETURN_NONE;
}

void gale_module_configure(const struct gale_module_info *info)
{
    module_info = *info;
}

/* Steals `value`. */
static int set_item(PyObject *dict, const char *key, PyObject *value)
{
    int rc = value != NULL ? PyDict_SetItemString(dict, key, value) : -1;

    Py_XDECREF(value);
    return rc;
}

/* exit_codes: name -> code; exit_code_meanings: name -> text. */
static int add_exit_codes(PyObject *module)
{
    PyObject *codes = PyDict_New(), *meanings = PyDict_New();
    int rc = -1;

    if (codes == NULL || meanings == NULL)
        goto end;
#define GALE_EXIT_ADD(name, code, meaning)                            \
    if (set_item(codes, #name, PyLong_FromLong(code)) < 0 ||          \
        set_item(meanings, #name, PyUnicode_FromString(meaning)) < 0) \
        goto end;
    GALE_EXIT_CODES(GALE_EXIT_ADD)
#undef GALE_EXIT_ADD
    if (PyModule_AddObjectRef(module, "exit_codes", codes) < 0 ||
        PyModule_AddObjectRef(module, "exit_code_meanings", meanings) < 0)
        goto end;
    rc = 0;
end:
    Py_XDECREF(codes);
    Py_XDECREF(meanings);
    return rc;
}

static int gale_module_exec(PyObject *module)
{
    const struct gale_module_info *i = &module_info;

    if (i->executable == NULL) {
        PyErr_SetString(PyExc_ImportError, "_gale: the launcher did not configure this module");
        return -1;
    }
    if (PyModule_AddStringConstant(module, "version", i->version) < 0 ||
        PyModule_AddStringConstant(module, "target", i->target) < 0 ||
        PyModule_Add(module, "executable", PyUnicode_DecodeFSDefault(i->executable)) < 0 ||
        PyModule_Add(module, "payload_offset", PyLong_FromUnsignedLongLong(i->payload_offset)) < 0 ||
        PyModule_Add(module, "payload_size", PyLong_FromUnsignedLongLong(i->payload_size)) < 0 ||
        PyModule_AddStringConstant(module, "payload_digest", i->payload_digest) < 0)
        return -1;
    if (gale_components_add(module) < 0 || gale_frozen_boot_add(module) < 0)
        return -1;
#ifdef _WIN32
    if (gale_readiness_add(module) < 0)
        return -1;
#endif
    if (PyModule_Add(module, "service_name", i->service_name != NULL
                         ? PyUnicode_FromString(i->service_name) : Py_NewRef(Py_None)) < 0 ||
        PyModule_AddStringConstant(module, "console", i->console == GALE_CONSOLE_OWNED ? "owned"
                                   : i->console == GALE_CONSOLE_SHARED ? "shared" : "none") < 0)
        return -1;
    return add_exit_codes(module);
}

/* service_command_line(exe, [arg, ...]) -> the quoted ImagePath */
static PyObject *service_command_line(PyObject *module, PyObject *args)
{
    const char *exe, **argv = NULL;
    PyObject *list, *seq = NULL, *result = NULL;
    Py_ssize_t n, i;
    char *line;

    (void)module;
    if (!PyArg_ParseTuple(args, "sO:service_command_line", &exe, &list))
        return NULL;
    if ((seq = PySequence_Fast(list, "service_command_line: args must be a list")) == NULL)
        return NULL;
    n = PySequence_Fast_GET_SIZE(seq);
    if ((argv = calloc((size_t)n + 1, sizeof *argv)) == NULL) {
        PyErr_NoMemory();
        goto end;
    }
    for (i = 0; i < n; i++)
        if ((argv[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i))) == NULL)
            goto end;
    if ((line = gale_service_command_line(exe, argv, (int)n)) == NULL) {
        PyErr_SetString(PyExc_ValueError, "service_command_line: not a valid executable path");
        goto end;
    }
    result = PyUnicode_FromString(line);
    free(line);
end:
    free(argv);
    Py_XDECREF(seq);
    return result;
}

/* service_sid(name) -> "S-1-5-80-..." */
static PyObject *service_sid(PyObject *module, PyObject *arg)
{
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    char sid[GALE_SID_MAX];

    (void)module;
    if (name == NULL || gale_service_sid(name, sid, sizeof sid) != 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "service_sid: not a service name");
        return NULL;
    }
    return PyUnicode_FromString(sid);
}

/* service_folder_sddl(sid) -> the SDDL of the service's folders */
static PyObject *service_folder_sddl(PyObject *module, PyObject *arg)
{
    const char *sid = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    char sddl[256];

    (void)module;
    if (sid == NULL || gale_service_folder_sddl(sid, sddl, sizeof sddl) != 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "service_folder_sddl: not a SID string");
        return NULL;
    }
    return PyUnicode_FromString(sddl);
}

#ifdef _WIN32
/* program_data() -> %ProgramData% as Windows records it (a registry read,
 * so asked for only by the service's commands, not at every start). */
static PyObject *program_data(PyObject *module, PyObject *unused)
{
    wchar_t path[MAX_PATH];

    (void)module, (void)unused;
    gale_service_program_data(path, MAX_PATH);
    return PyUnicode_FromWideChar(path, -1);
}
#endif

static PyMethodDef gale_module_methods[] = {
    {"service_command_line", service_command_line, METH_VARARGS,
     "service_command_line(exe, [arg, ...]) -> the command line, quoted as Windows splits it"},
    {"service_sid", service_sid, METH_O, "service_sid(name) -> the service's SID (S-1-5-80-...)"},
    {"service_folder_sddl", service_folder_sddl, METH_O,
     "service_folder_sddl(sid) -> the SDDL of the service's ProgramData folders"},
    {"payload_damaged", payload_damaged, METH_NOARGS,
     "payload_damaged(): `gale python` ends with the PAYLOAD exit code, not 1"},
    GALE_WORKERS_METHODS
#ifdef _WIN32
    {"program_data", program_data, METH_NOARGS,
     "program_data() -> %ProgramData% as Windows records it (not the environment's)"},
    {"set_console_title", gale_console_set_title, METH_O,
     "set_console_title(text) -> True if the console's title was set"},
    GALE_SERVICE_METHODS
    {"set_console_stop_handler", gale_console_set_stop_handler, METH_O,
     "set_console_stop_handler(callable | None)\n--\n\n"
     "Calls `callable` (on a thread of its own) for Ctrl+C, Ctrl+Break, closing\n"
     "the console and shutdown; None passes them on to the signal module again."},
#endif
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot gale_module_slots[] = {
    {Py_mod_exec, gale_module_exec},
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef gale_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_gale",
    .m_doc = "The bridge between Gale's launcher and its Python runtime.",
    .m_size = 0,
    .m_methods = gale_module_methods,
    .m_slots = gale_module_slots,
};

PyObject *gale_module_init(void)
{
    return PyModuleDef_Init(&gale_module_def);
}
