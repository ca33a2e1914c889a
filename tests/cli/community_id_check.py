#!/usr/bin/env python3
"""tests/cli/community_id_check.py PRIVAUDIT WORK CAPTURE... — community_id in
flows.jsonl against Wireshark's own Community ID (tshark 4.0 with
--enable-protocol communityid) over the same captures.

Every community_id privaudit writes must be one tshark computes for a packet
of the same capture, and every flow's packets must agree on it; findings
list the community_id of each of their flows. Exit 77 (skipped) without
tshark.
"""
import json
import os
import shutil
import subprocess
import sys

PRIVAUDIT, WORK, CAPTURES = sys.argv[1], sys.argv[2], sys.argv[3:]
if not shutil.which("tshark"):
    print("tshark is not installed: skipped")
    sys.exit(77)


def tshark_ids(capture):
    """(src, sport, dst, dport) -> community id, per packet that has one."""
    fields = ["ip.src", "ipv6.src", "tcp.srcport", "udp.srcport", "sctp.srcport", "ip.dst",
              "ipv6.dst", "tcp.dstport", "udp.dstport", "sctp.dstport", "communityid"]
    proc = subprocess.run(["tshark", "-n", "-r", capture, "--enable-protocol", "communityid",
                           "-T", "fields", "-E", "occurrence=f"] +
                          [a for f in fields for a in ("-e", f)],
                          capture_output=True, text=True)
    ids = {}
    for line in proc.stdout.splitlines():
        v = line.split("\t")
        if len(v) != len(fields) or not v[10]:
            continue
        src, dst = v[0] or v[1], v[5] or v[6]
        sport = v[2] or v[3] or v[4] or "0"
        dport = v[7] or v[8] or v[9] or "0"
        ids.setdefault((src, int(sport), dst, int(dport)), set()).add(v[10])
    return ids


checked = 0
for capture in CAPTURES:
    out = os.path.join(WORK, os.path.basename(capture))
    shutil.rmtree(out, ignore_errors=True)
    policy = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "policies",
                          "lanxin.yaml")
    proc = subprocess.run([PRIVAUDIT, "audit", "-q", "--policy", policy, "--out", out, capture],
                          capture_output=True)
    if proc.returncode not in (0, 1, 4):  # 2 and 3: the audit itself failed
        print("FAIL: audit of %s: exit %d: %s" % (capture, proc.returncode, proc.stderr.decode()))
        sys.exit(1)
    reference = tshark_ids(capture)
    ours = {}
    with open(os.path.join(out, "flows.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            ours[r["flow_id"]] = r.get("community_id")
            if r.get("community_id") is None:
                if r["ip_proto"] not in (1, 58) and r["src_ip"].count(".") == 3:  # ICMP, ICMPv6
                    print("FAIL: %s flow %d (%s) has no community_id" % (capture, r["flow_id"], r["proto"]))
                    sys.exit(1)
                continue
            keys = [(r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"]),
                    (r["dst_ip"], r["dst_port"], r["src_ip"], r["src_port"])]
            want = set().union(*(reference.get(k, set()) for k in keys))
            if not want:
                continue  # tshark saw it otherwise (a tunnel's inner packet, a fragment)
            if want != {r["community_id"]}:
                print("FAIL: %s flow %d %s:%d -> %s:%d: privaudit %s, tshark %s" % (
                    capture, r["flow_id"], r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"],
                    r["community_id"], sorted(want)))
                sys.exit(1)
            checked += 1
    with open(os.path.join(out, "findings.jsonl")) as f:
        for line in f:
            finding = json.loads(line)
            if finding["community_ids"] != [ours.get(i) for i in finding["flows"]]:
                print("FAIL: %s finding %s: community_ids %s do not match its flows %s" % (
                    capture, finding["id"], finding["community_ids"], finding["flows"]))
                sys.exit(1)
print("ok  %d flows: community_id equals tshark's" % checked)
if checked < 20:
    print("FAIL: too few flows compared (%d)" % checked)
    sys.exit(1)
