#!/usr/bin/env python3
"""Signature-engine accuracy against the lab's ground truth.

For every CAPTURE.pcapng with a CAPTURE.truth.jsonl next to it, runs
`privaudit audit --device PROFILE --show-values --out DIR` (plus --keylog when
the capture has a key log and privaudit knows the option) and compares
observations.jsonl with the planted datums:

recall     every datum is found by an observation of the same type (or a type
           whose profile value is the same: the lab phone's `mac` and
           `wifi_mac`), the same value, the same encoding, the same field,
           the same flow (5-tuple) and the same packet. Reported per
           type x encoding x field kind x protocol.
precision  every observation that no datum accounts for must be explained:
           the same datum reported again in the field that contains the
           matched one (the whole body around its JSON leaf, the whole DNS
           name), or, for pattern matches, a value the capture really holds
           outside the planted list. Unexplained ones are listed; a clean
           capture must have no device-source observation outside its truth.

Datums inside TLS (protocol "https") are counted apart until the audit can
decrypt them (--keylog); datums inside QUIC (protocol "http3") likewise
while the audit decrypts no QUIC in that capture (no QUIC flow of
flows.jsonl says decrypted and no observation is "quic-decrypted"), and
installed-app lists hashed or hex-encoded cannot
be found by design (a profile has no app-list value, the pattern sees only
text); both are listed as such, never as found.

Exit 0 when recall is 100% on what is detectable and nothing is unexplained,
1 otherwise (a missing privaudit or capture too).
"""
import argparse
import collections
import glob
import json
import os
import shutil
import subprocess
import sys
import urllib.parse

LOCATION_PAIR = ("wgs84", "gcj02", "bd09")


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def load_profile(path):
    """type -> list of values, from the device profile (a tiny YAML subset)."""
    import re
    values = collections.defaultdict(list)
    section = None
    for line in open(path):
        line = line.split("#", 1)[0].rstrip()
        if not line:
            continue
        if not line.startswith(" "):
            section = line.rstrip(":")
            continue
        m = re.match(r"\s+(\w+):\s*(.*)$", line)
        if not m:
            continue
        key, val = m.group(1), m.group(2).strip()
        if section not in ("identifiers", "device") or (section == "device" and key != "mac"):
            continue
        if val.startswith("["):
            items = [v.strip().strip('"') for v in val[1:-1].split(",")]
        else:
            items = [val.strip('"')]
        values[key].extend(items)
    return values


def truth_encoding(datum):
    """The encoding the engine is expected to report for a planted datum.

    A gzip body is undone before scanning: the field says where the value
    was, the encoding what was done to the value itself."""
    enc = datum["encoding"]
    if enc.startswith("gzip+"):
        enc = enc[len("gzip+"):]
    return enc


DECODED_FIELDS = ("http.query:", "http.body.form:", "http.cookie:", "http.header:Cookie")


def encoding_matches(obs_encoding, datum):
    """Equal, or one of the two cases where the bytes cannot tell them apart:

    - base64url without padding of a value whose base64 holds no '+' or '/'
      is the very same text as base64: the engine names it base64;
    - a percent-encoded value in a query, form or cookie is decoded with the
      field (its syntax, like gzip is the body's): the engine sees the value."""
    want = truth_encoding(datum)
    if obs_encoding == want:
        return True
    if datum["type"] == "app_list" and obs_encoding == "raw" and want not in ("base64",
                                                                        "base64url"):
        # a pattern reports the text as it saw it: an upper-case or
        # URL-encoded list is that list, raw
        return True
    text = datum["text"]
    if want == "base64url" and obs_encoding == "base64" and not any(ch in text for ch in "-_"):
        return True
    if want == "url" and obs_encoding == "raw" and datum["field"].startswith(DECODED_FIELDS):
        return True
    return False


def same_field(seen, planted):
    """The lab names HTTP/2 and HTTP/3 fields like HTTP/1 ones
    ("http.header:X-Device-Id"); the decoders say http2 / http3 and have the
    header name lower-case, as HTTP/2 and HTTP/3 send it (RFC 9113 8.2.1,
    RFC 9114 4.2)."""
    if seen == planted:
        return True
    if seen.startswith(("http2.", "http3.")):
        seen = "http." + seen[len("http2."):]
        if seen.startswith("http.header:") and planted.startswith("http.header:"):
            return seen.lower() == planted.lower()
        return seen == planted
    return False


def pattern_texts(datum):
    """What a pattern (no profile value: app lists, coordinates) may report
    for a datum: the text as sent, URL-decoded in a decoded field, or the
    base64 decoded one level."""
    import base64
    import urllib.parse
    text = datum["text"]
    texts = {text}
    if datum["field"].startswith(DECODED_FIELDS):
        texts.add(urllib.parse.unquote_plus(text))
    if truth_encoding(datum) in ("base64", "base64url"):
        try:
            t = text.replace("-", "+").replace("_", "/")
            texts.add(base64.b64decode(t + "=" * (-len(t) % 4)).decode())
        except ValueError:
            pass
    return texts


def undetectable(datum):
    """Datums no audit can find, with the reason; None when findable."""
    if datum["type"] == "app_list" and truth_encoding(datum) not in ("raw", "upper", "lower",
                                                                    "url", "base64",
                                                                    "base64url"):
        return "app list hashed/hex: no profile value to derive it from"
    if datum["type"] == "app_list" and datum["protocol"] in ("raw-udp", "raw-tcp") and \
            truth_encoding(datum) in ("base64", "base64url"):
        return "app list in base64 inside a raw payload: raw payloads are not decoded"
    if datum.get("packet") is None:
        return "no packet in the ground truth: %s" % datum.get("packet_note", "?")
    return None


class Capture:
    def __init__(self, name, truth, observations, flows, profile):
        self.name = name
        self.scenario = next(r for r in truth if r["record"] == "scenario")
        self.datums = [r for r in truth if r["record"] == "datum"]
        self.obs = observations
        self.flows = {f["flow_id"]: f for f in flows}
        self.profile = profile

    def quic_decrypted(self):
        """Did the audit decrypt any QUIC in this capture?"""
        return any(o["protocol"] == "quic-decrypted" for o in self.obs) or any(
            (f.get("quic") or {}).get("decrypted") for f in self.flows.values())

    def same_type(self, truth_type, obs_type):
        if truth_type == obs_type:
            return True
        a, b = self.profile.get(truth_type), self.profile.get(obs_type)
        return bool(a) and a == b

    def flow_matches(self, obs, datum):
        f = self.flows.get(obs["flow_id"])
        if not f:
            return False
        return (f["dst_ip"] == datum["dst_ip"] and f["dst_port"] == datum["dst_port"]
                and f["src_port"] == datum["src_port"])

    def value_matches(self, obs, datum):
        if datum["type"] in ("location", "app_list"):
            return obs["value"] in pattern_texts(datum)
        if datum["type"] == "phone":
            return obs["value"].lstrip("+").removeprefix("86")[-11:] == datum["value"][-11:]
        return obs["value"] == datum["value"]

    def explain(self, datum, obs):
        """Which properties of obs differ from the datum ([] = exact)."""
        wrong = []
        if not self.same_type(datum["type"], obs["type"]):
            wrong.append("type %s" % obs["type"])
        if not self.value_matches(obs, datum):
            wrong.append("value %s" % obs["value"])
        if not encoding_matches(obs["encoding"], datum):
            wrong.append("encoding %s" % obs["encoding"])
        if not same_field(obs["field"], datum["field"]) and not (
                truth_encoding(datum) in ("base64", "base64url") and
                ((obs["field"].endswith("+base64") and
                  same_field(obs["field"][:-len("+base64")], datum["field"])) or
                 (datum["field"].lower() == "http.header:cookie" and
                  obs["field"].startswith("http.cookie:") and
                  obs["field"].endswith("+base64")))):
            wrong.append("field %s" % obs["field"])
        proto = {"https": "tls-decrypted", "http3": "quic-decrypted"}.get(datum["protocol"],
                                                                        datum["protocol"])
        if obs["protocol"] != proto:
            wrong.append("protocol %s" % obs["protocol"])
        if not self.flow_matches(obs, datum):
            wrong.append("flow %s" % obs["flow_id"])
        # A repeated datum is one observation with a count and the first
        # and last packet that showed it.
        first = obs.get("first_packet", obs["packet"])
        last = obs.get("last_packet", obs["packet"])
        if datum["packet"] != obs["packet"] and not first <= datum["packet"] <= last:
            wrong.append("packet %s" % obs["packet"])
        if obs.get("echo"):
            wrong.append("echo")
        return wrong


def nested_fields(a, b):
    """One field holds the other: the whole body around its JSON leaf or form
    field, a value and its base64-decoded field ("x+base64"), the Cookie
    header and one cookie ("http.cookie:uid")."""
    if a == b:
        return False
    # HTTP/2 and HTTP/3 fields nest as HTTP/1 ones do ("http3.cookie:did"
    # inside "http3.header:cookie").
    a, b = (("http." + f.split(".", 1)[1]) if f.startswith(("http2.", "http3.")) else f
            for f in (a, b))

    def holds(outer, inner):
        base = inner.split(":", 1)[0]
        for suffix in (".json", ".form"):
            if base.endswith(suffix):
                base = base[:-len(suffix)]
        if outer == base or inner.startswith(outer + ":") or inner.startswith(outer + "+"):
            return True
        if outer in ("http.header:Cookie", "http.header:cookie") and \
                inner.startswith("http.cookie:"):
            return True
        return False
    return holds(a, b) or holds(b, a)


def evaluate(cap, stats, report):
    matched_obs = set()
    used = collections.Counter()  # datums matched per observation, up to its count
    # Exact matches first, so a near miss never takes another datum's match.
    pending = []
    for di, d in enumerate(cap.datums):
        why = undetectable(d)
        key = (d["type"], truth_encoding(d), d["field"].split(":", 1)[0], d["protocol"])
        if why:
            stats["undetectable"][key] += 1
            report.append("  undetectable %s %s %s: %s" % (d["type"], d["encoding"], d["field"],
                                                           why))
            continue
        if d["protocol"] == "https" and not cap.decrypts:
            stats["tls"][key] += 1
            continue
        if d["protocol"] == "http3" and not cap.quic_decrypted():
            stats["quic"][key] += 1
            continue
        hit = None
        for oi, o in enumerate(cap.obs):
            if used[oi] < o.get("count", 1) and not cap.explain(d, o):
                hit = oi
                break
        if hit is not None:
            used[hit] += 1
            matched_obs.add(hit)
            stats["found"][key] += 1
        else:
            pending.append((di, key))
    for di, key in pending:
        d = cap.datums[di]
        stats["missed"][key] += 1
        # The nearest observation of the same value in the same flow, if any.
        best = None
        for oi, o in enumerate(cap.obs):
            if used[oi] >= o.get("count", 1) or not cap.value_matches(o, d):
                continue
            w = cap.explain(d, o)
            if best is None or len(w) < len(best[1]):
                best = (oi, w)
        near = "; nearest: " + ", ".join(best[1]) if best else "; nothing with this value"
        report.append("  MISS %s %s %s %s packet %s text %.60s%s" % (
            d["type"], d["encoding"], d["protocol"], d["field"], d["packet"], d["text"], near))

    # Precision: what no datum accounts for.
    for oi, o in enumerate(cap.obs):
        if oi in matched_obs:
            continue
        reason = None
        for mi in matched_obs:
            m = cap.obs[mi]
            if (m["flow_id"] == o["flow_id"] and m["type"] == o["type"] and
                    m["value"] == o["value"] and nested_fields(m["field"], o["field"])):
                reason = "nested field"
                break
        if reason is None and o.get("echo"):
            # Sent back by the server (a DNS answer repeats the question):
            # tagged echo, and the datum was found where the device sent it.
            for mi in matched_obs:
                m = cap.obs[mi]
                if m["flow_id"] == o["flow_id"] and m["value"] == o["value"]:
                    reason = "echo"
                    break
        if reason is None and o["source"] == "pattern":
            # A pattern hit on the text of a datum the truth lists in this flow.
            for d in cap.datums:
                # (in a field that URL-decodes its values, the decoded text)
                if cap.same_type(d["type"], o["type"]) and o["value"] and \
                        (o["value"] in d["text"] or
                         o["value"] in urllib.parse.unquote_plus(d["text"])) and \
                        cap.flow_matches(o, d):
                    reason = "pattern-on-datum"
                    break
        if reason is None and o["source"] == "pattern" and cap.tls_datum_text(o):
            reason = "pattern-on-datum"
        if reason:
            stats["explained"][reason] += 1
            continue
        stats["unexplained"][(o["source"], o["type"], o["encoding"])] += 1
        report.append("  EXTRA %s %s %s %s flow %s packet %s value %.60s%s" % (
            o["source"], o["type"], o["encoding"], o["field"], o["flow_id"], o["packet"],
            o["value"], " (echo)" if o.get("echo") else ""))
        if cap.scenario.get("clean") and o["source"] == "device":
            stats["clean_device_extra"] += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--privaudit", required=True)
    ap.add_argument("--source", required=True, help="the source tree (signatures/)")
    ap.add_argument("--captures", nargs="+", required=True,
                    help="capture files or folders holding NAME.pcapng + NAME.truth.jsonl")
    ap.add_argument("--work", required=True)
    ap.add_argument("--json", help="write the numbers here")
    args = ap.parse_args()

    if not os.access(args.privaudit, os.X_OK):
        print("FAIL: %s is not an executable privaudit" % args.privaudit)
        return 1
    pcaps = []
    for c in args.captures:
        pcaps += sorted(glob.glob(os.path.join(c, "*.pcapng"))) if os.path.isdir(c) else [c]
    pcaps = [p for p in pcaps if os.path.exists(p[:-len(".pcapng")] + ".truth.jsonl")]
    if not pcaps:
        print("FAIL: no capture with a ground truth (NAME.pcapng + NAME.truth.jsonl) in %s"
              % " ".join(args.captures))
        return 1
    profile_path = os.path.join(args.source, "signatures/devices/lab-phone.yaml")
    profile = load_profile(profile_path)

    total = {k: collections.Counter() for k in ("found", "missed", "tls", "quic", "undetectable",
                                                 "unexplained", "explained")}
    total["clean_device_extra"] = 0
    per_capture = {}
    for pcap in pcaps:
        name = os.path.basename(pcap)[:-len(".pcapng")]
        base = pcap[:-len(".pcapng")]
        out = os.path.join(args.work, name)
        shutil.rmtree(out, ignore_errors=True)  # privaudit refuses a non-empty output folder
        cmd = [args.privaudit, "audit", "--device", profile_path, "--show-values", "--quiet",
               "--signatures", os.path.join(args.source, "signatures"), "--out", out]
        keylog = base + ".keylog"
        decrypts = os.path.exists(keylog)
        if decrypts:
            cmd += ["--keylog", keylog]
        r = subprocess.run(cmd + [pcap], capture_output=True, text=True)
        if r.returncode not in (0, 1, 4):  # 4: not everything verifiable (docs/cli.md)
            print("%s: privaudit exit %d\n%s" % (name, r.returncode, r.stderr[-2000:]))
            return 1
        cap = Capture(name, load_jsonl(base + ".truth.jsonl"),
                      load_jsonl(os.path.join(out, "observations.jsonl")),
                      load_jsonl(os.path.join(out, "flows.jsonl")), profile)
        cap.decrypts = decrypts
        tls_texts = {d["text"] for d in cap.datums if d["protocol"] == "https"}
        cap.tls_datum_text = lambda o, t=tls_texts: o["value"] in t and o["protocol"] == \
            "tls-decrypted"
        stats = {k: collections.Counter() for k in total if k != "clean_device_extra"}
        stats["clean_device_extra"] = 0
        report = []
        evaluate(cap, stats, report)
        found, missed = sum(stats["found"].values()), sum(stats["missed"].values())
        extra = sum(stats["unexplained"].values())
        matched = found
        precision_den = matched + extra
        per_capture[name] = {
            "decrypts": decrypts,
            "datums": len(cap.datums), "found": found, "missed": missed,
            "tls_not_decrypted": sum(stats["tls"].values()),
            "quic_not_decrypted": sum(stats["quic"].values()),
            "undetectable": sum(stats["undetectable"].values()),
            "observations": len(cap.obs),
            "explained_duplicates": sum(stats["explained"].values()),
            "unexplained": extra,
            "recall": found / (found + missed) if found + missed else 1.0,
            "precision": matched / precision_den if precision_den else 1.0,
            "clean": bool(cap.scenario.get("clean")),
            "clean_device_extra": stats["clean_device_extra"],
        }
        pc = per_capture[name]
        print("%s: %d datums, found %d, missed %d, in TLS (not decrypted) %d, in QUIC (not "
              "decrypted) %d, undetectable %d; "
              "%d observations, %d duplicates in containing fields, %d unexplained; "
              "recall %.1f%%, precision %.1f%%" % (
                  name, pc["datums"], found, missed, pc["tls_not_decrypted"],
                  pc["quic_not_decrypted"], pc["undetectable"],
                  pc["observations"], pc["explained_duplicates"], extra, 100 * pc["recall"],
                  100 * pc["precision"]))
        for line in report:
            if not line.startswith("  undetectable"):
                print(line)
        for k in total:
            if k == "clean_device_extra":
                total[k] += stats[k]
            else:
                total[k].update(stats[k])

    found, missed = sum(total["found"].values()), sum(total["missed"].values())
    extra = sum(total["unexplained"].values())
    print("\nrecall by type x encoding x field x protocol (found/planted):")
    keys = sorted(set(total["found"]) | set(total["missed"]))
    for k in keys:
        f, m = total["found"][k], total["missed"][k]
        if m:
            print("  %-12s %-16s %-16s %-8s %d/%d" % (k + (f, f + m)))
    print("  (%d combinations at 100%%)" % sum(1 for k in keys if not total["missed"][k]))
    print("\noverall: found %d of %d detectable datums (recall %.2f%%), %d in TLS not decrypted, "
          "%d in QUIC not decrypted, "
          "%d undetectable by design; %d unexplained observations (precision %.2f%%); "
          "clean captures: %d device observations outside the truth" % (
              found, found + missed, 100 * found / max(1, found + missed),
              sum(total["tls"].values()), sum(total["quic"].values()),
              sum(total["undetectable"].values()), extra,
              100 * found / max(1, found + extra), total["clean_device_extra"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"captures": per_capture, "found": found, "missed": missed,
                       "unexplained": extra, "tls_not_decrypted": sum(total["tls"].values()),
                       "quic_not_decrypted": sum(total["quic"].values()),
                       "decrypts": any(c["decrypts"] for c in per_capture.values())}, f, indent=1)
    return 0 if missed == 0 and extra == 0 and total["clean_device_extra"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
