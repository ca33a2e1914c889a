#!/usr/bin/env python3
"""tests/schema/check_docs.py SOURCE — the documentation names exactly the
fields the schemas define (docs/output.md, "Format versions and schemas").

- docs/output.md's flows.jsonl and observations.jsonl field tables,
  docs/observations.md's and docs/findings.md's findings.jsonl table: the field names in each table's
  first column are the schema's properties, none missing, none extra;
- every top-level field of report.json is named in docs/output.md's
  report.json section or docs/findings.md's table of the policy part;
- every top-level field of manifest.json appears in docs/findings.md's
  manifest.json example;
- the format_version each schema pins is the one src/util/format_version.h writes.
Problems are printed as `file:line: what is wrong`; exit 1 if any.
"""
import json
import os
import re
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
problems = []


def schema(name):
    with open(os.path.join(SRC, "docs/schema", name), encoding="utf-8") as f:
        return json.load(f)


def lines_of(doc):
    with open(os.path.join(SRC, doc), encoding="utf-8") as f:
        return f.read().split("\n")


def section(doc, heading):
    """(first line number, lines) from heading to the next heading of its level or above."""
    lines = lines_of(doc)
    level = len(heading) - len(heading.lstrip("#"))
    for i, line in enumerate(lines):
        if line == heading:
            end = i + 1
            while end < len(lines):
                m = re.match(r"^(#+) ", lines[end])
                if m and len(m.group(1)) <= level:
                    break
                end += 1
            return i + 1, lines[i:end]
    problems.append("%s: no heading %r" % (doc, heading))
    return 0, []


def table_fields(doc, heading):
    """{field: line} from the first column of the first table of a section."""
    start, lines = section(doc, heading)
    fields = {}
    in_table = False
    for k, line in enumerate(lines):
        if line.startswith("| field |"):
            in_table = True
            continue
        if in_table:
            if not line.startswith("|"):
                break
            first = line.split("|")[1]
            for name in re.findall(r"`([a-z0-9_]+)`", first):
                fields[name] = start + k
    if not fields:
        problems.append("%s:%d: no field table under %r" % (doc, start, heading))
    return fields


def compare(doc, heading, schema_name):
    fields = table_fields(doc, heading)
    props = schema(schema_name)["properties"]
    start, _ = section(doc, heading)
    for name in props:
        if name not in fields:
            problems.append("%s:%d: %s: the table lacks `%s` (docs/schema/%s)" % (doc, start, heading, name, schema_name))
    for name, line in fields.items():
        if name not in props:
            problems.append("%s:%d: `%s` is not a field of docs/schema/%s" % (doc, line, name, schema_name))


compare("docs/output.md", "## flows.jsonl", "flows.schema.json")
compare("docs/output.md", "## observations.jsonl", "observations.schema.json")
compare("docs/observations.md", "## observations.jsonl", "observations.schema.json")
compare("docs/findings.md", "## `findings.jsonl`", "findings.schema.json")

# report.json: each top-level field is named in one of the two places.
named = set()
for doc, heading in (("docs/output.md", "## report.json"), ("docs/findings.md", "## The policy part of `report.json`")):
    _, lines = section(doc, heading)
    named.update(re.findall(r"`([a-z_]+)`", "\n".join(lines)))
for name in schema("report.schema.json")["properties"]:
    if name not in named:
        problems.append("docs/output.md: report.json's `%s` is described neither there nor in docs/findings.md" % name)

start, lines = section("docs/findings.md", "### `manifest.json`")
example = "\n".join(lines)
for name in schema("manifest.schema.json")["properties"]:
    if '"%s"' % name not in example:
        problems.append("docs/findings.md:%d: the manifest.json example lacks \"%s\"" % (start, name))

# The versions the writers put in, against the schemas' consts.
with open(os.path.join(SRC, "src/util/format_version.h"), encoding="utf-8") as f:
    header = f.read()
for macro, name in (("PA_FORMAT_FLOWS", "flows"), ("PA_FORMAT_OBSERVATIONS", "observations"),
                    ("PA_FORMAT_FINDINGS", "findings"), ("PA_FORMAT_REPORT", "report"),
                    ("PA_FORMAT_MANIFEST", "manifest")):
    m = re.search(r'#define %s "([0-9.]+)"' % macro, header)
    want = schema(name + ".schema.json")["properties"]["format_version"].get("const")
    if not m:
        problems.append("src/util/format_version.h: no %s" % macro)
    elif m.group(1) != want:
        problems.append("src/util/format_version.h: %s is %s but docs/schema/%s.schema.json pins %s"
                        % (macro, m.group(1), name, want))

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print("PASS: the field tables of docs/output.md and docs/findings.md match docs/schema/")
