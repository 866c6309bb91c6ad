# SPDX-License-Identifier: MIT
#
# Reads the C source lists of CPython's own Windows build (PCbuild/*.vcxproj)
# so the static Windows build compiles what upstream compiles for the pinned
# version, instead of a hand-kept list that drifts. This file owns only the
# parsing; what to do with the lists (which files to drop or replace, which
# per-file flags to add) is decided in CMakeLists.txt.

# gale_vcxproj_sources(SRC PROJECT OUTVAR [MACRO name=dir ...])
#
# Sets OUTVAR to the absolute paths of the <ClCompile Include="..."> items of
# SRC/PCbuild/PROJECT.vcxproj, in file order. Paths are relative to PCbuild
# (..\Modules\x.c). An item that starts with an MSBuild property such as
# $(mpdecimalDir) is kept only when MACRO maps that property to a folder
# (relative to SRC); otherwise it names an external project that Gale builds
# elsewhere (zlib, SQLite, OpenSSL) and is dropped. A mapped or listed file
# that does not exist is a fatal error: the pinned CPython changed.
function(gale_vcxproj_sources src project outvar)
    cmake_parse_arguments(PARSE_ARGV 3 arg "" "" "MACRO")
    set(proj "${src}/PCbuild/${project}.vcxproj")
    if(NOT EXISTS "${proj}")
        message(FATAL_ERROR "gale_vcxproj_sources: ${proj} does not exist")
    endif()
    file(STRINGS "${proj}" lines REGEX "<ClCompile Include=\"[^\"]+\"")
    set(out "")
    foreach(line IN LISTS lines)
        string(REGEX REPLACE ".*<ClCompile Include=\"([^\"]+)\".*" "\\1" item "${line}")
        string(REPLACE "\\" "/" item "${item}")
        if(item MATCHES "^\\$\\(([A-Za-z0-9_]+)\\)/*(.*)$")
            set(macro "${CMAKE_MATCH_1}")
            set(rest "${CMAKE_MATCH_2}")
            set(mapped "")
            foreach(m IN LISTS arg_MACRO)
                if(m MATCHES "^${macro}=(.*)$")
                    set(mapped "${CMAKE_MATCH_1}")
                endif()
            endforeach()
            if(mapped STREQUAL "")
                continue()
            endif()
            # The external trees keep the sources under a subfolder
            # ($(mpdecimalDir)\libmpdec\x.c); the bundled copy is flat.
            get_filename_component(name "${rest}" NAME)
            set(path "${src}/${mapped}/${name}")
        elseif(item MATCHES "^\\.\\./(.*)$")
            set(path "${src}/${CMAKE_MATCH_1}")
        else()
            message(FATAL_ERROR "gale_vcxproj_sources: ${project}.vcxproj: unexpected item ${item}")
        endif()
        if(NOT EXISTS "${path}")
            message(FATAL_ERROR "gale_vcxproj_sources: ${project}.vcxproj names ${item}, but ${path} does not exist")
        endif()
        list(APPEND out "${path}")
    endforeach()
    if(out STREQUAL "")
        message(FATAL_ERROR "gale_vcxproj_sources: no C sources found in ${proj}")
    endif()
    set(${outvar} "${out}" PARENT_SCOPE)
endfunction()

# gale_vcxproj_files_with_metadata(SRC PROJECT OUTVAR)
#
# The file names of the <ClCompile> items that carry their own settings (a
# non-empty element rather than <ClCompile Include="..." />). Upstream gives
# some files extra defines or include folders this way; CMakeLists.txt
# mirrors the ones it knows and uses this list to fail loudly when a new
# version adds one it does not.
function(gale_vcxproj_files_with_metadata src project outvar)
    file(STRINGS "${src}/PCbuild/${project}.vcxproj" lines REGEX "<ClCompile Include=\"[^\"]+\" *>")
    set(out "")
    foreach(line IN LISTS lines)
        string(REGEX REPLACE ".*<ClCompile Include=\"([^\"]+)\".*" "\\1" item "${line}")
        string(REPLACE "\\" "/" item "${item}")
        get_filename_component(name "${item}" NAME)
        list(APPEND out "${name}")
    endforeach()
    set(${outvar} "${out}" PARENT_SCOPE)
endfunction()
