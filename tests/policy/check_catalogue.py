#!/usr/bin/env python3
"""tests/policy/check_catalogue.py PRIVAUDIT SOURCE — `privaudit check` on
recipient catalogues: the shipped one passes, and a broken one gets each
problem as file:line: message with exit 2."""
import os
import subprocess
import sys

PRIVAUDIT, SOURCE = sys.argv[1:3]
BAD = os.path.join(SOURCE, "tests", "policy", "bad-catalogue.yaml")
SHIPPED = os.path.join(SOURCE, "signatures", "recipients.yaml")


def check(path):
    return subprocess.run([PRIVAUDIT, "check", path], capture_output=True, text=True)


def main():
    ok = check(SHIPPED)
    if ok.returncode != 0 or ": ok (0 error(s)" not in ok.stdout:
        print("FAIL: the shipped catalogue does not pass:", ok.stdout, ok.stderr)
        return 1
    print("ok  shipped catalogue passes")
    bad = check(BAD)
    if bad.returncode != 2:
        print("FAIL: exit %d for the broken catalogue, expected 2" % bad.returncode)
        return 1
    expected = [
        # a domain its own entry already covers
        "bad-catalogue.yaml:9: domain 'push.a.example' of 'vendor-a' is already covered by its 'a.example'",
        # a pattern that would shadow another entry's: *.a.example takes a.example's names
        "bad-catalogue.yaml:18: domain '*.a.example' already belongs to 'vendor-a' (line 9)",
        # a duplicate host
        "bad-catalogue.yaml:18: domain 'a.example' already belongs to 'vendor-a' (line 9)",
        # a verified source without its address
        "bad-catalogue.yaml:20: 'vendor-b': a verified source needs its source_url",
        # missing fields
        "bad-catalogue.yaml:21: missing required 'organisation'",
        "bad-catalogue.yaml:21: missing required 'source_verified'",
    ]
    for line in expected:
        if line not in bad.stderr:
            print("FAIL: missing %r in:\n%s" % (line, bad.stderr))
            return 1
        print("ok  " + line.split(": ", 1)[1])
    if "6 error(s)" not in bad.stdout:
        print("FAIL: expected exactly 6 errors:", bad.stdout, bad.stderr)
        return 1
    print("ok  nothing else reported")
    return 0


sys.exit(main())
