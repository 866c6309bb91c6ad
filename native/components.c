/* SPDX-License-Identifier: MIT
 *
 * What this host is built from, for `gale --version` and `gale sbom`
 * (pylib/gale/pack/sbom.py). The components record is generated at build time
 * from cmake/pins.txt (cmake/components.py) and compiled in behind a
 * marker, so `gale pack` can read it from any host template's bytes
 * without running it, including one built for another target. The linked
 * libraries' own answers about their versions sit beside it: the tests
 * compare the two, so a record that drifts from what is linked fails.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* first, as CPython requires */

#include "components.h"
#include "gale_components.h" /* generated: GALE_COMPONENTS_JSON */

#include <bzlib.h>
#include <ffi.h>
#include <lzma.h>

/* The marker must stay byte-for-byte what pylib/gale/pack/sbom.py searches for,
 * and appear nowhere else in the host. The record ends at its NUL. */
#define GALE_COMPONENTS_MARKER "\nGALE-COMPONENTS-1\n"

const char gale_components_record[] = GALE_COMPONENTS_MARKER GALE_COMPONENTS_JSON;

static int add_linked_versions(PyObject *module)
{
    /* libffi 3.5 and later report their version (Debian 12's 3.4.4 does not). */
#ifdef FFI_VERSION_STRING
    PyObject *versions = Py_BuildValue(
        "{ssssss}", "bzip2", BZ2_bzlibVersion(), "xz", lzma_version_string(),
        "libffi", ffi_get_version());
#else
    PyObject *versions = Py_BuildValue(
        "{ssss}", "bzip2", BZ2_bzlibVersion(), "xz", lzma_version_string());
#endif

    return PyModule_Add(module, "linked_versions", versions);
}

int gale_components_add(PyObject *module)
{
    const char *json = gale_components_record + sizeof GALE_COMPONENTS_MARKER - 1;

    if (PyModule_AddStringConstant(module, "components", json) < 0)
        return -1;
    return add_linked_versions(module);
}
