/* SPDX-License-Identifier: MIT
 *
 * python-smoke.exe: the smallest host of the static Windows CPython, to check
 * a build before Gale's launcher links it.
 *
 *   python-smoke.exe LIBPATH -c CODE [ARG...]
 *   python-smoke.exe LIBPATH SCRIPT.py [ARG...]
 *
 * Starts an isolated interpreter (no PYTHON* variables, no site, no script
 * or current folder on sys.path) whose sys.path is exactly LIBPATH,
 * a folder or zip holding the stdlib, then parses the rest like python.exe
 * does. Exit status is the interpreter's.
 */
#include <Python.h>

#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

static int
smoke_fail(PyConfig *config, PyStatus status)
{
    PyConfig_Clear(config);
    if (PyStatus_IsExit(status)) {
        return status.exitcode;
    }
    Py_ExitStatusException(status);   /* prints the error; does not return */
    return 1;
}

int
wmain(int argc, wchar_t **argv)
{
    if (argc < 3) {
        fwprintf(stderr, L"usage: %ls LIBPATH (-c CODE | SCRIPT) [ARG...]\n",
                 argc > 0 ? argv[0] : L"python-smoke");
        return 2;
    }

    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);

    PyStatus status = PyConfig_SetString(&config, &config.program_name, argv[0]);
    if (PyStatus_Exception(status)) {
        return smoke_fail(&config, status);
    }
    /* On Windows site.py appends sys.prefix itself (the executable's folder)
     * and prefix\Lib\site-packages to sys.path; without site, sys.path is
     * exactly LIBPATH. */
    config.site_import = 0;
    config.module_search_paths_set = 1;
    status = PyWideStringList_Append(&config.module_search_paths, argv[1]);
    if (PyStatus_Exception(status)) {
        return smoke_fail(&config, status);
    }

    /* python.exe's own parsing of everything after LIBPATH: argv[1] is
     * dropped, argv[0] stays as the program name. */
    config.parse_argv = 1;
    argv[1] = argv[0];
    status = PyConfig_SetArgv(&config, argc - 1, argv + 1);
    if (PyStatus_Exception(status)) {
        return smoke_fail(&config, status);
    }

    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status)) {
        return smoke_fail(&config, status);
    }
    PyConfig_Clear(&config);
    return Py_RunMain();
}
