#!/usr/bin/env python3
"""crosscheck.py — the HTTP requests privaudit decrypts equal those tshark
decrypts with the same key log.

For each capture given (with KEYLOG next to it or named), tests/tls/
tls-requests lists what the audit's decryption and decoders saw on the
client side of TLS flows; tshark -o tls.keylog_file:K -Y 'tls &&
(http.request || http2.type==1)' what Wireshark saw. Each request is
(client port, method, host or :authority, path without query, query
parameter names, header names in order); the two lists, sorted, must be
equal and not empty.

Usage: crosscheck.py --requests BIN CAPTURE:KEYLOG...
"""
import argparse
import json
import subprocess
import sys
import urllib.parse


def key(r):
    return (r["port"], r["method"], r["host"], r["path"], tuple(r["query"]), tuple(r["headers"]))


def split_uri(uri):
    path, _, query = uri.partition("?")
    names = [urllib.parse.unquote(p.split("=", 1)[0]) for p in query.split("&") if p] if query else []
    return urllib.parse.unquote(path), names


def tshark_requests(pcap, keylog):
    fields = ["tcp.srcport", "tcp.dstport", "http.request.method", "http.request.uri",
              "http.host", "http.request.line", "http2.header.name", "http2.header.value"]
    cmd = ["tshark", "-r", pcap, "-o", f"tls.keylog_file:{keylog}", "-Y",
           "tls && (http.request || http2.type==1)", "-T", "json"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         check=True).stdout
    reqs = []
    for pkt in json.loads(out or "[]"):
        layer = pkt["_source"]["layers"]
        port = int(layer["tcp.srcport"][0])
        for i, method in enumerate(layer.get("http.request.method", [])):
            if i > 0:
                raise SystemExit(f"{pcap}: pipelined requests in one packet: extend the parser")
            path, query = split_uri(layer["http.request.uri"][0])
            names = [line.split(":", 1)[0].strip().lower() for line in layer.get("http.request.line", [])]
            reqs.append({"port": port, "method": method, "host": layer.get("http.host", [""])[0],
                         "path": path, "query": query, "headers": names})
        # HTTP/2: header blocks of the client; each starts with pseudo-headers.
        names = layer.get("http2.header.name", [])
        values = layer.get("http2.header.value", [])
        block = None
        for n, v in zip(names, values):
            if n.startswith(":") and (block is None or block["_regular"] or n in block["_pseudo"]):
                block = {"_pseudo": {}, "_regular": False, "headers": []}
                blocks = layer.setdefault("_blocks", [])
                blocks.append(block)
            if n.startswith(":"):
                block["_pseudo"][n] = v
            elif block is not None:
                block["_regular"] = True
                block["headers"].append(n.lower())
        for b in layer.get("_blocks", []):
            p = b["_pseudo"]
            if ":method" not in p:
                continue  # a response (":status")
            path, query = split_uri(p.get(":path", ""))
            reqs.append({"port": port, "method": p[":method"], "host": p.get(":authority", ""),
                         "path": path, "query": query, "headers": b["headers"]})
    return reqs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", required=True)
    ap.add_argument("pairs", nargs="+")
    args = ap.parse_args()
    failed = False
    for pair in args.pairs:
        pcap, keylog = pair.rsplit(":", 1)
        run = subprocess.run([args.requests, "--keylog", keylog, pcap], stdout=subprocess.PIPE,
                             text=True)
        if run.returncode:
            print(f"FAIL {pcap}: tls-requests exited {run.returncode}")
            failed = True
            continue
        ours = sorted(key(json.loads(l)) for l in run.stdout.splitlines() if l.strip())
        theirs = sorted(key(r) for r in tshark_requests(pcap, keylog))
        if not theirs:
            print(f"FAIL {pcap}: tshark decrypted no request")
            failed = True
        if ours != theirs:
            failed = True
            print(f"FAIL {pcap}: {len(ours)} requests decrypted by privaudit, {len(theirs)} by tshark")
            for r in ours:
                if r not in theirs:
                    print("  privaudit only:", r)
            for r in theirs:
                if r not in ours:
                    print("  tshark only:   ", r)
        else:
            print(f"{pcap}: {len(ours)} requests, the same as tshark")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
