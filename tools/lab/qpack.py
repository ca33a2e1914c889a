"""Just enough HTTP/3 and QPACK (RFC 9114, RFC 9204) to find planted values.

tools/lab/truth.py must say which packet carried a value sent in an HTTP/3
request. tshark 4.0 decrypts QUIC and shows stream data but does not decode
QPACK, so this reads the request streams and the client's QPACK encoder
stream itself: HTTP/3 frames, field sections (every representation), encoder
instructions (which fill the dynamic table), and Huffman-coded strings. It
decodes strings and table references, not names from the static table: a
value is looked for among the strings a request carried.
"""

# The HPACK/QPACK Huffman code (RFC 7541, Appendix B): (code, bits) per
# symbol 0..255, then EOS.
HUFFMAN_CODES = [
	(0x1ff8, 13), (0x7fffd8, 23), (0xfffffe2, 28), (0xfffffe3, 28), (0xfffffe4, 28), (0xfffffe5, 28),
	(0xfffffe6, 28), (0xfffffe7, 28), (0xfffffe8, 28), (0xffffea, 24), (0x3ffffffc, 30), (0xfffffe9, 28),
	(0xfffffea, 28), (0x3ffffffd, 30), (0xfffffeb, 28), (0xfffffec, 28), (0xfffffed, 28), (0xfffffee, 28),
	(0xfffffef, 28), (0xffffff0, 28), (0xffffff1, 28), (0xffffff2, 28), (0x3ffffffe, 30), (0xffffff3, 28),
	(0xffffff4, 28), (0xffffff5, 28), (0xffffff6, 28), (0xffffff7, 28), (0xffffff8, 28), (0xffffff9, 28),
	(0xffffffa, 28), (0xffffffb, 28), (0x14, 6), (0x3f8, 10), (0x3f9, 10), (0xffa, 12),
	(0x1ff9, 13), (0x15, 6), (0xf8, 8), (0x7fa, 11), (0x3fa, 10), (0x3fb, 10),
	(0xf9, 8), (0x7fb, 11), (0xfa, 8), (0x16, 6), (0x17, 6), (0x18, 6),
	(0x0, 5), (0x1, 5), (0x2, 5), (0x19, 6), (0x1a, 6), (0x1b, 6),
	(0x1c, 6), (0x1d, 6), (0x1e, 6), (0x1f, 6), (0x5c, 7), (0xfb, 8),
	(0x7ffc, 15), (0x20, 6), (0xffb, 12), (0x3fc, 10), (0x1ffa, 13), (0x21, 6),
	(0x5d, 7), (0x5e, 7), (0x5f, 7), (0x60, 7), (0x61, 7), (0x62, 7),
	(0x63, 7), (0x64, 7), (0x65, 7), (0x66, 7), (0x67, 7), (0x68, 7),
	(0x69, 7), (0x6a, 7), (0x6b, 7), (0x6c, 7), (0x6d, 7), (0x6e, 7),
	(0x6f, 7), (0x70, 7), (0x71, 7), (0x72, 7), (0xfc, 8), (0x73, 7),
	(0xfd, 8), (0x1ffb, 13), (0x7fff0, 19), (0x1ffc, 13), (0x3ffc, 14), (0x22, 6),
	(0x7ffd, 15), (0x3, 5), (0x23, 6), (0x4, 5), (0x24, 6), (0x5, 5),
	(0x25, 6), (0x26, 6), (0x27, 6), (0x6, 5), (0x74, 7), (0x75, 7),
	(0x28, 6), (0x29, 6), (0x2a, 6), (0x7, 5), (0x2b, 6), (0x76, 7),
	(0x2c, 6), (0x8, 5), (0x9, 5), (0x2d, 6), (0x77, 7), (0x78, 7),
	(0x79, 7), (0x7a, 7), (0x7b, 7), (0x7ffe, 15), (0x7fc, 11), (0x3ffd, 14),
	(0x1ffd, 13), (0xffffffc, 28), (0xfffe6, 20), (0x3fffd2, 22), (0xfffe7, 20), (0xfffe8, 20),
	(0x3fffd3, 22), (0x3fffd4, 22), (0x3fffd5, 22), (0x7fffd9, 23), (0x3fffd6, 22), (0x7fffda, 23),
	(0x7fffdb, 23), (0x7fffdc, 23), (0x7fffdd, 23), (0x7fffde, 23), (0xffffeb, 24), (0x7fffdf, 23),
	(0xffffec, 24), (0xffffed, 24), (0x3fffd7, 22), (0x7fffe0, 23), (0xffffee, 24), (0x7fffe1, 23),
	(0x7fffe2, 23), (0x7fffe3, 23), (0x7fffe4, 23), (0x1fffdc, 21), (0x3fffd8, 22), (0x7fffe5, 23),
	(0x3fffd9, 22), (0x7fffe6, 23), (0x7fffe7, 23), (0xffffef, 24), (0x3fffda, 22), (0x1fffdd, 21),
	(0xfffe9, 20), (0x3fffdb, 22), (0x3fffdc, 22), (0x7fffe8, 23), (0x7fffe9, 23), (0x1fffde, 21),
	(0x7fffea, 23), (0x3fffdd, 22), (0x3fffde, 22), (0xfffff0, 24), (0x1fffdf, 21), (0x3fffdf, 22),
	(0x7fffeb, 23), (0x7fffec, 23), (0x1fffe0, 21), (0x1fffe1, 21), (0x3fffe0, 22), (0x1fffe2, 21),
	(0x7fffed, 23), (0x3fffe1, 22), (0x7fffee, 23), (0x7fffef, 23), (0xfffea, 20), (0x3fffe2, 22),
	(0x3fffe3, 22), (0x3fffe4, 22), (0x7ffff0, 23), (0x3fffe5, 22), (0x3fffe6, 22), (0x7ffff1, 23),
	(0x3ffffe0, 26), (0x3ffffe1, 26), (0xfffeb, 20), (0x7fff1, 19), (0x3fffe7, 22), (0x7ffff2, 23),
	(0x3fffe8, 22), (0x1ffffec, 25), (0x3ffffe2, 26), (0x3ffffe3, 26), (0x3ffffe4, 26), (0x7ffffde, 27),
	(0x7ffffdf, 27), (0x3ffffe5, 26), (0xfffff1, 24), (0x1ffffed, 25), (0x7fff2, 19), (0x1fffe3, 21),
	(0x3ffffe6, 26), (0x7ffffe0, 27), (0x7ffffe1, 27), (0x3ffffe7, 26), (0x7ffffe2, 27), (0xfffff2, 24),
	(0x1fffe4, 21), (0x1fffe5, 21), (0x3ffffe8, 26), (0x3ffffe9, 26), (0xffffffd, 28), (0x7ffffe3, 27),
	(0x7ffffe4, 27), (0x7ffffe5, 27), (0xfffec, 20), (0xfffff3, 24), (0xfffed, 20), (0x1fffe6, 21),
	(0x3fffe9, 22), (0x1fffe7, 21), (0x1fffe8, 21), (0x7ffff3, 23), (0x3fffea, 22), (0x3fffeb, 22),
	(0x1ffffee, 25), (0x1ffffef, 25), (0xfffff4, 24), (0xfffff5, 24), (0x3ffffea, 26), (0x7ffff4, 23),
	(0x3ffffeb, 26), (0x7ffffe6, 27), (0x3ffffec, 26), (0x3ffffed, 26), (0x7ffffe7, 27), (0x7ffffe8, 27),
	(0x7ffffe9, 27), (0x7ffffea, 27), (0x7ffffeb, 27), (0xffffffe, 28), (0x7ffffec, 27), (0x7ffffed, 27),
	(0x7ffffee, 27), (0x7ffffef, 27), (0x7fffff0, 27), (0x3ffffee, 26), (0x3fffffff, 30),
]

_DECODE = {(bits, code): sym for sym, (code, bits) in enumerate(HUFFMAN_CODES) if sym < 256}


class QpackError(ValueError):
	pass


def huffman_decode(data):
	out = bytearray()
	code = bits = 0
	for byte in data:
		for i in range(7, -1, -1):
			code = (code << 1) | ((byte >> i) & 1)
			bits += 1
			sym = _DECODE.get((bits, code))
			if sym is not None:
				out.append(sym)
				code = bits = 0
			elif bits > 30:
				raise QpackError("invalid Huffman code")
	# What is left must be padding: fewer than 8 bits, all ones.
	if bits > 7 or code != (1 << bits) - 1:
		raise QpackError("invalid Huffman padding")
	return bytes(out)


def varint(buf, pos):
	"""QUIC variable-length integer: (value, next position)."""
	if pos >= len(buf):
		raise QpackError("truncated varint")
	n = 1 << (buf[pos] >> 6)
	if pos + n > len(buf):
		raise QpackError("truncated varint")
	v = buf[pos] & 0x3f
	for b in buf[pos + 1:pos + n]:
		v = (v << 8) | b
	return v, pos + n


def prefix_int(buf, pos, bits):
	"""QPACK/HPACK prefixed integer with a BITS-bit prefix."""
	if pos >= len(buf):
		raise QpackError("truncated integer")
	mask = (1 << bits) - 1
	v = buf[pos] & mask
	pos += 1
	if v < mask:
		return v, pos
	shift = 0
	while True:
		if pos >= len(buf):
			raise QpackError("truncated integer")
		b = buf[pos]
		pos += 1
		v += (b & 0x7f) << shift
		shift += 7
		if not b & 0x80:
			return v, pos


def string(buf, pos, bits):
	"""A string literal whose Huffman flag is the bit above a BITS-bit length."""
	huff = buf[pos] & (1 << bits)
	n, pos = prefix_int(buf, pos, bits)
	if pos + n > len(buf):
		raise QpackError("truncated string")
	raw = bytes(buf[pos:pos + n])
	return (huffman_decode(raw) if huff else raw), pos + n


def h3_frames(data):
	"""[(type, payload start, payload end)] of the complete frames of a stream."""
	out = []
	pos = 0
	while pos < len(data):
		try:
			ftype, p = varint(data, pos)
			length, p = varint(data, p)
		except QpackError:
			break
		if p + length > len(data):
			break
		out.append((ftype, p, p + length))
		pos = p + length
	return out


class EncoderStream:
	"""The client's QPACK encoder stream: each dynamic table entry's value
	and the stream offset where its instruction ends."""

	def __init__(self, data):
		self.entries = []   # absolute index -> (value bytes, end offset)
		self.capacity = 0
		pos = 1 if data[:1] == b"\x02" else 0   # stream type
		while pos < len(data):
			start = pos
			try:
				b = data[pos]
				if b & 0x80:        # insert with name reference
					_, pos = prefix_int(data, pos, 6)
					value, pos = string(data, pos, 7)
				elif b & 0x40:      # insert with literal name
					_, pos = string(data, pos, 5)
					value, pos = string(data, pos, 7)
				elif b & 0x20:      # set dynamic table capacity
					self.capacity, pos = prefix_int(data, pos, 5)
					continue
				else:               # duplicate
					rel, pos = prefix_int(data, pos, 5)
					value = self.entries[len(self.entries) - 1 - rel][0]
			except (QpackError, IndexError):
				pos = start
				break
			self.entries.append((value, pos))
		self.complete = pos   # bytes parsed into whole instructions


def field_section(block, encoder):
	"""[(kind, value bytes, dynamic absolute index or None)] of an encoded
	field section; kind is "literal" or "dynamic"."""
	max_entries = encoder.capacity // 32
	enc_ric, pos = prefix_int(block, 0, 8)
	if enc_ric == 0:
		ric = 0
	else:
		if max_entries == 0:
			raise QpackError("dynamic reference without a table")
		full = 2 * max_entries
		max_value = len(encoder.entries) + max_entries
		ric = (max_value // full) * full + enc_ric - 1
		if ric > max_value:
			ric -= full
	sign = block[pos] & 0x80
	delta, pos = prefix_int(block, pos, 7)
	base = ric - delta - 1 if sign else ric + delta
	lines = []

	def dyn(abs_index):
		if not 0 <= abs_index < len(encoder.entries):
			raise QpackError("dynamic index %d outside the table" % abs_index)
		return encoder.entries[abs_index][0]
	while pos < len(block):
		b = block[pos]
		if b & 0x80:                        # indexed field line
			static = b & 0x40
			idx, pos = prefix_int(block, pos, 6)
			if not static:
				lines.append(("dynamic", dyn(base - 1 - idx), base - 1 - idx))
		elif b & 0x40:                      # literal with name reference
			static = b & 0x10
			idx, pos = prefix_int(block, pos, 4)
			value, pos = string(block, pos, 7)
			lines.append(("literal", value, None))
		elif b & 0x20:                      # literal with literal name
			_, pos = string(block, pos, 3)
			value, pos = string(block, pos, 7)
			lines.append(("literal", value, None))
		elif b & 0x10:                      # indexed field line, post-base
			idx, pos = prefix_int(block, pos, 4)
			lines.append(("dynamic", dyn(base + idx), base + idx))
		else:                               # literal with post-base name reference
			_, pos = prefix_int(block, pos, 3)
			value, pos = string(block, pos, 7)
			lines.append(("literal", value, None))
	return lines
