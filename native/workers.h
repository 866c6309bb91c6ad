/* SPDX-License-Identifier: MIT
 *
 * What ties a worker's life to its supervisor's (workers.c), as _gale
 * functions: GALE_WORKERS_METHODS goes into the module's method table.
 */
#ifndef GALE_WORKERS_H
#define GALE_WORKERS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *gale_workers_job_add(PyObject *module, PyObject *pid);
PyObject *gale_workers_die_with_parent(PyObject *module, PyObject *ppid);

#define GALE_WORKERS_METHODS                                                           \
    {"worker_job_add", gale_workers_job_add, METH_O,                                   \
     "worker_job_add(pid)\n--\n\nWindows: puts process `pid` into this process's "     \
     "worker job, which ends every process in it when this one ends "                  \
     "(JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE). Elsewhere it does nothing."},              \
    {"die_with_parent", gale_workers_die_with_parent, METH_O,                          \
     "die_with_parent(ppid) -> bool\n--\n\nLinux: SIGKILL this process when the "      \
     "thread that started it ends (PR_SET_PDEATHSIG); False if its parent is no "     \
     "longer `ppid` (it has already gone). Elsewhere True, doing nothing."},

#endif /* GALE_WORKERS_H */
