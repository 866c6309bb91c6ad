# SPDX-License-Identifier: MIT
#
# gale_add_packed_executable(NAME OUTPUT file [APP dir] [TORNADO_TESTS])
#
# Makes an executable the way `gale pack` does, but at build time: the host
# template plus a payload of the stdlib, Tornado, pylib/gale and the app,
# compiled to .pyc by the build machine's CPython (pylib/gale/pack).
# TORNADO_TESTS also carries tornado.test, for running Tornado's own suite
# inside the host.
function(gale_add_packed_executable name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "TORNADO_TESTS" "OUTPUT;APP" "")
    set(_args build
        --host "$<TARGET_FILE:gale_host>"
        --stdlib "${GALE_STDLIB_DIR}")
    foreach(_extra IN LISTS GALE_STDLIB_EXTRA)
        list(APPEND _args --stdlib-extra "${_extra}")
    endforeach()
    list(APPEND _args --lib "${GALE_TORNADO_LIB}" --lib "${GALE_PACK_LIB}"
        --lib "${CMAKE_SOURCE_DIR}/pylib")
    # The MSI template, for `gale pack --msi` (pylib/gale/pack/msi.py).
    list(APPEND _args --data "${CMAKE_SOURCE_DIR}/installer/gale.wxs=gale/installer/gale.wxs")
    set(_deps gale_host
        "${CMAKE_SOURCE_DIR}/installer/gale.wxs")
    file(GLOB_RECURSE _pylib CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/pylib/*.py")
    list(APPEND _deps ${_pylib})
    if(arg_APP)
        list(APPEND _args --app "${arg_APP}")
        file(GLOB_RECURSE _app CONFIGURE_DEPENDS "${arg_APP}/*")
        list(APPEND _deps ${_app})
    endif()
    if(arg_TORNADO_TESTS)
        list(APPEND _args --include-tornado-tests)
    endif()
    if(GALE_LIBRARY_DOCSTRINGS)
        list(APPEND _args --keep-docstrings)
    endif()
    add_custom_command(
        OUTPUT "${arg_OUTPUT}"
        COMMAND "${GALE_BUILD_PYTHON}" "${CMAKE_SOURCE_DIR}/pylib/gale/pack" ${_args} -o "${arg_OUTPUT}"
        DEPENDS ${_deps}
        COMMENT "Packing ${arg_OUTPUT}"
        VERBATIM)
    add_custom_target(${name} ALL DEPENDS "${arg_OUTPUT}")
endfunction()
