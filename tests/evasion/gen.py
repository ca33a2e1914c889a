#!/usr/bin/env python3
"""Evasion captures: traffic shaped to hide a datum from a passive auditor.

Each case is one TCP connection from the lab phone (signatures/devices/
lab-phone.yaml, 10.66.0.2) to a server, written as a classic pcap with
Ethernet/IPv4/TCP frames built by hand (correct checksums unless the case
wants a bad one). Every case carries the phone's IMEI in cleartext in a way
a receiver would accept; CASES names the packet that carries it, the one an
observation must cite.

    gen.py OUTDIR            writes OUTDIR/<case>.pcap and OUTDIR/cases.json
"""
import gzip
import json
import os
import struct
import sys

IMEI = b"868034031518269"
DECOY = b"123456789012347"  # same length, a different (valid-Luhn) number
PHONE = (bytes([10, 66, 0, 2]), bytes.fromhex("8cbebe4a2107"))
SERVER = (bytes([198, 51, 100, 7]), bytes.fromhex("02000000aa01"))
PHONE_PORT, SERVER_PORT = 40123, 80


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class Conn:
    """One TCP connection; frames() in the order written."""

    def __init__(self, offload=False):
        self.offload = offload  # the phone's checksums left unfilled (captured on the phone)
        self.frames = []
        self.seq = {0: 1000, 1: 5000}  # 0: phone, 1: server
        self.ts = 1_700_000_000.0

    def frame(self, side, flags, seq, ack, payload=b"", bad_checksum=False):
        src, dst = (PHONE, SERVER) if side == 0 else (SERVER, PHONE)
        sport, dport = (PHONE_PORT, SERVER_PORT) if side == 0 else (SERVER_PORT, PHONE_PORT)
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0) + payload
        pseudo = src[0] + dst[0] + struct.pack("!BBH", 0, 6, len(tcp))
        csum = checksum(pseudo + tcp)
        if bad_checksum:
            csum ^= 0x5A5A
        if self.offload and side == 0:
            csum = 0
        tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), len(self.frames) & 0xFFFF,
                         0x4000, 64, 6, 0, src[0], dst[0])
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        eth = dst[1] + src[1] + b"\x08\x00"
        self.ts += 0.001
        self.frames.append((self.ts, eth + ip + tcp))
        return len(self.frames)  # 1-based packet number

    def handshake(self):
        self.frame(0, 0x02, self.seq[0] - 1, 0)
        self.frame(1, 0x12, self.seq[1] - 1, self.seq[0])
        self.frame(0, 0x10, self.seq[0], self.seq[1])

    def send(self, side, data, at=None, bad_checksum=False, advance=True):
        """Data from side at stream offset `at` (default: next); returns the packet number."""
        seq = self.seq[side] + (at if at is not None else 0)
        n = self.frame(side, 0x18, seq, self.seq[1 - side], data, bad_checksum)
        if advance and at is None:
            self.seq[side] += len(data)
        return n

    def ack(self, side):
        self.frame(side, 0x10, self.seq[side], self.seq[1 - side])

    def close(self):
        self.frame(0, 0x11, self.seq[0], self.seq[1])
        self.frame(1, 0x11, self.seq[1], self.seq[0] + 1)
        self.frame(0, 0x10, self.seq[0] + 1, self.seq[1] + 1)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            for ts, data in self.frames:
                sec = int(ts)
                usec = int(round((ts - sec) * 1e6))
                f.write(struct.pack("<IIII", sec, usec, len(data), len(data)) + data)


def request(query=b"imei=" + IMEI, extra=b""):
    return (b"GET /v1/report?" + query + b" HTTP/1.1\r\nHost: api.example.net\r\n" + extra +
            b"User-Agent: sdk/1.0\r\nAccept: */*\r\n\r\n")


def response(c):
    c.send(1, b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
    c.ack(0)


# ---- TCP decoys ----------------------------------------------------------------


def decoy_first_bad_checksum():
    """A decoy with a broken checksum as the very first data segment: taken
    for checksum offload, so caught as a conflicting copy."""
    c = Conn()
    c.handshake()
    real = request()
    c.send(0, real.replace(IMEI, DECOY), at=0, bad_checksum=True)
    n = c.send(0, real)
    c.ack(1)
    response(c)
    c.close()
    return c, n


def decoy_first():
    """The decoy (other digits) first, the real copy after at the same sequence number."""
    c = Conn()
    c.handshake()
    real = request()
    c.send(0, real.replace(IMEI, DECOY), at=0)
    n = c.send(0, real)
    c.ack(1)
    response(c)
    c.close()
    return c, n


def decoy_bad_checksum():
    """After a first data segment, a decoy of the next one with a broken TCP
    checksum (a receiver drops it), then the real copy."""
    c = Conn()
    c.handshake()
    first, second = _split_request()
    c.send(0, first)
    c.send(0, second.replace(IMEI[7:], DECOY[7:]), at=0, bad_checksum=True)
    n = c.send(0, second)
    c.ack(1)
    response(c)
    c.close()
    return c, n


def _split_request():
    real = request()
    cut = real.index(IMEI) + 7  # the IMEI straddles the two segments
    return real[:cut], real[cut:]


def decoy_second_half_out_of_order():
    """The second half's decoy arrives before the first half; the real second half last."""
    c = Conn()
    c.handshake()
    first, second = _split_request()
    decoy = second.replace(IMEI[7:], DECOY[7:])
    c.send(0, decoy, at=len(first))
    c.send(0, first)
    c.frame(1, 0x10, c.seq[1], c.seq[0])  # the server acknowledges the first half only
    n = c.send(0, second)
    c.ack(1)
    response(c)
    c.close()
    return c, n


def decoy_both_halves_waiting():
    """Decoy and real second half both arrive before the first half."""
    c = Conn()
    c.handshake()
    first, second = _split_request()
    decoy = second.replace(IMEI[7:], DECOY[7:])
    c.send(0, decoy, at=len(first))
    n = c.send(0, second, at=len(first))
    c.send(0, first)
    c.seq[0] += len(second)
    c.ack(1)
    response(c)
    c.close()
    return c, n


def offload_checksums():
    """Captured on the phone: every segment it sends has an unfilled checksum."""
    c = Conn(offload=True)
    c.handshake()
    n = c.send(0, request())
    c.ack(1)
    response(c)
    c.close()
    return c, n


# ---- sloppy HTTP/1 ---------------------------------------------------------------


def sloppy(extra=b"", query=b"imei=" + IMEI, raw=None):
    def build():
        c = Conn()
        c.handshake()
        n = c.send(0, raw if raw is not None else request(query, extra))
        c.ack(1)
        response(c)
        c.close()
        return c, n
    return build


# ---- bodies past the decoder bound ------------------------------------------------------


def _post(c, body, headers=b"", mark=None):
    """POSTs body in 1400-byte segments; returns the packet carrying the last
    byte of `mark` (or of the body when None)."""
    head = (b"POST /upload HTTP/1.1\r\nHost: api.example.net\r\nContent-Type: "
            b"application/octet-stream\r\n" + headers +
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    data = head + body
    last_byte = data.index(mark) + len(mark) - 1 if mark else len(data) - 1
    carrier = None
    for i in range(0, len(data), 1400):
        n = c.send(0, data[i:i + 1400])
        if i <= last_byte < i + 1400:
            carrier = n
        if (i // 1400) % 20 == 19:
            c.ack(1)
    return carrier


def body_past_bound():
    """The IMEI after 1.1 MB of body."""
    c = Conn()
    c.handshake()
    n = _post(c, b"x" * 1_100_000 + b"&imei=" + IMEI + b"&end=1", mark=IMEI)
    c.ack(1)
    response(c)
    c.close()
    return c, n


def gzip_past_bound():
    """A gzip body that inflates past 1 MiB, the IMEI after 1.2 MB of inflated bytes."""
    c = Conn()
    c.handshake()
    plain = b"0" * 1_200_000 + b"&imei=" + IMEI + b"&end=1"
    last = _post(c, gzip.compress(plain, 9), b"Content-Encoding: gzip\r\n")
    c.ack(1)
    response(c)
    c.close()
    return c, last  # decoded bytes exist once the whole body is in


# ---- repetition ---------------------------------------------------------------------


def repeated_requests():
    """The same IMEI in 300 pipelined requests: one observation with a count."""
    c = Conn()
    c.handshake()
    first = None
    for i in range(300):
        n = c.send(0, request())
        first = first or n
        if i % 10 == 9:
            c.ack(1)
    c.ack(1)
    for i in range(300):
        c.send(1, b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
    c.ack(0)
    c.close()
    return c, first


# ---- HTTP/2 amplification ---------------------------------------------------------

H2_REFERENCES = 2000


def _hpack_int(value, prefix_bits, first=0):
    """An HPACK integer (RFC 7541 5.1) with the given prefix bits."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def _h2_frame(ftype, flags, stream, payload):
    return struct.pack("!I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack("!I", stream) + payload


def h2c_hpack_amplification():
    """Cleartext HTTP/2 (prior knowledge): one 3 kB header entry holding the
    IMEI enters the HPACK dynamic table, then 2000 requests each refer to it
    with a single byte. Output must grow with distinct data: one observation
    with a count, not 2001 copies."""
    c = Conn()
    c.handshake()
    name = b"x-device-info"
    value = b"imei=" + IMEI + b"&pad=" + b"x" * 3000
    # :method GET, :scheme http, :path / (static table), then a literal with
    # incremental indexing (new name): it becomes dynamic index 62.
    block = b"\x82\x86\x84" + b"\x40" + _hpack_int(len(name), 7) + name + \
        _hpack_int(len(value), 7) + value
    first = c.send(0, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + _h2_frame(4, 0, 0, b"") +
                   _h2_frame(1, 0x05, 1, block))
    c.send(1, _h2_frame(4, 0, 0, b"") + _h2_frame(4, 0x01, 0, b""))
    frames = b"".join(_h2_frame(1, 0x05, 3 + 2 * i, b"\x82\x86\x84\xbe")
                      for i in range(H2_REFERENCES))
    for off in range(0, len(frames), 1300):
        c.send(0, frames[off:off + 1300])
        c.ack(1)
    c.close()
    return c, first


CASES = {
    "decoy-first": decoy_first,
    "decoy-bad-checksum": decoy_bad_checksum,
    "decoy-first-bad-checksum": decoy_first_bad_checksum,
    "decoy-second-half-ooo": decoy_second_half_out_of_order,
    "decoy-both-halves-waiting": decoy_both_halves_waiting,
    "offload-checksums": offload_checksums,
    "http-nul-in-host": sloppy(raw=b"GET /v1/report?imei=" + IMEI +
                               b" HTTP/1.1\r\nHost: api.exa\x00mple.net\r\nAccept: */*\r\n\r\n"),
    "http-bel-in-host": sloppy(raw=b"GET /v1/report?imei=" + IMEI +
                               b" HTTP/1.1\r\nHost: api\x07.example.net\r\n\r\n"),
    "http-esc-del-in-host": sloppy(raw=b"GET /v1/report?imei=" + IMEI +
                                   b" HTTP/1.1\r\nHost: api\x1b\x7f.example.net\r\n\r\n"),
    "http-ctl-in-user-agent": sloppy(extra=b"X-Agent: sdk\x01v2\r\n"),
    "http-header-without-colon": sloppy(extra=b"X-Broken-Header-Line\r\n"),
    "http-space-in-query": sloppy(query=b"q=a b&imei=" + IMEI),
    "http-cl-and-te": sloppy(raw=b"POST /v1/report HTTP/1.1\r\nHost: api.example.net\r\n"
                             b"Content-Length: 24\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"18\r\nimei=" + IMEI + b"&x=1\r\n0\r\n\r\n"),
    "body-past-bound": body_past_bound,
    "gzip-past-bound": gzip_past_bound,
    "repeated-requests": repeated_requests,
    "h2c-hpack-amplification": h2c_hpack_amplification,
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    meta = {}
    for name, build in CASES.items():
        conn, packet = build()
        conn.write(os.path.join(out, name + ".pcap"))
        meta[name] = {"imei_packet": packet}
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
