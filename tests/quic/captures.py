#!/usr/bin/env python3
"""captures.py — privaudit audits the QUIC fixtures of tests/data/quic
(made by tools/make-quic-fixtures) end to end.

With each capture's key log: the QUIC flow decrypts (no packet fails), its
flows.jsonl "quic" object names the version and suite, every byte of it is
read (nothing encrypted), and the identifiers planted in the requests come
out as http3 fields with protocol quic-decrypted (query, JSON body). Per
capture also: key updates followed (h3-keyupdate), the provisional v2
number (h3-v2draft, h3-v2-compat), the flow of a client that changed
address linked to the one that began the connection (h3-migrate).

Without the key log: nothing past the Initial packets opens, the rest is
counted encrypted, reason "no-key", and no http3 field appears.

Usage: captures.py --privaudit BIN --source DIR --work DIR
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

PLANTED = {"http3.query:imei", "http3.query:android_id"}
BODY = {"http3.body.json:imei", "http3.body.json:android_id"}

EXPECT = {
    "h3-v1": {"suite": "TLS_AES_128_GCM_SHA256", "fields": PLANTED | BODY},
    "h3-v1-chacha": {"suite": "TLS_CHACHA20_POLY1305_SHA256", "fields": PLANTED | BODY},
    "h3-v1-aes256": {"suite": "TLS_AES_256_GCM_SHA384", "fields": PLANTED | BODY},
    "h3-keyupdate": {"fields": PLANTED, "key_updates": True},
    "h3-v2draft": {"version": "0x709a50c4", "fields": PLANTED | BODY},
    "h3-v2-compat": {"version": "0x709a50c4", "fields": PLANTED | BODY},
    "h3-migrate": {"fields": PLANTED, "flows": 2},
}


def audit(binary, work, name, capture, keys):
    out = os.path.join(work, name)
    shutil.rmtree(out, ignore_errors=True)
    cmd = [binary, "audit", "-q", "--threads", "1", "--no-evidence", "--out", out]
    if keys:
        cmd += ["--keylog", keys]
    subprocess.run(cmd + [capture], check=False)
    flows = [json.loads(l) for l in open(os.path.join(out, "flows.jsonl"))]
    obs = [json.loads(l) for l in open(os.path.join(out, "observations.jsonl"))]
    return [f for f in flows if f.get("app") == "quic"], obs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--privaudit", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    data = os.path.join(a.source, "tests", "data", "quic")
    errors = []
    for name, want in sorted(EXPECT.items()):
        cap, keys = os.path.join(data, name + ".pcap"), os.path.join(data, name + ".keys")
        flows, obs = audit(a.privaudit, a.work, name, cap, keys)
        if len(flows) != want.get("flows", 1):
            errors.append(f"{name}: {len(flows)} QUIC flows, want {want.get('flows', 1)}")
            continue
        for f in flows:
            q = f["quic"]
            if not q["decrypted"] or q["packets_failed"] or q["reason"] is not None:
                errors.append(f"{name}: flow {f['flow_id']} not decrypted: {q}")
            for d in ("inspected_up", "inspected_down"):
                if f[d]["encrypted"]:
                    errors.append(f"{name}: {d} has {f[d]['encrypted']} encrypted bytes")
            if q["plaintext"] != "http3" or q["alpn"] != "h3":
                errors.append(f"{name}: plaintext {q['plaintext']}, alpn {q['alpn']}")
            if "suite" in want and q["cipher_suite"] != want["suite"]:
                errors.append(f"{name}: suite {q['cipher_suite']}")
            if q["version"] != want.get("version", "0x00000001"):
                errors.append(f"{name}: version {q['version']}")
        if want.get("key_updates") and not any(f["quic"]["key_updates"] for f in flows):
            errors.append(f"{name}: no key update followed")
        if want.get("flows") == 2:
            first, moved = flows
            if moved["quic"]["migrated_from_flow"] != first["flow_id"]:
                errors.append(f"{name}: second flow not linked: {moved['quic']}")
        got = {o["field"] for o in obs if o["protocol"] == "quic-decrypted"}
        if not want["fields"] <= got:
            errors.append(f"{name}: missing fields {sorted(want['fields'] - got)}")
        # without keys: unread, counted as such
        flows, obs = audit(a.privaudit, a.work, name + "-nokeys", cap, None)
        for f in flows[:1]:
            q = f["quic"]
            if q["decrypted"] or q["reason"] != "no-key" or not f["inspected_up"]["encrypted"]:
                errors.append(f"{name} without keys: {q}, up {f['inspected_up']}")
        if any(o["protocol"] == "quic-decrypted" for o in obs):
            errors.append(f"{name} without keys: decrypted fields appeared")
        print(f"{name}: ok" if not [e for e in errors if e.startswith(name)] else f"{name}: FAILED")
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
