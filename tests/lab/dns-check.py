#!/usr/bin/env python3
"""dns-check.py CATALOGUE.tsv — run inside the phone namespace: every catalogue
host must resolve (A, and AAAA where listed) to its catalogue address through
the lab DNS server, and a name outside the catalogue must get NXDOMAIN."""
import importlib.util
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
	"driver", os.path.join(here, "..", "..", "tools", "lab", "phone-driver.py"))
driver = importlib.util.module_from_spec(spec)
spec.loader.exec_module(driver)

d = driver.Driver({}, {}, {}, None, None, None)
bad = checked = 0
for host, (v4, v6, country, owner) in driver.load_catalogue(sys.argv[1]).items():
	name = "868034031518269" + host[1:] if host.startswith("*.") else host
	for qtype, want in ((1, v4), (28, v6)):
		if want == "-":
			continue
		got, _, _ = d.dns_query(name, qtype, None)
		checked += 1
		if got != [want]:
			bad += 1
			print("FAIL %s type %d: got %s, want %s" % (name, qtype, got, want))
got, _, _ = d.dns_query("not-in-the-catalogue.example.com", 1, None)
if got:
	bad += 1
	print("FAIL unknown name answered with %s" % got)
print("dns-check: %d answers checked, %d wrong" % (checked, bad))
sys.exit(1 if bad or checked < 50 else 0)
