/* SPDX-License-Identifier: MIT
 *
 * tornado.speedups, built into the interpreter instead of loaded as a shared
 * object (the static build cannot load extension modules). The launcher
 * registers it before the interpreter starts:
 *
 *     PyImport_AppendInittab("tornado.speedups", gale_speedups_init);
 *
 * Python.h must come first in every translation unit, so this header does
 * not include it and insists that the includer already has.
 */
#ifndef GALE_SPEEDUPS_H
#define GALE_SPEEDUPS_H

#ifndef Py_PYTHON_H
#error "include <Python.h> before speedups.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Multi-phase init: returns the module definition, not a module. Plain
 * linkage rather than PyMODINIT_FUNC, which would dllexport it on Windows. */
PyObject *gale_speedups_init(void);

#ifdef __cplusplus
}
#endif

#endif /* GALE_SPEEDUPS_H */
