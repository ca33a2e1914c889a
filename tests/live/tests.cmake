# Live auditing on the lab's mirror port (label "lab"): tests/live/live-test.sh.
# Root and network namespaces needed; skipped (exit 77) elsewhere. RUN_SERIAL:
# each case brings up its own lab and captures in it.
foreach(case findings kill9 rotation fulldisk)
  add_test(NAME live-${case} COMMAND ${CMAKE_CURRENT_LIST_DIR}/live-test.sh $<TARGET_FILE:privaudit> ${case})
  set_tests_properties(live-${case} PROPERTIES LABELS lab SKIP_RETURN_CODE 77 TIMEOUT 600 RUN_SERIAL TRUE)
endforeach()
# Output folder and key log inside a root-only (0700) folder: results kept
# after the drop to nobody, or refused at start (tests/live/live-private.sh).
foreach(case private refused)
  add_test(NAME live-${case} COMMAND ${CMAKE_CURRENT_LIST_DIR}/live-private.sh $<TARGET_FILE:privaudit> ${case})
  set_tests_properties(live-${case} PROPERTIES LABELS lab SKIP_RETURN_CODE 77 TIMEOUT 600 RUN_SERIAL TRUE)
endforeach()
