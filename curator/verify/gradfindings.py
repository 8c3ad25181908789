"""What the adjoint check's failures are: each failing kernel sorted by the construct in its
source that Warp's reverse mode is known (or was seen) to get wrong, read from the AST (no Warp
import).  `curator report` shows the counts; docs/verification.md gives the reproducers."""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MISSING_ADJOINT = "builtin without an adjoint"
FURTHEST_POINT = "furthest-point query"
INDEXED_STORE = "indexed tile store"
DYNAMIC_LOOP = "dynamic loop"
ATOMIC_MINMAX = "atomic min/max"
COMPONENT_WRITE = "in-place component write"
READ_BACK = "reads back what it wrote"
MATRIX_SOLVE = "matrix inverse or decomposition"
OTHER = "other"

# The first construct of this list a kernel holds is the one it is counted under.
ORDER = (
    MISSING_ADJOINT,
    FURTHEST_POINT,
    DYNAMIC_LOOP,
    ATOMIC_MINMAX,
    COMPONENT_WRITE,
    READ_BACK,
    INDEXED_STORE,
    MATRIX_SOLVE,
)
WHY = {
    MISSING_ADJOINT: "calls a builtin whose adjoint Warp leaves out although its derivative is not zero "
    "(`MISSINGADJOINT` in Warp's headers: `wp.frac`, `tile_reduce`, `tile_max`/`tile_min`, `tile_sort`, the "
    "tile solves, `mesh_get_point`...): the tape gives 0 through it",
    FURTHEST_POINT: "`wp.mesh_query_furthest_point_no_sign`: Warp's adjoint of it is the closest point's "
    "(`adj_closest_point_to_triangle`, a 'Todo' in Warp's mesh.h); the furthest point of a triangle is a "
    "corner, which does not move with the query point",
    DYNAMIC_LOOP: "a `while` loop or a `for` over a run-time `range` carrying a value: Warp's adjoint "
    "of a dynamic loop keeps no per-iteration record (reproducer in docs/verification.md)",
    ATOMIC_MINMAX: "a scatter with `wp.atomic_min`/`wp.atomic_max`: Warp's tape passes each output element's "
    "gradient to its initial value even where a thread's value replaced it (reproducer in docs/verification.md)",
    COMPONENT_WRITE: "a component of a local vector, matrix or transform overwritten in place (`v[j] = ...`): "
    "Warp's tape still sends the component's adjoint to the value it overwrote (reproducer in "
    "docs/verification.md; `+=` is right; `wp.transform_set_*` is counted here too, not isolated)",
    READ_BACK: "reads an array element the kernel wrote earlier in the same launch (the tape replays the "
    "read with the written value)",
    INDEXED_STORE: "`wp.tile_store_indexed` scattering rows to indices the run draws at random, so some "
    "repeat: a row written twice keeps one value, while the tape sends gradient back to every row written",
    MATRIX_SOLVE: "`wp.inverse`, `svd`, `eig`, `qr` or `determinant` of a near-degenerate random matrix",
    OTHER: "none of the above in the source: not attributed",
}
_MATRIX = frozenset({"inverse", "svd2", "svd3", "eig3", "qr3", "determinant"})


def _static(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "static"


def constructs(source: str, name: str) -> set[str]:
    """The constructs of ORDER that the module ``source`` (kernel ``name`` and its helpers) holds."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    params = {a.arg for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) for a in f.args.args}
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.While):
            found.add(DYNAMIC_LOOP)
        elif isinstance(node, ast.For) and isinstance(node.iter, ast.Call) and not _static(node.iter):
            if getattr(node.iter.func, "id", "") == "range" and not all(
                isinstance(a, ast.Constant) or _static(a) for a in node.iter.args
            ):
                found.add(DYNAMIC_LOOP)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            if attr in missing_adjoints():
                found.add(MISSING_ADJOINT)
            if attr == "mesh_query_furthest_point_no_sign":
                found.add(FURTHEST_POINT)
            if attr == "tile_store_indexed":
                found.add(INDEXED_STORE)
            if attr in ("atomic_min", "atomic_max"):
                found.add(ATOMIC_MINMAX)
            elif attr in _MATRIX:
                found.add(MATRIX_SOLVE)
            elif "_set_" in attr:
                found.add(COMPONENT_WRITE)
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                base = target.value if isinstance(target, (ast.Subscript, ast.Attribute)) else None
                if isinstance(base, ast.Name) and base.id not in params:  # a local's component, not an array element
                    found.add(COMPONENT_WRITE)
    kernel = next((f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == name), None)
    if kernel is not None and _reads_back(kernel, params):
        found.add(READ_BACK)
    return found


_MISSING = re.compile(r"MISSINGADJOINT")
# an adjoint's definition: ``[template <...>] [inline] [CUDA_CALLABLE] [void] adj_NAME(`` at a line's start
_ADJ_DEF = re.compile(r"^\s*(?:template\s*<[^>]*>\s*)?(?:(?:inline|CUDA_CALLABLE|void)\s+)*adj_(\w+)\s*\(")


@functools.cache
def missing_adjoints() -> frozenset[str]:
    """The builtins whose adjoint Warp's headers mark MISSINGADJOINT where the derivative is not
    zero almost everywhere (``floor``, ``sign``... are left out: finite differences see 0 too),
    read from the installed Warp's ``native/*.h`` (no import).  Empty if Warp is not installed."""
    spec = importlib.util.find_spec("warp")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    names = set()
    for header in sorted(Path(spec.submodule_search_locations[0], "native").glob("*.h")):
        lines = header.read_text(encoding="utf-8", errors="replace").splitlines()
        for i, line in enumerate(lines):
            if not _MISSING.search(line) or "zero almost everywhere" in line:
                continue
            for j in range(i - 1, max(i - 16, -1), -1):  # the adjoint the comment is in
                if m := _ADJ_DEF.match(lines[j]):
                    names.add(m.group(1).removesuffix("_axis"))  # tile_reduce along an axis
                    break
    # ``mod``: the vector overload only; a kernel's ``wp.mod`` is mostly a scalar's, which has one
    return frozenset(names - {"mod"})


def _reads_back(kernel: ast.FunctionDef, params: set[str]) -> bool:
    """Whether, in source order, an array parameter is indexed for reading after being written."""
    uses = sorted(
        (n.lineno, n.col_offset, n.value.id, isinstance(n.ctx, ast.Store))
        for n in ast.walk(kernel)
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id in params
    )
    written: set[str] = set()
    for _line, _col, array, store in uses:
        if store:
            written.add(array)
        elif array in written:
            return True
    return False


def classify(source: str, name: str) -> str:
    """The construct a failing kernel is counted under (the first of ORDER it holds, else OTHER)."""
    found = constructs(source, name)
    return next((c for c in ORDER if c in found), OTHER)


@dataclass
class Finding:
    construct: str
    kernels: int
    categories: list[tuple[str, int]]  # the categories with most of them, most first
    why: str


def summarize(failures: Iterable[tuple[str, str, str]]) -> list[Finding]:
    """Findings, in ORDER (then OTHER), of (category, kernel name, source) rows of failing kernels."""
    by: dict[str, Counter] = {c: Counter() for c in (*ORDER, OTHER)}
    for category, name, source in failures:
        by[classify(source, name)][category] += 1
    return [Finding(c, sum(n.values()), n.most_common(4), WHY[c]) for c, n in by.items() if n]
