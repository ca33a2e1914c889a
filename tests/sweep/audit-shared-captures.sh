#!/usr/bin/env bash
# audit-shared-captures.sh PRIVAUDIT CAPTURES SOURCE OUT — see tests.cmake.
set -uo pipefail
bin=$1 captures=$2 src=$3 out=$4
# The shared captures are part of the suite: without them this fails.
[ -d "$captures" ] || { echo "FAIL: no shared capture folder at $captures"; exit 1; }
rm -rf "$out"
"$bin" audit --quiet --policy "$src/policies/lanxin.yaml" \
  --device "$src/signatures/devices/lab-phone.yaml" \
  --geoip "$src/tests/data/geoip/lab-country.mmdb" --geoip "$src/tests/data/geoip/lab-asn.mmdb" \
  --out "$out" "$captures" 2>"$out.stderr"
rc=$?
if grep -q -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$out.stderr"; then
  cat "$out.stderr"; exit 1
fi
if [ $rc -gt 1 ]; then
  echo "privaudit exited $rc"; tail -20 "$out.stderr"; exit 1
fi
for f in flows.jsonl observations.jsonl findings.jsonl report.json manifest.json; do
  [ -s "$out/$f" ] || { echo "missing or empty: $f"; exit 1; }
done
flows=$(wc -l <"$out/flows.jsonl")
[ "$flows" -gt 5000 ] || { echo "only $flows flows from the shared captures"; exit 1; }
"$bin" verify "$out" >"$out.verify" || { cat "$out.verify"; exit 1; }
echo "exit $rc, $flows flows, $(wc -l <"$out/findings.jsonl") findings, manifest verified"
