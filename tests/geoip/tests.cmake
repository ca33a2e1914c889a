# The committed GeoIP fixtures are exactly what tools/make-geoip-fixtures
# builds (it is deterministic): rebuild them into a scratch folder and
# compare. Skipped (exit 77, reason printed) without the Perl writer module.
add_test(NAME geoip-fixtures-reproducible
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/fixtures-reproducible.sh ${CMAKE_SOURCE_DIR}
          ${CMAKE_CURRENT_BINARY_DIR}/geoip-fixtures)
set_tests_properties(geoip-fixtures-reproducible PROPERTIES LABELS geoip SKIP_RETURN_CODE 77)
