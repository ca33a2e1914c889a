#!/usr/bin/env python3
"""quic-bench-info.py CAPTURE KEYLOG — how much QUIC a capture holds, and is it whole?

Decrypts the capture with the lab's own QUIC decryption
(tools/lab/quicdecrypt.py) and prints one JSON object: QUIC connections,
their packets and UDP payload bytes (the ciphertext a decrypter works
through, headers included), and the stream bytes decrypted in order. Exit 1,
saying why, when a packet of a connection did not decrypt or a stream has a
hole (a packet the capture lost): such a capture would carry the hole into
every copy tools/lab/bench-scale.py makes of it. No root needed.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labpcap  # noqa: E402
import quicdecrypt  # noqa: E402


def main():
	if len(sys.argv) != 3:
		print(__doc__, file=sys.stderr)
		return 2
	capture, keylog = sys.argv[1:]
	conns = quicdecrypt.read(capture, keylog)
	frames = set()
	stream_bytes = 0
	problems = []
	for conn in conns.values():
		frames.update(conn.frames)
		if conn.undecryptable:
			problems.append("connection to %s:%d: %d packets did not decrypt"
					% (conn.server + (conn.undecryptable,)))
		for (sender, sid), st in sorted(conn.streams.items()):
			stream_bytes += len(st.contiguous())
			if st.holes():
				problems.append("connection to %s:%d: %s stream %d has %d bytes missing"
						% (conn.server + (sender, sid, st.holes())))
	payload = 0
	for pkt in labpcap.read_packets(capture):
		if pkt.number in frames:
			l4 = labpcap.parse_l4(pkt.data)
			payload += len(l4.payload) if l4 else 0
	print(json.dumps({"capture": capture, "connections": len(conns), "packets": len(frames),
			  "udp_payload_bytes": payload, "stream_bytes": stream_bytes}))
	for p in problems:
		print("quic-bench-info: " + p, file=sys.stderr)
	return 1 if problems else 0


if __name__ == "__main__":
	sys.exit(main())
