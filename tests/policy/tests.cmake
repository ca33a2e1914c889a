# Policy quotes: every clause quote of policies/*.yaml occurs verbatim
# (whitespace aside) in the policy text it models, ../shared/seeds/<source>.
add_executable(policy-quote-check ${CMAKE_CURRENT_LIST_DIR}/quote_check.c)
target_link_libraries(policy-quote-check PRIVATE privaudit_core)

get_filename_component(PA_SEEDS_DIR ${CMAKE_SOURCE_DIR}/../shared/seeds ABSOLUTE)
file(GLOB PA_POLICY_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/policies/*.yaml)
add_test(NAME policy-quotes
  COMMAND policy-quote-check ${PA_SEEDS_DIR} ${PA_POLICY_FILES})
set_tests_properties(policy-quotes PROPERTIES LABELS unit)

# The check must be able to fail: a policy whose one quote is not in its
# source exits 1 (quote missing), and only 1 passes here; 2 (unreadable seeds
# or policy) is a failure of this test too.
add_test(NAME policy-quotes-detects-invented-quote
  COMMAND ${PA_EXPECT_EXIT} 1 $<TARGET_FILE:policy-quote-check> ${PA_SEEDS_DIR}
          ${CMAKE_CURRENT_LIST_DIR}/invented-quote.yaml)
set_tests_properties(policy-quotes-detects-invented-quote PROPERTIES LABELS unit)

# `privaudit check` on recipient catalogues: the shipped one passes; a broken
# one reports a covered domain, a shadowing pattern, a duplicate host, a
# verified source without its URL and missing fields, each at its line.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME policy-check-catalogue
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/check_catalogue.py $<TARGET_FILE:privaudit>
          ${CMAKE_SOURCE_DIR})
set_tests_properties(policy-check-catalogue PROPERTIES LABELS unit)

# An HTTP Host with a port is the same recipient as the bare host (a real
# capture from ../shared: sdk.xinxiansk.com:8100); the port stays in
# flows.jsonl. Skipped (77) without the shared capture.
add_test(NAME policy-host-port-recipient
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/host_port.py $<TARGET_FILE:privaudit>
          ${PA_SHARED_DIR}/captures/suricata-verify_http-encoding-gzip-uncompressed_input.pcap
          ${CMAKE_CURRENT_BINARY_DIR}/host-port)
set_tests_properties(policy-host-port-recipient PROPERTIES LABELS unit SKIP_RETURN_CODE 77)
