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
set_tests_properties(accuracy-demo-captures PROPERTIES LABELS accuracy TIMEOUT 600
  SKIP_RETURN_CODE 77)

# The same comparison on fresh lab runs (label "lab": root and network
# namespaces; exit 77 = skipped elsewhere): the encodings scenario covers every
# supported encoding and field, the app scenarios the realistic sessions.
foreach(scenario encodings lanxin-leaky lanxin-clean lanhu-leaky lanhu-clean)
  add_test(NAME accuracy-lab-${scenario}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/lab-accuracy.sh $<TARGET_FILE:privaudit>
            ${CMAKE_SOURCE_DIR} ${scenario} ${CMAKE_CURRENT_BINARY_DIR}/accuracy-lab)
  set_tests_properties(accuracy-lab-${scenario} PROPERTIES LABELS lab SKIP_RETURN_CODE 77
    TIMEOUT 300 RUN_SERIAL TRUE)
endforeach()
