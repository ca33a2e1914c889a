# Findings end to end (label "findings"): every demo capture of captures/
# audited with its policy, findings.jsonl compared with the findings derived
# from the lab's ground truth, the policy model and the recipient catalogue
# (tests/findings/expect.py); evidence files against the input packets;
# `privaudit verify` on an intact, a changed and an incomplete bundle; the
# consent moment given and as a marker datagram; CIDR overrides; an audit
# without the key log. docs/findings.md describes what is checked.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME findings-demo-captures
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/check.py
          --privaudit $<TARGET_FILE:privaudit>
          --source ${CMAKE_SOURCE_DIR}
          --captures ${CMAKE_SOURCE_DIR}/captures
          --work ${CMAKE_CURRENT_BINARY_DIR}/findings-out
          --json ${CMAKE_CURRENT_BINARY_DIR}/findings.json)
# Exit 77 (skipped, reason printed): tshark is not installed. A missing demo
# capture fails.
set_tests_properties(findings-demo-captures PROPERTIES LABELS findings TIMEOUT 1200
  SKIP_RETURN_CODE 77)
