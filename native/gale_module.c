/* SPDX-License-Identifier: MIT
 *
 * The built-in module _gale (see gale_module.h): read-only data set at
 * start-up, what the host is built from (components.c), and the platform
 * services as functions (Windows: the console's stop handler,
 * console_win.c; service control will join it).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* first, as CPython requires */

#include "gale_module.h"
#include "components.h"
#include "gale_exit.h"
#ifdef _WIN32
#include "console_win.h"
#endif

static struct gale_module_info module_info;

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
    if (gale_components_add(module) < 0)
        return -1;
    return add_exit_codes(module);
}

static PyMethodDef gale_module_methods[] = {
#ifdef _WIN32
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
