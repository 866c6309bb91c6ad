/* SPDX-License-Identifier: MIT
 *
 * Check tests for the built-in tornado.speedups module (native/speedups.c)
 * through the CPython C API: an embedded, isolated interpreter imports it
 * from the inittab, as the launcher does, and calls websocket_mask. The
 * stdlib comes from the build's CPython tree (GALE_TEST_STDLIB).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "speedups.h"

#include "gale_check.h"
#include <stdlib.h>
#include <string.h>

static PyObject *mask_fn;

static void start_interpreter(void)
{
    PyConfig config;
    PyStatus status;
    wchar_t *stdlib = Py_DecodeLocale(GALE_TEST_STDLIB, NULL);

    if (PyImport_AppendInittab("tornado.speedups", gale_speedups_init) != 0)
        abort();
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.module_search_paths_set = 1;
    status = PyWideStringList_Append(&config.module_search_paths, stdlib);
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    PyMem_RawFree(stdlib);
    if (PyStatus_Exception(status))
        Py_ExitStatusException(status);
}

static void setup(void)
{
    PyObject *module;

    start_interpreter();
    /* A submodule needs its parent package; an empty stand-in will do, as
     * the built-in is found by name on sys.meta_path, not on __path__. */
    module = PyImport_AddModule("tornado");
    ck_assert_ptr_nonnull(module);
    ck_assert_int_eq(PyModule_Add(module, "__path__", PyList_New(0)), 0);
    module = PyImport_ImportModule("tornado.speedups");
    ck_assert_msg(module != NULL, "tornado.speedups does not import");
    mask_fn = PyObject_GetAttrString(module, "websocket_mask");
    Py_DECREF(module);
    ck_assert_ptr_nonnull(mask_fn);
}

static void teardown(void)
{
    Py_CLEAR(mask_fn);
    Py_FinalizeEx();
}

/* websocket_mask(mask, data) with the given lengths; NULL with an error set
 * when it raised. */
static PyObject *call_mask(const char *mask, Py_ssize_t mask_len,
                           const char *data, Py_ssize_t data_len)
{
    return PyObject_CallFunction(mask_fn, "y#y#", mask, mask_len, data, data_len);
}

START_TEST(is_builtin)
{
    PyObject *names = PySys_GetObject("builtin_module_names");
    PyObject *name = PyUnicode_FromString("tornado.speedups");

    ck_assert_int_eq(PySequence_Contains(names, name), 1);
    Py_DECREF(name);
}
END_TEST

START_TEST(masks_like_the_rfc_example)
{
    /* RFC 6455, 5.7: "Hello" masked with 37 fa 21 3d. */
    static const char expected[] = "\x7f\x9f\x4d\x51\x58";
    PyObject *out = call_mask("\x37\xfa\x21\x3d", 4, "Hello", 5);

    ck_assert_ptr_nonnull(out);
    ck_assert(PyBytes_Check(out));
    ck_assert_int_eq(PyBytes_GET_SIZE(out), 5);
    ck_assert_mem_eq(PyBytes_AS_STRING(out), expected, 5);
    Py_DECREF(out);
}
END_TEST

START_TEST(large_input_round_trips)
{
    /* Above the GIL-release threshold: masking twice gives the input back. */
    Py_ssize_t n = (1 << 20) + 3, i;
    char *data = malloc((size_t)n);
    PyObject *once, *twice;

    for (i = 0; i < n; i++)
        data[i] = (char)(i * 7 + 1);
    once = call_mask("abcd", 4, data, n);
    ck_assert_ptr_nonnull(once);
    ck_assert_int_ne(memcmp(PyBytes_AS_STRING(once), data, (size_t)n), 0);
    twice = call_mask("abcd", 4, PyBytes_AS_STRING(once), n);
    ck_assert_ptr_nonnull(twice);
    ck_assert_mem_eq(PyBytes_AS_STRING(twice), data, (size_t)n);
    Py_DECREF(once);
    Py_DECREF(twice);
    free(data);
}
END_TEST

START_TEST(wrong_mask_length_raises_value_error)
{
    static const Py_ssize_t lengths[] = {0, 1, 3, 5, 8};
    size_t i;

    for (i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        PyObject *out = call_mask("abcdefgh", lengths[i], "payload!", 8);

        ck_assert_msg(out == NULL, "mask of %zd bytes accepted", lengths[i]);
        ck_assert(PyErr_ExceptionMatches(PyExc_ValueError));
        PyErr_Clear();
    }
}
END_TEST

START_TEST(wrong_argument_count_raises_type_error)
{
    PyObject *out = PyObject_CallFunction(mask_fn, "y#", "abcd", (Py_ssize_t)4);

    ck_assert_ptr_null(out);
    ck_assert(PyErr_ExceptionMatches(PyExc_TypeError));
    PyErr_Clear();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("speedups_module");
    TCase *tc = tcase_create("websocket_mask");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, is_builtin);
    tcase_add_test(tc, masks_like_the_rfc_example);
    tcase_add_test(tc, large_input_round_trips);
    tcase_add_test(tc, wrong_mask_length_raises_value_error);
    tcase_add_test(tc, wrong_argument_count_raises_type_error);
    suite_add_tcase(s, tc);
    return gale_check_run(s);
}
