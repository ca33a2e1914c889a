#!/usr/bin/env python3
"""Audits each evasion capture of gen.py and checks that nothing was hidden.

For every case: the phone's IMEI must be an observation citing the packet
that carried it, or the flow must say its bytes could not be verified
(unread bytes or conflicts, and an audit verdict that is not clean). And for
every flow and direction the byte counters must add up:
scanned + unscanned + encrypted + gap + truncated = payload.

    check.py --privaudit BIN --source DIR --work DIR [--case NAME]...
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

IMEI = gen.IMEI.decode()
DECOY_CASES = {"decoy-first", "decoy-bad-checksum", "decoy-first-bad-checksum",
               "decoy-second-half-ooo", "decoy-both-halves-waiting"}
PARSER_CASES = {n for n in gen.CASES if n.startswith("http-")}


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def audit(args, name, pcap, out):
    cmd = [args.privaudit, "audit", "--quiet", "--show-values", "--no-evidence",
           "--device", os.path.join(args.source, "signatures/devices/lab-phone.yaml"),
           "--out", out, pcap]
    policy = os.path.join(args.source, "policies/lanhu.yaml")
    if os.path.exists(policy):
        cmd[2:2] = ["--policy", policy]
    run = subprocess.run(cmd, capture_output=True, text=True)
    return run.returncode, run.stderr


def check_case(args, name, expect):
    problems = []
    pcap = os.path.join(args.work, name + ".pcap")
    out = os.path.join(args.work, name + ".out")
    shutil.rmtree(out, ignore_errors=True)  # an audit refuses a non-empty --out
    rc, err = audit(args, name, pcap, out)
    if not os.path.exists(os.path.join(out, "flows.jsonl")):
        return [f"{name}: audit failed (exit {rc}): {err.strip()}"]
    flows = read_jsonl(os.path.join(out, "flows.jsonl"))
    obs = read_jsonl(os.path.join(out, "observations.jsonl"))

    for f in flows:
        for key in ("inspected_up", "inspected_down"):
            b = f.get(key)
            if not b:
                continue
            total = b["scanned"] + b["unscanned"] + b["encrypted"] + b["gap"] + b["truncated"]
            if total != b["payload"]:
                problems.append(f"{name}: flow {f['flow_id']} {key}: counters add up to {total}, "
                                f"payload is {b['payload']}: {b}")
            if b["unparsed"] > b["scanned"]:
                problems.append(f"{name}: flow {f['flow_id']} {key}: unparsed > scanned")

    imei = [o for o in obs if o["type"] == "imei" and o["value"] == IMEI]
    at_packet = [o for o in imei if o["packet"] == expect["imei_packet"]]
    up = (flows[0]["inspected_up"] or {}) if flows else {}
    unverified = up.get("encrypted", 0) + up.get("gap", 0) + up.get("truncated", 0)
    if not at_packet:
        if not imei and not unverified:
            problems.append(f"{name}: IMEI neither found nor reported unread "
                            f"(observations: {[(o['type'], o['field'], o['packet']) for o in obs]})")
        elif imei:
            problems.append(f"{name}: IMEI found at packets {[o['packet'] for o in imei]}, "
                            f"expected packet {expect['imei_packet']}")

    # The verdict: a datum found in cleartext contradicts the policy (exit 1);
    # one not found must leave the audit "not verifiable" (exit 4), never
    # clean (exit 0). With conflicting copies no promise may be "kept".
    if imei and rc != 1:
        problems.append(f"{name}: IMEI found but the audit exits {rc}, not 1")
    if not imei and rc != 4:
        problems.append(f"{name}: IMEI not found and the audit exits {rc}, not 4 (not verifiable)")
    report_path = os.path.join(out, "report.json")
    if os.path.exists(report_path):
        with open(report_path, encoding="utf-8") as f:
            report = json.load(f)
        if not report.get("promises"):
            problems.append(f"{name}: report.json has no promise verdicts")
        if report.get("result", {}).get("exit_code") != rc:
            problems.append(f"{name}: report.json's result {report.get('result')} is not exit {rc}")
        # Conflicting copies: the audit as a whole is never "complete".
        if name in DECOY_CASES and report.get("coverage", {}).get("complete") is not False:
            problems.append(f"{name}: coverage complete although the flow carried "
                            f"conflicting copies")
    else:
        problems.append(f"{name}: no report.json")

    if name in DECOY_CASES:
        if name == "decoy-bad-checksum":
            if not up.get("bad_checksum") or up.get("conflict"):
                problems.append(f"{name}: the bad-checksum decoy is not kept apart: {up}")
        elif not up.get("conflict") or not up.get("conflict_packets"):
            problems.append(f"{name}: the conflicting copy is not counted: {up}")
        findings_path = os.path.join(out, "findings.jsonl")
        if os.path.exists(findings_path):
            evasion = [f for f in read_jsonl(findings_path) if f.get("rule") == "evasion"]
            if not evasion:
                problems.append(f"{name}: no evasion finding")
            elif name == "decoy-bad-checksum":
                # the dropped decoy is named, the real copy is no conflict
                if evasion[0]["packets"] != [expect["imei_packet"] - 1]:
                    problems.append(f"{name}: the evasion finding does not name the decoy "
                                    f"packet {expect['imei_packet'] - 1}: {evasion[0]['packets']}")
            elif expect["imei_packet"] not in evasion[0]["packets"]:
                problems.append(f"{name}: the evasion finding does not name packet "
                                f"{expect['imei_packet']}: {evasion}")
    elif up.get("conflict") or up.get("bad_checksum"):
        problems.append(f"{name}: conflict or bad checksum counted where there is none: {up}")

    if name in PARSER_CASES and not up.get("unparsed"):
        problems.append(f"{name}: the parser error left no unparsed bytes: {up}")

    if name == "repeated-requests":
        lines = [o for o in imei if o["field"] == "http.query:imei"]
        if len(lines) != 1:
            problems.append(f"{name}: {len(lines)} observation lines for one repeated datum")
        elif lines[0].get("count") != 300 or lines[0].get("first_packet") != expect["imei_packet"]:
            problems.append(f"{name}: count/first_packet wrong: {lines[0]}")
    if name == "h2c-hpack-amplification":
        lines = [o for o in imei if o["field"].startswith("http2.header")]
        size = os.path.getsize(os.path.join(out, "observations.jsonl"))
        want = gen.H2_REFERENCES + 1
        if len(lines) != 1 or lines[0].get("count") != want:
            problems.append(f"{name}: want one http2.header observation with count {want}, got "
                            f"{[(o['field'], o.get('count')) for o in imei]}")
        if size > 64 * 1024:
            problems.append(f"{name}: observations.jsonl is {size} bytes for one datum "
                            f"referenced {want} times")
        if flows and flows[0].get("app") != "http2":
            problems.append(f"{name}: the h2c flow is decoded as {flows[0].get('app')}")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--privaudit", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--case", action="append", help="only these cases")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "gen.py"), args.work],
                   check=True)
    with open(os.path.join(args.work, "cases.json")) as f:
        cases = json.load(f)
    problems = []
    for name, expect in cases.items():
        if args.case and name not in args.case:
            continue
        found = check_case(args, name, expect)
        print(f"{'FAIL' if found else 'ok  '} {name}")
        problems += found
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
