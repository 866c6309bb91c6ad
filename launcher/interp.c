/* SPDX-License-Identifier: MIT
 *
 * Interpreter configuration and start-up. The interpreter is isolated:
 * PYTHON* variables, the user site, cwd and the script's folder are all
 * ignored, and sys.path is the payload inside this executable and nothing
 * else. Every step goes through PyStatus; "exit" (e.g. from parsing python's
 * own options) is kept apart from "error".
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* first, as CPython requires */

#include "gale.h"
#include "gale_exit.h"
#include "gale_log.h"
#include "gale_module.h"
#include "frozen_boot.h"
#include "platform.h"
#include "speedups.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
extern HMODULE PyWin_DLLhModule;
#endif

#define GALE_IMPORTTIME_ENV "GALE_IMPORTTIME"

#ifndef GALE_VERSION
#error "GALE_VERSION must be defined by the build"
#endif
#ifndef GALE_TARGET
#error "GALE_TARGET must be defined by the build"
#endif

static PyStatus preinitialize(struct gale_ctx *ctx)
{
    PyPreConfig pre;

    PyPreConfig_InitIsolatedConfig(&pre);
    /* UTF-8 everywhere: argv arrives as UTF-8 (main.c), and apps get the
     * same text encoding on Linux and Windows. */
    pre.utf8_mode = 1;
    /* The isolated pre-configuration ignores -X dev; `gale python` honours
     * it as python does, which starts here with the allocators' debug hooks. */
    if (ctx->cli.command == GALE_CMD_PYTHON)
        pre.dev_mode = gale_cli_python_dev_mode(ctx->argc, ctx->argv, ctx->cli.first_arg);
    return Py_PreInitializeFromBytesArgs(&pre, ctx->argc, ctx->argv);
}

/* argv for the interpreter: argv[0] is the executable, then the arguments
 * from ctx->cli.first_arg on; `service run` keeps its two words, which
 * tell the runtime it runs as a service. */
static PyStatus set_argv(PyConfig *config, struct gale_ctx *ctx)
{
    int first = ctx->cli.command == GALE_CMD_SERVICE_RUN ? 1 : ctx->cli.first_arg;
    int n = ctx->argc - first + 1;
    char **argv = PyMem_RawCalloc((size_t)n + 1, sizeof *argv);
    PyStatus status;

    if (argv == NULL)
        return PyStatus_NoMemory();
    argv[0] = ctx->exe_path;
    memcpy(argv + 1, ctx->argv + first, (size_t)(n - 1) * sizeof *argv);
    status = PyConfig_SetBytesArgv(config, n, argv);
    PyMem_RawFree(argv);
    return status;
}

static PyStatus set_home(PyConfig *config, const wchar_t *exe)
{
    const wchar_t *slash = wcsrchr(exe, L'/');
#ifdef _WIN32
    const wchar_t *back = wcsrchr(exe, L'\\');
    if (back != NULL && (slash == NULL || back > slash))
        slash = back;
#endif
    wchar_t *home;
    PyStatus status;

    if (slash == NULL)
        return PyStatus_Ok();
    home = PyMem_RawCalloc((size_t)(slash - exe) + 2, sizeof *home);
    if (home == NULL)
        return PyStatus_NoMemory();
    wcsncpy(home, exe, slash > exe ? (size_t)(slash - exe) : 1);
    status = PyConfig_SetString(config, &config->home, home);
    PyMem_RawFree(home);
    return status;
}

static PyStatus configure(PyConfig *config, struct gale_ctx *ctx)
{
    int python = ctx->cli.command == GALE_CMD_PYTHON;
    wchar_t *path;
    PyStatus status;

    PyConfig_InitIsolatedConfig(config);
    config->pathconfig_warnings = 0;
    config->write_bytecode = 0;
    config->install_signal_handlers = 1;
    /* Not site.py: on Windows it puts the executable's folder on sys.path.
     * `gale python` gets site's interactive builtins from gale.pythonmode. */
    config->site_import = 0;
    config->parse_argv = python;
    /* -1: decided by the command line, as python's -X faulthandler,
     * -X tracemalloc and -X perf (the isolated configuration says 0, which
     * ignores them); dev_mode then follows the pre-configuration, which
     * preinitialize() gave -X dev. */
    if (python) {
        config->dev_mode = -1;
        config->faulthandler = -1;
        config->tracemalloc = -1;
        config->perf_profiling = -1;
    }
    /* -X importtime for every command, for start-up breakdowns (the
     * benchmarks); the isolated interpreter ignores PYTHONPROFILEIMPORTTIME. */
    if (getenv(GALE_IMPORTTIME_ENV) != NULL && strcmp(getenv(GALE_IMPORTTIME_ENV), "1") == 0)
        config->import_time = 1;

    status = PyConfig_SetBytesString(config, &config->executable, ctx->exe_path);
    if (PyStatus_Exception(status))
        return status;
    status = PyConfig_SetBytesString(config, &config->program_name, ctx->exe_path);
    if (PyStatus_Exception(status))
        return status;

    path = Py_DecodeLocale(ctx->exe_path, NULL);
    if (path == NULL)
        return PyStatus_Error("cannot decode the executable's path");
    /* sys.prefix is the executable's folder, not a compiled-in /usr/local:
     * nothing is looked up there, but sysconfig and site report it. */
    status = set_home(config, path);
    if (PyStatus_Exception(status)) {
        PyMem_RawFree(path);
        return status;
    }
    config->module_search_paths_set = 1;
    status = PyWideStringList_Append(&config->module_search_paths, path);
    PyMem_RawFree(path);
    if (PyStatus_Exception(status))
        return status;

    if (!python) {
        /* What `-m gale` would run (gale/__main__.py), without runpy and the
         * importlib machinery it loads before anything of Gale's. */
        status = PyConfig_SetString(config, &config->run_command,
                                    L"import sys\nfrom gale.cli import main\nsys.exit(main())\n");
        if (PyStatus_Exception(status))
            return status;
    }
    status = set_argv(config, ctx);
    if (PyStatus_Exception(status))
        return status;
    return PyConfig_Read(config);
}

/* python's -W options (and those -X dev and -b add) are taken out of the
 * configuration before the interpreter starts: with warnoptions set, start-up
 * imports `warnings` (and for most options `re`) before gale/__init__.py has
 * installed the finder of the payload's code archive, where they live.
 * gale.pythonmode.prepare() applies them once it has. */
static PyStatus take_warnoptions(PyConfig *config, PyWideStringList *out)
{
    PyStatus status;
    Py_ssize_t i;

    for (i = 0; i < config->warnoptions.length; i++) {
        status = PyWideStringList_Append(out, config->warnoptions.items[i]);
        if (PyStatus_Exception(status))
            return status;
    }
    return PyConfig_SetWideStringList(config, &config->warnoptions, 0, NULL);
}

static void clear_wide_list(PyWideStringList *list)
{
    Py_ssize_t i;

    for (i = 0; i < list->length; i++)
        PyMem_RawFree(list->items[i]);
    PyMem_RawFree(list->items);
    list->length = 0;
    list->items = NULL;
}

static PyObject *wide_list(const PyWideStringList *list)
{
    PyObject *out = PyList_New(list->length);
    Py_ssize_t i;

    for (i = 0; out != NULL && i < list->length; i++) {
        PyObject *item = PyUnicode_FromWideChar(list->items[i], -1);
        if (item == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, item);
    }
    return out;
}

/* For `gale python`: the payload's data files as the runtime gives them to
 * an app, the -W options, and site's interactive builtins
 * (gale/pythonmode.py). */
static int prepare_python_mode(const PyWideStringList *warnoptions)
{
    PyObject *result = NULL, *module = PyImport_ImportModule("gale.pythonmode");
    PyObject *options = module != NULL ? wide_list(warnoptions) : NULL;

    if (options != NULL)
        result = PyObject_CallMethod(module, "prepare", "O", options);
    Py_XDECREF(options);
    Py_XDECREF(module);
    if (result == NULL && PyErr_ExceptionMatches(PyExc_SystemExit)) {
        /* gale/__init__.py has said why (a damaged payload) */
        PyErr_Clear();
        return -1;
    }
    if (result == NULL) {
        PyObject *exc = PyErr_GetRaisedException();
        PyObject *text = exc != NULL ? PyObject_Str(exc) : NULL;
        const char *utf8 = text != NULL ? PyUnicode_AsUTF8(text) : NULL;

        PyErr_Clear();
        GALE_ERROR("cannot prepare the interpreter: %s", utf8 != NULL ? utf8 : "unknown error");
        Py_XDECREF(text);
        Py_XDECREF(exc);
        return -1;
    }
    Py_DECREF(result);
    return 0;
}

int gale_interp_run(struct gale_ctx *ctx)
{
    struct gale_module_info info = {
        .version = GALE_VERSION,
        .target = GALE_TARGET,
        .executable = ctx->exe_path,
        .payload_offset = ctx->payload.offset,
        .payload_size = ctx->payload.size,
        .payload_digest = ctx->payload.digest_hex,
        .service_name = ctx->service_name,
        .console = gale_platform_console_prepare(ctx->cli.command == GALE_CMD_PYTHON),
    };
    PyWideStringList warnoptions = {0, NULL};
    PyConfig config;
    PyStatus status;
    int rc = GALE_EXIT_INIT;

    gale_module_configure(&info);
    gale_frozen_boot_install();
    if (PyImport_AppendInittab("_gale", gale_module_init) != 0 ||
        PyImport_AppendInittab("tornado.speedups", gale_speedups_init) != 0) {
        GALE_ERROR("cannot register the built-in modules");
        return GALE_EXIT_INIT;
    }

    status = preinitialize(ctx);
    if (PyStatus_Exception(status))
        goto fail;
    status = configure(&config, ctx);
    if (!PyStatus_Exception(status))
        status = take_warnoptions(&config, &warnoptions);
    if (PyStatus_Exception(status)) {
        PyConfig_Clear(&config);
        goto fail;
    }
#ifdef _WIN32
    /* sys.dllhandle: the module that holds the C API, which is this
     * executable, as it exports it (docs/extensions.md). ctypes.pythonapi
     * finds CPython's functions there, as it finds python313.dll's. The
     * variable lives in native/cpython/static_win.c. */
    PyWin_DLLhModule = GetModuleHandleW(NULL);
#endif
    status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status))
        goto fail;
    if (ctx->cli.command == GALE_CMD_PYTHON && prepare_python_mode(&warnoptions) != 0) {
        Py_Finalize();
        clear_wide_list(&warnoptions);
        return GALE_EXIT_PAYLOAD;
    }
    clear_wide_list(&warnoptions);
    rc = Py_RunMain();
    if (rc == 1 && gale_module_payload_damaged())
        rc = GALE_EXIT_PAYLOAD; /* python's code met a damaged payload */
    gale_platform_console_finish(info.console, rc);
    return rc;

fail:
    clear_wide_list(&warnoptions);
    if (PyStatus_IsExit(status))
        return status.exitcode;
    GALE_ERROR("the interpreter failed to start: %s%s%s",
               status.func ? status.func : "", status.func ? ": " : "",
               status.err_msg ? status.err_msg : "unknown error");
    return rc;
}
