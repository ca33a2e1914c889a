#!/usr/bin/env python3
"""Self-test of include-cycles.py on small source trees made here: each kind
of cycle is found and named by the include that closes it; a graph without
cycles passes."""
import os
import subprocess
import sys
import tempfile
import unittest

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "include-cycles.py")


def run(files):
    with tempfile.TemporaryDirectory() as src:
        for rel, text in files.items():
            path = os.path.join(src, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        p = subprocess.run([sys.executable, CHECKER, src], capture_output=True, text=True)
        return p.returncode, p.stdout.replace(src + "/", "")


class IncludeCycles(unittest.TestCase):
    def test_layers_without_cycle_pass(self):
        rc, out = run({
            "privaudit.h": "",
            "records.h": '#include "flow/flow.h"\n#include "privaudit.h"\n',
            "pipeline.c": '#include "app/app.h"\n#include "report/out.h"\n',
            "app/app.h": '#include "flow/flow.h"\n#include "records.h"\n',
            "app/app.c": '#include "app/app.h"\n#include "helper.h"\n',
            "app/helper.h": "",
            "flow/flow.h": '#include "privaudit.h"\n',
            "report/out.h": '#include "app/app.h"\n#include "records.h"\n',
        })
        self.assertEqual(rc, 0, out)
        self.assertIn("no include cycle", out)

    def test_two_folders(self):
        rc, out = run({
            "app/flow_app.c": '#include "stage/scan_stage.h"\n',
            "stage/scan_stage.h": '\n#include "app/flow_app.h"\n',
            "app/flow_app.h": "",
        })
        self.assertEqual(rc, 1)
        self.assertIn("stage/scan_stage.h:2: include cycle", out)
        self.assertIn("app -> stage -> app", out)
        self.assertIn("app/flow_app.c:1", out)

    def test_through_a_top_level_header(self):
        # report/summary.h says "pipeline.h": the compiler finds it at the
        # top of src/, not next to summary.h; that is a dependency on the top.
        rc, out = run({
            "pipeline.h": "",
            "pipeline.c": '#include "pipeline.h"\n#include "report/summary.h"\n',
            "report/summary.h": '#include "pipeline.h"\n',
        })
        self.assertEqual(rc, 1)
        self.assertIn(". -> report -> .", out)

    def test_three_folders(self):
        rc, out = run({
            "a/x.h": '#include "b/y.h"\n',
            "b/y.h": '#include "c/z.h"\n',
            "c/z.c": '#include <stdio.h>\n#  include "a/x.h"\n',
        })
        self.assertEqual(rc, 1)
        self.assertIn("a -> b -> c -> a", out)

    def test_neutral_header_is_its_own_node(self):
        # records.h may include a stage; a stage that records.h includes
        # must not include records.h back.
        rc, out = run({
            "records.h": '#include "flow/flow.h"\n',
            "flow/flow.h": '#include "records.h"\n',
        })
        self.assertEqual(rc, 1)
        self.assertIn("flow -> records.h -> flow", out)

    def test_system_and_sibling_includes_are_no_edges(self):
        rc, out = run({
            "a/x.c": '#include <b/y.h>\n#include "x.h"\n',
            "a/x.h": "",
            "b/y.h": '#include "a/x.h"\n',
        })
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    unittest.main()
