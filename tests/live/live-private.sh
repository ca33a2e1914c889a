#!/usr/bin/env bash
# tests/live/live-private.sh PRIVAUDIT CASE — `privaudit live` keeps its
# results when started as root on folders only root can enter (label "lab").
#   private   --out and --keylog inside a mode-0700 folder owned by root (as
#             ~/run with HOME=/root, or a `mktemp -d` folder): after the drop
#             to nobody the run still re-reads the growing key log (TLS is
#             decrypted), writes findings.jsonl, evidence, report.json,
#             report.html and manifest.json (exit 1, violations), and
#             `privaudit verify` passes; the key log's manifest hash is the
#             file's at the end; the 0700 folder is left as it was
#   refused   what the run could not keep is refused at start with exit 2 and
#             one line on stderr: an output folder on a read-only filesystem,
#             and a key log that does not exist yet in a folder the user nobody
#             cannot enter
# Exit 77 (skipped) without root, network namespaces or the lab's tools.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
privaudit=${1:?privaudit binary}
case_name=${2:?case}
. "$root/tools/lab/lab-env.sh"
lab_supported || { echo "SKIP: lab needs root and working ip netns/veth"; exit 77; }
for tool in dnsmasq nginx; do
	command -v $tool >/dev/null || { echo "SKIP: $tool missing (tools/deps)"; exit 77; }
done
id nobody >/dev/null 2>&1 || { echo "SKIP: no user nobody"; exit 77; }
[ -x "$privaudit" ] || { echo "FAIL: no privaudit binary at $privaudit"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }

# The private folder: mktemp -d makes it 0700, owned by root; unlike the
# other live tests it is not opened up for nobody.
work=$(mktemp -d /tmp/pa-liveprivate.XXXXXX)
[ "$(stat -c %a "$work")" = 700 ] || fail "mktemp -d did not make a 0700 folder"
live_pid=
cleanup() {
	local rc=$?
	[ -n "$live_pid" ] && kill -KILL "$live_pid" 2>/dev/null
	mountpoint -q "$work/ro" 2>/dev/null && umount "$work/ro"
	lab_down
	[ -n "${LIVE_KEEP:-}" ] && echo "kept: $work" || rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
LAB_QUIET=1
lab_init "$work/lab"
lab_up
lab_servers_start
audit_opts=(--device "$root/signatures/devices/lab-phone.yaml" --policy "$root/policies/lanxin.yaml"
	--geoip "$root/tests/data/geoip/lab-country.mmdb" --geoip "$root/tests/data/geoip/lab-asn.mmdb")

case $case_name in
private)
	out=$work/run
	mkdir -m 700 "$work/keys"
	keylog=$work/keys/phone.keylog
	: >"$keylog" # the app appends to it while the run goes on
	ip netns exec "$NS_MON" "$privaudit" live -i span1 --out "$out" --keylog "$keylog" \
		"${audit_opts[@]}" >"$work/stdout" 2>"$work/stderr" &
	live_pid=$!
	# Conditions, not pauses (docs/lab.md, "Stopping captures"): a sanitizer
	# build on a loaded machine may take many seconds for each of them.
	lab_wait_until "privaudit live to capture on span1" "$live_pid" \
		grep -qs "capturing on span1" "$work/stderr"
	lab_tap_add - "$NS_MON" span1 "$out/capture"
	timeout 600 ip netns exec "$NS_PHONE" python3 "$root/tools/lab/phone-driver.py" \
		"$root/tests/lab/scenarios/lanxin-leaky.yaml" "$root/signatures/devices/lab-phone.yaml" \
		"$root/tools/lab/catalogue.tsv" "$LAB_RUN/tls/ca.pem" "$keylog" "$work/truth.jsonl" \
		>"$work/driver.log" 2>&1 || { cat "$work/driver.log"; fail "scenario failed"; }
	# The last packets have reached the mirror port and the ring holds them;
	# the key log, re-read as it grows, has decrypted a value inside TLS.
	lab_captures_finish
	# Until the run ends its outputs are in the bundle's staging folder
	# (DIR/.partial-XXXXXX, docs/output.md); a flow's observations are
	# written when the flow ends.
	lab_wait_until "an observation decrypted with the re-read key log" "$live_pid" \
		sh -c 'grep -qs tls-decrypted "$1"/.partial-*/observations.jsonl "$1"/observations.jsonl' \
		sh "$out"
	kill -INT "$live_pid"
	wait "$live_pid"
	rc=$?
	live_pid=
	[ $rc -eq 1 ] || { cat "$work/stderr"; fail "live exit $rc, expected 1 (violations found, results kept)"; }
	for f in findings.jsonl flows.jsonl observations.jsonl report.json report.html manifest.json \
		capture/capture-000001.pcapng; do
		[ -s "$out/$f" ] || fail "$out/$f missing or empty"
	done
	n=$(ls "$out"/evidence/F*.pcapng 2>/dev/null | wc -l)
	[ "$n" -ge 1 ] || fail "no evidence file"
	[ "$n" -eq "$(wc -l <"$out/findings.jsonl")" ] || fail "$n evidence files for $(wc -l <"$out/findings.jsonl") findings"
	[ "$(stat -c '%a %U' "$work")" = "700 root" ] || fail "the private folder was opened up: $(stat -c '%a %U' "$work")"
	(cd / && "$privaudit" verify "$out") >"$work/verify" 2>&1 || { cat "$work/verify"; fail "privaudit verify"; }
	python3 - "$out" "$keylog" <<'PY' || fail "manifest or report"
import hashlib, json, os, sys
out, keylog = sys.argv[1], sys.argv[2]
m = json.load(open(os.path.join(out, "manifest.json")))
roles = {}
for e in m["files"]:
    roles.setdefault(e["role"], []).append(e)
kl = roles.get("keylog", [])
assert len(kl) == 1, "keylog entries: %r" % kl
want = hashlib.sha256(open(keylog, "rb").read()).hexdigest()
assert kl[0]["sha256"] == want and kl[0]["size"] > 0, "keylog hash %s, file %s" % (kl[0]["sha256"], want)
for role in ("policy", "device", "signatures", "geoip", "capture", "evidence", "output"):
    assert roles.get(role), "no %s entry in the manifest" % role
assert all(e["relative"] for e in roles["capture"]), "ring files not relative to the folder"
tls = json.load(open(os.path.join(out, "report.json")))["summary"]["tls"]
assert tls["decrypted"] >= 1, "no TLS flow decrypted: the key log was not re-read: %r" % tls
print("kept: %d files in the manifest, key log %d bytes hashed, TLS %d of %d decrypted" % (
    len(m["files"]), kl[0]["size"], tls["decrypted"], tls["flows"]))
PY
	echo "PASS: live results kept in a 0700 folder after dropping to nobody"
	;;
refused)
	# refused NAME EXPECTED-TEXT ARGS...: exit 2 at once, the reason in one line.
	refused() {
		local name=$1 text=$2
		shift 2
		# A bound for a hang only: refusing comes after loading the
		# signatures, which takes a sanitizer build a while on a busy machine.
		timeout 300 ip netns exec "$NS_MON" "$privaudit" live -i span1 --quiet "${audit_opts[@]}" "$@" \
			>"$work/$name.stdout" 2>"$work/$name.stderr"
		local rc=$?
		[ $rc -eq 2 ] || { cat "$work/$name.stderr"; fail "$name: exit $rc, expected 2"; }
		[ "$(wc -l <"$work/$name.stderr")" -eq 1 ] || { cat "$work/$name.stderr"; fail "$name: not one line"; }
		grep -q -- "$text" "$work/$name.stderr" || { cat "$work/$name.stderr"; fail "$name: says $(cat "$work/$name.stderr")"; }
		echo "$name: $(cat "$work/$name.stderr")"
	}
	mkdir "$work/ro"
	mount -t tmpfs -o ro,size=64k tmpfs "$work/ro"
	refused read-only "--out $work/ro" --out "$work/ro"
	mkdir -m 700 "$work/keys"
	refused keylog-later "--keylog $work/keys/later.keylog" --keylog "$work/keys/later.keylog" --out "$work/run2"
	echo "PASS: what could not be kept is refused at start in one line"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
