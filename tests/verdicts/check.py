#!/usr/bin/env python3
"""Verdicts an auditor can defend (docs/findings.md, "Coverage"; docs/cli.md,
exit status).

Builds each capture here from packets (standard library only), audits it
against the 蓝信 policy with the lab phone's profile, and checks that the
audit either finds the datum or says, in the verdict, report.json, the
summary and the exit code, that it could not verify:

  complete      the phone talks cleartext HTTP to the first party, no datum,
                consent marker first: every promise kept, "Audit complete",
                coverage complete, exit 0 (the control: coverage can say yes)
  wrong-device  the capture's hosts are not the profile's phone: the first
                line of the summary says the device was never seen, no promise
                is kept, the HTML banner says incomplete, exit 4
  no-device-packet  the phone only receives: same, in its own words, exit 4
  cut-off       the last record of the file is cut off: the IMEI before it is
                still found, the input is named damaged, exit 2
  cut-off-clean the same with no datum: nothing kept, exit 2
  gap           the IMEI request's first segment was never captured, the rest
                was: encryption (and every promise) not verifiable, with the
                gap bytes named in the reason, exit 4
  opaque        a raw TCP flow in a format no decoder reads: encryption not
                verifiable ("opaque"), the other promises kept, exit 4
  dns-imei      the IMEI as a label of <IMEI>.imdns.hpplay.cn asked of a
                resolver: the recipient is 乐播云 (lebo), the reason names the
                zone hpplay.cn and the resolver, observations.jsonl masks the
                labels of the query name left of the zone
  escape        an HTTP Host with ESC/OSC/CSI sequences, BEL and U+202E: the
                terminal summary carries none of them raw, only escapes

Exit 0 when every check holds, 1 otherwise.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys

PHONE = bytes([10, 66, 0, 2])          # signatures/devices/lab-phone.yaml
OTHER = bytes([10, 9, 9, 9])           # a host that is not the phone
RESOLVER = bytes([39, 156, 66, 53])
FIRST_PARTY = bytes([39, 156, 66, 10])  # lanxin.cn (CN in the lab GeoIP fixture)
IMEI = b"868034031518269"
T0 = 1764000000

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, proto, l4):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0, src, dst)
    return ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + l4


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b""):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(seg))
    seg = seg[:16] + struct.pack("!H", csum(pseudo + seg)) + seg[18:]
    return ip4(src, dst, 6, seg)


def udp(src, dst, sport, dport, payload):
    dgram = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return ip4(src, dst, 17, dgram)


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def connection(client, server, cport, sport, segments, missing=()):
    """A TCP connection: handshake, each client segment acknowledged, FIN.
    Segments whose index is in `missing` are left out (never captured)."""
    cseq, sseq = 1000, 5000
    pkts = [tcp(client, server, cport, sport, cseq, 0, SYN),
            tcp(server, client, sport, cport, sseq, cseq + 1, SYN | ACK),
            tcp(client, server, cport, sport, cseq + 1, sseq + 1, ACK)]
    cseq += 1
    for i, data in enumerate(segments):
        if i not in missing:
            pkts.append(tcp(client, server, cport, sport, cseq, sseq + 1, PSH | ACK, data))
        cseq += len(data)
        pkts.append(tcp(server, client, sport, cport, sseq + 1, cseq, ACK))
    pkts.append(tcp(client, server, cport, sport, cseq, sseq + 1, FIN | ACK))
    pkts.append(tcp(server, client, sport, cport, sseq + 1, cseq + 1, FIN | ACK))
    pkts.append(tcp(client, server, cport, sport, cseq + 1, sseq + 2, ACK))
    return pkts


def consent_marker(src):
    return udp(src, RESOLVER, 40999, 9, b"PRIVAUDIT-CONSENT")


def dns_query(name, qid=0x4242):
    qname = b"".join(bytes([len(label)]) + label for label in name.split(b".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)


def write_pcap(path, pkts, cut_last=0):
    """Raw-IP pcap, one packet per 10 ms; cut_last bytes are taken off the
    end of the file (a capture stopped while writing its last record)."""
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)
    for i, p in enumerate(pkts):
        data += struct.pack("<IIII", T0 + i // 100, (i % 100) * 10000, len(p), len(p)) + p
    if cut_last:
        data = data[:-cut_last]
    with open(path, "wb") as f:
        f.write(data)


def http_get(host, path):
    return b"GET " + path + b" HTTP/1.1\r\nHost: " + host + b"\r\nUser-Agent: verdicts\r\n\r\n"


class Run:
    def __init__(self, args, name, pkts, cut_last=0, quiet=True):
        self.name = name
        base = os.path.join(args.work, name)
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(base)
        self.capture = os.path.join(base, name + ".pcap")
        write_pcap(self.capture, pkts, cut_last)
        self.out = os.path.join(base, "out")
        cmd = [args.privaudit, "audit", "--policy", os.path.join(args.source, "policies/lanxin.yaml"),
               "--device", os.path.join(args.source, "signatures/devices/lab-phone.yaml"),
               "--geoip", os.path.join(args.source, "tests/data/geoip/lab-country.mmdb"),
               "--geoip", os.path.join(args.source, "tests/data/geoip/lab-asn.mmdb"),
               "--out", self.out, self.capture]
        if quiet:
            cmd.insert(2, "--quiet")
        r = subprocess.run(cmd, capture_output=True, timeout=300)
        self.rc, self.stdout, self.stderr = r.returncode, r.stdout, r.stderr
        self.report = self._load("report.json")
        self.findings = self._jsonl("findings.jsonl")
        self.observations = self._jsonl("observations.jsonl")
        with open(os.path.join(self.out, "report.html"), encoding="utf-8") as f:
            self.html = f.read()
        print("%-18s exit %d, %d finding(s), coverage %s" %
              (name, self.rc, len(self.findings), self.report.get("coverage", {}).get("complete")))

    def _load(self, name):
        with open(os.path.join(self.out, name), encoding="utf-8") as f:
            return json.load(f)

    def _jsonl(self, name):
        with open(os.path.join(self.out, name), encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def promise(self, name):
        return next((p for p in self.report["promises"] if p["promise"] == name), None)

    def expect_rc(self, rc):
        if self.rc != rc:
            fail("%s: exit %d, expected %d: %s" % (self.name, self.rc, rc, self.stderr[-600:]))
        if self.report.get("result", {}).get("exit_code") != rc:
            fail("%s: report.json result %s, exit code %d" % (self.name, self.report.get("result"), rc))

    def expect_nothing_kept(self, words):
        for p in self.report["promises"]:
            if p["status"] == "kept":
                fail("%s: promise %s kept: %s" % (self.name, p["promise"], p["why"]))
            elif p["status"] == "not-verifiable" and not p["coverage"]["needs_judgement"] \
                    and words not in p["why"]:
                fail("%s: promise %s does not say %r: %s" % (self.name, p["promise"], words, p["why"]))
        cov = self.report["coverage"]
        if cov["complete"]:
            fail("%s: coverage complete" % self.name)
        if not any(words in r for r in cov["reasons"]):
            fail("%s: coverage reasons do not say %r: %s" % (self.name, words, cov["reasons"]))
        self.expect_banner(False)

    def expect_banner(self, complete):
        says_complete = "Audit complete" in self.html
        says_incomplete = "Audit incomplete" in self.html
        if complete != says_complete or complete == says_incomplete:
            fail("%s: report.html banner: complete=%s incomplete=%s, expected %s" %
                 (self.name, says_complete, says_incomplete, "complete" if complete else "incomplete"))

    def finding(self, rule, data_type):
        return [f for f in self.findings if f["rule"] == rule and f["data_type"] == data_type]


def check_complete(args):
    pkts = [consent_marker(PHONE)]
    pkts += connection(PHONE, FIRST_PARTY, 41000, 80,
                       [http_get(b"lanxin.cn", b"/api/ping?v=1")])
    r = Run(args, "complete", pkts)
    r.expect_rc(0)
    for p in r.report["promises"]:
        if p["promise"] != "minimum-necessary" and p["status"] != "kept":
            fail("complete: promise %s is %s: %s" % (p["promise"], p["status"], p["why"]))
        if p["promise"] != "minimum-necessary" and not p["coverage"]["complete"]:
            fail("complete: promise %s coverage incomplete" % p["promise"])
    if not r.report["coverage"]["complete"]:
        fail("complete: coverage incomplete: %s" % r.report["coverage"]["reasons"])
    r.expect_banner(True)


def check_wrong_device(args):
    pkts = [consent_marker(OTHER)]
    pkts += connection(OTHER, FIRST_PARTY, 41001, 80, [http_get(b"lanxin.cn", b"/api/ping")])
    pkts += [udp(OTHER, RESOLVER, 40001, 53, dns_query(b"lanxin.cn"))]
    r = Run(args, "wrong-device", pkts, quiet=False)
    r.expect_rc(4)
    r.expect_nothing_kept("the device was never seen")
    first = r.stdout.decode("utf-8", "replace").splitlines()[:1]
    if not first or "DEVICE NOT SEEN" not in first[0] or "wrong capture or wrong device profile" not in first[0]:
        fail("wrong-device: the summary's first line does not say so: %r" % first)
    dev = r.report["coverage"]["device"]
    if dev["seen"] or dev["device_flows"] or dev["unknown_side_flows"] != dev["flows"] or not dev["flows"]:
        fail("wrong-device: coverage.device %s" % dev)
    if "the device was never seen" not in r.html:
        fail("wrong-device: report.html does not say the device was never seen")


def check_no_device_packet(args):
    # The server sends to the phone; the phone never answers.
    pkts = [consent_marker(PHONE)]
    pkts += [udp(FIRST_PARTY, PHONE, 5000, 41002, b"push %d" % i) for i in range(3)]
    r = Run(args, "no-device-packet", pkts)
    r.expect_rc(4)
    r.expect_nothing_kept("the device never sent a packet")
    dev = r.report["coverage"]["device"]
    if dev["seen"] or not dev["device_flows"] or dev["device_packets"]:
        fail("no-device-packet: coverage.device %s" % dev)


def check_cut_off(args):
    pkts = [consent_marker(PHONE)]
    pkts += connection(PHONE, FIRST_PARTY, 41003, 80,
                       [http_get(b"lanxin.cn", b"/api/reg?imei=" + IMEI)])
    r = Run(args, "cut-off", pkts, cut_last=10)
    r.expect_rc(2)
    if not r.finding("encryption", "imei"):
        fail("cut-off: the IMEI before the cut was not found")
    inputs = r.report["summary"]["inputs"]
    if not inputs or not inputs[0]["damaged"] or "cut off" not in (inputs[0]["problem"] or ""):
        fail("cut-off: report.json inputs do not name the damage: %s" % inputs)
    if b"cut off" not in r.stderr:
        fail("cut-off: stderr does not say so: %r" % r.stderr[-400:])
    for p in r.report["promises"]:
        if p["status"] == "kept":
            fail("cut-off: promise %s kept in a damaged capture" % p["promise"])
    r.expect_banner(False)

    pkts = [consent_marker(PHONE)]
    pkts += connection(PHONE, FIRST_PARTY, 41004, 80, [http_get(b"lanxin.cn", b"/api/ping")])
    r = Run(args, "cut-off-clean", pkts, cut_last=10)
    r.expect_rc(2)
    r.expect_nothing_kept("the input is incomplete")


def check_gap(args):
    # The request is split in two segments; the first, holding the IMEI, was
    # never captured. Nothing in what was captured shows it: the encryption
    # promise must not be kept.
    request = http_get(b"lanxin.cn", b"/api/reg?imei=" + IMEI)
    pkts = [consent_marker(PHONE)]
    pkts += connection(PHONE, FIRST_PARTY, 41005, 80, [request[:40], request[40:]], missing=(0,))
    r = Run(args, "gap", pkts)
    r.expect_rc(4)
    enc = r.promise("encryption")
    if not enc or enc["status"] != "not-verifiable" or "not captured (gaps) 40" not in enc["why"]:
        fail("gap: encryption verdict %s" % (enc and (enc["status"], enc["why"])))
    elif enc["coverage"]["unread"]["gap"] != 40 or enc["coverage"]["flows"] != 1:
        fail("gap: encryption coverage %s" % enc["coverage"])
    if r.report["uninspected"]["gap_up"] != 40:
        fail("gap: uninspected %s" % r.report["uninspected"])
    r.expect_banner(False)


def check_opaque(args):
    blob = bytes((i * 73 + 11) & 0xFF for i in range(600))
    pkts = [consent_marker(PHONE)]
    pkts += connection(PHONE, FIRST_PARTY, 41006, 9000, [blob[:300], blob[300:]])
    r = Run(args, "opaque", pkts)
    r.expect_rc(4)
    enc = r.promise("encryption")
    if not enc or enc["status"] != "not-verifiable" or "format no decoder reads" not in enc["why"]:
        fail("opaque: encryption verdict %s" % (enc and (enc["status"], enc["why"])))
    elif enc["coverage"]["unread"]["opaque"] != 600:
        fail("opaque: encryption coverage %s" % enc["coverage"])
    for name in ("residency", "recipients", "scope", "data-types", "consent"):
        p = r.promise(name)
        if not p or p["status"] != "kept":
            fail("opaque: %s is %s: scanned bytes only leave encryption open" %
                 (name, p and (p["status"], p["why"])))
    if r.report["uninspected"]["opaque_up"] != 600 or r.report["uninspected"]["opaque_flows"] != 1:
        fail("opaque: uninspected %s" % r.report["uninspected"])


def check_dns(args):
    pkts = [consent_marker(PHONE), udp(PHONE, RESOLVER, 40002, 53, dns_query(IMEI + b".imdns.hpplay.cn"))]
    r = Run(args, "dns-imei", pkts)
    r.expect_rc(1)
    enc = r.finding("encryption", "imei")
    if not enc:
        fail("dns-imei: no encryption finding for the IMEI in the query name")
    else:
        f = enc[0]
        if f["recipient"]["id"] != "lebo" or "乐播云" not in (f["recipient"]["name"] or ""):
            fail("dns-imei: recipient %s, expected lebo (乐播云)" % f["recipient"])
        if "zone hpplay.cn" not in f["reason"] or "39.156.66.53" not in f["reason"]:
            fail("dns-imei: the reason does not name the zone and the resolver: %s" % f["reason"])
        if IMEI.decode() in json.dumps(f, ensure_ascii=False):
            fail("dns-imei: the finding carries the IMEI in clear")
    obs = [o for o in r.observations if o["type"] == "imei" and o["protocol"] == "dns"]
    if not obs:
        fail("dns-imei: no observation")
    else:
        o = obs[0]
        if o.get("hostname") != "hpplay.cn" or not (o["query_name"] or "").endswith(".hpplay.cn"):
            fail("dns-imei: observation names %s / %s" % (o.get("hostname"), o.get("query_name")))
        if IMEI.decode() in o["query_name"]:
            fail("dns-imei: query_name not masked: %s" % o["query_name"])
    # Lebo is a declared third party (device identifiers): no undeclared
    # recipient, and the resolver's address is nobody's finding.
    if any(f["recipient"]["id"] == "39.156.66.53" for f in r.findings):
        fail("dns-imei: a finding names the resolver as recipient")


def check_escape(args):
    host = b"evil\x1b]0;pwned\x07\x1b[31mred\x1b[2J\xe2\x80\xaeexe.txt.example.com"
    pkts = [consent_marker(PHONE)]
    pkts += connection(PHONE, FIRST_PARTY, 41007, 80, [http_get(host, b"/?imei=" + IMEI)])
    r = Run(args, "escape", pkts, quiet=False)
    out = r.stdout + r.stderr
    for raw, what in ((b"\x1b", "ESC"), (b"\x07", "BEL"), ("\u202e".encode(), "U+202E")):
        if raw in out:
            fail("escape: raw %s reached the terminal" % what)
    text = r.stdout.decode("utf-8", "replace")
    if "evil\\x1b]0;pwned\\x07\\x1b[31mred\\x1b[2j\\u{202e}exe.txt" not in text.lower():
        fail("escape: the Host is not shown escaped in the summary")
    # The control bytes may stop the HTTP parser: then the request's bytes
    # are counted unread and the encryption promise is not verifiable.
    enc = r.promise("encryption")
    if not r.finding("encryption", "imei") and (r.rc != 4 or enc["status"] != "not-verifiable"):
        fail("escape: the IMEI behind the hostile Host was neither found nor left unverified "
             "(exit %d, encryption %s)" % (r.rc, enc["status"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--privaudit", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    for check in (check_complete, check_wrong_device, check_no_device_packet, check_cut_off,
                  check_gap, check_opaque, check_dns, check_escape):
        try:
            check(args)
        except (OSError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
            fail("%s: %s: %s" % (check.__name__, type(e).__name__, e))
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
