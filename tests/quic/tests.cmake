# QUIC decryption and HTTP/3 against real captures (docs/quic.md), label "quic":
#  - quic-captures: the tests/data/quic fixtures audited with and without
#    their key logs (fields, flows.jsonl quic object, byte accounting);
#  - quic-crosscheck: the decrypted stream bytes equal tshark's with the
#    same key log.
find_package(Python3 REQUIRED COMPONENTS Interpreter)

add_executable(quic-streams ${CMAKE_CURRENT_LIST_DIR}/quic-streams.c)
target_link_libraries(quic-streams PRIVATE privaudit_core)

add_test(NAME quic-captures
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/captures.py
          --privaudit $<TARGET_FILE:privaudit> --source ${CMAKE_SOURCE_DIR}
          --work ${CMAKE_CURRENT_BINARY_DIR}/quic-captures)

# The captures tshark 4.0 can decrypt whole: it knows no v2 draft
# (0x709a50c4), and reads a GSO buffer of the sending host (h3-keyupdate,
# h3-migrate: many packets in one "datagram") as its first packet only.
file(GLOB pa_quic_fixtures ${CMAKE_SOURCE_DIR}/tests/data/quic/h3-v1*.pcap)
add_test(NAME quic-crosscheck
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/crosscheck.py
          --streams $<TARGET_FILE:quic-streams> --port 4433 ${pa_quic_fixtures})

set_tests_properties(quic-captures quic-crosscheck PROPERTIES
  LABELS quic TIMEOUT 600
  ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1")
