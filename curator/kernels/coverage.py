"""Which Warp builtins a kernel source references (``wp.name`` calls and the operators behind ``+``, ``<<``, ...)."""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from pathlib import Path

TABLE_PATH = Path(__file__).resolve().parent / "data" / "warp_builtins.json"

# Python operator node -> the Warp builtin it dispatches to.
_OPERATORS = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.FloorDiv: "floordiv", ast.Mod: "mod",
    ast.LShift: "lshift", ast.RShift: "rshift", ast.BitAnd: "bit_and", ast.BitOr: "bit_or", ast.BitXor: "bit_xor",
    ast.USub: "neg", ast.UAdd: "pos", ast.Invert: "invert", ast.Not: "unot", ast.MatMult: "mul",
}  # fmt: skip
_PY_BUILTINS = {"len": "len", "print": "print"}


def referenced_names(source: str) -> set[str]:
    """Builtin names ``source`` uses: ``wp.x`` attributes, operators, and ``len``/``print``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "wp":
            names.add(node.attr)
        elif isinstance(node, (ast.BinOp, ast.AugAssign, ast.UnaryOp)):
            op = _OPERATORS.get(type(node.op))
            if op:
                names.add(op)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _PY_BUILTINS:
            names.add(_PY_BUILTINS[node.func.id])
    return names


def load_families(path: Path = TABLE_PATH) -> dict[str, set[str]] | None:
    """family -> builtin names with a visible signature in that family, from the committed table (None if absent)."""
    if not path.exists():
        return None
    families: dict[str, set[str]] = defaultdict(set)
    for entry in json.loads(path.read_text())["builtins"]:
        for sig in entry["signatures"]:
            families[sig["family"]].add(entry["name"])
    return dict(families)


def family_coverage(families: dict[str, set[str]], used: set[str]) -> list[tuple[str, int, int, list[str]]]:
    """(family, covered, total, uncovered names) per family, largest family first."""
    rows = []
    for family, names in sorted(families.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        missing = sorted(names - used)
        rows.append((family, len(names) - len(missing), len(names), missing))
    return rows
