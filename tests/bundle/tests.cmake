# The evidence bundle (label "bundle"): tests/bundle/bundle-test.py audits the
# demo captures into folders and checks what the bundle holds and what
# `privaudit verify` answers: a stale folder, a full disk (a file-size limit),
# tampered and hostile manifests (../, absolute paths, symbolic links, a FIFO,
# /dev/zero, unlisted and missing files, a finding without its evidence), a
# forged digest on report.html or in the manifest (inputs_and_outputs_digest),
# Ed25519 and SM2 signatures, an RFC 3161 time-stamp from a local authority
# the test makes with openssl, --bundle-inputs and verify --inputs.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME bundle-verify
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/bundle-test.py
          --privaudit $<TARGET_FILE:privaudit>
          --source ${CMAKE_SOURCE_DIR}
          --work ${CMAKE_CURRENT_BINARY_DIR}/bundle-work)
set_tests_properties(bundle-verify PROPERTIES LABELS bundle TIMEOUT 600 SKIP_RETURN_CODE 77)
