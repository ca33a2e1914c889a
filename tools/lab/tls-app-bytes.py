#!/usr/bin/env python3
"""tls-app-bytes.py CAPTURE — how much TLS application data a capture holds.

Rebuilds each TCP direction (tools/lab/labpcap.py) and walks its TLS record
headers from the first byte: prints one JSON object with the number of
application_data records (content type 23) and the bytes inside them
(record payloads: ciphertext, tags and MACs included, headers not), the
figure tools/bench divides by the time a decrypter takes. TLS 1.3 sends its
encrypted handshake as type 23 too; those few records are counted with the
rest. A direction that does not start with a TLS record is not TLS and is
skipped; one with a hole is counted up to the hole.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labpcap  # noqa: E402


def walk_records(data):
	"""(records of type 23, their payload bytes, every record) in one direction."""
	off = n23 = bytes23 = total = 0
	while off + 5 <= len(data):
		ctype, major = data[off], data[off + 1]
		length = (data[off + 3] << 8) | data[off + 4]
		if ctype not in (20, 21, 22, 23, 24) or major != 3 or off + 5 + length > len(data):
			break
		total += 1
		if ctype == 23:
			n23 += 1
			bytes23 += length
		off += 5 + length
	return n23, bytes23, total


def main():
	if len(sys.argv) != 2:
		print(__doc__, file=sys.stderr)
		return 2
	packets = labpcap.read_packets(sys.argv[1])
	records = app_bytes = tls_directions = 0
	for key, st in ((k, st) for k, conns in labpcap.connections(packets).items() for st in conns):
		if key[0] != 6:
			continue
		data, owners = st.assemble()
		if 0 in owners:
			data = data[:owners.index(0)]
		n23, b23, total = walk_records(data)
		if total:
			tls_directions += 1
			records += n23
			app_bytes += b23
	print(json.dumps({"capture": sys.argv[1], "tls_directions": tls_directions,
			  "app_records": records, "app_bytes": app_bytes}))
	return 0


if __name__ == "__main__":
	sys.exit(main())
