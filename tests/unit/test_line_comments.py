"""build.normalize_line_comments: the rules of the two regular expressions it replaced, kept exactly."""

from __future__ import annotations

import random
import re

import pytest

from curator.warp.build import normalize_line_comments

# The rules as first written: blanks + "<L n>" + blanks at a line's end go; a comment line
# "// <file>.py:<n>" or "// <curator:...>:<n>" names kernel.py.
_MARKER_RULE = re.compile(r"[ \t]*<L \d+>[ \t]*$", re.MULTILINE)
_FILE_RULE = re.compile(r"^// (?:<curator:[^>\n]*>|[^\n]*\.py):(\d+)$", re.MULTILINE)


def _by_the_rules(code: str) -> str:
    return _FILE_RULE.sub(r"// kernel.py:\1", _MARKER_RULE.sub("", code))


CASES = [
    "    // i = wp.tid()                                  <L 6>\n    var_0 = 1;\n",
    "a  \t <L 3>  \nb<L 4>\n  <L 5>\n\t\t<L 12> x\n<L 1><L 2>\n   \n<L 7>",
    " <L 3> <L 4>  \n",
    "// a.py:3\nx // b.py:4\n// <curator:curator_k1>:5\n  // c.py:6 \n// d.py:7",
    "// x // y.py:9\n// kernel.py:1\n// <curator:a>b.py:2\n//  e.py:3\n",
    "// f.py:12   <L 4>\n// <curator:x>:8<L 2>\n",
    "",
]


@pytest.mark.parametrize("code", CASES)
def test_examples(code):
    assert normalize_line_comments(code) == _by_the_rules(code)


def test_random_text_of_the_same_parts():
    rng = random.Random(3)
    parts = [" ", "\t", "\n", "<L ", "7", ">", "// ", "<curator:k>", "f.py", ":", "12", "x", ";", "<", "/"]
    for _ in range(2000):
        code = "".join(rng.choice(parts) for _ in range(rng.randint(0, 40)))
        assert normalize_line_comments(code) == _by_the_rules(code), repr(code)


def test_markers_and_file_names_go():
    code = "// /tmp/x/gen_1.py:40\nstatic void f()   // <L 3>\n"
    assert normalize_line_comments(code) == "// kernel.py:40\nstatic void f()   //\n"
