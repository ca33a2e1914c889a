#!/usr/bin/env python3
"""crosscheck.py — the QUIC stream bytes privaudit decrypts equal those
tshark decrypts with the same key log.

For each capture (KEYLOG next to it, .keys), tests/quic/quic-streams
prints what every stream delivered in order, per direction; tshark's
"follow,quic,raw" gives the same per stream of connection 0 (a migrated
connection is still connection 0 for tshark). The two maps (stream id,
direction) -> bytes must be equal and hold at least one request.

Usage: crosscheck.py --streams BIN --port N CAPTURE...
"""
import argparse
import re
import subprocess
import sys


def ours(binary, capture, keys, port):
    out = subprocess.run([binary, "--keylog", keys, "--port", str(port), capture],
                         capture_output=True, text=True, check=True).stdout
    got = {}
    for line in out.splitlines():
        sid, side, *hexes = line.split(" ")
        got[(int(sid), side)] = bytes.fromhex(hexes[0] if hexes else "")
    return {k: v for k, v in got.items() if v}


def tsharks(capture, keys):
    ids = subprocess.run(["tshark", "-r", capture, "-o", f"tls.keylog_file:{keys}",
                          "-Y", "quic.stream.stream_id", "-T", "fields", "-E", "occurrence=a",
                          "-E", "aggregator=,", "-e", "quic.stream.stream_id"],
                         capture_output=True, text=True, check=True).stdout
    streams = sorted({int(s) for line in ids.split() for s in line.split(",") if s})
    cmd = ["tshark", "-r", capture, "-o", f"tls.keylog_file:{keys}", "-q"]
    for s in streams:
        cmd += ["-z", f"follow,quic,raw,0,{s}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    got = {}
    for block in out.split("=" * 67):
        m = re.search(r"quic\.stream\.stream_id eq (\d+)", block)
        if not m:
            continue
        sid = int(m.group(1))
        for line in block.splitlines():
            if not line.strip() or not re.fullmatch(r"\t?[0-9a-f]+", line):
                continue
            side = "s" if line.startswith("\t") else "c"
            got[(sid, side)] = got.get((sid, side), b"") + bytes.fromhex(line.strip())
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", required=True)
    ap.add_argument("--port", type=int, default=4433)
    ap.add_argument("captures", nargs="+")
    args = ap.parse_args()
    failed = False
    for cap in args.captures:
        keys = re.sub(r"\.pcapn?g?$", ".keys", cap)
        a, b = ours(args.streams, cap, keys, args.port), tsharks(cap, keys)
        total = sum(len(v) for v in a.values())
        if a != b or (0, "c") not in a:
            failed = True
            print(f"{cap}: stream bytes differ from tshark's")
            for k in sorted(set(a) | set(b)):
                if a.get(k) != b.get(k):
                    print(f"  stream {k}: privaudit {len(a.get(k, b''))} bytes, "
                          f"tshark {len(b.get(k, b''))} bytes")
        else:
            print(f"{cap}: {len(a)} stream directions, {total} bytes, equal to tshark's")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
