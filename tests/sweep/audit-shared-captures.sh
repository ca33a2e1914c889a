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
# 0/1/4 end an audit normally (4: something could not be verified); 2 only
# for a damaged capture, which report.json must then name (docs/cli.md).
if [ $rc -eq 2 ]; then
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
sys.exit(0 if any(i.get("damaged") or i.get("failed") for i in r["summary"]["inputs"]) else 1)' \
    "$out/report.json" || { echo "privaudit exited 2 without a damaged input"; tail -20 "$out.stderr"; exit 1; }
elif [ $rc -ne 0 ] && [ $rc -ne 1 ] && [ $rc -ne 4 ]; then
  echo "privaudit exited $rc"; tail -20 "$out.stderr"; exit 1
fi
for f in flows.jsonl observations.jsonl findings.jsonl report.json manifest.json; do
  [ -s "$out/$f" ] || { echo "missing or empty: $f"; exit 1; }
done
flows=$(wc -l <"$out/flows.jsonl")
[ "$flows" -gt 5000 ] || { echo "only $flows flows from the shared captures"; exit 1; }
"$bin" verify "$out" >"$out.verify" || { cat "$out.verify"; exit 1; }
# Every record of every shared capture matches docs/schema/ (one type per
# field, nothing left out): the captures hold what the demo does not (VLANs,
# ICMP, GRE, SCTP, damaged files).
python3 "$src/tools/check-schema" "$out" >"$out.schema" || { cat "$out.schema"; exit 1; }
echo "exit $rc, $flows flows, $(wc -l <"$out/findings.jsonl") findings, manifest verified"
