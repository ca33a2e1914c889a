# Evasion captures (label "evasion"): TCP decoys (before the real copy, with
# a bad checksum, out of order), HTTP/1 requests http-parser rejects, bodies
# past the decoder bound, repeated data. tests/evasion/gen.py builds each
# capture at test time; check.py audits it with the lab phone's profile and
# asserts the IMEI is found at the packet that carried it (or reported as
# unread), that the byte counters add up, and that conflicts are reported.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME evasion-captures
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/check.py
          --privaudit $<TARGET_FILE:privaudit>
          --source ${CMAKE_SOURCE_DIR}
          --work ${CMAKE_CURRENT_BINARY_DIR}/evasion-out)
set_tests_properties(evasion-captures PROPERTIES LABELS evasion TIMEOUT 600)
