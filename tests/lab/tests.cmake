# Lab tests (label "lab"): real traffic in network namespaces (tools/lab,
# docs/lab.md). They need root and ip netns; elsewhere they report SKIPPED
# (exit 77), never passed. RUN_SERIAL: each run brings up its own namespaces
# and servers; the 2-core machines run them one at a time.
set(PA_LAB_TEST ${CMAKE_CURRENT_LIST_DIR}/lab-test.sh)
set(PA_LAB_CASES setup-teardown dns)
foreach(case ${PA_LAB_CASES})
  add_test(NAME lab-${case} COMMAND ${PA_LAB_TEST} ${case})
endforeach()
# Each scenario run is also checked by the signature engine's accuracy check
# (tests/accuracy/check.py) on that fresh capture: one lab run, both checks.
foreach(scenario lanxin-leaky lanxin-clean lanhu-leaky lanhu-clean encodings)
  add_test(NAME lab-scenario-${scenario}
    COMMAND ${PA_LAB_TEST} scenario ${scenario} $<TARGET_FILE:privaudit>)
  list(APPEND PA_LAB_CASES scenario-${scenario})
endforeach()
add_test(NAME lab-scenario-smoke COMMAND ${PA_LAB_TEST} scenario smoke)
list(APPEND PA_LAB_CASES scenario-smoke)
# Decryption: the scenario, then privaudit audit --keylog must find every
# value planted inside TLS in the right field, flow and packet.
add_test(NAME lab-tls-matrix COMMAND ${PA_LAB_TEST} tls tls-matrix $<TARGET_FILE:privaudit>)
list(APPEND PA_LAB_CASES tls-matrix)
# QUIC: the matrix scenario with tshark and the lab's own decryption agreeing
# on every stream byte; then privaudit on a fresh run of it (skipped, exit
# 77, while privaudit decrypts no QUIC).
add_test(NAME lab-quic-matrix COMMAND ${PA_LAB_TEST} quic quic-matrix)
add_test(NAME lab-quic-decrypt COMMAND ${PA_LAB_TEST} quic-decrypt quic-matrix $<TARGET_FILE:privaudit>)
list(APPEND PA_LAB_CASES quic-matrix quic-decrypt)
foreach(case ${PA_LAB_CASES})
  set_tests_properties(lab-${case} PROPERTIES LABELS lab SKIP_RETURN_CODE 77
    TIMEOUT 900 RUN_SERIAL TRUE)
endforeach()
set_tests_properties(lab-quic-matrix lab-quic-decrypt PROPERTIES LABELS "lab;quic")
# The ground-truth tools on a hand-built capture (no root): a port reused
# for a second connection to one server keeps its own bytes.
add_test(NAME lab-truth-selftest
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_truth.py)
set_tests_properties(lab-truth-selftest PROPERTIES LABELS unit)
# The quiet wait's packet counting (tools/lab/taps-quiet.py) on hand-built
# pcapng files (no root): cut blocks, consent markers, ring folders.
add_test(NAME lab-taps-quiet-selftest
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_taps_quiet.py)
set_tests_properties(lab-taps-quiet-selftest PROPERTIES LABELS unit)
# The QUIC ground-truth tools (no root): QPACK on the RFC examples, tshark
# and the lab's own QUIC decryption agreeing on captures/demo-quic, and its
# ground truth relocating to the same packets.
add_test(NAME lab-quic-tools-selftest
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_quic_tools.py)
set_tests_properties(lab-quic-tools-selftest PROPERTIES LABELS "unit;quic" SKIP_RETURN_CODE 77)
# The lab phone's HTTP/3 client is built by the lab itself
# (tools/lab/quic_clients.py, into each run's directory); it is built here
# too, with the project's warnings, so a change that breaks it shows in
# every test build and not only in a root lab run. Optional: without the
# ngtcp2/nghttp3 headers the lab's QUIC tests skip.
pkg_check_modules(PA_LAB_QUIC QUIET IMPORTED_TARGET
  libngtcp2 libngtcp2_crypto_gnutls libnghttp3 gnutls jansson)
if(PA_LAB_QUIC_FOUND)
  add_executable(lab-h3client ${CMAKE_SOURCE_DIR}/tools/lab/quic/h3client.c)
  target_link_libraries(lab-h3client PRIVATE PkgConfig::PA_LAB_QUIC)
endif()
