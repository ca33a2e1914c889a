#!/usr/bin/env python3
"""tests/policy/host_port.py PRIVAUDIT CAPTURE WORK — an HTTP Host with a
port names the same recipient as the bare host: a real capture whose
Dalvik POST goes to `sdk.xinxiansk.com:8100` is summarised under
`sdk.xinxiansk.com`, while flows.jsonl keeps the port. Exit 77 (skipped)
without the capture."""
import json
import os
import shutil
import subprocess
import sys

PRIVAUDIT, CAPTURE, WORK = sys.argv[1:4]
if not os.path.exists(CAPTURE):
    print("SKIP: %s is not here" % CAPTURE)
    sys.exit(77)
shutil.rmtree(WORK, ignore_errors=True)
proc = subprocess.run([PRIVAUDIT, "audit", "--quiet", "--out", WORK, CAPTURE], capture_output=True,
                      text=True)
if proc.returncode not in (0, 4):
    print("FAIL: audit exit %d: %s" % (proc.returncode, proc.stderr))
    sys.exit(1)
with open(os.path.join(WORK, "flows.jsonl")) as f:
    flows = [json.loads(line) for line in f if line.strip()]
names = {fl.get("hostname") for fl in flows}
if "sdk.xinxiansk.com:8100" not in names:
    print("FAIL: no flow record keeps the Host with its port: %s" % sorted(n for n in names if n))
    sys.exit(1)
print("ok  flows.jsonl keeps sdk.xinxiansk.com:8100")
with open(os.path.join(WORK, "report.json")) as f:
    recipients = json.load(f)["summary"]["recipients"]
ported = [r for r in recipients if r.startswith("sdk.xinxiansk.com")]
if ported != ["sdk.xinxiansk.com"]:
    print("FAIL: summary.recipients has %s, expected the bare host once" % ported)
    sys.exit(1)
print("ok  summary.recipients names sdk.xinxiansk.com once")
