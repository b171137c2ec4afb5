# virtsnap_add_integration_tests(DIR)
# Each DIR/*.sh is one scenario against the real test bed (libvirtd and a QEMU
# guest with its agent). Exit 77 means a requirement is missing (CTest's
# SKIP_RETURN_CODE); under CI=true tests/functions.sh turns that into a failure.
function(virtsnap_add_integration_tests dir)
  file(GLOB scripts CONFIGURE_DEPENDS ${dir}/*.sh)
  foreach(script ${scripts})
    get_filename_component(name ${script} NAME_WE)
    add_test(NAME ${name} COMMAND bash ${script})
    set_tests_properties(${name} PROPERTIES
      LABELS integration
      SKIP_RETURN_CODE 77
      TIMEOUT 900
      ENVIRONMENT "VIRTSNAP_BUILD_DIR=${PROJECT_BINARY_DIR};VIRTSNAP_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  endforeach()
endfunction()
