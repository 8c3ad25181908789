"""Data-flow groups of a kernel body: which top-level statements share a local or a parameter; ``ast`` only.

Definition (docs/measures.md): the kernel's top-level statements (a leading docstring left out) are
joined into groups, two statements being in one group when they name the same local or parameter,
directly or through other statements (connected components).  The names that count are the
kernel's parameters and every name it assigns (``=``, ``+=``, ``for`` and ``with`` targets), less
the thread index (the targets of a top-level ``... = wp.tid()``, and an index read through it,
``idx = indices[tid]``, that is only ever used to index) and ``wp``/``warp``; Python
builtins (``range``, ``min``) are never bound, so they never count, and module-level names
(helpers, structs, constants) do not join statements.  Not counted: guards (a top-level ``if``
whose whole body is ``return`` and that has no ``else``), the ``wp.tid()`` statement itself, the
statement binding an indirect index, and statements that name nothing that counts (a ``wp.printf``
of a literal).  A kernel with no counted statement has zero groups.
"""

from __future__ import annotations

import ast

# Never a local, even where a kernel assigns them (Python builtins are never assigned, so only
# names a kernel binds count at all: a local called ``sum`` or ``dir`` is a local).
_NOT_LOCAL = frozenset({"wp", "warp"})


def _is_guard(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.If)
        and not stmt.orelse
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], ast.Return)
        and stmt.body[0].value is None
    )


def _is_tid(stmt: ast.stmt) -> bool:
    value = getattr(stmt, "value", None)
    return (
        isinstance(stmt, ast.Assign)
        and isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "tid"
    )


def _assigned(func: ast.FunctionDef) -> set[str]:
    """Every name the function binds: its parameters and its assignment, loop and with targets."""
    names = {a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]}
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _binds(stmt: ast.stmt, names: set[str]) -> bool:
    return isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id in names for t in stmt.targets)


def _indirect_indices(func: ast.FunctionDef, body: list[ast.stmt], tid: set[str]) -> set[str]:
    """Locals bound once, at top level, to ``array[thread index]`` and read only as an index
    (``x[idx]``, ``x[idx, 0]``) or in a guard: the thread index of a kernel launched over a subset."""
    found = set()
    for stmt in body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        value = stmt.value
        if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Name) and value.slice.id in tid:
            found.add(stmt.targets[0].id)
    if not found:
        return found
    nodes = list(ast.walk(func))  # walked twice below: once is the cost of the whole measure
    index_uses: set[int] = set()  # ids of Name nodes that are a subscript's index, or all of a guard's names
    for node in nodes:
        if isinstance(node, ast.Subscript):
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            index_uses |= {id(p) for p in parts if isinstance(p, ast.Name)}
    for stmt in body:
        if isinstance(stmt, ast.If) and _is_guard(stmt):
            index_uses |= {id(n) for n in ast.walk(stmt.test) if isinstance(n, ast.Name)}
    stores: dict[str, int] = {}
    for node in nodes:
        if isinstance(node, ast.Name) and node.id in found:
            if isinstance(node.ctx, ast.Store):
                stores[node.id] = stores.get(node.id, 0) + 1
            elif id(node) not in index_uses:
                found.discard(node.id)
    return {n for n in found if stores.get(n) == 1}


def groups(func: ast.FunctionDef) -> list[list[int]]:
    """The data-flow groups of ``func`` as lists of indexes into its body, in order of first statement."""
    body = func.body
    start = 1 if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else 0
    tid = {
        n.id
        for s in body[start:]
        if isinstance(s, ast.Assign) and _is_tid(s)
        for t in s.targets
        for n in ast.walk(t)
        if isinstance(n, ast.Name)
    }
    indirect = _indirect_indices(func, body[start:], tid)
    tid |= indirect
    counted = _assigned(func) - tid - _NOT_LOCAL
    owner: dict[str, int] = {}  # name -> the group (index into parts) that holds it
    parts: list[list[int] | None] = []
    names_of: list[set[str]] = []
    for index, stmt in enumerate(body[start:], start):
        if _is_guard(stmt) or _is_tid(stmt) or _binds(stmt, indirect):
            continue
        names = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)} & counted
        if not names:
            continue
        joined = sorted({owner[n] for n in names if n in owner})
        target = joined[0] if joined else len(parts)
        if not joined:
            parts.append([])
            names_of.append(set())
        for other in joined[1:]:  # this statement links earlier groups: merge them into the first
            parts[target].extend(parts[other] or [])  # type: ignore[union-attr]
            names_of[target] |= names_of[other]
            for n in names_of[other]:
                owner[n] = target
            parts[other] = None
        parts[target].append(index)  # type: ignore[union-attr]
        names_of[target] |= names
        for n in names:
            owner[n] = target
    return [sorted(p) for p in parts if p is not None]


def group_sizes(func: ast.FunctionDef) -> list[int]:
    """Statements per data-flow group of ``func`` (see :func:`groups`)."""
    return [len(g) for g in groups(func)]


def unrelated_parts(sizes: list[int]) -> bool:
    """Whether a kernel with these group sizes holds unrelated computations: three or more groups, or
    two groups of two or more statements each (one lone statement beside a computation, such as
    zeroing a second output, is how real kernels are written and is not flagged)."""
    return len(sizes) >= 3 or (len(sizes) == 2 and min(sizes) >= 2)


def kernel_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    """The ``@wp.kernel`` functions of a module, nested ones (kernel factories) included."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                if getattr(target, "attr", getattr(target, "id", "")) == "kernel":
                    out.append(node)
                    break
    return out


def source_groups(source: str) -> int | None:
    """The most data-flow groups of any ``@wp.kernel`` in ``source`` (None: no kernel or no parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    kernels = kernel_functions(tree)
    return max((len(groups(k)) for k in kernels), default=None)
