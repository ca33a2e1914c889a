# The command line (tests/cli/cli_test.py): GNU option parsing, --help of
# every subcommand, docs/cli.md and README against --help, standard input,
# the progress line, --json, and an installation into a temporary prefix.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
foreach(case options help docs stdin stream progress json install)
  add_test(NAME cli-${case}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/cli_test.py $<TARGET_FILE:privaudit>
            ${CMAKE_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/cli-${case} ${case} ${CMAKE_BINARY_DIR})
  set_tests_properties(cli-${case} PROPERTIES LABELS cli TIMEOUT 300)
endforeach()
