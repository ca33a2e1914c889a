#!/usr/bin/env python3
"""dns-tcp-empty-message.py PRIVAUDIT DEVICE WORKDIR — DNS over TCP whose length
prefix is 0 (an empty message), then a real query, in one segment. The audit
once looped for ever on it (found on a 500 MB benchmark capture); it must end
quickly and still see the query after the empty message."""
import json
import os
import shutil
import struct
import subprocess
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_packet(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


def main():
    privaudit, device, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    phone, dns = bytes([10, 66, 0, 2]), bytes([39, 156, 66, 53])
    name = b"".join(bytes([len(l)]) + l for l in (b"868034031518269", b"example", b"cn")) + b"\0"
    query = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1)
    payload = struct.pack("!H", 0) + struct.pack("!H", len(query)) + query
    pkts = [
        tcp_packet(phone, dns, 40000, 53, 1000, 0, 0x02),
        tcp_packet(dns, phone, 53, 40000, 5000, 1001, 0x12),
        tcp_packet(phone, dns, 40000, 53, 1001, 5001, 0x10),
        tcp_packet(phone, dns, 40000, 53, 1001, 5001, 0x18, payload),
        tcp_packet(phone, dns, 40000, 53, 1001 + len(payload), 5001, 0x11),
    ]
    cap = os.path.join(work, "dns-tcp-empty.pcap")
    with open(cap, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))  # raw IP
        for i, p in enumerate(pkts):
            f.write(struct.pack("<IIII", 1700000000, i * 1000, len(p), len(p)) + p)
    out = os.path.join(work, "out")
    shutil.rmtree(out, ignore_errors=True)  # privaudit refuses a non-empty output folder
    try:
        subprocess.run([privaudit, "audit", "--quiet", "--device", device, "--out", out, cap], timeout=60,
                       check=False)
    except subprocess.TimeoutExpired:
        sys.exit("FAIL: the audit did not end within 60 s")
    obs = [json.loads(l) for l in open(os.path.join(out, "observations.jsonl"))]
    qnames = [o for o in obs if o["field"] == "dns.qname"]
    if not qnames:
        sys.exit("FAIL: the query after the empty message was not scanned: %s" % obs)
    print("PASS: %d observation(s) in the query after the empty message" % len(qnames))


if __name__ == "__main__":
    main()
