# Output schemas (docs/schema/, docs/output.md "Format versions and schemas"),
# label "schema". The lab scenario tests and the shared-capture sweep run
# tools/check-schema over their own outputs too.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
# The schemas are strict: every property required, no other allowed.
add_test(NAME schema-lint
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/check-schema --lint)
# Every demo capture audited as tools/demo does; all five outputs of each
# valid; and wrong records rejected (the check can fail).
add_test(NAME schema-demo-outputs
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/check_outputs.py
          --privaudit $<TARGET_FILE:privaudit> --source ${CMAKE_SOURCE_DIR}
          --work ${CMAKE_CURRENT_BINARY_DIR}/schema-demo)
# docs/output.md and docs/findings.md name exactly the schemas' fields, and
# src/util/format_version.h writes the versions the schemas pin.
add_test(NAME schema-docs
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/check_docs.py ${CMAKE_SOURCE_DIR})
set_tests_properties(schema-lint schema-demo-outputs schema-docs PROPERTIES LABELS schema TIMEOUT 300
  ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
