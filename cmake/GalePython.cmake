# SPDX-License-Identifier: MIT
#
# gale::python: the static CPython that cmake/thirdparty.sh built for this
# target, with every library its built-in modules need. Also:
#   GALE_BUILD_PYTHON  the linux-x86_64 build's interpreter, which runs on the
#                      build machine and compiles the payload's .pyc (the
#                      same for every target: one CPython version)
#   GALE_STDLIB_DIR    the stdlib the payload carries (the pristine Lib/)
#   GALE_STDLIB_EXTRA  generated stdlib files to carry too
#   GALE_TORNADO_LIB   a folder holding only the tornado package
add_library(gale::python STATIC IMPORTED GLOBAL)
if(WIN32)
    # cmake/cpython's install: libpython3.13.a, headers, and its link list.
    include("${GALE_CPYTHON_DIR}/gale-cpython.cmake")
    set_target_properties(gale::python PROPERTIES
        IMPORTED_LOCATION "${GALE_CPYTHON_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${GALE_CPYTHON_INCLUDE_DIRS}")
    set(_host_python "${GALE_HOST_CPYTHON_DIR}")
else()
    set_target_properties(gale::python PROPERTIES
        IMPORTED_LOCATION "${GALE_CPYTHON_DIR}/libpython3.13.a"
        INTERFACE_INCLUDE_DIRECTORIES "${GALE_CPYTHON_DIR}/Include;${GALE_CPYTHON_DIR}")
    set(_host_python "${GALE_CPYTHON_DIR}")
endif()
# Linux's sysconfig needs the Linux build's _sysconfigdata_*; Windows' never
# reads it. Every target's payload carries it, so the library is the same
# everywhere and `gale pack --target linux-x86_64` works from gale.exe.
file(GLOB GALE_STDLIB_EXTRA "${_host_python}/build/lib.*/_sysconfigdata_*.py")
# Both builds describe their link libraries as one command-line string.
separate_arguments(_py_libs UNIX_COMMAND "${GALE_CPYTHON_LINK_LIBS}")
set_property(TARGET gale::python PROPERTY INTERFACE_LINK_LIBRARIES ${_py_libs})
set(GALE_BUILD_PYTHON "${_host_python}/python")
set(GALE_STDLIB_DIR "${_host_python}/Lib")

# Tornado from its sdist, unpacked into the build tree, with the dist-info
# an installer would write beside it (the sdist's PKG-INFO as METADATA, its
# license file) and the pinned sdist's name and SHA-256 (gale-source.json),
# which `gale sbom` reports for it.
set(GALE_TORNADO_SRC "${CMAKE_BINARY_DIR}/tornado-src")
if(NOT EXISTS "${GALE_TORNADO_SRC}/.unpacked-v2-${GALE_TORNADO_SDIST_SHA}")
    file(REMOVE_RECURSE "${GALE_TORNADO_SRC}")
    file(ARCHIVE_EXTRACT INPUT "${GALE_TORNADO_SDIST}" DESTINATION "${GALE_TORNADO_SRC}")
    file(GLOB _tornado_top "${GALE_TORNADO_SRC}/tornado-*")
    file(RENAME "${_tornado_top}" "${GALE_TORNADO_SRC}/sdist")
    # Only the package goes into the payload, not the sdist's setup.py & co.
    file(MAKE_DIRECTORY "${GALE_TORNADO_SRC}/lib")
    file(RENAME "${GALE_TORNADO_SRC}/sdist/tornado" "${GALE_TORNADO_SRC}/lib/tornado")
    file(STRINGS "${GALE_TORNADO_SRC}/sdist/PKG-INFO" _tv REGEX "^Version: " LIMIT_COUNT 1)
    string(REGEX REPLACE "^Version: *" "" _tv "${_tv}")
    set(_di "${GALE_TORNADO_SRC}/lib/tornado-${_tv}.dist-info")
    file(MAKE_DIRECTORY "${_di}/licenses")
    file(COPY_FILE "${GALE_TORNADO_SRC}/sdist/PKG-INFO" "${_di}/METADATA")
    file(COPY_FILE "${GALE_TORNADO_SRC}/sdist/LICENSE" "${_di}/licenses/LICENSE")
    get_filename_component(_sdist_name "${GALE_TORNADO_SDIST}" NAME)
    file(WRITE "${_di}/gale-source.json"
        "{\"file\": \"${_sdist_name}\", \"sha256\": \"${GALE_TORNADO_SDIST_SHA}\"}\n")
    file(TOUCH "${GALE_TORNADO_SRC}/.unpacked-v2-${GALE_TORNADO_SDIST_SHA}")
endif()
set(GALE_TORNADO_LIB "${GALE_TORNADO_SRC}/lib")

# packaging and installer, from their pinned wheels (cmake/pins.txt), for
# `gale pack` to install an app's dependencies (pylib/gale/pack/deps.py).
# Unpacked as an installer would, with each wheel's name and SHA-256 in its
# dist-info (gale-source.json) for the SBOM.
set(GALE_PACK_LIB "${CMAKE_BINARY_DIR}/pack-lib")
string(SHA256 _pack_key "${GALE_PACK_WHEELS}")
if(NOT EXISTS "${GALE_PACK_LIB}/.unpacked-${_pack_key}")
    file(REMOVE_RECURSE "${GALE_PACK_LIB}")
    foreach(_wheel IN LISTS GALE_PACK_WHEELS)
        file(ARCHIVE_EXTRACT INPUT "${_wheel}" DESTINATION "${GALE_PACK_LIB}")
        get_filename_component(_wheel_name "${_wheel}" NAME)
        string(REGEX REPLACE "^([^-]+)-([^-]+)-.*$" "\\1-\\2.dist-info" _di "${_wheel_name}")
        file(SHA256 "${_wheel}" _wheel_sha)
        file(WRITE "${GALE_PACK_LIB}/${_di}/gale-source.json"
            "{\"file\": \"${_wheel_name}\", \"sha256\": \"${_wheel_sha}\"}\n")
    endforeach()
    file(TOUCH "${GALE_PACK_LIB}/.unpacked-${_pack_key}")
endif()
