#!/usr/bin/env python3
"""evidence_alone.py — an evidence file is enough by itself: tshark, given
only evidence/F*.pcapng (no key log, no other file), shows the decrypted
request that holds the datum of every finding made inside TLS.

For every demo capture with its key log, and the TLS 1.2 fixtures whose
second session is resumed by ticket and by session id (tests/data/tls,
with a key log holding only the first session's line), audited with
--show-values:
  - each finding with a raw datum seen inside TLS: its evidence file, copied
    alone into an empty folder, read by tshark with no key log configured,
    displays decrypted HTTP (HTTP/1 or HTTP/2) from the cited packet on in
    its connection (a message is shown where it ends, an HTTP/2 body in its
    DATA frames) whose dissection holds the datum's value (each cited datum
    once per capture);
  - the same file with its Decryption Secrets Block removed shows no such
    request (the secrets in the file are what decrypts it);
  - the secrets block holds key log lines only for client randoms of
    ClientHellos in that file (that session's secrets, no other);
  - every packet carries a comment naming the finding and its audit packet
    number, and the cited packet's timestamp equals the input's to the ns.

Usage: evidence_alone.py --privaudit BIN --source DIR --work DIR
Exit 77 when tshark or the demo captures are missing.
"""
import argparse
import glob
import json
import os
import re
import shutil
import struct
import subprocess
import sys

DSB = 0x0000000A


def blocks(data):
    """(type, raw block) of a little-endian pcapng file as privaudit writes it."""
    pos = 0
    while pos + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, pos)
        yield btype, data[pos:pos + blen]
        pos += blen


def secrets_of(path):
    with open(path, "rb") as f:
        data = f.read()
    lines = []
    for btype, raw in blocks(data):
        if btype == DSB:
            stype, slen = struct.unpack_from("<II", raw, 8)
            lines += raw[16:16 + slen].decode().splitlines()
    return lines


def without_secrets(path, out):
    with open(path, "rb") as f:
        data = f.read()
    with open(out, "wb") as f:
        for btype, raw in blocks(data):
            if btype != DSB:
                f.write(raw)


def tshark(path, *extra):
    # tls.keylog_file empty: nothing but the file itself can decrypt it.
    r = subprocess.run(["tshark", "-n", "-r", path, "-o", "tls.keylog_file:"] + list(extra),
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise SystemExit("FAIL tshark %s: %s" % (path, r.stderr[-400:]))
    return r.stdout


def input_times(capture):
    out = tshark(capture, "-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch")
    return {int(n): t for n, t in (l.split("\t") for l in out.splitlines() if l)}


def audit(args, capture, keylog, out):
    shutil.rmtree(out, ignore_errors=True)
    src = args.source
    cmd = [args.privaudit, "audit", "--quiet", "--show-values",
           "--geoip", os.path.join(src, "tests/data/geoip/lab-country.mmdb"),
           "--geoip", os.path.join(src, "tests/data/geoip/lab-asn.mmdb"),
           "--device", os.path.join(src, "signatures/devices/lab-phone.yaml"),
           "--keylog", keylog, "--out", out, capture]
    name = os.path.basename(capture)
    policy = "lanhu" if "lanhu" in name else "lanxin"
    cmd[3:3] = ["--policy", os.path.join(src, "policies/%s.yaml" % policy)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    # 0 clean, 1 violations, 4 clean but not everything verifiable (docs/cli.md)
    if r.returncode not in (0, 1, 4):
        raise SystemExit("FAIL %s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr[-400:]))
    with open(os.path.join(out, "findings.jsonl")) as f:
        findings = [json.loads(l) for l in f]
    values = {}
    with open(os.path.join(out, "observations.jsonl")) as f:
        for l in f:
            o = json.loads(l)
            # Only data sent as is: "field+base64" and the like were
            # decoded first, so their value is not in the bytes tshark shows.
            if (o["protocol"] == "tls-decrypted" and o["encoding"] == "raw" and o.get("value")
                    and "+" not in o["field"]):
                values.setdefault((o["flow_id"], o["packet"]), set()).add(o["value"])
    return findings, values


def check_request(f, path, ev, packet, want, alone, fail):
    """tshark shows, from the evidence file alone, the request holding the
    datum cited at packet; and does not without the file's secrets block."""
    # The request is shown where its message ends: the cited packet, or a
    # later one of the same connection when the body goes on past it.
    cited = tshark(ev, "-Y", 'frame.comment contains "(audit packet %d)"' % packet,
                   "-T", "fields", "-e", "frame.number", "-e", "tcp.stream").split()
    if len(cited) != 2:
        fail("%s: cited packet %d is not in %s" % (f["id"], packet, path))
        return
    # HTTP/1 or HTTP/2 from the cited packet on in its connection (an
    # HTTP/2 body comes in DATA frames after the request's HEADERS).
    request = "(http or http2) and tcp.stream == %s and frame.number >= %s" % (cited[1], cited[0])
    shown = tshark(ev, "-Y", request, "-V")
    if not re.search(r"^(Hypertext Transfer Protocol|HyperText Transfer Protocol 2)", shown, re.M):
        fail("%s: tshark shows no decrypted request from packet %d on in %s alone" % (f["id"], packet, path))
    elif want not in shown:
        fail("%s: the request tshark decrypts from %s alone lacks the datum %r" % (f["id"], path, want))
    stripped = os.path.join(alone, "stripped.pcapng")
    without_secrets(ev, stripped)
    if tshark(stripped, "-Y", request).strip():
        fail("%s: %s decrypts without its secrets block: the test proves nothing" % (f["id"], path))


def check_finding(f, path, values, times, work, shown_once, fail):
    """True when the finding was checked (it has a raw datum inside TLS)."""
    tls = [(o["flow_id"], o["packet"]) for o in f["observations"]
           if o["protocol"] == "tls-decrypted" and (o["flow_id"], o["packet"]) in values]
    if not tls:
        return False
    alone = os.path.join(work, "alone")
    shutil.rmtree(alone, ignore_errors=True)
    os.makedirs(alone)
    ev = shutil.copy(path, alone)
    for flow, packet in sorted(set(tls)):
        # Each cited datum once per capture: the files of the findings
        # citing it hold the same flow up to it.
        if (flow, packet) not in shown_once:
            shown_once.add((flow, packet))
            check_request(f, path, ev, packet, sorted(values[(flow, packet)])[0], alone, fail)

    randoms = set(tshark(ev, "-Y", "tls.handshake.type == 1", "-T", "fields",
                         "-e", "tls.handshake.random").split())
    lines = secrets_of(ev)
    if not lines:
        fail("%s: %s has no secrets block" % (f["id"], path))
    for line in lines:
        label, random, _ = line.split()
        if random not in randoms:
            fail("%s: %s holds secrets (%s) of a session not in the file" % (f["id"], path, label))

    rows = tshark(ev, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.comment")
    for row in rows.splitlines():
        t, _, comment = row.partition("\t")
        m = re.search(r"privaudit (F\d+): .*\(audit packet (\d+)\)", comment)
        if not m or m.group(1) != f["id"]:
            fail("%s: packet comment %r does not name the finding and packet" % (f["id"], comment))
            continue
        n = int(m.group(2))
        if times.get(n) != t:
            fail("%s: packet %d has time %s in %s, %s in the input" % (f["id"], n, t, path, times.get(n)))
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--privaudit", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    captures = [(c, c[:-len(".pcapng")] + ".keylog")
                for c in sorted(glob.glob(os.path.join(args.source, "captures/demo-*.pcapng")))]
    # TLS 1.2 sessions resumed by ticket and by session id, given a key log
    # without the resumed session's line: the file must carry a
    # CLIENT_RANDOM line made from the master secret the audit found by
    # ticket or id.
    captures += [(os.path.join(args.source, "tests/data/tls/%s.pcap" % n),
                  os.path.join(args.source, "tests/data/tls/%s.keys" % n))
                 for n in ("tls12-resume-ticket", "tls12-resume-id")]
    captures = [(c, k) for c, k in captures if os.path.exists(c) and os.path.exists(k)]
    if not shutil.which("tshark") or not captures:
        print("SKIP: tshark or the demo captures with key logs are missing")
        return 77
    errors = []
    checked = 0
    resumed = set()
    for capture, keylog in captures:
        work = os.path.join(args.work, os.path.splitext(os.path.basename(capture))[0])
        os.makedirs(work, exist_ok=True)
        if "resume" in capture:
            # Only the first session's line: the resumed one is decrypted
            # from its ticket or session id, as when an app logs only full
            # handshakes.
            with open(keylog) as f:
                first = next(l for l in f if l.startswith("CLIENT_RANDOM"))
            keylog = os.path.join(work, "first-session.keys")
            with open(keylog, "w") as f:
                f.write(first)
        findings, values = audit(args, capture, keylog, os.path.join(work, "out"))
        times = input_times(capture)
        shown_once = set()
        for f in findings:
            path = os.path.join(work, "out", f["evidence"])
            if check_finding(f, path, values, times, work, shown_once, errors.append):
                checked += 1
                if "resume" in capture:
                    resumed.add(capture)
    for e in errors:
        print("FAIL", e)
    print("%d finding(s) inside TLS: each evidence file decrypted by tshark alone" % checked)
    if not checked:
        print("FAIL no finding inside TLS in the demo captures: nothing was shown")
        return 1
    for capture, _ in captures:
        if "resume" in capture and capture not in resumed:
            print("FAIL %s: no finding inside TLS to check the resumed session with" % capture)
            return 1
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
