# Verdicts an auditor can defend (label "verdicts"): captures built from
# packets by tests/verdicts/check.py — the device never seen, the device
# only receiving, a cut-off capture, a gap in a cleartext request, an opaque
# raw flow, an IMEI in a DNS query name, a hostile HTTP Host — each audited
# against the 蓝信 policy: the datum is found, or the verdict, report.json,
# report.html, the summary and the exit code say it could not be verified.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME verdicts-coverage
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/check.py
          --privaudit $<TARGET_FILE:privaudit>
          --source ${CMAKE_SOURCE_DIR}
          --work ${CMAKE_CURRENT_BINARY_DIR}/verdicts-out)
set_tests_properties(verdicts-coverage PROPERTIES LABELS verdicts TIMEOUT 600)
