# virtsnap_add_tool(NAME SOURCES...)
# Adds tools/NAME as an installed executable together with its man page
# (man/NAME.pod rendered by pod2man) and its standard tests (--help and
# --version work; --help and the OPTIONS section of the page name the same
# options, both ways), so no tool exists without them.
find_program(POD2MAN pod2man REQUIRED)

function(virtsnap_add_tool name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE virtsnap::libsnap)
  install(TARGETS ${name} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  virtsnap_split_debug_info(${name})

  set(pod ${PROJECT_SOURCE_DIR}/man/${name}.pod)
  set(page ${PROJECT_BINARY_DIR}/man/${name}.1)
  if(NOT EXISTS ${pod})
    message(FATAL_ERROR "tool ${name} has no man page: ${pod}")
  endif()
  virtsnap_add_man_page(${name} 1)

  add_test(NAME ${name}-standard-options
           COMMAND ${PROJECT_SOURCE_DIR}/tests/check-tool-options.sh $<TARGET_FILE:${name}> ${page} ${pod})
  set_tests_properties(${name}-standard-options PROPERTIES LABELS unit)
endfunction()

# virtsnap_add_man_page(NAME SECTION): man/NAME.pod -> build/man/NAME.SECTION
function(virtsnap_add_man_page name section)
  set(pod ${PROJECT_SOURCE_DIR}/man/${name}.pod)
  set(page ${PROJECT_BINARY_DIR}/man/${name}.${section})
  add_custom_command(
    OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND ${POD2MAN} --errors=die --section=${section} --center=virtsnap
            --release=virtsnap-${PROJECT_VERSION} --name=${name} ${pod} ${page}
    DEPENDS ${pod}
    VERBATIM)
  add_custom_target(man-${name} ALL DEPENDS ${page})
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endfunction()

# virtsnap_split_debug_info(TARGET): moves the executable's debug info into
# TARGET.debug beside it (found by gdb through a debug link). Left in, ten MiB
# of DWARF sit next to the code in the file, and the page faults of a cold
# start read them too: a tool run after its pages left the cache read 20 MiB
# instead of 10 (/proc/diskstats), in every step of a pipeline.
function(virtsnap_split_debug_info target)
  if(NOT CMAKE_OBJCOPY)
    return()
  endif()
  add_custom_command(
    TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_OBJCOPY} --only-keep-debug $<TARGET_FILE:${target}> $<TARGET_FILE:${target}>.debug
    COMMAND ${CMAKE_OBJCOPY} --strip-debug --add-gnu-debuglink=$<TARGET_FILE:${target}>.debug
            $<TARGET_FILE:${target}>
    VERBATIM)
endfunction()
