#!/usr/bin/env python3
"""tests/schema/check_outputs.py — every output of the demo audits is valid
against docs/schema/, and tools/check-schema rejects what is not.

    check_outputs.py --privaudit BIN --source DIR --work DIR

1. Audits each captures/demo-*.pcapng as tools/demo does (the lab GeoIP
   fixtures, the lab phone's device profile, the capture's key log, and the
   policy of its app, policies/<app>.yaml, when there is one) into
   WORK/<name>/ and runs tools/check-schema over all the folders.
2. Negative cases, so that the check cannot pass by accepting anything:
   copies of real records made wrong in one way each (a number where the
   schema says string, a field left out, a field added, a jurisdiction
   packed into one word, a wrong format_version, a type change deep in
   report.json) must each be rejected, naming the line and the field.
3. The committed report fixture (tests/data/report/lanxin-leaky.json) is a
   valid report.json.
Exit 0 when all holds, 1 otherwise.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys


def audit(args, capture, out):
    name = os.path.basename(capture)[len("demo-"):-len(".pcapng")]
    src = args.source
    cmd = [args.privaudit, "audit", "--quiet",
           "--geoip", os.path.join(src, "tests/data/geoip/lab-country.mmdb"),
           "--geoip", os.path.join(src, "tests/data/geoip/lab-asn.mmdb"),
           "--device", os.path.join(src, "signatures/devices/lab-phone.yaml"),
           "--out", out]
    policy = os.path.join(src, "policies", name.split("-")[0] + ".yaml")
    if os.path.exists(policy):
        cmd += ["--policy", policy]
    keylog = capture[:-len(".pcapng")] + ".keylog"
    if os.path.exists(keylog):
        cmd += ["--keylog", keylog]
    r = subprocess.run(cmd + [capture], capture_output=True, text=True)
    # 0 clean, 1 violations, 4 not everything verifiable (docs/cli.md)
    if r.returncode not in (0, 1, 4):
        print("FAIL: %s: privaudit exit %d\n%s" % (name, r.returncode, r.stderr[-2000:]))
        return False
    return True


def check_schema(args, *paths):
    r = subprocess.run([sys.executable, os.path.join(args.source, "tools/check-schema")] + list(paths),
                       capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def negative_cases(args, folder, neg):
    """(file written, text the rejection must contain) for each wrong record."""
    def first(name):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            return json.loads(f.readline())

    flow, obs = first("flows.jsonl"), first("observations.jsonl")
    finding = first("findings.jsonl")
    with open(os.path.join(folder, "report.json"), encoding="utf-8") as f:
        report = json.load(f)
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    cases = []

    def case(name, record, expect):
        d = os.path.join(neg, "%02d" % len(cases))
        os.makedirs(d)
        path = os.path.join(d, name)
        if name.endswith(".jsonl"):
            write_jsonl(path, [record])
        else:
            with open(path, "w", encoding="utf-8") as f:
                json.dump(record, f)
        cases.append((path, expect))

    def changed(record, edit):
        r = json.loads(json.dumps(record))
        edit(r)
        return r

    # The protocol as its number, as flows.jsonl once wrote it for ICMP & co.
    case("flows.jsonl", changed(flow, lambda r: r.update(proto=r["ip_proto"])), ":1: .proto: ")
    # An absent fact left out instead of null.
    case("flows.jsonl", changed(flow, lambda r: r.pop("vlan")), "'vlan' is a required property")
    case("flows.jsonl", changed(flow, lambda r: r.update(unheard_of=1)), "'unheard_of' was unexpected")
    case("flows.jsonl", changed(flow, lambda r: r.update(format_version="0.9")), ".format_version: ")
    case("flows.jsonl", changed(flow, lambda r: r.update(packets_up=str(r["packets_up"]))), ".packets_up: ")
    # Two facts in one string, as jurisdiction was before the split.
    case("observations.jsonl", changed(obs, lambda r: r.update(jurisdiction="foreign:SG")), ".jurisdiction: ")
    case("observations.jsonl", changed(obs, lambda r: r.pop("query_name")), "'query_name' is a required")
    case("findings.jsonl", changed(finding, lambda r: r.update(count=1.5)), ".count: ")
    case("findings.jsonl", changed(finding, lambda r: r.update(strength="strong")), ".strength: ")
    # Deep inside report.json: a finding, a summary counter.
    case("report.json", changed(report, lambda r: r["findings"].append(dict(finding, flows=["1"]))),
         ".findings[%d].flows[0]: " % len(report["findings"]))
    case("report.json", changed(report, lambda r: r["summary"]["packets"].update(read=-1)), ".summary.packets.read: ")
    case("manifest.json", changed(manifest, lambda r: r["files"][0].update(sha256="0" * 63)), ".files[0].sha256: ")
    case("manifest.json", changed(manifest, lambda r: r.update(format=2)), "'format' was unexpected")
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--privaudit", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    captures = sorted(glob.glob(os.path.join(args.source, "captures/demo-*.pcapng")))
    if not captures:
        print("FAIL: no captures/demo-*.pcapng under %s" % args.source)
        return 1
    folders = []
    for capture in captures:
        out = os.path.join(args.work, os.path.basename(capture)[:-len(".pcapng")])
        if not audit(args, capture, out):
            return 1
        folders.append(out)
    rc, text = check_schema(args, *folders)
    print(text, end="")
    if rc != 0:
        print("FAIL: the demo outputs do not match docs/schema/ (above)")
        return 1
    # The saved report test-report-html.c renders (tools/make-report-fixture).
    fixture = os.path.join(args.source, "tests/data/report/lanxin-leaky.json")
    rc, text = check_schema(args, "--as", "report.json", fixture)
    if rc != 0:
        print(text + "FAIL: %s does not match docs/schema/report.schema.json (above)" % fixture)
        return 1
    # A residency finding, with its geo, must be among them: demo runs
    # without one would leave part of the findings schema unexercised.
    leaky = os.path.join(args.work, "demo-lanxin-leaky")
    if leaky not in folders:
        print("FAIL: captures/demo-lanxin-leaky.pcapng is missing")
        return 1
    with open(os.path.join(leaky, "findings.jsonl"), encoding="utf-8") as f:
        findings = [json.loads(line) for line in f]
    if not any(x["geo"] for x in findings):
        print("FAIL: demo-lanxin-leaky gave no residency finding with its geo: the findings schema went untested")
        return 1

    failed = 0
    cases = negative_cases(args, leaky, os.path.join(args.work, "negative"))
    for path, expect in cases:
        rc, text = check_schema(args, path)
        if rc != 1 or expect not in text or (path + ":1: ") not in text:
            print("FAIL: %s should be rejected with \"%s\" at line 1 (exit %d):\n%s" % (path, expect, rc, text))
            failed += 1
    if failed:
        return 1
    print("PASS: %d demo audits valid; %d wrong records rejected" % (len(folders), len(cases)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
