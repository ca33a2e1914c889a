#!/usr/bin/env python3
"""tests/cli/cli_test.py PRIVAUDIT SOURCE WORK CASE — the command line's behaviour.

CASE is one of: options, help, docs, stdin, stream, progress, json, install.
Each prints what it checked and exits 1 on the first difference.
"""
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import time

PRIVAUDIT, SOURCE, WORK, CASE = sys.argv[1:5]
COMMANDS = ["audit", "live", "check", "verify", "report"]
DEMO = os.path.join(SOURCE, "captures", "demo-lanxin-leaky.pcapng")
POLICY = os.path.join(SOURCE, "policies", "lanxin.yaml")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(*args, stdin=None, cwd=None, binary=None):
    return subprocess.run([binary or PRIVAUDIT, *args], input=stdin, capture_output=True,
                          cwd=cwd or WORK)


# An audit that ran and found nothing: 0 when every promise could be
# verified, 4 when something could not be (no policy, no consent moment).
RAN_CLEAN = (0, 4)


def expect(proc, rc, stderr_has=None, what=""):
    err = proc.stderr.decode(errors="replace")
    if proc.returncode not in (rc if isinstance(rc, tuple) else (rc,)):
        fail("%s: exit %d, expected %s; stderr: %s" % (what, proc.returncode, rc, err))
    if stderr_has is not None and stderr_has not in err:
        fail("%s: stderr lacks %r: %s" % (what, stderr_has, err))
    print("ok  %s" % what)


def fresh(name):
    path = os.path.join(WORK, name)
    shutil.rmtree(path, ignore_errors=True)
    return path


def synthetic_pcap(packets):
    """A pcap of UDP packets from 10.0.0.2 to 192.0.2.X, one flow per 8 packets."""
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
    for i in range(packets):
        payload = b"x" * 32
        udp = struct.pack(">HHHH", 1024 + (i // 8) % 60000, 53, 8 + len(payload), 0) + payload
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                         bytes([10, 0, 0, 2]), bytes([192, 0, 2, 1 + i % 200])) + udp
        frame = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00" + ip
        out.append(struct.pack("<IIII", 1700000000 + i // 100, (i % 100) * 10000, len(frame),
                               len(frame)) + frame)
    return b"".join(out)


def case_options():
    # Options after the capture path, and options mixed between operands.
    out = fresh("opt-after")
    expect(run("audit", DEMO, "--out", out, "--quiet", "--policy", POLICY), 1,
           what="options after the capture")
    if not os.path.exists(os.path.join(out, "flows.jsonl")):
        fail("--out after the capture was not used")
    out2 = fresh("opt-equals")
    expect(run("audit", "--out=" + out2, "-q", "--policy=" + POLICY, DEMO), 1,
           what="--opt=value")
    with open(os.path.join(out, "flows.jsonl")) as a, open(os.path.join(out2, "flows.jsonl")) as b:
        if a.read() != b.read():
            fail("the same options in another order gave other flows")
    # "--" ends the options: a capture whose name starts with "--".
    odd = os.path.join(WORK, "--odd.pcapng")
    shutil.copy(DEMO, odd)
    expect(run("audit", "-q", "--", "--odd.pcapng"), RAN_CLEAN, what="-- then a file named --odd.pcapng")
    # Unique prefixes, clustered short options.
    expect(run("audit", "--no-evid", "-qv", DEMO), RAN_CLEAN, what="unique prefix --no-evid, -qv")
    bad = [
        (["audit", DEMO, "--policy"], "option '--policy' needs a value (FILE)"),
        (["audit", "--policy", "--out", "x", DEMO], "option '--policy' needs a value (FILE), not the option '--out'"),
        (["audit", DEMO, "--threads=3"], "option '--threads': '3' is not a number from 1 to 2"),
        (["audit", DEMO, "--threads", "two"], "option '--threads': 'two' is not a number from 1 to 2"),
        (["audit", DEMO, "--quiet=yes"], "option '--quiet' takes no value (given 'yes')"),
        (["audit", DEMO, "--bogus"], "unknown option '--bogus'"),
        (["audit", DEMO, "-z"], "unknown option '-z'"),
        (["audit", DEMO, "--s"], "option '--s' is ambiguous: --signatures, --sign-key, --show-values"),
        (["audit", DEMO, "--interface", "eth0"], "option '--interface' belongs to live, not to audit"),
        (["audit", DEMO, "--consent-at", "noon"], "option '--consent-at': 'noon' is not a time"),
        (["audit", DEMO, "--out", "-"], "option '--out' takes a folder, not -"),
        (["audit"], "no capture given"),
        (["live", "extra"], "unexpected argument 'extra'"),
        (["verify"], "no output folder given"),
        (["report", "a", "b"], "one output folder expected, got 2 arguments"),
        (["check"], "no file given"),
        (["frobnicate"], "unknown command 'frobnicate'"),
    ]
    for args, message in bad:
        proc = run(*args)
        expect(proc, 2, message, "%s -> %s" % (" ".join(args[1:]) or args[0], message))
        if proc.stdout:
            fail("%s: a usage error printed on stdout" % args)
    # An audit of a folder that does not exist names it.
    expect(run("audit", "--out", fresh("x"), "missing.pcap"), 2,
           "missing.pcap: No such file or directory", "missing capture is named")


def help_text(*args):
    proc = run(*args)
    if proc.returncode != 0 or proc.stderr:
        fail("%s: exit %d, stderr %r" % (" ".join(args), proc.returncode, proc.stderr))
    return proc.stdout.decode()


def case_help():
    for cmd in COMMANDS:
        long_help = help_text(cmd, "--help")
        if not long_help.startswith("usage: privaudit %s " % cmd):
            fail("%s --help has no usage line: %r" % (cmd, long_help[:80]))
        for needle in ("\noptions:\n", "  -h, --help", "\nexit status: "):
            if needle not in long_help:
                fail("%s --help lacks %r" % (cmd, needle))
        if help_text(cmd, "-h") != long_help or help_text("help", cmd) != long_help:
            fail("%s: -h / help %s differ from --help" % (cmd, cmd))
        # --help wins wherever it stands, after operands and other options too.
        if help_text(cmd, "somewhere", "-q" if cmd in ("audit", "live") else "--help", "--help") != long_help:
            fail("%s: --help after an operand is not the help" % cmd)
        print("ok  %s --help, -h, help %s" % (cmd, cmd))
    top = help_text("--help")
    for cmd in COMMANDS:
        if not re.search(r"^  privaudit %s " % cmd, top, re.M):
            fail("privaudit --help does not list %s" % cmd)
    if "--threads N" not in help_text("audit", "--help"):
        fail("audit --help lacks --threads")
    print("ok  privaudit --help lists every command")
    # --version: the version first, then every library that decides results.
    proc = run("--version")
    lines = proc.stdout.decode().splitlines()
    if proc.returncode != 0 or not lines or not re.match(r"^privaudit \d+\.\d+\.\d+$", lines[0]):
        fail("--version: exit %d, first line %r" % (proc.returncode, lines[:1]))
    libs = {l.split()[0] for l in lines[1:] if l.startswith("  ")}
    for lib in ("ndpi", "hyperscan", "openssl", "libmaxminddb", "libpcap"):
        if lib not in libs:
            fail("--version does not name %s: %r" % (lib, lines))
    print("ok  --version names the build and %d libraries" % len(libs))


def normalise(line):
    return " ".join(line.split())


def case_docs():
    """docs/cli.md and the README's Use block say what --help says, word for word."""
    with open(os.path.join(SOURCE, "docs", "cli.md")) as f:
        doc = {normalise(l) for l in f}
    with open(os.path.join(SOURCE, "README.md")) as f:
        readme = f.read()
    use = readme[readme.index("## Use"):]
    use = {normalise(l) for l in use[:use.index("\n## ", 5)].splitlines()}
    missing = []
    for cmd in [None] + COMMANDS:
        text = help_text(*([cmd] if cmd else []), "--help")
        for line in text.splitlines():
            if line.strip() and normalise(line) not in doc:
                missing.append("docs/cli.md lacks (from %s --help): %s" % (cmd or "privaudit", line))
    for line in help_text("--help").splitlines():
        if re.match(r"  privaudit ", line) and normalise(line) not in use:
            missing.append("README's Use block lacks (from privaudit --help): %s" % line)
    if missing:
        fail("\n" + "\n".join(missing) + "\n(tools/cli-docs rewrites the help blocks of docs/cli.md)")
    print("ok  every --help line is in docs/cli.md, every command line in the README")


def case_stdin():
    with open(DEMO, "rb") as f:
        data = f.read()
    by_file, by_pipe = fresh("stdin-file"), fresh("stdin-pipe")
    expect(run("audit", "-q", "--policy", POLICY, "--out", by_file, DEMO), 1, what="file audit")
    expect(run("audit", "-q", "--policy", POLICY, "--out", by_pipe, "-", stdin=data), 1,
           what="the same capture on standard input")
    for name in ("flows.jsonl", "observations.jsonl", "findings.jsonl"):
        with open(os.path.join(by_file, name)) as a, open(os.path.join(by_pipe, name)) as b:
            if a.read() != b.read():
                fail("%s differs between the file and standard input" % name)
    copy = os.path.join(by_pipe, "stdin.pcapng")
    with open(copy, "rb") as f:
        if f.read() != data:
            fail("DIR/stdin.pcapng is not the bytes read from standard input")
    evidence = sorted(os.listdir(os.path.join(by_pipe, "evidence")))
    if evidence != sorted(os.listdir(os.path.join(by_file, "evidence"))) or not evidence:
        fail("evidence from standard input differs: %s" % evidence)
    expect(run("verify", by_pipe), 0, what="verify accepts the audit of standard input")
    manifest = open(os.path.join(by_pipe, "manifest.json")).read()
    if "stdin.pcapng" not in manifest:
        fail("manifest.json does not list the copy of standard input")
    # A pcap (not pcapng) stream keeps its format in the copy's name; no --out: no copy.
    pcap = synthetic_pcap(100)
    out = fresh("stdin-pcap")
    expect(run("audit", "-q", "--out", out, "-", stdin=pcap), RAN_CLEAN, what="pcap on standard input")
    if open(os.path.join(out, "stdin.pcap"), "rb").read() != pcap:
        fail("DIR/stdin.pcap is not the stream")
    proc = run("audit", "-", stdin=pcap)
    expect(proc, RAN_CLEAN, what="standard input without --out")
    if b"100 packets" not in proc.stdout:
        fail("summary of standard input: %r" % proc.stdout[:200])
    expect(run("audit", "-", stdin=b"not a capture at all"), 2,
           "standard input: not a pcap or pcapng file", "garbage on standard input")
    expect(run("audit", "-", DEMO), 2, "standard input cannot be combined", "- with a file")
    # A named pipe (as bash's <(...) gives) is a stream too: read once, copied.
    fifo = os.path.join(WORK, "capture.fifo")
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo)
    out = fresh("fifo-out")
    proc = subprocess.Popen([PRIVAUDIT, "audit", "-q", "--policy", POLICY, "--out", out, fifo],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=WORK)
    with open(fifo, "wb") as f:
        f.write(data)
    _, err = proc.communicate(timeout=120)
    if proc.returncode != 1:
        fail("audit of a named pipe: exit %d: %s" % (proc.returncode, err.decode()))
    with open(os.path.join(by_file, "flows.jsonl")) as a, open(os.path.join(out, "flows.jsonl")) as b:
        if a.read() != b.read():
            fail("flows.jsonl differs between the file and a named pipe")
    if open(os.path.join(out, "stream.pcapng"), "rb").read() != data:
        fail("DIR/stream.pcapng is not the bytes read from the pipe")
    expect(run("verify", out), 0, what="a named pipe: same flows, copy kept, verify accepts it")
    expect(run("audit", fifo, DEMO), 2, "a pipe cannot be combined", "a named pipe with a file")


class Pty:
    """privaudit with stdin on a pipe we feed and stderr on a terminal."""

    def __init__(self, *args, stdin_data=None):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([PRIVAUDIT, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=slave, cwd=WORK)
        os.close(slave)
        self.seen = b""

    def read_until(self, pattern, timeout):
        end = time.time() + timeout
        while time.time() < end:
            m = re.search(pattern, self.seen)
            if m:
                return m
            r, _, _ = select.select([self.master], [], [], 0.1)
            if r:
                try:
                    self.seen += os.read(self.master, 4096)
                except OSError:
                    break
        return re.search(pattern, self.seen)

    def finish(self):
        self.proc.stdin.close()
        out = self.proc.stdout.read()
        rc = self.proc.wait(timeout=60)
        self.read_until(b"$^", 0.5)  # what is left
        os.close(self.master)
        return rc, out


def case_stream():
    """Records from a pipe are analysed as they arrive, not at its end."""
    pcap = synthetic_pcap(3000)
    header, records = pcap[:24], pcap[24:]
    record_len = len(records) // 3000
    p = Pty("audit", "-")
    p.proc.stdin.write(header)
    # A trickle of 100 records every 0.1 s for 1.5 s, the pipe kept open:
    # the progress line must count packets before the stream ends.
    for i in range(15):
        p.proc.stdin.write(records[i * 100 * record_len:(i + 1) * 100 * record_len])
        p.proc.stdin.flush()
        time.sleep(0.1)
    m = p.read_until(rb"(\d+) packets", 20)
    if not m or int(m.group(1)) < 100:
        fail("nothing analysed while standard input is still open: %r" % p.seen[-300:])
    if p.proc.poll() is not None:
        fail("privaudit ended before standard input did")
    print("ok  %s packets analysed before standard input ended" % m.group(1).decode())
    p.proc.stdin.write(records[1500 * record_len:])
    rc, out = p.finish()
    if rc not in RAN_CLEAN or b"3000 packets" not in out:
        fail("stream audit: exit %d, %r" % (rc, out[:200]))
    if b"read, " not in p.seen:
        fail("a stream's progress line should say what was read: %r" % p.seen[-300:])
    print("ok  the whole stream is audited once it ends")


def trickle(p, pcap, seconds=1.5):
    """Header, then records spread over `seconds`, the pipe left open."""
    p.proc.stdin.write(pcap[:24])
    records, steps = pcap[24:], 15
    part = len(records) // (2 * steps)
    for i in range(steps):
        p.proc.stdin.write(records[i * part:(i + 1) * part])
        p.proc.stdin.flush()
        time.sleep(seconds / steps)
    return records[steps * part:]


PROGRESS_LINE = rb"\r([^\r]*packets[^\r]*)\x1b\[K"


def case_progress():
    pcap = synthetic_pcap(3000)
    # A stream: what was read, the counters and the rate; erased at the end.
    p = Pty("audit", "-")
    rest = trickle(p, pcap)
    m = p.read_until(PROGRESS_LINE, 20)
    if not m:
        fail("no progress line on a terminal: %r" % p.seen[-300:])
    line = m.group(1).decode()
    if not re.match(r"[\d.]+ [kMG]?B read, \d+ packets, \d+ flows, \d+ observations, "
                    r"\d+ findings, [\d.]+ [kMG]?B/s$", line):
        fail("progress line of a stream: %r" % line)
    p.proc.stdin.write(rest)
    rc, out = p.finish()
    if rc not in RAN_CLEAN or not p.seen.rstrip(b"\r\n").endswith(b"\r\x1b[K"):
        fail("the progress line is not erased at the end: %r" % p.seen[-100:])
    print("ok  progress line of a stream: %s" % line)
    # A file: its share of the total and the time left. 400000 packets take
    # more than the quarter second before the first line.
    big = os.path.join(WORK, "progress-big.pcap")
    with open(big, "wb") as f:
        f.write(synthetic_pcap(400000))
    p = Pty("audit", "--threads", "1", big)
    m = p.read_until(PROGRESS_LINE, 120)
    p.proc.kill()  # the line is what is checked, not the rest of the audit
    p.proc.wait()
    os.close(p.master)
    if not m:
        fail("no progress line while a 400000-packet file is read: %r" % p.seen[-300:])
    line = m.group(1).decode()
    if not re.match(r" *\d+% [\d.]+ [kMG]?B of [\d.]+ [kMG]?B, \d+ packets, .*, \d+:\d\d:\d\d left$",
                    line):
        fail("progress of a file lacks its share of the total or the time left: %r" % line)
    print("ok  progress line of a file: %s" % line.strip())
    # --quiet, or stderr not a terminal: no progress line.
    p = Pty("audit", "--quiet", "-")
    rest = trickle(p, pcap)
    if p.read_until(rb"packets", 1):
        fail("--quiet still draws a progress line")
    p.proc.stdin.write(rest)
    p.finish()
    proc = subprocess.Popen([PRIVAUDIT, "audit", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=WORK)
    proc.stdin.write(pcap[:len(pcap) // 2])
    proc.stdin.flush()
    time.sleep(1)
    proc.stdin.write(pcap[len(pcap) // 2:])
    out, err = proc.communicate(timeout=60)
    if b"\r" in err or b"packets," in err:
        fail("progress line drawn although stderr is not a terminal: %r" % err)
    print("ok  no progress line with --quiet or when stderr is not a terminal")


def case_json():
    proc = run("audit", "--json", "--policy", POLICY, DEMO)
    expect(proc, 1, what="audit --json")
    doc = json.loads(proc.stdout)
    for key in ("summary", "findings", "tool"):
        if key not in doc:
            fail("--json document lacks %r: %s" % (key, sorted(doc)))
    out = fresh("json-out")
    run("audit", "-q", "--policy", POLICY, "--out", out, DEMO)
    report = json.load(open(os.path.join(out, "report.json")))
    # Inputs are hashed only when there is a manifest (--out) to hold the
    # hash: without --out the hash and size are null.
    for inp in report["summary"]["inputs"]:
        inp["sha256"] = inp["size"] = None
    if doc["summary"] != report["summary"] or doc["findings"] != report["findings"]:
        fail("--json summary or findings differ from report.json's")
    if run("audit", "--json", "--quiet", DEMO).stdout:
        fail("--quiet --json printed something")
    print("ok  --json is report.json's summary and findings, one document on stdout")


def case_install():
    build = sys.argv[5]
    prefix = fresh("install-prefix")
    proc = subprocess.run(["cmake", "--install", build, "--prefix", prefix], capture_output=True)
    if proc.returncode:
        fail("cmake --install: %s" % proc.stderr.decode())
    installed = os.path.join(prefix, "bin", "privaudit")
    share = os.path.join(prefix, "share")
    for path in ["man/man1/privaudit.1"] + ["man/man1/privaudit-%s.1" % c for c in COMMANDS] + [
            "bash-completion/completions/privaudit", "privaudit/signatures/recipients.yaml",
            "privaudit/signatures/identifiers.yaml", "privaudit/policies/lanxin.yaml",
            "doc/privaudit/README.md"]:
        if not os.path.isfile(os.path.join(share, path)):
            fail("not installed: share/%s" % path)
    print("ok  binary, man pages, completion, signatures, policies, README installed")
    # The installed binary, run from another folder, finds its own data.
    elsewhere = fresh("elsewhere")
    os.makedirs(elsewhere)
    proc = run("audit", "-q", "--policy", os.path.join(share, "privaudit/policies/lanxin.yaml"),
               "--out", "o", DEMO, cwd=elsewhere, binary=installed)
    expect(proc, 1, what="installed binary audits from another folder")
    manifest = open(os.path.join(elsewhere, "o", "manifest.json")).read()
    signatures = os.path.realpath(os.path.join(share, "privaudit", "signatures"))
    if signatures + "/identifiers.yaml" not in manifest:
        fail("the installed binary did not use the installed signatures: %s" % manifest[:600])
    if SOURCE + "/signatures" in manifest:
        fail("the installed binary used the source tree's signatures")
    print("ok  the installed binary uses %s" % signatures)
    page_path = os.path.join(share, "man/man1/privaudit-audit.1")
    if "\\-\\-threads" not in open(page_path).read():
        fail("man page of audit lacks --threads")
    if shutil.which("man"):  # man-db is not in every minimal system
        page = subprocess.run(["man", "-l", page_path], capture_output=True, text=True,
                              env=dict(os.environ, MANWIDTH="200"))
        if page.returncode != 0 or "--threads" not in page.stdout.replace("‐", "-"):
            fail("man page of audit does not render: %s" % page.stderr)
        print("ok  privaudit-audit(1) renders")
    # The completion offers what --help lists.
    script = ("source %s; COMP_WORDS=(privaudit audit --po); COMP_CWORD=2; _privaudit; "
              "echo ${COMPREPLY[*]}" % os.path.join(share, "bash-completion/completions/privaudit"))
    got = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                         env=dict(os.environ, PATH=os.path.dirname(installed) + ":" + os.environ["PATH"]))
    if got.stdout.split() != ["--policy"]:
        fail("completion of 'audit --po': %r %r" % (got.stdout, got.stderr))
    print("ok  bash completion completes options from --help")
    # The .deb CPack makes holds the same, under /usr; unpacked anywhere, its
    # binary finds its data next to itself.
    debdir = fresh("deb")
    proc = subprocess.run(["cpack", "--config", os.path.join(build, "CPackConfig.cmake"), "-B", debdir],
                          capture_output=True, text=True)
    debs = [f for f in os.listdir(debdir) if f.endswith(".deb")] if proc.returncode == 0 else []
    if len(debs) != 1:
        fail("cpack made no .deb: %s %s" % (proc.stdout[-500:], proc.stderr[-500:]))
    listing = subprocess.run(["dpkg-deb", "-c", os.path.join(debdir, debs[0])], capture_output=True,
                             text=True).stdout
    for path in ("./usr/bin/privaudit", "./usr/share/man/man1/privaudit-audit.1",
                 "./usr/share/bash-completion/completions/privaudit",
                 "./usr/share/privaudit/signatures/recipients.yaml",
                 "./usr/share/privaudit/policies/lanxin.yaml", "./usr/share/doc/privaudit/README.md"):
        if path not in listing:
            fail("%s lacks %s" % (debs[0], path))
    root = os.path.join(debdir, "root")
    subprocess.run(["dpkg-deb", "-x", os.path.join(debdir, debs[0]), root], check=True)
    # A second output folder: an audit refuses a non-empty one.
    proc = run("audit", "-q", "--out", "o-deb", DEMO, cwd=elsewhere,
               binary=os.path.join(root, "usr", "bin", "privaudit"))
    expect(proc, RAN_CLEAN, what="the .deb's binary, unpacked, audits from another folder")
    manifest = open(os.path.join(elsewhere, "o-deb", "manifest.json")).read()
    if os.path.realpath(os.path.join(root, "usr/share/privaudit/signatures")) not in manifest:
        fail("the .deb's binary did not use the .deb's signatures")
    print("ok  %s installs the same and its binary finds its data" % debs[0])


def main():
    os.makedirs(WORK, exist_ok=True)
    cases = {"options": case_options, "help": case_help, "docs": case_docs, "stdin": case_stdin,
             "stream": case_stream, "progress": case_progress, "json": case_json,
             "install": case_install}
    cases[CASE]()


if __name__ == "__main__":
    main()
