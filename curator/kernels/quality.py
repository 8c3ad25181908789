"""Syntactic quality findings on generated kernel source (trivial operands, dead locals, ...).

Used by ``python -m curator.measure.gencheck`` and the unit tests; ``ast`` only, no Warp.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Sequence

from .dataflow import group_sizes, kernel_functions, unrelated_parts

# Finding kinds, in report order.
KINDS = (
    "identical_operands",  # a - a, a > a, wp.min(a, a), wp.where(c, x, x)
    "unread_locals",  # a local assigned somewhere in a function and never read in it
    "overwritten_locals",  # x = a; x = b in one block with no read of x in between (a is dead)
    "constant_conditions",  # if/elif/while tests and wp.where conditions that read no variable
    # operators and wp calls whose operands are all literals (2.0 * 3.0); constructors of
    # constants (wp.vec3(1.0, 0.0, 0.0)) and unit axes (wp.normalize(wp.vec3(1.0, 1.0, 0.0))) pass
    "constant_operations",
    "redundant_nesting",  # wp.abs(wp.abs(x)), -(-x), not not x, wp.float64(wp.float64(x))
    "self_assignments",  # x = x, x[0] = x[0], wp.atomic_min(a, i, a[i])
    "uncalled_helpers",  # @wp.func never called (or passed, as to wp.tile_map) from the kernel or another helper
    # a kernel of unrelated computations: 3+ data-flow groups, or 2 of 2+ statements each (dataflow.py)
    "unrelated_parts",
)
# f(f(x)) == f(x) or x for these: nesting them is always redundant.
_IDEMPOTENT = {
    "abs",
    "sign",
    "floor",
    "ceil",
    "round",
    "rint",
    "trunc",
    "normalize",
    "transpose",
    "inverse",
    "quat_inverse",
    "transform_inverse",
    "invert",
    "float16",
    "float32",
    "float64",
    "int32",
    "int64",
    "uint32",
}
# Constructors whose literal-only arguments are just how a constant of that type is written.
_LITERAL_CTORS = ("vec", "mat", "quat", "transform", "spatial", "identity", "float", "int", "uint")


_NOT_VARS = ("wp", "float", "int", "bool")


def _wp_name(node: ast.AST) -> str | None:
    """``name`` for a call of ``wp.name(...)``, else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        value = node.func.value
        if isinstance(value, ast.Name) and value.id == "wp":
            return node.func.attr
    return None


def _reads_variable(node: ast.AST) -> bool:
    """Whether ``node`` reads any name other than the ``wp`` module and builtin casts."""
    return any(isinstance(sub, ast.Name) and sub.id not in _NOT_VARS for sub in ast.walk(node))


def _is_constant(node: ast.AST) -> bool:
    return not _reads_variable(node)


# Calls that advance an RNG state: two equal-looking calls give different values.
_STATEFUL = ("rand", "sample_", "poisson")


def _stateful(node: ast.AST) -> bool:
    return any((name := _wp_name(sub)) is not None and name.startswith(_STATEFUL) for sub in ast.walk(node))


def _identical(nodes: Sequence[ast.AST]) -> bool:
    nodes = [n for n in nodes if not _stateful(n)]
    dumps = [ast.dump(n) for n in nodes]
    return len(set(dumps)) < len(dumps)


def _walk(root: ast.AST):
    """``ast.walk`` that treats a constant built by a constructor as one literal (no descent)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        name = _wp_name(node)
        if name is not None and name.startswith(_LITERAL_CTORS) and _is_constant(node):
            continue
        stack.extend(ast.iter_child_nodes(node))


def _is_own_element(args: list[ast.expr]) -> bool:
    """Whether ``wp.atomic_*(arr, i, j, value)`` passes ``arr[i, j]`` as its own value."""
    value = args[-1]
    if not isinstance(value, ast.Subscript):
        return False
    index = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
    return ast.dump(value.value) == ast.dump(args[0]) and list(map(ast.dump, index)) == list(map(ast.dump, args[1:-1]))


def _operation_findings(func: ast.AST, found: Counter) -> None:
    for node in _walk(func):
        if isinstance(node, ast.BinOp):
            operands = [node.left, node.right]
            if _identical(operands):
                found["identical_operands"] += 1
            elif all(map(_is_constant, operands)):
                found["constant_operations"] += 1
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if _identical(operands):
                found["identical_operands"] += 1
            elif all(map(_is_constant, operands)):
                found["constant_operations"] += 1
        elif isinstance(node, ast.BoolOp):
            if _identical(node.values):
                found["identical_operands"] += 1
        elif isinstance(node, ast.UnaryOp):
            if isinstance(node.operand, ast.UnaryOp) and type(node.operand.op) is type(node.op):
                found["redundant_nesting"] += 1
        elif (name := _wp_name(node)) is not None:
            args = node.args
            literal_ctor = name.startswith(_LITERAL_CTORS)
            if len(args) >= 2 and _identical([a for a in args if not (literal_ctor and _is_constant(a))]):
                found["identical_operands"] += 1
            elif args and not literal_ctor and name != "normalize" and all(map(_is_constant, args)):
                found["constant_operations"] += 1
            if name == "where" and args and _is_constant(args[0]):
                found["constant_conditions"] += 1
            if name in _IDEMPOTENT and len(args) == 1 and _wp_name(args[0]) == name:
                found["redundant_nesting"] += 1
            if name.startswith("atomic_") and len(args) >= 3 and _is_own_element(args):
                found["self_assignments"] += 1
        if isinstance(node, (ast.If, ast.While)) and _is_constant(node.test):
            found["constant_conditions"] += 1


def _local_findings(func: ast.FunctionDef, found: Counter) -> None:
    stored: set[str] = set()
    loaded: set[str] = set()
    loop_vars: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.For):
            loop_vars.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            loaded.add(node.target.id)  # x += e reads x
        elif isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == ast.unparse(node.value):
            found["self_assignments"] += 1
        elif isinstance(node, ast.Name):
            (stored if isinstance(node.ctx, ast.Store) else loaded).add(node.id)
    found["unread_locals"] += len(stored - loaded - loop_vars)


def _loads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _overwrite_findings(func: ast.FunctionDef, found: Counter) -> None:
    """Plain ``x = ...`` twice in one statement list with no read of ``x`` in between."""
    for node in ast.walk(func):
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            unread: set[str] = set()
            for stmt in block:
                target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
                if isinstance(target, ast.Name):
                    reads = _loads(stmt.value)
                    if target.id in unread and target.id not in reads:
                        found["overwritten_locals"] += 1
                    unread -= reads
                    unread.add(target.id)
                else:
                    unread -= _loads(stmt)
                    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                        unread.discard(stmt.target.id)


def findings(source: str) -> Counter:
    """Counts of each kind in :data:`KINDS` for one generated module."""
    tree = ast.parse(source)
    found: Counter = Counter({kind: 0 for kind in KINDS})
    helpers: set[str] = set()
    called: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            if any(ast.unparse(d) == "wp.func" for d in node.decorator_list):
                helpers.add(node.name)
            _operation_findings(node, found)
            _local_findings(node, found)
            _overwrite_findings(node, found)
            # A helper counts as used where it is called or passed on (wp.tile_map(relu, t)).
            loads = (sub for sub in ast.walk(node) if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load))
            called.update(sub.id for sub in loads)
        elif isinstance(node, ast.Assign):  # module level: kernel = make_kernel(helper)
            called.update(sub.id for sub in ast.walk(node.value) if isinstance(sub, ast.Name))
    found["uncalled_helpers"] += len(helpers - called)
    found["unrelated_parts"] += sum(unrelated_parts(group_sizes(k)) for k in kernel_functions(tree))
    return found
