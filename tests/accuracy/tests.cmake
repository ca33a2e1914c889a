# Signature-engine accuracy (label "accuracy"): every demo capture of
# captures/ audited with the lab phone's profile, observations compared with
# the ground truth the lab wrote (tests/accuracy/check.py, docs/accuracy.md).
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME accuracy-demo-captures
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/check.py
          --privaudit $<TARGET_FILE:privaudit>
          --source ${CMAKE_SOURCE_DIR}
          --captures ${CMAKE_SOURCE_DIR}/captures
          --work ${CMAKE_CURRENT_BINARY_DIR}/accuracy-out
          --json ${CMAKE_CURRENT_BINARY_DIR}/accuracy.json)
# No skip: the binary and the demo captures are part of the tree under test.
set_tests_properties(accuracy-demo-captures PROPERTIES LABELS accuracy TIMEOUT 600)

# The same comparison on fresh lab runs is part of each lab scenario test
# (tests/lab/tests.cmake, label "lab"); tests/accuracy/lab-accuracy.sh runs
# one by hand.
