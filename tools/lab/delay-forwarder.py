#!/usr/bin/env python3
"""delay-forwarder.py TUN CATALOGUE RTT-SPEC — distance as latency, in user space.

The lab kernel may lack netem, so the router sends packets from the phone
into a TUN device; this process holds each one for the round trip its
destination's country implies and writes it back into the same TUN device,
from where the kernel forwards it on to the "internet" namespace. Replies
take the direct way back. Seen from the mirror port (the phone's link), a
server then answers SYN with SYN/ACK one round trip later, as a far server
does.

RTT-SPEC: "CN:12 HK:38 ..." (milliseconds per catalogue country); addresses
the catalogue does not list get the CN value. Runs until killed.
"""
import fcntl
import heapq
import ipaddress
import os
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def load_delays(catalogue, spec):
    rtt = {cc: float(ms) / 1000.0 for cc, ms in (e.split(":") for e in spec.split())}
    default = rtt.get("CN", 0.0)
    delays = {}
    for line in open(catalogue, encoding="utf-8"):
        f = line.split()
        if len(f) < 4 or line.startswith("#"):
            continue
        for addr in f[1:3]:
            if addr != "-":
                delays[ipaddress.ip_address(addr).packed] = rtt.get(f[3], default)
    return delays, default


def destination(pkt):
    if pkt and pkt[0] >> 4 == 4 and len(pkt) >= 20:
        return pkt[16:20]
    if pkt and pkt[0] >> 4 == 6 and len(pkt) >= 40:
        return pkt[24:40]
    return None


def main():
    tun, catalogue, spec = sys.argv[1:4]
    fd = open_tun(tun)
    delays, default = load_delays(catalogue, spec)
    queue = []  # (due, sequence, packet): the sequence keeps order among equal times
    seq = 0
    print("ready", flush=True)
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        readable, _, _ = select.select([fd], [], [], timeout)
        now = time.monotonic()
        if readable:
            pkt = os.read(fd, 65536)
            due = now + delays.get(destination(pkt), default)
            heapq.heappush(queue, (due, seq, pkt))
            seq += 1
        while queue and queue[0][0] <= time.monotonic():
            os.write(fd, heapq.heappop(queue)[2])


if __name__ == "__main__":
    main()
