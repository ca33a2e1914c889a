#!/usr/bin/env bash
# tests/lab/lab-test.sh TEST [ARG] — the lab's ctest cases (label "lab").
# Exit 77 (ctest SKIP_RETURN_CODE) when the lab cannot run here: not root, or
# network namespaces/veth unavailable. Never reports a pass it did not check.
#   setup-teardown   the lab comes up with its servers and leaves nothing behind
#   dns              the lab DNS server answers the host catalogue
#   scenario NAME [PRIVAUDIT]  capture + key log + ground truth, every datum
#                    located, monitor capture = phone capture packet for packet;
#                    with PRIVAUDIT, its observations match the ground truth
#   tls NAME PRIVAUDIT  the scenario checks, then `privaudit audit --keylog`
#                    finds every value planted inside TLS (tls-check.py)
#   quic NAME        the scenario checks, then tshark and the lab's own QUIC
#                    decryption agree on every decrypted stream byte
#                    (tools/lab/quic-stream-bytes.py --engine=both)
#   quic-decrypt NAME PRIVAUDIT  the scenario checks, then privaudit finds
#                    every value planted inside QUIC and decrypts the same
#                    stream bytes (quic-check.py; 77 while it decrypts no QUIC)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tools/lab/lab-env.sh"
lab_supported || { echo "SKIP: lab needs root and working ip netns/veth"; exit 77; }
command -v dumpcap >/dev/null && command -v dnsmasq >/dev/null && command -v nginx >/dev/null ||
	{ echo "SKIP: dumpcap, dnsmasq or nginx missing (tools/deps)"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d /tmp/pa-labtest.XXXXXX)
trap 'rm -rf "$work"' EXIT

case ${1:-} in
setup-teardown)
	LAB_QUIET=1
	( lab_init "$work/run"; trap lab_down EXIT; lab_up; lab_servers_start
	  echo "$LAB_ID" >"$work/id"; cp "$LAB_RUN/pids" "$work/pids"
	  [ "$(ip netns list | grep -c "^pa$LAB_ID-")" -eq 4 ] || exit 3 ) || fail "lab did not come up"
	id=$(cat "$work/id")
	ip netns list | grep -q "^pa$id-" && fail "namespaces left behind: $(ip netns list | grep "^pa$id-")"
	ls -d /etc/netns/pa"$id"-* 2>/dev/null && fail "/etc/netns entries left behind"
	n=0
	while read -r pid; do n=$((n + 1)); kill -0 "$pid" 2>/dev/null && fail "process $pid still running"; done <"$work/pids"
	[ "$n" -ge 3 ] || fail "expected at least 3 server processes, saw $n"
	echo "PASS: up with $n servers, torn down without leftovers"
	;;
dns)
	LAB_QUIET=1
	( lab_init "$work/run"; trap lab_down EXIT; lab_up; lab_servers_start
	  ip netns exec "$NS_PHONE" python3 "$here/dns-check.py" "$root/tools/lab/catalogue.tsv" ) ||
		fail "DNS check failed"
	;;
scenario|tls|quic|quic-decrypt)
	name=${2:?scenario name}
	case $1 in quic*)
		command -v gtlsserver >/dev/null && pkg-config --exists libngtcp2_crypto_gnutls libnghttp3 ||
			{ echo "SKIP: the lab's HTTP/3 needs ngtcp2-server and the ngtcp2/nghttp3 headers (tools/deps)"; exit 77; }
	esac
	start=$(date +%s)
	"$root/tools/lab/run-scenario" "$name" "$work/out" >"$work/paths" 2>"$work/log" ||
		{ cat "$work/log"; fail "run-scenario $name failed"; }
	secs=$(( $(date +%s) - start ))
	for f in "$name.pcapng" "$name.keylog" "$name.truth.jsonl" "$name.phone.pcapng"; do
		[ -s "$work/out/$f" ] || fail "$f missing or empty"
	done
	grep -q '^CLIENT_RANDOM \|^CLIENT_HANDSHAKE_TRAFFIC_SECRET ' "$work/out/$name.keylog" ||
		fail "key log holds no TLS secrets"
	python3 - "$work/out/$name.truth.jsonl" <<'PY' || fail "ground truth incomplete"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
kinds = [r["record"] for r in recs]
assert kinds[0] == "scenario" and kinds[-1] == "end", "scenario/end records"
assert "consent" in kinds, "no consent record"
assert "destination" in kinds, "no destination records"
datums = [r for r in recs if r["record"] == "datum"]
assert datums, "no planted datum"
nulls = [r for r in datums if r.get("packet") is None]
assert not nulls, "datums without a packet: %s" % nulls[:3]
for r in datums:
	for k in ("type", "value", "encoding", "field", "protocol", "hostname", "dst_ip", "dst_port"):
		assert r.get(k) not in (None, ""), "datum without %s: %s" % (k, r)
print("truth: %d datums, all located" % len(datums))
PY
	# Ground-truth packet numbers must point at packets from the phone to dst.
	"$root/tools/lab/compare-captures" "$work/out/$name.phone.pcapng" "$work/out/$name.pcapng" ||
		fail "monitor capture differs from the phone capture"
	# How long the run took is reported, not asserted: it depends on how
	# loaded the machine is (ctest's TIMEOUT bounds a run that hangs).
	size=$(stat -c %s "$work/out/$name.pcapng")
	[ "$size" -le 20000000 ] || fail "capture of $size bytes (bound: 20 MB)"
	ip netns list | grep -q "^pa.*-phone" && echo "note: other lab runs active: $(ip netns list | grep -c '^pa')"
	echo "scenario: $name in ${secs}s, capture $size bytes"
	if [ "$1" = tls ]; then
		python3 "$here/tls-check.py" "${3:?privaudit binary}" "$root" "$work/out/$name.pcapng" \
			"$work/audit" || fail "privaudit missed values inside TLS (above)"
	fi
	if [ "$1" = quic ]; then
		python3 "$root/tools/lab/quic-stream-bytes.py" --engine=both "$work/out/$name.pcapng" \
			>"$work/streams.jsonl" || fail "tshark and the lab's QUIC decryption differ (above)"
		echo "quic: $(wc -l <"$work/streams.jsonl") decrypted streams"
	fi
	if [ "$1" = quic-decrypt ]; then
		python3 "$here/quic-check.py" "${3:?privaudit binary}" "$root" "$work/out/$name.pcapng" \
			"$work/audit"
		rc=$?
		[ $rc -eq 77 ] && exit 77
		[ $rc -eq 0 ] || fail "privaudit missed values inside QUIC or decrypted other bytes (above)"
	fi
	# With a privaudit binary: the signature engine on this fresh run against
	# its ground truth (tests/accuracy/check.py: recall and precision).
	if [ "$1" = scenario ] && [ -n "${3:-}" ]; then
		python3 "$root/tests/accuracy/check.py" --privaudit "$3" --source "$root" \
			--captures "$work/out" --work "$work/accuracy" --json "$work/accuracy.json" ||
			fail "observations differ from the ground truth (above)"
	fi
	# Every audit this run made (the accuracy check's, the TLS check's)
	# writes records that match docs/schema/.
	if [ -n "${3:-}" ]; then
		mapfile -t bundles < <(find "$work" -name manifest.json -printf '%h\n' | sort)
		[ ${#bundles[@]} -gt 0 ] || fail "no audit output to check against docs/schema/"
		python3 "$root/tools/check-schema" "${bundles[@]}" || fail "outputs do not match docs/schema/ (above)"
	fi
	echo "PASS: $name"
	;;
*) echo "usage: $0 setup-teardown|dns|scenario NAME|tls NAME PRIVAUDIT|quic NAME|quic-decrypt NAME PRIVAUDIT" >&2; exit 2 ;;
esac
