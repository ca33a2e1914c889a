#!/usr/bin/env python3
"""dsb.py — a capture carrying its key log as a pcapng Decryption Secrets
Block (editcap --inject-secrets) decrypts without --keylog, exactly as the
same capture with --keylog does: the same TLS flows decrypted, the same
observations.

Usage: dsb.py --privaudit BIN --source DIR --work DIR
"""
import argparse
import json
import os
import subprocess
import sys


def audit(args, out, pcap, extra):
    os.makedirs(out, exist_ok=True)
    cmd = [args.privaudit, "audit", "--quiet", "--no-evidence", "--device",
           os.path.join(args.source, "signatures/devices/lab-phone.yaml"), "--out", out] + extra + [pcap]
    run = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
    if run.returncode not in (0, 1, 4):  # 4: not everything verifiable (docs/cli.md)
        raise SystemExit(f"FAIL {' '.join(cmd)}: exit {run.returncode}: {run.stderr}")
    with open(os.path.join(out, "observations.jsonl")) as f:
        obs = sorted(line for line in f if '"tls-decrypted"' in line)
    with open(os.path.join(out, "report.json")) as f:
        tls = json.load(f)["summary"]["tls"]
    return obs, tls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--privaudit", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    base = os.path.join(args.source, "captures/demo-lanxin-leaky")
    if not os.path.exists(base + ".pcapng"):
        return 77
    os.makedirs(args.work, exist_ok=True)
    dsb = os.path.join(args.work, "with-secrets.pcapng")
    subprocess.run(["editcap", "--inject-secrets", f"tls,{base}.keylog", base + ".pcapng", dsb],
                   check=True)
    with_log, tls_log = audit(args, os.path.join(args.work, "keylog"), base + ".pcapng",
                              ["--keylog", base + ".keylog"])
    with_dsb, tls_dsb = audit(args, os.path.join(args.work, "dsb"), dsb, [])
    none, tls_none = audit(args, os.path.join(args.work, "none"), base + ".pcapng", [])
    errors = []
    if not with_log or tls_log["decrypted"] != tls_log["flows"] or not tls_log["flows"]:
        errors.append(f"with --keylog: tls {tls_log}, {len(with_log)} decrypted observations")
    if tls_dsb != tls_log:
        errors.append(f"secrets block: tls {tls_dsb}, with --keylog {tls_log}")
    if with_dsb != with_log:
        errors.append(f"secrets block: {len(with_dsb)} decrypted observations, with --keylog {len(with_log)}")
    if none or tls_none["decrypted"] or tls_none["opaque"].get("no-key") != tls_none["flows"]:
        errors.append(f"without keys: tls {tls_none}, {len(none)} decrypted observations")
    for e in errors:
        print("FAIL", e)
    print(f"{tls_dsb['decrypted']} of {tls_dsb['flows']} TLS flows decrypted from the secrets block, "
          f"{len(with_dsb)} observations inside")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
