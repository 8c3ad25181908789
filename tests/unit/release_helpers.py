"""Test helpers for releases, independent of curator's normaliser: a clone-maker (ast + regex)
and an exact Jaccard of token 5-grams with a tokeniser of their own."""

from __future__ import annotations

import ast
import keyword
import random
import re

_NUMBER = re.compile(r"(?<![\w.])(\d+\.\d*|\d+)(?![\w.])")
_TOKEN = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*|\d+(?:\.\d*)?(?:e[-+]?\d+)?|\S")


def clone(source: str, rng: random.Random) -> str:
    """``source`` with every name it defines (functions, classes, parameters, assigned names)
    renamed and every number literal changed: what someone copying a kernel would do."""
    defined: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
    defined -= {"wp", "warp"}
    for name in sorted(defined, key=lambda n: (-len(n), n)):  # longest first; ties by name, not by hash order
        new = f"{name}_c{rng.randrange(10**6)}"
        source = re.sub(rf"(?<![\w.]){re.escape(name)}\b", new, source)

    def renumber(m: re.Match) -> str:
        return f"{rng.uniform(1, 99):.2f}" if "." in m.group(1) else str(rng.randrange(1, 999))

    out = _NUMBER.sub(renumber, source)
    ast.parse(out)  # still Python
    return out


def shingles(source: str, n: int = 5) -> set[tuple[str, ...]]:
    """Token 5-grams with names and numbers folded (``wp.x`` names and keywords kept)."""
    toks = []
    for t in _TOKEN.findall(source):
        if t[0].isdigit():
            toks.append("N")
        elif (t[0].isalpha() or t[0] == "_") and not t.startswith("wp.") and not keyword.iskeyword(t):
            toks.append("I")
        else:
            toks.append(t)
    return {tuple(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1))}


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)
