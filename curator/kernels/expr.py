"""Typed expression generation: grow an expression of a requested type from builtins, operators,
variables, array loads, struct fields, vector components and helper calls."""

from __future__ import annotations

import bisect
import itertools
import random
import re

from .builtins import RNG, SIGS_BY_RET, Sig
from .env import ArrayParam, Env
from .themes import THEMES, Theme
from .types import TYPES, literal, scalar_literal

_SIG_TABLES: dict[tuple[str, str, bool], tuple[list[Sig], list[float]]] = {}
_LETTERS = "xyzw"
_BARE_LITERAL = re.compile(r"^-?[0-9.]+$|^True$|^False$")


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


def _pick_option(rng: random.Random, options: list[tuple[float, object]]):
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

    # -- leaves ------------------------------------------------------------------------------
    def leaf(self, key: str) -> str:
        rng = self.rng
        candidates = self.env.vars_of(key)
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
            shape = f"{arr.name}.shape[{d}]"
            roll = rng.random()
            if roll < 0.5:
                parts.append(f"wp.abs({e}) % {shape}")
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
        if TYPES[key].kind in ("scalar", "vec") and rng.random() < 0.5:
            comps = self.components(key)
            if comps:
                options.append((1.5, comps))
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
        if what == "call":
            h = rng.choice(calls)
            return f"{h.name}({', '.join(self.expr(t, depth - 1) for _, t in h.params)})"
        return rng.choice(what)

    def apply(self, sig: Sig, depth: int) -> str:
        args = []
        for a in sig.args:
            args.append(self.env.rng_state if a == RNG else self.expr(a, depth - 1))
        return sig.template.format(*args)

    def condition(self, depth: int) -> str:
        """A bool expression for if/while tests."""
        return self.expr("bool", max(depth, 1))

    def decl_value(self, key: str, depth: int) -> str:
        """An expression to bind a new local; never a bare literal (Warp would make it constant)."""
        text = self.expr(key, depth)
        if TYPES[key].kind in ("scalar", "bool") and _BARE_LITERAL.match(text):
            return scalar_literal(self.rng, key, dynamic=True)
        return text
