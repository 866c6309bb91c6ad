# SPDX-License-Identifier: MIT
#
# gale_windows_host(TARGET): what makes the launcher a proper Windows
# program: wmain with wide argv (-municode), everything static (no
# libwinpthread or libgcc DLLs), and the resources of launcher/win/gale.rc:
# manifest, icon (drawn by cmake/make_icon.py) and version information.
function(gale_windows_host target)
    set(_ico "${CMAKE_BINARY_DIR}/gale.ico")
    add_custom_command(
        OUTPUT "${_ico}"
        COMMAND "${GALE_BUILD_PYTHON}" "${CMAKE_SOURCE_DIR}/cmake/make_icon.py" "${_ico}"
        DEPENDS "${CMAKE_SOURCE_DIR}/cmake/make_icon.py"
        COMMENT "Drawing gale.ico"
        VERBATIM)
    # The Event Log's message table (cmake/make_messages.py).
    set(_msg "${CMAKE_BINARY_DIR}/gale-messages.bin")
    add_custom_command(
        OUTPUT "${_msg}"
        COMMAND "${GALE_BUILD_PYTHON}" "${CMAKE_SOURCE_DIR}/cmake/make_messages.py" "${_msg}"
        DEPENDS "${CMAKE_SOURCE_DIR}/cmake/make_messages.py"
        COMMENT "Writing the message table"
        VERBATIM)
    add_custom_target(${target}_icon DEPENDS "${_ico}" "${_msg}")
    add_dependencies(${target} ${target}_icon)

    # Versions for the version resource, from the pins.
    file(STRINGS "${CMAKE_SOURCE_DIR}/cmake/pins.txt" _pins REGEX "^[a-z]")
    foreach(_line IN LISTS _pins)
        string(REGEX MATCH "^([a-z]+)[ ]+([^ ]+)" _m "${_line}")
        string(TOUPPER "${CMAKE_MATCH_1}" _name)
        set(_ver_${_name} "${CMAKE_MATCH_2}")
    endforeach()

    target_sources(${target} PRIVATE "${CMAKE_SOURCE_DIR}/launcher/win/gale.rc")
    set_source_files_properties("${CMAKE_SOURCE_DIR}/launcher/win/gale.rc" PROPERTIES
        OBJECT_DEPENDS "${_ico};${_msg};${CMAKE_SOURCE_DIR}/launcher/win/gale.manifest"
        COMPILE_DEFINITIONS
        "GALE_VERSION_MAJOR=${PROJECT_VERSION_MAJOR};GALE_VERSION_MINOR=${PROJECT_VERSION_MINOR};GALE_VERSION_PATCH=${PROJECT_VERSION_PATCH};GALE_VERSION=\"${PROJECT_VERSION}\";GALE_PYTHON_VERSION=\"${_ver_CPYTHON}\";GALE_TORNADO_VERSION=\"${_ver_TORNADO}\";GALE_OPENSSL_VERSION=\"${_ver_OPENSSL}\";GALE_SQLITE_VERSION=\"${_ver_SQLITE}\";GALE_ZLIB_VERSION=\"${_ver_ZLIB}\";GALE_ICON_PATH=\"${_ico}\";GALE_MESSAGES_PATH=\"${_msg}\"")
    target_link_options(${target} PRIVATE -municode -static)
endfunction()
