"""How much of Warp's visible builtin surface the stored kernels use (names and signatures per family)."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import TypeGuard

from curator.kernels.surface import BuiltinSurface
from curator.kernels.vocabulary import ALIASES, CONSTANT_NAMES, TYPE_NAMES

# Python operators Warp's codegen turns into builtin calls (warp._src.codegen.builtin_operators);
# comparisons and `and`/`or` are emitted inline, not as builtins, so they count for nothing.
OPERATOR_BUILTINS: dict[type[ast.AST], str] = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.MatMult: "mul",
    ast.Div: "div",
    ast.FloorDiv: "floordiv",
    ast.Pow: "pow",
    ast.Mod: "mod",
    ast.BitAnd: "bit_and",
    ast.BitOr: "bit_or",
    ast.BitXor: "bit_xor",
    ast.LShift: "lshift",
    ast.RShift: "rshift",
    ast.UAdd: "pos",
    ast.USub: "neg",
    ast.Not: "unot",
    ast.Invert: "invert",
}
# Python builtins a kernel may call bare, which Warp resolves to its own builtin of that name.
BARE_BUILTINS = frozenset({"abs", "len", "max", "min", "pow", "print", "round"})
WARP_MODULE_NAMES = frozenset({"wp", "warp"})
# Type names and constants are referenced as attributes (``wp.vec3f``, ``wp.pi``), annotations
# included; names_in_tree records them as ``wp.<name>``, apart from the builtins.
VOCABULARY = frozenset(TYPE_NAMES) | frozenset(CONSTANT_NAMES)
# Visible builtins the generator leaves out on purpose, and why (none of them needs a GPU).
NOT_GENERATED = {
    "array": "an array view over a raw pointer, `wp.array(ptr=..., shape=...)`: the kernel would "
    "dereference an address it was handed, which random inputs cannot make valid",
    "breakpoint": "a debugger trap: it stops the process that runs the kernel",
    "pos": "unary `+x`, which passes x unchanged: not written in real Warp code",
}


def why_uncovered(name: str) -> str:
    """``name``, with the reason the generator leaves it out where it does so on purpose."""
    return f"{name} ({NOT_GENERATED[name]})" if name in NOT_GENERATED else name


def names_in_source(source: str) -> set[str]:
    """Builtin names a source references: ``wp.name(...)`` calls, bare calls of the Python builtins
    Warp maps (``min(a, b)``), and operators Warp maps to builtins (``a + b`` -> add, ``-x`` -> neg).
    Subscripts and comparisons are not counted (no visible builtin stands for them), nor negated
    literals (folded) or ``x[i] += v`` (an in-place store on arrays), nor anything in a type
    annotation or a ``wp.overload`` type list (``wp.array(dtype=float)`` there is a type, not a
    call).  A source that does not parse references nothing."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return names_in_tree(tree)


def names_in_tree(tree: ast.AST, nodes: list[ast.AST] | None = None) -> set[str]:
    """names_in_source of an already parsed source; ``nodes``: ``list(ast.walk(tree))`` where the caller has it
    (curator.measure.measures walks each kernel once for both measures)."""
    nodes = list(ast.walk(tree)) if nodes is None else nodes
    names = _vocabulary_refs(nodes)
    for node in _outside_annotations(nodes):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                if func.value.id in WARP_MODULE_NAMES:
                    names.add(func.attr)
            elif isinstance(func, ast.Name) and func.id in BARE_BUILTINS:
                names.add(func.id)
        elif isinstance(node, ast.IfExp):
            names.add("where")  # Warp emits `a if c else b` as where(c, a, b)
        elif isinstance(node, (ast.BinOp, ast.AugAssign, ast.UnaryOp)) and not _folded_or_inplace(node):
            name = OPERATOR_BUILTINS.get(type(node.op))
            if name:
                names.add(name)
    return names


def _vocabulary_refs(nodes: list[ast.AST]) -> set[str]:
    """``wp.<name>`` of every Warp type name or constant the nodes reference (VOCABULARY)."""
    return {
        f"wp.{n.attr}"
        for n in nodes
        if isinstance(n, ast.Attribute)
        and n.attr in VOCABULARY
        and isinstance(n.value, ast.Name)
        and n.value.id in WARP_MODULE_NAMES
    }


def _folded_or_inplace(node: ast.AST) -> bool:
    """Operators Warp emits without their builtin: ``-1.0`` is folded into a constant, and ``a[i] += v``
    on an array is an atomic/in-place store (the AST cannot tell an array from a vector there)."""
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
    return isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript)


def _outside_annotations(nodes: list[ast.AST]) -> list[ast.AST]:
    """The nodes of a tree (all of them, as ast.walk gives them) that are not inside a type annotation."""
    annotations = [n.annotation for n in nodes if isinstance(n, (ast.arg, ast.AnnAssign)) and n.annotation is not None]
    annotations += [n.returns for n in nodes if isinstance(n, ast.FunctionDef) and n.returns is not None]
    # the type lists of ``wp.overload(kernel, [wp.array(dtype=wp.vec2), float])`` are types too
    annotations += [a for n in nodes if _is_overload(n) for a in n.args[1:]]
    inside = {id(n) for a in annotations for n in ast.walk(a)}
    return [n for n in nodes if id(n) not in inside] if inside else nodes


def _is_overload(node: ast.AST) -> TypeGuard[ast.Call]:
    f = node.func if isinstance(node, ast.Call) else None
    return (
        isinstance(f, ast.Attribute)
        and f.attr == "overload"
        and isinstance(f.value, ast.Name)
        and (f.value.id in WARP_MODULE_NAMES)
    )


def measure(surface: BuiltinSurface, kernels: Iterable[tuple[str, list[str] | None]]) -> dict:
    """Coverage of ``surface`` by kernels given as (source, recorded signatures or None).

    A name is covered when a source references it (names_in_source) or a recorded signature is
    one of its overloads; a signature is covered when the codegen of some kernel resolved it."""
    return measure_names(surface, ((names_in_source(source), recorded) for source, recorded in kernels))


def measure_names(surface: BuiltinSurface, kernels: Iterable[tuple[Iterable[str], list[str] | None]]) -> dict:
    """measure, from each kernel's names_in_source already computed: (names, recorded signatures or None)."""
    visible = surface.names()
    visible_sigs = {s.text for s in surface.signatures()}
    names: set[str] = set()
    signatures: set[str] = set()
    vocabulary: set[str] = set()
    kernels_total = kernels_recorded = 0
    for referenced, recorded in kernels:
        kernels_total += 1
        names |= visible.keys() & referenced
        vocabulary.update(n[3:] for n in referenced if n.startswith("wp."))
        if recorded is not None:
            kernels_recorded += 1
            signatures |= set(recorded) & visible_sigs
    names |= {s.split("(", 1)[0] for s in signatures}
    return _figures(surface, names, signatures, kernels_total, kernels_recorded) | vocabulary_figures(vocabulary)


def vocabulary_figures(referenced: set[str]) -> dict:
    """Of Warp's type names (aliases among them) and constants: how many, how many referenced, which not."""
    out: dict[str, int | list[str]] = {}
    for key, pool in (("aliases", ALIASES), ("types", TYPE_NAMES), ("constants", CONSTANT_NAMES)):
        out[key] = len(pool)
        out[f"{key}_covered"] = sum(n in referenced for n in pool)
        out[f"uncovered_{key}"] = [n for n in pool if n not in referenced]
    return out


def _share(covered: int, total: int) -> float:
    return covered / total if total else 0.0


def _figures(surface: BuiltinSurface, names: set[str], signatures: set[str], total: int, recorded: int) -> dict:
    families: dict[str, dict] = {}
    name_totals, sig_totals = surface.names_per_family(), surface.signatures_per_family()
    for family in sorted(name_totals.keys() | sig_totals.keys(), key=lambda f: (-name_totals[f], f)):
        fam_names = [b.name for b in surface.family(family)]
        fam_sigs = [s.text for s in surface.signatures() if s.family == family]
        covered_names = [n for n in fam_names if n in names]
        covered_sigs = [s for s in fam_sigs if s in signatures]
        families[family] = {
            "names": len(fam_names),
            "names_covered": len(covered_names),
            "names_share": _share(len(covered_names), len(fam_names)),
            "signatures": len(fam_sigs),
            "signatures_covered": len(covered_sigs),
            "signatures_share": _share(len(covered_sigs), len(fam_sigs)),
            "uncovered_names": sorted(set(fam_names) - names),
            "uncovered_signatures": sorted(set(fam_sigs) - signatures),
        }
    n_names, n_sigs = len(surface.builtins), len(surface.signatures())
    return {
        "warp_version": surface.warp_version,
        "kernels": total,
        "kernels_with_signatures": recorded,
        "names": n_names,
        "names_covered": len(names),
        "names_share": _share(len(names), n_names),
        "signatures": n_sigs,
        "signatures_covered": len(signatures),
        "signatures_share": _share(len(signatures), n_sigs),
        "families": families,
    }


def render(report: dict, title: str, console=None) -> None:
    """Print the per-family table and the uncovered names as rich output."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    t = Table(title=f"{title}: Warp {report['warp_version']} builtin coverage, {report['kernels']:,} kernels")
    for col in ("family", "names", "covered", "%", "signatures", "covered ", "% "):
        t.add_column(col, justify="left" if col == "family" else "right")
    rows = [*report["families"].items(), ("[bold]all", report)]
    for family, f in rows:
        t.add_row(
            family,
            f"{f['names']}",
            f"{f['names_covered']}",
            f"{100 * f['names_share']:.0f}",
            f"{f['signatures']}",
            f"{f['signatures_covered']}",
            f"{100 * f['signatures_share']:.0f}",
        )
    console.print(t)
    if report["kernels_with_signatures"] < report["kernels"]:
        console.print(
            f"signatures recorded for {report['kernels_with_signatures']:,} of {report['kernels']:,} "
            "kernels (the others were stored before curator recorded them, or by another Warp)"
        )
    for family, f in report["families"].items():
        if f["uncovered_names"]:
            console.print(f"[dim]uncovered {family}:[/] {', '.join(map(why_uncovered, f['uncovered_names']))}")
    for line in vocabulary_lines(report):
        console.print(line)


def vocabulary_lines(report: dict) -> list[str]:
    """One line each for type aliases, type names and constants: referenced of all, and the ones not."""
    out = []
    for key, label in (("aliases", "type aliases"), ("types", "type names"), ("constants", "constants")):
        if key not in report:
            continue
        missing = report[f"uncovered_{key}"]
        tail = f"; not referenced: {', '.join('wp.' + n for n in missing)}" if missing else ""
        out.append(f"{label}: {report[f'{key}_covered']} of {report[key]} referenced{tail}")
    return out
