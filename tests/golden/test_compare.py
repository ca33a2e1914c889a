#!/usr/bin/env python3
"""Unit tests of tests/golden/compare: it must catch what it is there to catch."""
import importlib.machinery
import io
import json
import os
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
compare = importlib.machinery.SourceFileLoader("golden_compare", os.path.join(HERE, "compare")).load_module()


def tshark_flow(**kw):
    f = {"proto": "udp", "src_ip": "192.168.1.2", "src_port": 40000, "dst_ip": "8.8.8.8", "dst_port": 53,
         "first_frame": 1, "packets_up": 1, "packets_down": 1, "bytes_up": 60, "bytes_down": 120,
         "payload_up": 32, "payload_down": 92, "sni": None, "dns_names": ["example.com"]}
    f.update(kw)
    return f


def privaudit_flow(**kw):
    """A flows.jsonl record for tshark_flow(), with the device as initiator."""
    f = {"flow_id": 1, "proto": "udp", "src_ip": "192.168.1.2", "src_port": 40000, "dst_ip": "8.8.8.8",
         "dst_port": 53, "device_side": "src", "packets_up": 1, "bytes_up": 60, "payload_up": 32,
         "packets_down": 1, "bytes_down": 120, "payload_down": 92, "first_packet": 1,
         "ndpi_proto": "DNS", "ndpi_hostname": "example.com", "sni": None}
    f.update(kw)
    return f


def run(expected_flows, actual, differences=()):
    doc = {"capture": "t.pcap", "flows": expected_flows, "differences": list(differences)}
    with tempfile.TemporaryDirectory() as d:
        e, a = os.path.join(d, "e.json"), os.path.join(d, "a.jsonl")
        with open(e, "w") as f:
            json.dump(doc, f)
        with open(a, "w") as f:
            for rec in actual:
                f.write(json.dumps(rec) + "\n")
        out = io.StringIO()
        ok = compare.check(e, a, out=out)
        return ok, out.getvalue()


class CompareTest(unittest.TestCase):
    def test_identical(self):
        ok, text = run([tshark_flow()], [privaudit_flow()])
        self.assertTrue(ok, text)
        self.assertNotIn("DIFFERENT", text)

    def test_device_side_dst_is_swapped_back(self):
        # The device is the responder: "up" counts the responder's packets.
        rec = privaudit_flow(device_side="dst", packets_up=1, bytes_up=120, payload_up=92,
                             packets_down=1, bytes_down=60, payload_down=32)
        ok, text = run([tshark_flow()], [rec])
        self.assertTrue(ok, text)

    def test_counter_difference_fails(self):
        ok, text = run([tshark_flow()], [privaudit_flow(bytes_down=121)])
        self.assertFalse(ok)
        self.assertIn("bytes_down: tshark 120, privaudit 121", text)

    def test_missing_and_extra(self):
        other = privaudit_flow(src_port=40001)
        ok, text = run([tshark_flow()], [other])
        self.assertFalse(ok)
        self.assertIn("tshark flow not in privaudit's output", text)
        self.assertIn("privaudit flow not seen by tshark", text)

    def test_orientation(self):
        rec = privaudit_flow(src_ip="8.8.8.8", src_port=53, dst_ip="192.168.1.2", dst_port=40000,
                             device_side="dst", packets_up=1, bytes_up=60, payload_up=32,
                             packets_down=1, bytes_down=120, payload_down=92)
        ok, text = run([tshark_flow()], [rec])
        self.assertFalse(ok)
        self.assertIn("privaudit's initiator is 8.8.8.8:53", text)
        self.assertNotIn("bytes_", text)  # counters are compared once re-oriented

    def test_sni_and_dns_name(self):
        e = tshark_flow(proto="tcp", dst_port=443, sni="a.example", dns_names=None)
        a = privaudit_flow(proto="tcp", dst_port=443, sni="b.example")
        ok, text = run([e], [a])
        self.assertFalse(ok)
        self.assertIn("sni: tshark 'a.example', privaudit 'b.example'", text)
        ok, text = run([tshark_flow()], [privaudit_flow(ndpi_hostname="other.example")])
        self.assertFalse(ok)
        self.assertIn("dns name", text)
        # DNS names are compared without regard to case (RFC 4343).
        ok, text = run([tshark_flow(dns_names=["Example.COM"])], [privaudit_flow()])
        self.assertTrue(ok, text)

    def test_repeated_tuple_matched_in_order(self):
        e = [tshark_flow(first_frame=1), tshark_flow(first_frame=9, bytes_up=70)]
        a = [privaudit_flow(flow_id=2, first_packet=9, bytes_up=70), privaudit_flow(flow_id=1, first_packet=1)]
        ok, text = run(e, a)
        self.assertTrue(ok, text)

    def test_documented_split_must_add_up(self):
        # tshark: one stream of 2 queries and 1 answer; privaudit: two flows.
        e = [tshark_flow(packets_up=2, bytes_up=120, payload_up=64)]
        parts = [privaudit_flow(first_packet=1), privaudit_flow(flow_id=2, first_packet=5)]
        label = "udp 192.168.1.2:40000 -> 8.8.8.8:53"
        split = {"flow": label, "kind": "split", "reason": "idle gap"}
        ok, text = run(e, parts)
        self.assertFalse(ok)  # undocumented
        self.assertIn("tshark has 1 flow(s), privaudit 2", text)
        ok, text = run(e, parts, [split])
        self.assertFalse(ok)  # documented, but the parts do not add up (2 answers vs 1)
        self.assertIn("(sum): packets_down: tshark 1, privaudit 2", text)
        parts[1].update(packets_down=0, bytes_down=0, payload_down=0)
        ok, text = run(e, parts, [split])
        self.assertTrue(ok, text)

    def test_documented_field_difference(self):
        label = "udp 192.168.1.2:40000 -> 8.8.8.8:53"
        doc = {"flow": label, "kind": "field", "field": "bytes_down", "actual": 121, "reason": "why"}
        ok, text = run([tshark_flow()], [privaudit_flow(bytes_down=121)], [doc])
        self.assertTrue(ok, text)
        # The documentation pins the value: another value is a new difference.
        ok, text = run([tshark_flow()], [privaudit_flow(bytes_down=122)], [doc])
        self.assertFalse(ok)

    def test_reasons_required(self):
        label = "udp 192.168.1.2:40000 -> 8.8.8.8:53"
        doc = {"flow": label, "kind": "missing", "reason": "link type not decoded"}
        ok, text = run([tshark_flow()], [], [doc])
        self.assertTrue(ok, text)
        ok, text = run([tshark_flow()], [], [{"flow": label, "kind": "missing"}])
        self.assertFalse(ok)
        self.assertIn("no reason given", text)

    def test_wildcard_is_refused(self):
        # A capture waived whole would check nothing.
        doc = {"flow": "*", "kind": "missing", "reason": "link type not decoded"}
        ok, text = run([tshark_flow()], [], [doc])
        self.assertFalse(ok)
        self.assertIn("waives every flow of the capture", text)

    def test_stale_difference_fails_and_names_the_flow(self):
        label = "udp 192.168.1.2:40000 -> 8.8.8.8:53"
        doc = {"flow": label, "kind": "field", "field": "bytes_down", "actual": 121, "reason": "why"}
        ok, text = run([tshark_flow()], [privaudit_flow()], [doc])
        self.assertFalse(ok)
        self.assertIn("t.pcap: STALE documented difference not seen any more: field %s bytes_down"
                      % label, text)
        missing = {"flow": label, "kind": "missing", "reason": "link type not decoded"}
        ok, text = run([tshark_flow()], [privaudit_flow()], [missing])
        self.assertFalse(ok)
        self.assertIn("STALE documented difference not seen any more: missing " + label, text)

    def test_non_tcp_udp_flows_are_ignored(self):
        ok, text = run([tshark_flow()], [privaudit_flow(), privaudit_flow(flow_id=2, proto=1, src_port=0, dst_port=0)])
        self.assertTrue(ok, text)


if __name__ == "__main__":
    unittest.main()
