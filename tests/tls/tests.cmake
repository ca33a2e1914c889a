# TLS decryption against real captures (docs/tls.md), label "tls":
#  - tls-demo-truth: every value planted inside HTTPS in captures/demo-* is
#    found decrypted, with its field, packet and flow;
#  - tls-crosscheck: the HTTP requests decrypted equal tshark's with the same
#    key log (demo captures and the tests/data/tls fixtures);
#  - tls-secrets-block: a pcapng with an injected Decryption Secrets Block
#    decrypts without --keylog;
#  - evidence-decrypts-alone: tshark, given only a finding's evidence file,
#    shows the decrypted request holding the datum (and does not without the
#    file's secrets block); comments and ns timestamps match the input.
find_package(Python3 REQUIRED COMPONENTS Interpreter)

add_executable(tls-requests ${CMAKE_CURRENT_LIST_DIR}/tls-requests.c)
target_link_libraries(tls-requests PRIVATE privaudit_core)

add_test(NAME tls-demo-truth
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/demo_truth.py
          --privaudit $<TARGET_FILE:privaudit> --source ${CMAKE_SOURCE_DIR}
          --work ${CMAKE_CURRENT_BINARY_DIR}/tls-demo-truth)

file(GLOB pa_tls_demo ${CMAKE_SOURCE_DIR}/captures/demo-*.pcapng)
# HTTP/3 over QUIC has no TLS records: quic-crosscheck compares those bytes.
list(FILTER pa_tls_demo EXCLUDE REGEX "/demo-quic[^/]*$")
file(GLOB pa_tls_fixtures ${CMAKE_SOURCE_DIR}/tests/data/tls/tls1*-h[12].pcap)
set(pa_tls_pairs "")
foreach(p ${pa_tls_demo})
  string(REGEX REPLACE "\\.pcapng$" ".keylog" k ${p})
  list(APPEND pa_tls_pairs "${p}:${k}")
endforeach()
foreach(p ${pa_tls_fixtures}
    ${CMAKE_SOURCE_DIR}/tests/data/tls/tls12-mte-cbc.pcap
    ${CMAKE_SOURCE_DIR}/tests/data/tls/tls12-resume-id.pcap
    ${CMAKE_SOURCE_DIR}/tests/data/tls/tls12-resume-ticket.pcap)
  string(REGEX REPLACE "\\.pcap$" ".keys" k ${p})
  list(APPEND pa_tls_pairs "${p}:${k}")
endforeach()
add_test(NAME tls-crosscheck
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/crosscheck.py
          --requests $<TARGET_FILE:tls-requests> ${pa_tls_pairs})

add_test(NAME tls-secrets-block
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/dsb.py
          --privaudit $<TARGET_FILE:privaudit> --source ${CMAKE_SOURCE_DIR}
          --work ${CMAKE_CURRENT_BINARY_DIR}/tls-secrets-block)

add_test(NAME evidence-decrypts-alone
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/evidence_alone.py
          --privaudit $<TARGET_FILE:privaudit> --source ${CMAKE_SOURCE_DIR}
          --work ${CMAKE_CURRENT_BINARY_DIR}/evidence-decrypts-alone)

set_tests_properties(tls-demo-truth tls-crosscheck tls-secrets-block evidence-decrypts-alone PROPERTIES
  LABELS tls TIMEOUT 600 SKIP_RETURN_CODE 77
  ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1")
