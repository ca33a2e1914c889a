#!/usr/bin/env python3
"""include-cycles.py SRC_DIR — fails when the folders under SRC_DIR include
each other in a cycle.

Each folder of src/ is one stage or one shared layer (docs/architecture.md).
A file in folder A that says `#include "B/x.h"` makes A depend on B. The
folders must form a graph without cycles, so that every stage can be read,
tested and replaced knowing only the folders below it. Files directly in
src/ (pipeline, cli, live, main) form the folder "." and may include any
folder; no folder may include them back. The neutral record headers at the
top, privaudit.h and records.h, are nodes of their own: any folder may
include them, and they may include only what includes them not.

Prints every cycle found as `file:line: A -> B -> ... -> A` (the include
that closes it) and exits 1; exits 0 when there is none.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
# Headers at the top of src/ that every folder may use: plain records that
# several stages share. Each is a node of its own rather than part of ".".
NEUTRAL_TOP = {"privaudit.h", "records.h"}


def folder_of(rel):
    parts = rel.split("/")
    if len(parts) > 1:
        return parts[0]
    return rel if rel in NEUTRAL_TOP else "."


def scan(src):
    """edges[(A, B)] = first (file, line) where folder A includes folder B."""
    edges = {}
    for root, _dirs, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            here = folder_of(rel)
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    # As the compiler resolves "x.h": next to the including
                    # file first, then from the top of src/ (-I src).
                    beside = os.path.join(os.path.dirname(rel), target)
                    if os.path.exists(os.path.join(src, beside)):
                        there = folder_of(os.path.normpath(beside))
                    else:
                        there = folder_of(target)
                    if there == here:
                        continue
                    edges.setdefault((here, there), (rel, lineno))
    return edges


def cycles(edges):
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    found = []
    state = {}  # 1 = on the current path, 2 = done
    path = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def main():
    if len(sys.argv) != 2:
        print("usage: include-cycles.py SRC_DIR", file=sys.stderr)
        return 2
    src = sys.argv[1]
    if not os.path.isdir(src):
        print(f"include-cycles.py: {src}: not a folder", file=sys.stderr)
        return 2
    edges = scan(src)
    found = cycles(edges)
    for cycle in found:
        closing = edges[(cycle[-2], cycle[-1])]
        links = "; ".join(
            f"{a} -> {b} ({edges[(a, b)][0]}:{edges[(a, b)][1]})"
            for a, b in zip(cycle, cycle[1:]))
        print(f"{os.path.join(src, closing[0])}:{closing[1]}: include cycle "
              f"{' -> '.join(cycle)}: {links}")
    if found:
        return 1
    print(f"no include cycle between the {len({a for a, _ in edges} | {b for _, b in edges})} folders of {src}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
