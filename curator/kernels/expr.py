"""Typed expression generation: grow an expression of a requested type from builtins, operators,
variables, array loads, struct fields, vector components and helper calls."""

from __future__ import annotations

import ast
import bisect
import itertools
import random
import re
from collections.abc import Sequence
from typing import TypeVar

from .builtins import RNG, SIGS_BY_RET, Sig
from .env import ArrayParam, Env
from .sink import convert
from .themes import THEMES, Theme
from .types import FLOAT_SCALARS, INT_SCALARS, TYPES, literal, scalar_literal

_SIG_TABLES: dict[tuple[str, str, bool], tuple[list[Sig], list[float]]] = {}
_LETTERS = "xyzw"
_BARE_LITERAL = re.compile(r"^-?[0-9.]+$|^True$|^False$")
# A variable read: an identifier that is not an attribute, a callee or a keyword argument.
_VAR_NAME = re.compile(r"(?<![\w.])([A-Za-z_]\w*)(?!\w|\s*\(|=[^=])")
_NOT_VARS = frozenset(("wp", "True", "False", "float", "int", "bool"))
# Calls and operators where f(f(x)) is f(x) or x: never nest them directly.
_IDEMPOTENT_CALLS = (
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
    "smooth_normalize",
)
_IDEMPOTENT = (*(f"wp.{n}(" for n in _IDEMPOTENT_CALLS), "(-", "(~", "(not ")
_NUMERIC = FLOAT_SCALARS + INT_SCALARS


def reads_var(text: str) -> bool:
    """Whether expression ``text`` reads a variable (else it is a constant expression)."""
    if text.isidentifier():
        return text not in _NOT_VARS
    return any(name not in _NOT_VARS for name in _VAR_NAME.findall(text))


class _SigShape:
    """What ``apply`` must check for one signature, worked out once from its template."""

    def __init__(self, sig: Sig):
        # (arg index, prefix): the arg must not start with the idempotent call around it.
        self.nest: list[tuple[int, str]] = []
        for k in range(len(sig.args)):
            before = sig.template.split(f"{{{k}}}", 1)[0]
            self.nest += [(k, g) for g in _IDEMPOTENT if before.endswith(g)]
        # Args the template wraps in a further call or operator (``wp.abs({1}) + 1``): a
        # constant there makes a constant sub-expression such as ``wp.abs(6)``.
        text = sig.template.format(*(f"_a{k}" for k in range(len(sig.args))))
        tree = ast.parse(text, mode="eval").body
        top = set()
        children = list(ast.iter_child_nodes(tree))
        if isinstance(tree, ast.Call):
            children = list(tree.args)
        for child in children:
            if isinstance(child, ast.Name) and child.id.startswith("_a"):
                top.add(int(child.id[2:]))
        self.wrapped = [k for k, a in enumerate(sig.args) if a != RNG and k not in top]
        # The node around each wrapped arg (``({1} & 7)``): it must not repeat another operand,
        # as in ``(i & 7) << (i & 7)``.
        self.enclosing: list[str] = []
        for parent in ast.walk(tree):
            for child in ast.iter_child_nodes(parent):
                if isinstance(child, ast.Name) and child.id[2:].isdigit() and int(child.id[2:]) in self.wrapped:
                    segment = ast.get_source_segment(text, parent) or ""
                    for k in range(len(sig.args)):
                        segment = segment.replace(f"_a{k}", f"{{{k}}}")
                    self.enclosing.append(segment)
        self.cast = sig.tag == "cast"
        self.where = sig.template.startswith("wp.where(")


_SHAPES: dict[Sig, _SigShape] = {}


def _sig_table(category: str, key: str, with_rng: bool) -> tuple[list[Sig], list[float]]:
    """Signatures returning ``key`` and their cumulative theme weights (cached per theme)."""
    ck = (category, key, with_rng)
    table = _SIG_TABLES.get(ck)
    if table is None:
        tags = THEMES[category].tags
        sigs = [s for s in SIGS_BY_RET.get(key, ()) if with_rng or RNG not in s.args]
        sigs = [s for s in sigs if tags.get(s.tag, 1.0) > 0]
        weights = [tags.get(s.tag, 1.0) for s in sigs]
        table = _SIG_TABLES[ck] = (sigs, list(itertools.accumulate(weights)))
    return table


T = TypeVar("T")


def _pick_option(rng: random.Random, options: Sequence[tuple[float, T]]) -> T:
    pick = rng.random() * sum(w for w, _ in options)
    for w, what in options:
        pick -= w
        if pick <= 0:
            return what
    return options[-1][1]


class ExprGen:
    def __init__(self, rng: random.Random, category: str, env: Env):
        self.rng = rng
        self.category = category
        self.theme: Theme = THEMES[category]
        self.env = env

    @property
    def _has_compound(self) -> bool:
        return self.env.has_compound()

    # -- leaves ------------------------------------------------------------------------------
    def leaf(self, key: str, avoid: tuple[str, ...] = ()) -> str:
        rng = self.rng
        candidates = self.env.vars_of(key)
        if avoid:
            candidates = [v for v in candidates if v.name not in avoid]
        if candidates and rng.random() < 0.85:
            return rng.choice(candidates).name
        if key == "bool":
            # Bare True/False tests read as dead code; compare a live number instead.
            numbers = [v for v in self.env.all_vars() if v.type in ("float32", "int32")]
            if numbers:
                v = rng.choice(numbers)
                op = rng.choice(("<", ">", "<=", ">=", "!="))
                return f"({v.name} {op} {scalar_literal(rng, v.type)})"
        if key == "int32" and self.env.arrays and rng.random() < 0.3:
            arr = rng.choice(self.env.arrays)
            return f"{arr.name}.shape[{rng.randrange(arr.ndim)}]"
        return literal(rng, TYPES[key])

    def components(self, key: str) -> list[str]:
        """Element reads of live compound variables that have type ``key``."""
        rng = self.rng
        t = TYPES[key]
        out = []
        for v in self.env.all_vars():
            vt = TYPES[v.type]
            if vt.kind == "scalar" or vt.kind == "bool":
                continue
            if t.kind == "scalar" and vt.scalar == key:
                if vt.kind == "vec":
                    k = rng.randrange(vt.size)
                    out.append(f"{v.name}.{_LETTERS[k]}" if rng.random() < 0.3 else f"{v.name}[{k}]")
                elif vt.kind in ("mat", "spatial_matrix"):
                    r, c = rng.randrange(vt.size), rng.randrange(vt.size)
                    out.append(f"{v.name}[{r}, {c}]" if rng.random() < 0.6 else f"{v.name}[{r}][{c}]")
                elif vt.kind in ("quat", "spatial"):
                    out.append(f"{v.name}[{rng.randrange(vt.size)}]")
            elif t.kind == "vec" and vt.kind == "mat" and vt.scalar == t.scalar and vt.size == t.size:
                out.append(f"{v.name}[{rng.randrange(vt.size)}]")
        return out

    # -- indices -----------------------------------------------------------------------------
    def index(self, arr: ArrayParam) -> str:
        """Index text for ``arr``: a tid() index or a computed index clamped into range."""
        rng = self.rng
        parts = []
        for d in range(arr.ndim):
            if d < len(self.env.tid) and rng.random() < 0.6:
                parts.append(self.env.tid[d])
                continue
            e = self.expr("int32", 1)
            if not reads_var(e):
                e = self.var_leaf("int32")
            shape = f"{arr.name}.shape[{d}]"
            roll = rng.random()
            if roll < 0.5:
                parts.append(f"{e if e.startswith('wp.abs(') else f'wp.abs({e})'} % {shape}")
            elif roll < 0.8:
                parts.append(f"wp.clamp({e}, 0, {shape} - 1)")
            else:
                parts.append(f"wp.min(wp.max({e}, 0), {shape} - 1)")
        return ", ".join(parts)

    # -- expressions -------------------------------------------------------------------------
    def expr(self, key: str, depth: int) -> str:
        rng = self.rng
        env = self.env
        if depth <= 0 or rng.random() < 0.2:
            return self.leaf(key)
        sigs, cum = _sig_table(self.category, key, env.rng_state is not None)
        # Prefer live variables when there are some: kernels then read like data flow, not constants.
        options: list[tuple[float, str]] = [(2.5 if env.vars_of(key) else 0.6, "leaf")]
        if sigs:
            options.append((6.0, "sig"))
        loads = [a for a in env.arrays if a.dtype == key]
        if loads:
            options.append((1.2, "load"))
        if self._has_compound and TYPES[key].kind in ("scalar", "vec") and rng.random() < 0.5:
            options.append((1.5, "comps"))
        fields = [f for f, t in env.struct_reads if t == key]
        if fields:
            options.append((2.0, "field"))
        calls = [h for h in env.helpers if h.ret == key]
        if calls:
            options.append((self.theme.extra.get("call", 1.0), "call"))
        what = _pick_option(rng, options)
        if what == "leaf":
            return self.leaf(key)
        if what == "sig":
            sig = sigs[bisect.bisect_left(cum, rng.random() * cum[-1])]
            return self.apply(sig, depth)
        if what == "load":
            arr = rng.choice(loads)
            return f"{arr.name}[{self.index(arr)}]"
        if what == "field":
            return rng.choice(fields)
        if what == "comps":
            comps = self.components(key)
            return rng.choice(comps) if comps else self.leaf(key)
        if what == "call":
            h = rng.choice(calls)
            return f"{h.name}({', '.join(self.args([t for _, t in h.params], depth - 1))})"
        return rng.choice(what)

    def var_leaf(self, key: str, avoid: tuple[str, ...] = ()) -> str:
        """A short expression of type ``key`` that reads a variable; a literal only when none can."""
        rng, env = self.rng, self.env
        t = TYPES[key]
        options = [v.name for v in env.vars_of(key) if v.name not in avoid]
        options += [f for f, ft in env.struct_reads if ft == key]
        if t.kind in ("scalar", "vec") and (not options or rng.random() < 0.3) and self._has_compound:
            options += self.components(key)
        tid = env.tid
        for arr in env.arrays:
            if arr.dtype == key and arr.ndim <= len(tid):
                options.append(f"{arr.name}[{', '.join(tid[: arr.ndim])}]")
        options = [o for o in options if o not in avoid]
        if options:
            return rng.choice(options)
        # Build the value from another variable: wp.float64(n), wp.vec3(a1), (x > 0.5), p0[2], ...
        usable = [v for v in env.all_vars() if v.name not in env.static_vars and v.name not in avoid]
        scalars = [v for v in usable if v.type in _NUMERIC]
        for pool in (scalars, usable):
            for _ in range(3 if pool else 0):
                v = rng.choice(pool)
                text = convert(rng, v.name, v.type, key)
                if text not in avoid:
                    return text
        return self.leaf(key, avoid)

    def args(self, types, depth: int) -> list[str]:
        """Argument texts for ``types``: pairwise different, and not all of them constants."""
        out: list[str] = []
        for a in types:
            if a == RNG:
                out.append(self.env.rng_state or "rng")
                continue
            text = self.expr(a, depth)
            tries = 0
            while text in out and tries < 3:
                text = self.expr(a, depth) if tries < 2 else self.var_leaf(a, tuple(out))
                tries += 1
            while text in out and tries < 10:
                text = literal(self.rng, TYPES[a])
                tries += 1
            out.append(text)
        typed = [k for k, a in enumerate(types) if a != RNG]
        if typed and not any(reads_var(out[k]) for k in typed):
            k = self.rng.choice(typed)
            text = self.var_leaf(types[k], tuple(out))
            if text not in out:
                out[k] = text
        return out

    def apply(self, sig: Sig, depth: int) -> str:
        args = self.args(sig.args, depth - 1)
        shape = _SHAPES.get(sig)
        if shape is None:
            shape = _SHAPES[sig] = _SigShape(sig)
        for k, prefix in shape.nest:
            if args[k].startswith(prefix):
                args[k] = self.var_leaf(sig.args[k], tuple(args))
        for k in shape.wrapped:
            if not reads_var(args[k]):
                args[k] = self.var_leaf(sig.args[k], tuple(args))
                if not reads_var(args[k]):  # nothing to read here: a plain value instead
                    return self.var_leaf(sig.ret)
        for segment in shape.enclosing:
            sub = segment.format(*args)
            if sub in args or f"({sub})" in args:
                return self.var_leaf(sig.ret)
        if shape.cast and args[0] in self.env.static_vars:
            args[0] = f"({args[0]} + {self.rng.randint(1, 3)})"
        if shape.where and not reads_var(args[0]):
            args[0] = self.condition(1)
        return sig.template.format(*args)

    def condition(self, depth: int) -> str:
        """A bool expression for if/while tests that reads at least one variable."""
        text = self.expr("bool", max(depth, 1))
        if reads_var(text):
            return text
        return self.var_leaf("bool")

    def decl_value(self, key: str, depth: int) -> str:
        """An expression to bind a new local; never a bare literal (Warp would make it constant)
        and rarely a bare copy of another variable (``a8 = i`` only renames a value)."""
        text = self.expr(key, depth)
        for _ in range(2):
            if not text.isidentifier():
                break
            text = self.expr(key, max(depth, 1))
        if TYPES[key].kind in ("scalar", "bool") and _BARE_LITERAL.match(text):
            return scalar_literal(self.rng, key, dynamic=True)
        return text
