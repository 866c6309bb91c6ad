/* SPDX-License-Identifier: MIT
 *
 * A worker never outlives its supervisor (pylib/gale/workers.py): on
 * Windows the supervisor puts each worker into a Job Object that ends its
 * processes when the last handle to it closes, and only the supervisor
 * holds one, never inheritably, so its death of any kind closes it. On
 * Linux each worker asks the kernel for SIGKILL when its parent dies
 * (PR_SET_PDEATHSIG). The signal follows the *thread* that forked the
 * worker, so the supervisor starts workers from its main thread only.
 */
#include "workers.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <signal.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#endif

#ifdef _WIN32
static HANDLE worker_job;

static int make_job(void)
{
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits = {0};
    HANDLE job = CreateJobObjectW(NULL, NULL);

    if (job == NULL)
        return -1;
    /* BREAKAWAY_OK: an app may still start a process that outlives it, by
     * asking for CREATE_BREAKAWAY_FROM_JOB. */
    limits.BasicLimitInformation.LimitFlags =
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_BREAKAWAY_OK;
    if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits,
                                 sizeof limits)) {
        DWORD err = GetLastError();

        CloseHandle(job);
        SetLastError(err);
        return -1;
    }
    worker_job = job; /* held until the process ends */
    return 0;
}
#endif

PyObject *gale_workers_job_add(PyObject *module, PyObject *arg)
{
    unsigned long pid = PyLong_AsUnsignedLong(arg);

    (void)module;
    if (pid == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
#ifdef _WIN32
    {
        HANDLE proc;
        BOOL ok;

        if (worker_job == NULL && make_job() != 0)
            return PyErr_SetExcFromWindowsErrWithFilename(PyExc_OSError, 0, "CreateJobObject");
        proc = OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, FALSE, (DWORD)pid);
        if (proc == NULL)
            return PyErr_SetExcFromWindowsErrWithFilename(PyExc_OSError, 0, "OpenProcess");
        ok = AssignProcessToJobObject(worker_job, proc);
        CloseHandle(proc);
        if (!ok)
            return PyErr_SetExcFromWindowsErrWithFilename(PyExc_OSError, 0,
                                                          "AssignProcessToJobObject");
    }
#endif
    Py_RETURN_NONE;
}

PyObject *gale_workers_die_with_parent(PyObject *module, PyObject *arg)
{
    long ppid = PyLong_AsLong(arg);

    (void)module;
    if (ppid == -1 && PyErr_Occurred())
        return NULL;
#ifdef __linux__
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    /* A parent that died before the call above has already handed us to
     * another (init, or a subreaper): no signal will come. */
    return PyBool_FromLong(getppid() == (pid_t)ppid);
#else
    Py_RETURN_TRUE;
#endif
}
