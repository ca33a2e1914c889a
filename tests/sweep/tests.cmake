# The whole pipeline, built with the sanitizers, over every shared capture in
# one process (one continuing timeline), with a policy and a device profile so
# that every stage runs: decode, flows, nDPI, DNS, HTTP, signatures, GeoIP,
# findings, evidence, manifest. Passes when the audit ends normally (exit 0,
# 1 or 4; 2 only with a damaged capture report.json names) without a
# sanitizer report; `privaudit verify` must accept the output.
add_test(NAME audit-shared-captures
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/audit-shared-captures.sh $<TARGET_FILE:privaudit>
          ${PA_SHARED_DIR}/captures ${CMAKE_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/sweep-out)
set_tests_properties(audit-shared-captures PROPERTIES LABELS sanitize TIMEOUT 600
  ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

# Regression: DNS over TCP with a zero length prefix once made the audit loop.
add_test(NAME audit-dns-tcp-empty-message
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/dns-tcp-empty-message.py
          $<TARGET_FILE:privaudit> ${CMAKE_SOURCE_DIR}/signatures/devices/lab-phone.yaml
          ${CMAKE_CURRENT_BINARY_DIR}/dns-tcp-empty)
set_tests_properties(audit-dns-tcp-empty-message PROPERTIES LABELS unit TIMEOUT 120)
