# SPDX-License-Identifier: MIT
#
# gale::python: the static CPython built by cmake/thirdparty.sh, with every
# library its built-in modules need, as CPython's own link of `python` uses
# them. Also GALE_BUILD_PYTHON: that build's interpreter, which runs on the
# build machine and compiles the payload's .pyc (the same for every target).
set(GALE_BUILD_PYTHON "${GALE_CPYTHON_DIR}/python")
add_library(gale::python STATIC IMPORTED GLOBAL)
set_target_properties(gale::python PROPERTIES
    IMPORTED_LOCATION "${GALE_CPYTHON_DIR}/libpython3.13.a"
    INTERFACE_INCLUDE_DIRECTORIES "${GALE_CPYTHON_DIR}/Include;${GALE_CPYTHON_DIR}")
separate_arguments(_py_libs UNIX_COMMAND "${GALE_CPYTHON_LINK_LIBS}")
set_property(TARGET gale::python PROPERTY INTERFACE_LINK_LIBRARIES ${_py_libs})

# The stdlib the payload carries: the source tree's Lib plus the build's
# generated _sysconfigdata module.
set(GALE_STDLIB_DIR "${GALE_CPYTHON_DIR}/Lib")
file(GLOB GALE_STDLIB_EXTRA "${GALE_CPYTHON_DIR}/build/lib.*/_sysconfigdata_*.py")

# Tornado from its sdist, unpacked into the build tree.
set(GALE_TORNADO_SRC "${CMAKE_BINARY_DIR}/tornado-src")
if(NOT EXISTS "${GALE_TORNADO_SRC}/.unpacked-${GALE_TORNADO_SDIST_SHA}")
    file(REMOVE_RECURSE "${GALE_TORNADO_SRC}")
    file(ARCHIVE_EXTRACT INPUT "${GALE_TORNADO_SDIST}" DESTINATION "${GALE_TORNADO_SRC}")
    file(GLOB _tornado_top "${GALE_TORNADO_SRC}/tornado-*")
    file(RENAME "${_tornado_top}" "${GALE_TORNADO_SRC}/sdist")
    # Only the package goes into the payload, not the sdist's setup.py & co.
    file(MAKE_DIRECTORY "${GALE_TORNADO_SRC}/lib")
    file(RENAME "${GALE_TORNADO_SRC}/sdist/tornado" "${GALE_TORNADO_SRC}/lib/tornado")
    file(TOUCH "${GALE_TORNADO_SRC}/.unpacked-${GALE_TORNADO_SDIST_SHA}")
endif()
set(GALE_TORNADO_LIB "${GALE_TORNADO_SRC}/lib")
