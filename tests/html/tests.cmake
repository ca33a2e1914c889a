# report.html in headless Chromium: the audit of the bundled Lanxin demo
# capture renders, is not blank, lays out and paints both SVG drawings, and
# shows every finding of findings.jsonl. Exit 77 (skip) without Chromium
# (Debian package chromium).
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME html-report-chromium
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/check-report
          --privaudit $<TARGET_FILE:privaudit>
          --source ${CMAKE_SOURCE_DIR}
          --work ${CMAKE_CURRENT_BINARY_DIR}/html-report)
set_tests_properties(html-report-chromium PROPERTIES LABELS html TIMEOUT 300 SKIP_RETURN_CODE 77)

# The report document test-report-html.c renders is made by the tool
# (tools/make-report-fixture): made again by today's privaudit, it must equal
# the committed tests/data/report/lanxin-leaky.json. A change of the report's
# content fails here until the fixture is regenerated and the diff reviewed.
add_test(NAME report-fixture-current
  COMMAND ${CMAKE_SOURCE_DIR}/tools/make-report-fixture --check $<TARGET_FILE:privaudit>)
set_tests_properties(report-fixture-current PROPERTIES LABELS report TIMEOUT 300
  ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1")
