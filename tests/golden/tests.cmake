# Golden flow regression: privaudit's flows.jsonl for every capture of
# ../shared/captures that has tests/golden/expected/<capture>.json must match
# what tshark saw (5-tuple, packets/bytes/payload per direction, TLS SNI, DNS
# names), documented differences aside. See docs/golden-tests.md.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
# The binary compared: by default the one built here; tools/test points it
# at the optimised build (one process per capture: start-up time dominates).
set(PA_GOLDEN_BINARY "" CACHE FILEPATH "privaudit binary the golden test runs (default: this build's)")
if(PA_GOLDEN_BINARY)
  set(pa_golden_bin ${PA_GOLDEN_BINARY})
else()
  set(pa_golden_bin $<TARGET_FILE:privaudit>)
endif()

add_test(NAME golden-flows
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/run
          --privaudit ${pa_golden_bin}
          --captures ${PA_SHARED_DIR}/captures
          --expected ${CMAKE_CURRENT_LIST_DIR}/expected
          --work ${CMAKE_CURRENT_BINARY_DIR}/golden-out
          -j 2)
# No skip: a missing shared capture folder fails the test.
set_tests_properties(golden-flows PROPERTIES LABELS golden TIMEOUT 1800
  ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

# The comparer itself: it has to catch each kind of difference.
add_test(NAME golden-compare-selftest
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_compare.py)
set_tests_properties(golden-compare-selftest PROPERTIES LABELS golden)
