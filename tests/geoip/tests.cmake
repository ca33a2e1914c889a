# The committed GeoIP fixtures are exactly what tools/make-geoip-fixtures
# builds (it is deterministic): rebuild them into a scratch folder and compare.
find_program(PERL_EXECUTABLE perl)
if(PERL_EXECUTABLE)
  add_test(NAME geoip-fixtures-reproducible
    COMMAND sh -c "out=$(mktemp -d) && ${PERL_EXECUTABLE} '${CMAKE_SOURCE_DIR}/tools/make-geoip-fixtures' \"$out\" >/dev/null && for f in lab-country lab-country-code lab-country-code-v4 lab-asn; do cmp \"$out/$f.mmdb\" '${CMAKE_SOURCE_DIR}/tests/data/geoip/'$f.mmdb || exit 1; done; rm -rf \"$out\"")
  set_tests_properties(geoip-fixtures-reproducible PROPERTIES LABELS geoip)
endif()
