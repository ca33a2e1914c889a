"""Small pcap/pcapng reader and writer and a TCP/UDP stream view, for the lab tools.

Only what the lab needs: Ethernet frames carrying IPv4/IPv6 with TCP or UDP.
Packet numbers are 1-based in file order, as Wireshark and privaudit count them.
"""
import ipaddress
import struct

PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_IDB = 0x00000001
PCAPNG_EPB = 0x00000006
PCAPNG_SPB = 0x00000003


class Packet:
	__slots__ = ("number", "ts", "data", "iface")

	def __init__(self, number, ts, data, iface=0):
		self.number = number
		self.ts = ts          # seconds, float
		self.data = data      # the captured frame
		self.iface = iface


def read_packets(path):
	"""Every packet of a pcap or pcapng file, numbered from 1."""
	with open(path, "rb") as f:
		blob = f.read()
	if len(blob) < 4:
		return []
	magic = struct.unpack_from("<I", blob, 0)[0]
	if magic == PCAPNG_SHB:
		return _read_pcapng(blob)
	return _read_pcap(blob)


def _read_pcap(blob):
	magic = blob[:4]
	if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
		end = "<"
	elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
		end = ">"
	else:
		raise ValueError("not a pcap or pcapng file")
	nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
	out, off, n = [], 24, 0
	while off + 16 <= len(blob):
		sec, frac, incl, _orig = struct.unpack_from(end + "IIII", blob, off)
		off += 16
		if off + incl > len(blob):
			break
		n += 1
		out.append(Packet(n, sec + frac / (1e9 if nano else 1e6), blob[off:off + incl]))
		off += incl
	return out


def _read_pcapng(blob):
	out, off, n = [], 0, 0
	end = "<"
	tsres = []
	while off + 12 <= len(blob):
		btype = struct.unpack_from(end + "I", blob, off)[0]
		if btype == PCAPNG_SHB:
			bom = blob[off + 8:off + 12]
			end = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
			tsres = []
		blen = struct.unpack_from(end + "I", blob, off + 4)[0]
		if blen < 12 or off + blen > len(blob):
			break
		body = blob[off + 8:off + blen - 4]
		if btype == PCAPNG_IDB:
			tsres.append(_idb_tsresol(body, end))
		elif btype == PCAPNG_EPB:
			iface, hi, lo, incl = struct.unpack_from(end + "IIII", body, 0)
			res = tsres[iface] if iface < len(tsres) else 1e-6
			n += 1
			out.append(Packet(n, ((hi << 32) | lo) * res, body[20:20 + incl], iface))
		elif btype == PCAPNG_SPB:
			orig = struct.unpack_from(end + "I", body, 0)[0]
			n += 1
			out.append(Packet(n, 0.0, body[4:4 + orig]))
		off += blen
	return out


def _idb_tsresol(body, end):
	off = 8
	while off + 4 <= len(body):
		code, length = struct.unpack_from(end + "HH", body, off)
		if code == 0:
			break
		if code == 9 and length >= 1:
			v = body[off + 4]
			return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
		off += 4 + ((length + 3) & ~3)
	return 1e-6


def write_pcap(path, packets, snaplen=262144):
	"""Classic pcap, microsecond timestamps, Ethernet."""
	with open(path, "wb") as f:
		f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1))
		for ts, data in packets:
			sec = int(ts)
			f.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(data), len(data)))
			f.write(data)


class L4:
	"""The parts of a frame the lab looks at."""
	__slots__ = ("src", "dst", "proto", "sport", "dport", "seq", "flags", "payload")


def parse_l4(frame):
	"""Ethernet + IPv4/IPv6 + TCP/UDP, or None. Bounds-checked throughout."""
	if len(frame) < 14:
		return None
	etype = struct.unpack_from("!H", frame, 12)[0]
	off = 14
	if etype == 0x8100 and len(frame) >= 18:
		etype = struct.unpack_from("!H", frame, 16)[0]
		off = 18
	r = L4()
	if etype == 0x0800:
		if len(frame) < off + 20:
			return None
		ihl = (frame[off] & 0x0F) * 4
		total = struct.unpack_from("!H", frame, off + 2)[0]
		frag = struct.unpack_from("!H", frame, off + 6)[0]
		if frag & 0x1FFF or ihl < 20:
			return None
		r.proto = frame[off + 9]
		r.src = str(ipaddress.IPv4Address(frame[off + 12:off + 16]))
		r.dst = str(ipaddress.IPv4Address(frame[off + 16:off + 20]))
		end = min(len(frame), off + total)
		off += ihl
	elif etype == 0x86DD:
		if len(frame) < off + 40:
			return None
		plen = struct.unpack_from("!H", frame, off + 4)[0]
		r.proto = frame[off + 6]
		r.src = str(ipaddress.IPv6Address(frame[off + 8:off + 24]))
		r.dst = str(ipaddress.IPv6Address(frame[off + 24:off + 40]))
		end = min(len(frame), off + 40 + plen)
		off += 40
	else:
		return None
	if r.proto == 6:
		if end < off + 20:
			return None
		r.sport, r.dport, r.seq = struct.unpack_from("!HHI", frame, off)
		doff = (frame[off + 12] >> 4) * 4
		r.flags = frame[off + 13]
		r.payload = frame[off + doff:end] if off + doff <= end else b""
	elif r.proto == 17:
		if end < off + 8:
			return None
		r.sport, r.dport = struct.unpack_from("!HH", frame, off)
		r.seq, r.flags = 0, 0
		r.payload = frame[off + 8:end]
	else:
		return None
	return r


class Stream:
	"""Bytes one side sent on one TCP connection (or UDP 5-tuple), with the
	packet number that carried each byte (first copy wins; retransmits ignored)."""

	def __init__(self, first_ts=0.0):
		self.chunks = {}      # relative seq -> (packet number, bytes)
		self.isn = None
		self.syn_seq = None
		self.datagrams = []   # UDP: (packet number, payload)
		self.first_ts = first_ts
		self.numbers = []     # every packet of this direction

	def add_tcp(self, number, seq, flags, payload):
		self.numbers.append(number)
		if flags & 0x02:
			self.syn_seq = seq
			self.isn = (seq + 1) & 0xFFFFFFFF
			return
		if not payload:
			return
		if self.isn is None:
			self.isn = seq
		rel = (seq - self.isn) & 0xFFFFFFFF
		self.chunks.setdefault(rel, (number, payload))

	def assemble(self):
		"""(data, owners) where owners[i] is the packet number of data[i]."""
		data = bytearray()
		owners = []
		for rel in sorted(self.chunks):
			number, payload = self.chunks[rel]
			if rel > len(data):
				gap = rel - len(data)     # lost bytes: keep offsets honest
				data += b"\0" * gap
				owners += [0] * gap
			skip = len(data) - rel
			if skip >= len(payload):
				continue
			data += payload[skip:]
			owners += [number] * (len(payload) - skip)
		return bytes(data), owners


def connections(packets):
	"""{(proto, src, sport, dst, dport): [Stream, ...]} for every direction
	seen, one Stream per TCP connection in capture order: a client that
	reuses its port for the same server (the server closed first, so no
	TIME_WAIT holds the port) opens a new connection on the same 5-tuple,
	told apart by its SYN's new sequence number."""
	out = {}
	for p in packets:
		l4 = parse_l4(p.data)
		if l4 is None:
			continue
		key = (l4.proto, l4.src, l4.sport, l4.dst, l4.dport)
		conns = out.setdefault(key, [])
		new_syn = l4.proto == 6 and l4.flags & 0x02 and conns and \
			conns[-1].syn_seq is not None and conns[-1].syn_seq != l4.seq
		if not conns or new_syn:
			conns.append(Stream(p.ts))
		st = conns[-1]
		if l4.proto == 6:
			st.add_tcp(p.number, l4.seq, l4.flags, l4.payload)
		else:
			st.numbers.append(p.number)
			st.datagrams.append((p.number, l4.payload))
	return out


def describe(frame):
	"""One line naming a frame (length, protocol, addresses and ports)."""
	l4 = parse_l4(frame)
	if l4 is None:
		etype = frame[12:14].hex() if len(frame) >= 14 else "?"
		return "len=%d ethertype=0x%s" % (len(frame), etype)
	return "len=%d proto=%d %s:%d > %s:%d" % (len(frame), l4.proto, l4.src, l4.sport, l4.dst, l4.dport)


ICMPV6_LINK_CONTROL = set(range(130, 138)) | {143}


def is_link_control(frame):
	"""ARP, or ICMPv6 multicast listener and neighbour discovery (types
	130-137, 143): what kernels send on their own timers, not the phone's
	traffic. Captures compared frame by frame leave it out (a report can
	fall between the start of one tap and the other's)."""
	if len(frame) < 14:
		return False
	etype = int.from_bytes(frame[12:14], "big")
	off = 14
	if etype == 0x8100 and len(frame) >= 18:
		etype = int.from_bytes(frame[16:18], "big")
		off = 18
	if etype == 0x0806:
		return True
	if etype != 0x86DD or len(frame) < off + 40:
		return False
	nxt, off = frame[off + 6], off + 40
	while nxt in (0, 60) and len(frame) >= off + 8:  # hop-by-hop, destination options
		nxt, off = frame[off], off + 8 * (frame[off + 1] + 1)
	return nxt == 58 and len(frame) > off and frame[off] in ICMPV6_LINK_CONTROL


CONSENT_MARKER = b"PRIVAUDIT-CONSENT"


def is_consent_marker(frame):
	"""privaudit live writes the consent moment into its evidence ring as a
	raw IPv4 UDP datagram to 127.0.0.1 carrying this text (docs/live.md): a
	packet of the ring that never crossed the interface."""
	return len(frame) > 28 and frame[0] == 0x45 and frame[28:28 + len(CONSENT_MARKER)] == CONSENT_MARKER
