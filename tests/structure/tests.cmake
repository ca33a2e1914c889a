# Structure of src/: the folders (one per stage or shared layer) include each
# other without a cycle (docs/architecture.md, "Folders and what they may
# include").
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME structure-include-cycles
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/include-cycles.py ${CMAKE_SOURCE_DIR}/src)
# The checker itself: it has to find each kind of cycle, and only cycles.
add_test(NAME structure-include-cycles-selftest
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_include_cycles.py)
set_tests_properties(structure-include-cycles structure-include-cycles-selftest
  PROPERTIES LABELS structure)
