#!/usr/bin/env python3
"""quic-stream-bytes.py CAPTURE [KEYLOG] [--engine tshark|lab|both] [--hex]

The decrypted bytes of every QUIC stream of a capture, one JSON object per
line: connection (tshark's connection number, or the lab decryption's for
versions tshark does not know), server and client addresses, QUIC version,
sender ("client" or "server"), stream ID, the bytes received in order from
offset 0 (`bytes`, their `sha256`), bytes missing past the first hole
(`holes`), the final size when a FIN was seen, and with --hex the bytes
themselves. This is the reference a QUIC decoder's stream bytes are
compared with (tests/lab/quic-check.py). No root needed.

KEYLOG defaults to CAPTURE's name with .keylog. Engines (tools/lab/quicstreams.py,
tools/lab/quicdecrypt.py):
  tshark  tshark -o tls.keylog_file:KEYLOG (the default); connections tshark
          cannot decrypt (tshark 4.0 and the provisional v2 0x709a50c4) are
          taken from the lab decryption and say "engine": "lab"
  lab     the lab's own decryption only
  both    both, and exit 1 unless they agree on every connection tshark
          decrypted (the same streams, bytes, holes, FINs and the frame
          carrying each byte) and tshark decrypted every QUIC v1 connection
          (differences on stderr)
"""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quicdecrypt  # noqa: E402
import quicstreams  # noqa: E402


def endpoint(addr):
	ip, port = addr
	return ("[%s]:%d" if ":" in ip else "%s:%d") % (ip, port)


def rows(conns, engine, with_hex):
	for number in sorted(conns):
		conn = conns[number]
		for (sender, sid) in sorted(conn.streams):
			st = conn.streams[(sender, sid)]
			data = st.contiguous()
			row = {"connection": number, "engine": engine, "version": conn.version,
			       "server": endpoint(conn.server), "client": sorted(endpoint(c) for c in conn.client),
			       "sender": sender, "stream_id": sid, "bytes": len(data),
			       "sha256": hashlib.sha256(data).hexdigest(), "holes": st.holes(), "fin": st.fin}
			if with_hex:
				row["hex"] = data.hex()
			yield row


def same_connection(a, b):
	return a.server == b.server and a.client & b.client


def compare(tshark, lab):
	"""Differences between the two decryptions, on tshark's connections."""
	out = []
	for number, t in sorted(tshark.items()):
		if not t.streams:
			continue   # tshark saw the packets but decrypted nothing
		match = [c for c in lab.values() if same_connection(t, c)]
		if len(match) != 1:
			out.append("connection %d (%s): %d lab connections match" % (number, endpoint(t.server), len(match)))
			continue
		c = match[0]
		for key in sorted(set(t.streams) | set(c.streams)):
			a, b = t.streams.get(key), c.streams.get(key)
			where = "connection %d %s stream %d" % (number, key[0], key[1])
			if a is None or b is None:
				out.append("%s: only %s has it" % (where, "lab" if a is None else "tshark"))
			elif a.data != b.data:
				out.append("%s: bytes differ (%d vs %d)" % (where, len(a.data), len(b.data)))
			elif a.owner != b.owner:
				out.append("%s: bytes carried by other frames" % where)
			elif a.fin != b.fin:
				out.append("%s: FIN at %s vs %s" % (where, a.fin, b.fin))
		if t.frames != c.frames:
			out.append("connection %d: packets differ (%d vs %d)" % (number, len(t.frames), len(c.frames)))
	# A v1 connection is one tshark must decrypt: that is the cross-check.
	for c in lab.values():
		if c.streams and c.qversion == quicdecrypt.V1 and \
				not any(same_connection(t, c) for t in tshark.values() if t.streams):
			out.append("QUIC v1 connection to %s from %s: tshark decrypted none of it" % (
				endpoint(c.server), ", ".join(sorted(endpoint(a) for a in c.client))))
	return out


def main():
	args = [a for a in sys.argv[1:] if not a.startswith("--")]
	opts = [a for a in sys.argv[1:] if a.startswith("--")]
	engine = "tshark"
	for o in opts:
		if o.startswith("--engine="):
			engine = o.split("=", 1)[1]
	if "--engine" in opts:
		print("use --engine=NAME", file=sys.stderr)
		return 2
	if len(args) not in (1, 2) or engine not in ("tshark", "lab", "both") or \
			any(o not in ("--hex",) and not o.startswith("--engine=") for o in opts):
		print(__doc__, file=sys.stderr)
		return 2
	capture = args[0]
	keylog = args[1] if len(args) == 2 else os.path.splitext(capture)[0] + ".keylog"
	for path in (capture, keylog):
		if not os.path.exists(path):
			print("quic-stream-bytes: %s: no such file" % path, file=sys.stderr)
			return 2
	lab = quicdecrypt.read(capture, keylog)
	if engine == "lab":
		chosen = list(rows(lab, "lab", "--hex" in opts))
	else:
		tshark = quicstreams.read(capture, keylog)
		chosen = list(rows({n: c for n, c in tshark.items() if c.streams}, "tshark", "--hex" in opts))
		# Connections tshark did not decrypt: the lab decryption's, numbered after tshark's.
		extra = [c for c in lab.values()
			 if c.streams and not any(same_connection(t, c) for t in tshark.values() if t.streams)]
		base = max(tshark, default=-1) + 1
		chosen += list(rows({base + i: c for i, c in enumerate(extra)}, "lab", "--hex" in opts))
	for row in chosen:
		print(json.dumps(row))
	if engine == "both":
		diffs = compare(tshark, lab)
		for d in diffs:
			print("quic-stream-bytes: tshark and the lab decryption differ: " + d, file=sys.stderr)
		decrypted = sum(1 for t in tshark.values() if t.streams)
		print("quic-stream-bytes: %d connections decrypted by tshark, %d by the lab decryption; "
		      "%s" % (decrypted, sum(1 for c in lab.values() if c.streams),
			      "%d differences" % len(diffs) if diffs else "identical on tshark's"),
		      file=sys.stderr)
		return 1 if diffs else 0
	return 0


if __name__ == "__main__":
	sys.exit(main())
