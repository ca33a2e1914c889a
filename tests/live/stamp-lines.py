#!/usr/bin/env python3
"""stamp-lines.py OUT — copy stdin to OUT line by line, each line prefixed
with the wall-clock time it arrived ("1700000000.123456<TAB>line"), flushed
at once: how the live tests see when a finding reached the screen."""
import sys
import time

with open(sys.argv[1], "w", encoding="utf-8") as out:
	for raw in sys.stdin.buffer:
		out.write("%.6f\t%s\n" % (time.time(), raw.decode("utf-8", "replace").rstrip("\n")))
		out.flush()
