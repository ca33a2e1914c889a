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

# Community ID v1 in flows.jsonl and findings against tshark's (skipped
# without tshark): IPv4 and IPv6, TCP and UDP.
add_test(NAME cli-community-id
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/community_id_check.py $<TARGET_FILE:privaudit>
          ${CMAKE_CURRENT_BINARY_DIR}/community-id
          ${CMAKE_SOURCE_DIR}/captures/demo-lanxin-leaky.pcapng
          ${PA_SHARED_DIR}/captures/arkime_v6.pcap
          ${PA_SHARED_DIR}/captures/ndpi_http_ipv6.pcap
          ${PA_SHARED_DIR}/captures/ndpi_custom_rules_ipv6.pcapng)
set_tests_properties(cli-community-id PROPERTIES LABELS cli TIMEOUT 300 SKIP_RETURN_CODE 77)
