#!/usr/bin/env python3
"""demo_truth.py — every value planted inside HTTPS in the demo captures is
found by `privaudit audit --keylog`, decrypted.

For each captures/demo-*.pcapng with its .keylog and .truth.jsonl: run the
audit, then require for every truth datum whose protocol is "https" an
observation with protocol "tls-decrypted", the datum's value, the same
field (HTTP/2 names its fields "http2.*" where the truth, written for both,
says "http.*"; header names compare without case; a value found once
decoded sits in "FIELD+base64"), the same packet, and a flow to the same
destination address and ports. Which type and encoding name the signature
engine gives a value is the accuracy tests' matter (tests/accuracy), not
decryption's: a datum planted the same way over plain HTTP in the same
capture that the audit does not find there either (hashed app lists) is
left out and counted as such. Also: every TLS flow
of the demo captures decrypts, and none fails a record.

Usage: demo_truth.py --privaudit BIN --source DIR --work DIR
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys


def norm_field(field):
    if field.startswith("http2."):
        field = "http." + field[len("http2."):]
    if field.startswith("http.response."):
        return field
    kind, sep, name = field.partition(":")
    if kind in ("http.header",):
        name = name.lower()
    return kind + sep + name


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def check_capture(args, pcap):
    base = pcap[: -len(".pcapng")]
    name = os.path.basename(base)
    truth = load_jsonl(base + ".truth.jsonl")
    out = os.path.join(args.work, name)
    shutil.rmtree(out, ignore_errors=True)  # privaudit refuses a non-empty output folder
    cmd = [args.privaudit, "audit", "--quiet", "--show-values", "--no-evidence",
           "--device", os.path.join(args.source, "signatures/devices/lab-phone.yaml"),
           "--keylog", base + ".keylog", "--out", out, pcap]
    run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if run.returncode not in (0, 1, 4):  # 4: not everything verifiable (docs/cli.md)
        return [f"{name}: privaudit exited {run.returncode}: {run.stderr.strip()}"]
    obs = load_jsonl(os.path.join(out, "observations.jsonl"))
    flows = {f["flow_id"]: f for f in load_jsonl(os.path.join(out, "flows.jsonl"))}
    errors = []
    def found(t, protocol):
        hits = []
        for o in obs:
            if o["protocol"] != protocol or o["value"].lower() != t["value"].lower():
                continue
            field, want = norm_field(o["field"]), norm_field(t["field"])
            if field != want and not field.startswith(want + "+"):
                continue
            fl = flows.get(o["flow_id"], {})
            dev_port = fl.get("src_port") if fl.get("device_side") == "src" else fl.get("dst_port")
            if o["dst_ip"] != t["dst_ip"] or o["dst_port"] != t["dst_port"] or dev_port != t["src_port"]:
                continue
            hits.append(o)
        return hits

    datums = [t for t in truth if t.get("record") == "datum"]
    wanted, undetectable = [], 0
    for t in datums:
        if t.get("protocol") != "https":
            continue
        twins = [c for c in datums if c.get("protocol") == "http" and c["type"] == t["type"]
                 and c["encoding"] == t["encoding"] and c["field"] == t["field"]]
        if twins and not any(
                any(o["packet"] == c["packet"] for o in found(c, "http")) for c in twins):
            undetectable += 1
        else:
            wanted.append(t)
    for t in wanted:
        hits = found(t, "tls-decrypted")
        if not hits:
            errors.append(f"{name}: not found decrypted: {t['type']} {t['value']} in {t['field']} "
                          f"(packet {t['packet']}, port {t['src_port']} -> {t['dst_ip']}:{t['dst_port']})")
        elif not any(o["packet"] == t["packet"] for o in hits):
            errors.append(f"{name}: {t['type']} in {t['field']}: packet {hits[0]['packet']}, truth says {t['packet']}")
    tls_flows = [f for f in flows.values() if f["tls"]]
    for f in tls_flows:
        t = f["tls"]
        if not t["decrypted"] or t["records_failed"]:
            errors.append(f"{name}: flow {f['flow_id']} to {f['dst_ip']}:{f['dst_port']}: "
                          f"decrypted {t['decrypted']}, failed {t['records_failed']}, reason {t['reason']}")
        if f["inspected_up"]["encrypted"]:
            errors.append(f"{name}: flow {f['flow_id']}: {f['inspected_up']['encrypted']} upload bytes "
                          "still counted as encrypted")
    report = json.load(open(os.path.join(out, "report.json")))
    summary_tls = report["summary"]["tls"]
    if summary_tls["flows"] != len(tls_flows) or summary_tls["decrypted"] != len(tls_flows):
        errors.append(f"{name}: report.json tls {summary_tls}, flows.jsonl has {len(tls_flows)} TLS flows")
    print(f"{name}: {len(wanted)} planted values inside HTTPS, {len(tls_flows)} TLS flows, "
          f"{len(wanted) - sum(1 for e in errors if 'not found' in e)} found decrypted; "
          f"{undetectable} more not detected in cleartext either")
    return errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--privaudit", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    pcaps = sorted(glob.glob(os.path.join(args.source, "captures/demo-*.pcapng")))
    if not pcaps:
        print("no demo captures")
        return 77
    errors = []
    for pcap in pcaps:
        errors += check_capture(args, pcap)
    for e in errors:
        print("FAIL", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
