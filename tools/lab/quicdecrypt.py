"""A second QUIC decryption for the lab's captures, independent of tshark.

tshark 4.0 does not know the provisional QUIC v2 that ngtcp2 0.12 speaks
(0x709a50c4), so the ground truth of a v2 connection cannot come from it.
This reads the capture itself (tools/lab/labpcap.py) and decrypts QUIC v1
(RFC 9000/9001) and that v2 (the RFC 9369 key schedule: its salt, "quicv2"
labels and long packet types) with the secrets of an NSS key log, into the
same per-stream view as tools/lab/quicstreams.py, so truth.py and the
checkers treat both alike. On v1 captures its streams must equal tshark's
(tests/lab/quic-crosscheck.py): two implementations agreeing is what makes
either a reference.

What it follows: Initial keys from the client's first destination
connection ID; Handshake and 1-RTT keys from the key log, matched by the
ClientHello's random; the suite from the ServerHello; header protection
(AES or ChaCha20); packet numbers recovered per packet-number space;
coalesced packets; key updates (the key phase bit: next secrets with
"quic ku", or "quicv2 ku" for v2 where that is what decrypts); connection
IDs from long headers and NEW_CONNECTION_ID frames, so a migrated
connection (new port, new IDs) stays one connection; a Retry (new Initial
keys from the connection ID it gives) keeps it one connection too. Packets it cannot
decrypt are counted per connection, never fatal.
"""
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

import labpcap
from quicstreams import Connection

V1 = 0x00000001
V2_DRAFT = 0x709a50c4   # ngtcp2 0.12's provisional v2
V2 = 0x6b3343cf         # RFC 9369
SALTS = {
	V1: bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"),
	V2_DRAFT: bytes.fromhex("a707c203a59b47184a1d62ca570406ea7ae3e5d3"),
	V2: bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9"),
}
# Long header packet types (bits 4-5 of the first byte) per version.
LONG_TYPES = {
	V1: {0: "initial", 1: "0rtt", 2: "handshake", 3: "retry"},
	V2_DRAFT: {1: "initial", 2: "0rtt", 3: "handshake", 0: "retry"},
	V2: {1: "initial", 2: "0rtt", 3: "handshake", 0: "retry"},
}
# TLS 1.3 suites: (AEAD, hash, header protection cipher, key length).
SUITES = {
	0x1301: ("aes-gcm", hashlib.sha256, "aes", 16),
	0x1302: ("aes-gcm", hashlib.sha384, "aes", 32),
	0x1303: ("chacha20", hashlib.sha256, "chacha20", 32),
}


def hkdf_extract(salt, ikm, hash_=hashlib.sha256):
	return hmac.new(salt, ikm, hash_).digest()


def hkdf_expand_label(secret, label, length, hash_=hashlib.sha256):
	full = b"tls13 " + label
	info = struct.pack("!HB", length, len(full)) + full + b"\x00"
	out, block, i = b"", b"", 1
	while len(out) < length:
		block = hmac.new(secret, block + info + bytes([i]), hash_).digest()
		out += block
		i += 1
	return out[:length]


class Keys:
	"""AEAD key, IV and header protection key of one direction."""

	def __init__(self, secret, suite, version, ku_label=None):
		aead, self.hash, hp, keylen = SUITES[suite]
		self.suite, self.version, self.secret = suite, version, secret
		prefix = b"quicv2 " if version in (V2_DRAFT, V2) else b"quic "
		self.ku_label = ku_label or prefix + b"ku"
		key = hkdf_expand_label(secret, prefix + b"key", keylen, self.hash)
		self.iv = hkdf_expand_label(secret, prefix + b"iv", 12, self.hash)
		self.hp_key = hkdf_expand_label(secret, prefix + b"hp", keylen, self.hash)
		self.hp = hp
		self.aead = AESGCM(key) if aead == "aes-gcm" else ChaCha20Poly1305(key)

	def mask(self, sample):
		if self.hp == "aes":
			enc = Cipher(algorithms.AES(self.hp_key), modes.ECB()).encryptor()
			return enc.update(sample)[:5]
		enc = Cipher(algorithms.ChaCha20(self.hp_key, sample[:16]), mode=None).encryptor()
		return enc.update(b"\0" * 5)

	def decrypt(self, pn, header, payload):
		nonce = bytes(a ^ b for a, b in zip(self.iv, pn.to_bytes(12, "big")))
		return self.aead.decrypt(nonce, payload, header)

	def next_generation(self, label=None):
		label = label or self.ku_label
		nxt = Keys.__new__(Keys)
		nxt.__dict__.update(self.__dict__)
		nxt.secret = hkdf_expand_label(self.secret, label, len(self.secret), self.hash)
		nxt.ku_label = label
		aead, _, _, keylen = SUITES[self.suite]
		prefix = b"quicv2 " if self.version in (V2_DRAFT, V2) else b"quic "
		key = hkdf_expand_label(nxt.secret, prefix + b"key", keylen, self.hash)
		nxt.iv = hkdf_expand_label(nxt.secret, prefix + b"iv", 12, self.hash)
		nxt.aead = AESGCM(key) if aead == "aes-gcm" else ChaCha20Poly1305(key)
		return nxt   # header protection keys do not change (RFC 9001, 6)


def initial_keys(dcid, version):
	secret = hkdf_extract(SALTS[version], dcid)
	client = hkdf_expand_label(secret, b"client in", 32)
	server = hkdf_expand_label(secret, b"server in", 32)
	return {"client": Keys(client, 0x1301, version), "server": Keys(server, 0x1301, version)}


def varint(buf, pos):
	n = 1 << (buf[pos] >> 6)
	v = buf[pos] & 0x3f
	for b in buf[pos + 1:pos + n]:
		v = (v << 8) | b
	if pos + n > len(buf):
		raise ValueError("truncated varint")
	return v, pos + n


def read_keylog(path):
	"""{client random: {label: secret}}."""
	out = {}
	with open(path, encoding="ascii", errors="replace") as f:
		for line in f:
			parts = line.split()
			if len(parts) == 3 and not line.startswith("#"):
				out.setdefault(bytes.fromhex(parts[1]), {})[parts[0]] = bytes.fromhex(parts[2])
	return out


class QuicConn(Connection):
	def __init__(self, number, version, odcid):
		super().__init__(number)
		self.version = "0x%08x" % version
		self.qversion = version
		self.keys = {"initial": initial_keys(odcid, version)}
		self.crypto = {}          # (sender, space) -> bytearray of CRYPTO data
		self.suite = None
		self.client_random = None
		self.app_keys = None      # sender -> [Keys of generation 0, 1, ...]
		self.phase = {}           # sender -> current generation index
		self.largest = {}         # (sender, space) -> largest packet number
		self.cid_len = {}         # endpoint -> length of the connection IDs it issues
		self.undecryptable = 0
		self.retry_scid = None    # the ID a Retry told the client to use next

	def add_crypto(self, sender, space, offset, data):
		buf = self.crypto.setdefault((sender, space), bytearray())
		if offset > len(buf):
			buf.extend(b"\0" * (offset - len(buf)))
		buf[offset:offset + len(data)] = data
		if space == "initial":
			if sender == "client" and self.client_random is None and len(buf) >= 38 and buf[0] == 1:
				self.client_random = bytes(buf[6:38])
			if sender == "server" and self.suite is None and len(buf) >= 40 and buf[0] == 2:
				sid_len = buf[38]
				if len(buf) >= 41 + sid_len:
					self.suite = struct.unpack_from("!H", buf, 39 + sid_len)[0]


class Decryptor:
	def __init__(self, keylog):
		self.secrets = read_keylog(keylog)
		self.conns = {}
		self.by_cid = {}      # connection ID -> conn
		self.by_addr = {}     # (src, sport, dst, dport) -> conn, for zero-length IDs
		self.largest = {}     # (conn, sender, space) -> largest packet number decrypted

	def secret_keys(self, conn, sender, space):
		if conn.suite is None or conn.client_random not in self.secrets:
			return None
		sec = self.secrets[conn.client_random]
		label = {"handshake": "%s_HANDSHAKE_TRAFFIC_SECRET", "1rtt": "%s_TRAFFIC_SECRET_0",
			 "0rtt": "CLIENT_EARLY_TRAFFIC_SECRET"}[space]
		label = label % sender.upper() if "%s" in label else label
		if label not in sec or conn.suite not in SUITES:
			return None
		return Keys(sec[label], conn.suite, conn.qversion)

	def keys_for(self, conn, sender, space):
		if space == "initial":
			return conn.keys["initial"][sender]
		if space == "1rtt":
			if conn.app_keys is None:
				c, s = self.secret_keys(conn, "client", "1rtt"), self.secret_keys(conn, "server", "1rtt")
				if not c or not s:
					return None
				conn.app_keys = {"client": [c], "server": [s]}
				conn.phase = {"client": 0, "server": 0}
			return conn.app_keys[sender]
		key = (sender, space)
		if key not in conn.keys:
			k = self.secret_keys(conn, sender, space)
			if k is None:
				return None
			conn.keys[key] = k
		return conn.keys[key]

	def datagram(self, pkt, l4):
		data = l4.payload
		pos = 0
		while pos < len(data):
			n = self.packet(pkt, l4, data, pos)
			if n is None:
				return
			pos = n

	def find_conn(self, l4, dcid):
		if dcid in self.by_cid:
			return self.by_cid[dcid]
		return self.by_addr.get((l4.src, l4.sport, l4.dst, l4.dport))

	def packet(self, pkt, l4, data, pos):
		"""Decrypt one QUIC packet at pos; returns where the next one starts."""
		first = data[pos]
		if first & 0x80:
			if pos + 7 > len(data):
				return None
			version = struct.unpack_from("!I", data, pos + 1)[0]
			if version not in LONG_TYPES:
				return None   # version negotiation or a version we do not know
			p = pos + 5
			dcid = bytes(data[p + 1:p + 1 + data[p]])
			p += 1 + data[p]
			scid = bytes(data[p + 1:p + 1 + data[p]])
			p += 1 + data[p]
			ptype = LONG_TYPES[version][(first >> 4) & 3]
			if ptype == "retry":
				# The client's next Initial goes to the Retry's source ID, and
				# both sides' Initial keys derive from that ID from then on.
				conn = self.find_conn(l4, dcid)
				if conn is not None and scid:
					self.by_cid[scid] = conn
					conn.retry_scid = scid
					if not conn.frames or conn.frames[-1] != pkt.number:
						conn.frames.append(pkt.number)
				return None
			if ptype == "initial":
				toklen, p = varint(data, p)
				p += toklen
			length, p = varint(data, p)
			end = p + length
			conn = self.find_conn(l4, dcid)
			if conn is None:
				if ptype != "initial":
					return end
				conn = QuicConn(len(self.conns), version, dcid)
				self.conns[conn.number] = conn
				conn.server = (l4.dst, l4.dport)
				self.by_cid[dcid] = conn
			sender = "client" if (l4.dst, l4.dport) == conn.server else "server"
			if ptype == "initial" and sender == "client" and dcid == conn.retry_scid:
				conn.keys["initial"] = initial_keys(dcid, version)
				conn.retry_scid = None
			if scid:
				self.by_cid[scid] = conn
				conn.cid_len[sender] = len(scid)
			else:
				self.by_addr[(l4.dst, l4.dport, l4.src, l4.sport)] = conn
			space = ptype
			keys = self.keys_for(conn, sender, space)
			self.decrypt(pkt, l4, conn, sender, space, keys, data, pos, p, end, long_header=True)
			return end
		# Short header: no length for the DCID; try the lengths of the IDs
		# each connection's endpoints issue.
		conn = None
		for c in self.conns.values():
			for n in sorted(set(c.cid_len.values())):
				if n and self.by_cid.get(bytes(data[pos + 1:pos + 1 + n])) is c:
					conn, dlen = c, n
					break
			if conn:
				break
		if conn is None:
			conn = self.by_addr.get((l4.src, l4.sport, l4.dst, l4.dport))
			if conn is None:
				return None
			dlen = 0
		snd = "client" if (l4.dst, l4.dport) == conn.server else "server"
		gens = self.keys_for(conn, snd, "1rtt")
		self.decrypt(pkt, l4, conn, snd, "1rtt", gens, data, pos, pos + 1 + dlen, len(data),
			     long_header=False)
		return len(data)

	def decrypt(self, pkt, l4, conn, sender, space, keys, data, pos, pn_off, end, long_header):
		if not conn.frames or conn.frames[-1] != pkt.number:
			conn.frames.append(pkt.number)
		if sender == "client":
			conn.client.add((l4.src, l4.sport))
		if keys is None or pn_off + 20 > end:
			conn.undecryptable += 1
			return
		hp_keys = keys[0] if isinstance(keys, list) else keys
		sample = bytes(data[pn_off + 4:pn_off + 20])
		mask = hp_keys.mask(sample)
		first = data[pos] ^ (mask[0] & (0x0f if long_header else 0x1f))
		pn_len = (first & 3) + 1
		pn_bytes = bytes(b ^ m for b, m in zip(data[pn_off:pn_off + pn_len], mask[1:1 + pn_len]))
		truncated = int.from_bytes(pn_bytes, "big")
		pn = self.recover_pn(conn, (sender, space), truncated, pn_len * 8)
		header = bytes([first]) + bytes(data[pos + 1:pn_off]) + pn_bytes
		payload = bytes(data[pn_off + pn_len:end])
		plain = None
		if isinstance(keys, list):
			phase = (first >> 2) & 1
			cur = conn.phase[sender]
			# The key phase bit is the generation's parity: a flip means the
			# next generation (or, for a late packet, the previous one).
			cands = [cur] if cur % 2 == phase else [cur + 1, cur - 1]
			for gen in cands:
				if gen < 0:
					continue
				while gen >= len(keys):
					keys.append(keys[-1].next_generation())
				try:
					plain = keys[gen].decrypt(pn, header, payload)
				except Exception:
					if gen == len(keys) - 1 and gen > 0 and conn.qversion != V1:
						# v2 endpoints differ on the key update label.
						alt = b"quic ku" if keys[gen].ku_label != b"quic ku" else b"quicv2 ku"
						try_keys = keys[gen - 1].next_generation(alt)
						try:
							plain = try_keys.decrypt(pn, header, payload)
							keys[gen] = try_keys
						except Exception:
							plain = None
					if plain is None:
						continue
				if gen > cur:
					conn.phase[sender] = gen
				break
		else:
			try:
				plain = keys.decrypt(pn, header, payload)
			except Exception:
				plain = None
		if plain is None:
			conn.undecryptable += 1
			return
		self.largest[(conn.number, sender, space)] = max(
			self.largest.get((conn.number, sender, space), -1), pn)
		self.frames(pkt, conn, sender, space, plain)

	def recover_pn(self, conn, key, truncated, bits):
		largest = self.largest.get((conn.number,) + key, -1)
		expected = largest + 1
		win = 1 << bits
		hwin, mask = win // 2, win - 1
		candidate = (expected & ~mask) | truncated
		if candidate <= expected - hwin and candidate < (1 << 62) - win:
			return candidate + win
		if candidate > expected + hwin and candidate >= win:
			return candidate - win
		return candidate

	def frames(self, pkt, conn, sender, space, plain):
		p = 0
		while p < len(plain):
			ftype, p = varint(plain, p)
			if ftype == 0x00 or ftype == 0x01 or ftype == 0x1e:      # PADDING, PING, HANDSHAKE_DONE
				continue
			if ftype in (0x02, 0x03):                                # ACK
				_, p = varint(plain, p)
				_, p = varint(plain, p)
				count, p = varint(plain, p)
				_, p = varint(plain, p)
				for _ in range(count):
					_, p = varint(plain, p)
					_, p = varint(plain, p)
				if ftype == 0x03:
					for _ in range(3):
						_, p = varint(plain, p)
			elif ftype == 0x04:                                      # RESET_STREAM
				for _ in range(3):
					_, p = varint(plain, p)
			elif ftype == 0x05:                                      # STOP_SENDING
				for _ in range(2):
					_, p = varint(plain, p)
			elif ftype == 0x06:                                      # CRYPTO
				off, p = varint(plain, p)
				n, p = varint(plain, p)
				conn.add_crypto(sender, space, off, plain[p:p + n])
				p += n
			elif ftype == 0x07:                                      # NEW_TOKEN
				n, p = varint(plain, p)
				p += n
			elif 0x08 <= ftype <= 0x0f:                              # STREAM
				sid, p = varint(plain, p)
				off = 0
				if ftype & 0x04:
					off, p = varint(plain, p)
				if ftype & 0x02:
					n, p = varint(plain, p)
				else:
					n = len(plain) - p
				conn.stream(sender, sid).add(off, plain[p:p + n], pkt.number, ftype & 0x01)
				p += n
			elif ftype in (0x10, 0x12, 0x13, 0x14, 0x16, 0x17, 0x19):
				_, p = varint(plain, p)
			elif ftype in (0x11, 0x15):
				for _ in range(2):
					_, p = varint(plain, p)
			elif ftype == 0x18:                                      # NEW_CONNECTION_ID
				_, p = varint(plain, p)
				_, p = varint(plain, p)
				n = plain[p]
				cid = bytes(plain[p + 1:p + 1 + n])
				self.by_cid[cid] = conn
				p += 1 + n + 16
			elif ftype in (0x1a, 0x1b):                              # PATH_CHALLENGE/RESPONSE
				p += 8
			elif ftype in (0x1c, 0x1d):                              # CONNECTION_CLOSE
				_, p = varint(plain, p)
				if ftype == 0x1c:
					_, p = varint(plain, p)
				n, p = varint(plain, p)
				p += n
			elif ftype in (0x30, 0x31):                              # DATAGRAM
				n = len(plain) - p
				if ftype == 0x31:
					n, p = varint(plain, p)
				p += n
			else:
				return   # unknown frame: the rest of the packet cannot be parsed


def read(capture, keylog):
	"""{connection number: Connection}, numbered in order of first Initial."""
	dec = Decryptor(keylog)
	for pkt in labpcap.read_packets(capture):
		l4 = labpcap.parse_l4(pkt.data)
		if l4 is None or l4.proto != 17 or not l4.payload:
			continue
		try:
			dec.datagram(pkt, l4)
		except (ValueError, IndexError):
			# A datagram that is not QUIC (DNS, the lab's UDP services) or
			# one cut short: nothing to read in it.
			continue
	return dec.conns
