/* SPDX-License-Identifier: MIT
 *
 * tornado.speedups for the static interpreter: the same Python interface as
 * Tornado's optional C module, websocket_mask(mask, data) -> bytes, with the
 * masking itself in websocket_mask.c. Only this file sees Python.h.
 *
 * Where it differs from Tornado's own module, on purpose:
 *   - arguments are any bytes-like objects (bytes, bytearray, memoryview);
 *     Tornado's "s#" also takes str, which websocket code never passes;
 *   - a large payload is masked with the GIL released, so one big frame does
 *     not stall the other threads (the event loop's executor, for one).
 *
 * The module keeps no state, so it declares itself safe for sub-interpreters
 * with their own GIL, and, like Tornado's, for free-threaded builds.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "speedups.h"
#include "websocket_mask.h"

/* Dropping and retaking the GIL costs on the order of a microsecond, about
 * what masking a few KiB takes; well above that it is worth letting other
 * threads run. */
#define GIL_RELEASE_MIN (64 * 1024)

static PyObject *speedups_websocket_mask(PyObject *module,
                                         PyObject *const *args,
                                         Py_ssize_t nargs)
{
    Py_buffer mask = {0}, data = {0};
    PyObject *result = NULL;
    unsigned char *out;

    (void)module;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError,
                     "websocket_mask() takes exactly 2 arguments (%zd given)",
                     nargs);
        return NULL;
    }
    /* PyBUF_SIMPLE asks for one contiguous run of bytes, what "y*" gets. */
    if (PyObject_GetBuffer(args[0], &mask, PyBUF_SIMPLE) < 0)
        goto end;
    if (PyObject_GetBuffer(args[1], &data, PyBUF_SIMPLE) < 0)
        goto end;
    if (mask.len != 4) {
        PyErr_SetString(PyExc_ValueError,
                        "websocket_mask: mask must be exactly 4 bytes");
        goto end;
    }
    result = PyBytes_FromStringAndSize(NULL, data.len);
    if (result == NULL)
        goto end;
    out = (unsigned char *)PyBytes_AS_STRING(result);

    /* Safe without the GIL: the result is not yet visible to any other
     * thread, and the buffer exports pin both inputs' memory until release. */
    if (data.len >= GIL_RELEASE_MIN) {
        Py_BEGIN_ALLOW_THREADS
        gale_websocket_mask(mask.buf, data.buf, out, (size_t)data.len);
        Py_END_ALLOW_THREADS
    } else {
        gale_websocket_mask(mask.buf, data.buf, out, (size_t)data.len);
    }

end:
    /* A failed or skipped export leaves .obj NULL, which Release ignores. */
    PyBuffer_Release(&data);
    PyBuffer_Release(&mask);
    return result;
}

static PyMethodDef speedups_methods[] = {
    {"websocket_mask",
     (PyCFunction)(void (*)(void))speedups_websocket_mask, METH_FASTCALL,
     PyDoc_STR("websocket_mask(mask, data, /)\n--\n\n"
               "Return data XORed with the 4-byte mask repeated from its\n"
               "first byte, as RFC 6455 requires of client frames.")},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot speedups_slots[] = {
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tornado.speedups",
    .m_doc = PyDoc_STR("Gale's built-in replacement for Tornado's C speedups."),
    .m_size = 0,
    .m_methods = speedups_methods,
    .m_slots = speedups_slots,
};

PyObject *gale_speedups_init(void)
{
    return PyModuleDef_Init(&speedups_module);
}
