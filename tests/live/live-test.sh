#!/usr/bin/env bash
# tests/live/live-test.sh PRIVAUDIT CASE — `privaudit live` in the namespace
# lab (label "lab"): the auditor captures on the mirror port in the monitor
# namespace while a leaky scenario runs in the phone namespace.
#   findings   each finding on stdout within 2 s of its packet; report.json's
#              findings = `privaudit audit` over the ring; the ring holds
#              every packet the phone exchanged; no drops; manifest hashes
#   kill9      SIGKILL mid-scenario: closed ring files match their hashes,
#              the current file reads (privaudit, tshark), the audit of the
#              ring shows again every finding shown before the kill
#   rotation   SIGHUP and --ring-seconds rotate: each closed file hashed in
#              the manifest, no packet lost or twice across files
#   fulldisk   the ring folder is a 24 kB tmpfs (the scenario makes ~40 kB): the error is on stderr at
#              once, findings keep coming, the report says what was lost,
#              the files on the full disk hold only complete packets
# Exit 77 (skipped) without root, network namespaces or the lab's tools.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
privaudit=${1:?privaudit binary}
case_name=${2:?case}
. "$root/tools/lab/lab-env.sh"
lab_supported || { echo "SKIP: lab needs root and working ip netns/veth"; exit 77; }
for tool in dumpcap dnsmasq nginx tshark; do
	command -v $tool >/dev/null || { echo "SKIP: $tool missing (tools/deps)"; exit 77; }
done
[ -x "$privaudit" ] || { echo "FAIL: no privaudit binary at $privaudit"; exit 1; }
check="python3 $here/live_check.py"
fail() { echo "FAIL: $*"; exit 1; }
# audit_ended_normally RC STDERR-FILE: 0, 1 or 4; or 2 for a capture whose
# last record is cut off, which the audit names on stderr.
audit_ended_normally() {
	case $1 in
	0|1|4) return 0 ;;
	2) grep -q "last record cut off" "$2" ;;
	*) return 1 ;;
	esac
}

work=$(mktemp -d /tmp/pa-livetest.XXXXXX)
chmod 755 "$work" # the auditor drops to nobody and must still reach its folder
live_pid=
cleanup() {
	local rc=$?
	[ -n "$live_pid" ] && kill -KILL "$live_pid" 2>/dev/null
	mountpoint -q "$work/out/capture" 2>/dev/null && umount "$work/out/capture"
	lab_down
	[ -n "${LIVE_KEEP:-}" ] && echo "kept: $work" || rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
LAB_QUIET=1
lab_init "$work/run"
lab_up
lab_servers_start
audit_opts=(--device "$root/signatures/devices/lab-phone.yaml" --policy "$root/policies/lanxin.yaml"
	--geoip "$root/tests/data/geoip/lab-country.mmdb" --geoip "$root/tests/data/geoip/lab-asn.mmdb")
out=$work/out
mkdir -p "$out"

# start_live [OPTIONS...]: privaudit live on the mirror port; stdout and
# stderr lines time-stamped as they arrive (stamp-lines.py).
start_live() {
	ip netns exec "$NS_MON" "$privaudit" live -i span1 --out "$out" "${audit_opts[@]}" "$@" \
		> >(python3 "$here/stamp-lines.py" "$work/stdout.stamped") \
		2> >(python3 "$here/stamp-lines.py" "$work/stderr.stamped") &
	live_pid=$!
	local i
	for i in $(seq 1 100); do
		grep -q "capturing on span1" "$work/stderr.stamped" 2>/dev/null && return 0
		kill -0 "$live_pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$work/stderr.stamped"
	fail "privaudit live did not start"
}

# slowed SCENARIO SECONDS: a copy of the scenario with a pause after every
# step (prints its path), so that signals land in the middle of it.
slowed() {
	python3 - "$root/tests/lab/scenarios/$1.yaml" "$2" "$work/$1-slow.yaml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
steps = []
for step in doc["steps"]:
	steps += [step, {"sleep": float(sys.argv[2])}]
doc["steps"] = steps
yaml.safe_dump(doc, open(sys.argv[3], "w", encoding="utf-8"), allow_unicode=True)
PY
	echo "$work/$1-slow.yaml"
}

# run_phone SCENARIO [HOOK]: the scenario's steps inside the phone (a name in
# tests/lab/scenarios or a file); HOOK (a function) runs in the background
# meanwhile and is waited for.
run_phone() {
	local scenario=$1 hook=${2:-} hook_pid=
	[ -f "$scenario" ] || scenario=$root/tests/lab/scenarios/$1.yaml
	: >"$work/keylog"
	: >"$work/truth.raw.jsonl"
	lab_capture_start "$NS_PHONE" ph0 "$work/phone.pcapng" nopromisc
	# The tester marks consent when the scenario reaches its consent step.
	( for i in $(seq 1 600); do
		grep -q '"record": "consent"' "$work/truth.raw.jsonl" 2>/dev/null && { kill -USR1 "$live_pid"; exit 0; }
		sleep 0.02
	  done ) &
	local consent_pid=$!
	[ -n "$hook" ] && { $hook & hook_pid=$!; }
	timeout 120 ip netns exec "$NS_PHONE" python3 "$root/tools/lab/phone-driver.py" "$scenario" \
		"$root/signatures/devices/lab-phone.yaml" "$root/tools/lab/catalogue.tsv" \
		"$LAB_RUN/tls/ca.pem" "$work/keylog" "$work/truth.raw.jsonl" >"$work/driver.log" 2>&1 ||
		{ cat "$work/driver.log"; fail "scenario $scenario failed"; }
	[ -n "$hook_pid" ] && wait "$hook_pid"
	kill "$consent_pid" 2>/dev/null; wait "$consent_pid" 2>/dev/null
	sleep 0.4 # the last FINs and ACKs reach both taps
	lab_capture_stop_all
}

# stop_live: SIGINT, wait for the report; sets live_rc and stop_time.
stop_live() {
	stop_time=$(date +%s.%N)
	kill -INT "$live_pid"
	wait "$live_pid"
	live_rc=$?
	live_pid=
	sleep 0.2 # stamp-lines.py drains the pipe
}

# at_datum N: returns once the scenario has planted N values. Signals are
# timed by the scenario's progress, not by the clock.
at_datum() {
	local i
	for i in $(seq 1 1500); do
		[ "$(grep -c '"record": "datum"' "$work/truth.raw.jsonl" 2>/dev/null)" -ge "$1" ] && return 0
		sleep 0.01
	done
}

# offline_audit DIR: `privaudit audit` over the ring files with the same options.
offline_audit() {
	"$privaudit" audit --out "$1" "${audit_opts[@]}" "$out/capture/" >"$1.summary" 2>"$1.stderr"
}

case $case_name in
findings)
	start_live
	run_phone lanxin-leaky
	sleep 2 # every finding is due 2 s after its packet: none may wait for the stop
	stop_live
	[ "$live_rc" -eq 1 ] || { cat "$work/stderr.stamped"; fail "live exit $live_rc, expected 1 (violations)"; }
	grep -q '^[0-9.]*	consent marked at' "$work/stdout.stamped" || fail "consent (SIGUSR1) not marked"
	$check latency "$work/stdout.stamped" "$out/findings.jsonl" "$stop_time" 2 ||
		fail "a finding was late on stdout"
	python3 - "$out/report.json" <<'PY' || fail "report.json: capture not complete"
import json, sys
c = json.load(open(sys.argv[1]))["summary"]["capture"]
print("capture: received %d, kernel drops %d, interface drops %d, evidence lost %d" % (
	c["received"], c["kernel_drops"], c["interface_drops"], c["evidence_packets_lost"]))
assert c["complete"] and c["kernel_drops"] == 0 and c["evidence_packets_lost"] == 0
PY
	mkdir -p "$work/offline"
	offline_audit "$work/offline"
	[ $? -eq 1 ] || { cat "$work/offline.stderr"; fail "offline audit of the ring did not report the violations"; }
	$check same-findings "$out" "$work/offline" || fail "live and offline findings differ"
	$check ring-vs-phone "$out/capture" "$work/phone.pcapng" || fail "the ring is not the phone's traffic"
	$check manifest "$out/capture" || fail "manifest"
	echo "PASS: live findings on time, same as offline, ring = phone capture"
	;;
kill9)
	start_live
	# Kill once the scenario is well under way, after two forced rotations.
	killer() {
		at_datum 4; kill -HUP "$live_pid"
		at_datum 9; kill -HUP "$live_pid"
		at_datum 14; kill -KILL "$live_pid"
		echo "killed after datum $(grep -c '"record": "datum"' "$work/truth.raw.jsonl") of 25"
	}
	run_phone "$(slowed lanxin-leaky 0.1)" killer
	wait "$live_pid" 2>/dev/null
	live_pid=
	sleep 0.2
	[ -f "$out/report.json" ] && fail "report.json exists after kill -9"
	files=$(ls "$out/capture"/capture-*.pcapng | wc -l)
	[ "$files" -ge 3 ] || fail "expected at least 3 ring files after two SIGHUPs, found $files"
	current=$(ls "$out/capture"/capture-*.pcapng | tail -1)
	$check manifest "$out/capture" --current "$(basename "$current")" || fail "closed files do not match the manifest"
	tshark -r "$current" -q >/dev/null 2>"$work/tshark.err" ||
		grep -q "cut short\|truncated" "$work/tshark.err" || { cat "$work/tshark.err"; fail "tshark cannot read $current"; }
	echo "tshark reads $(basename "$current"): $(tshark -r "$current" 2>/dev/null | wc -l) packets"
	# The file being written when the process died may end inside a record:
	# that is a damaged capture (exit 2, docs/cli.md), everything before the
	# cut still analysed. 4: no violation found, not everything verified.
	"$privaudit" audit --quiet "$current" >/dev/null 2>"$work/current.err"
	rc=$?
	audit_ended_normally $rc "$work/current.err" ||
		{ cat "$work/current.err"; fail "privaudit audit of the current file: exit $rc"; }
	mkdir -p "$work/offline"
	offline_audit "$work/offline"
	rc=$?
	audit_ended_normally $rc "$work/offline.stderr" ||
		{ cat "$work/offline.stderr"; fail "privaudit audit $out/capture/: exit $rc"; }
	$check shown-in "$work/stdout.stamped" "$work/offline.summary" ||
		fail "a finding shown before the kill is not in the audit of the ring"
	echo "PASS: killed with $files ring files; closed ones hashed, current one readable, findings kept"
	;;
rotation)
	start_live --ring-seconds 1
	hupper() {
		local i
		for i in 3 6 9 12; do at_datum $i; kill -HUP "$live_pid"; done
	}
	run_phone "$(slowed lanxin-leaky 0.15)" hupper
	stop_live
	[ "$live_rc" -le 1 ] || fail "live exit $live_rc"
	files=$(ls "$out/capture"/capture-*.pcapng | wc -l)
	# 4 SIGHUPs, plus --ring-seconds 1 over a scenario of about 4 s
	[ "$files" -ge 5 ] || fail "expected at least 5 ring files, found $files"
	$check manifest "$out/capture" || fail "manifest"
	$check ring-vs-phone "$out/capture" "$work/phone.pcapng" || fail "packets lost or duplicated across ring files"
	echo "PASS: $files ring files, manifest hashes match, no packet lost or twice"
	;;
fulldisk)
	mkdir -p "$out/capture"
	mount -t tmpfs -o size=24k,mode=0755 tmpfs "$out/capture" || { echo "SKIP: cannot mount tmpfs"; exit 77; }
	start_live
	run_phone lanxin-leaky
	stop_live
	grep -q "No space left on device" "$work/stderr.stamped" || { cat "$work/stderr.stamped"; fail "full disk not reported on stderr"; }
	[ "$live_rc" -eq 1 ] || { cat "$work/stderr.stamped"; fail "live exit $live_rc, expected 1: the audit must go on"; }
	python3 - "$out/report.json" "$work/stdout.stamped" "$work/stderr.stamped" <<'PY' || fail "loss not reported at once, or audit stopped, or report silent"
import datetime, json, sys
c = json.load(open(sys.argv[1]))["summary"]["capture"]
print("capture: evidence lost %d, complete %s, error: %s" % (c["evidence_packets_lost"], c["complete"], c["evidence_error"]))
assert c["evidence_packets_lost"] > 0 and not c["complete"]
assert "not written to the evidence capture" in c["evidence_error"] and "No space left" in c["evidence_error"]
# "live packet numbers A to B, T1 to T2": T1 is the first lost packet's time.
t1 = c["evidence_error"].split(", ")[1].split(" to ")[0]
lost_at = datetime.datetime.strptime(t1.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
said = [float(l.split("\t")[0]) for l in open(sys.argv[3]) if "No space left" in l]
delay = said[0] - lost_at
print("full disk said on stderr %.3f s after the first lost packet" % delay)
assert delay < 1.0, "not at once"
later = [l for l in open(sys.argv[2]) if "\tfinding " in l and float(l.split("\t")[0]) > said[0]]
print("findings shown after the disk filled: %d" % len(later))
assert later, "the audit stopped showing findings"
PY
	for f in "$out/capture"/capture-*.pcapng; do
		"$privaudit" audit --quiet "$f" >/dev/null 2>"$work/read.err"
		grep -q "cut off" "$work/read.err" && fail "$f ends in a broken block"
	done
	echo "PASS: full disk reported at once, audit went on, loss stated, files complete"
	;;
*) echo "usage: $0 PRIVAUDIT findings|kill9|rotation|fulldisk" >&2; exit 2 ;;
esac
