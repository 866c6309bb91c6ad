/* SPDX-License-Identifier: MIT
 *
 * The frozen boot modules (see frozen_boot.h). The table and the code are
 * generated at build time (gale_frozen_boot.h, cmake/freeze_boot.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* first, as CPython requires */

#include "frozen_boot.h"
#include "gale_frozen_boot.h"

void gale_frozen_boot_install(void)
{
    PyImport_FrozenModules = gale_frozen_boot_modules;
}

/* end_frozen_boot(): once the archive's finder is installed, the boot
 * modules not imported yet come from it, with their __file__, as the rest
 * of the library does. */
static PyObject *end_frozen_boot(PyObject *module, PyObject *unused)
{
    (void)module, (void)unused;
    PyImport_FrozenModules = NULL;
    Py_RETURN_NONE;
}

static PyMethodDef frozen_boot_methods[] = {
    {"end_frozen_boot", end_frozen_boot, METH_NOARGS,
     "end_frozen_boot() -> None; later imports of the boot modules use the code archive"},
    {NULL, NULL, 0, NULL},
};

int gale_frozen_boot_add(PyObject *module)
{
    PyObject *crcs;
    size_t i;

    if (PyModule_AddFunctions(module, frozen_boot_methods) < 0 || (crcs = PyDict_New()) == NULL)
        return -1;
    for (i = 0; gale_frozen_boot_modules[i].name != NULL; i++) {
        PyObject *crc = PyLong_FromUnsignedLong(gale_frozen_boot_crcs[i]);

        if (crc == NULL || PyDict_SetItemString(crcs, gale_frozen_boot_modules[i].name, crc) < 0) {
            Py_XDECREF(crc);
            Py_DECREF(crcs);
            return -1;
        }
        Py_DECREF(crc);
    }
    if (PyModule_Add(module, "frozen_boot", crcs) < 0)
        return -1;
    /* also keeps the marked id in the host, where `gale pack` reads it */
    return PyModule_AddStringConstant(module, "frozen_boot_id",
                                      gale_frozen_boot_id + sizeof "GALE-BOOT-ID:" - 1);
}
