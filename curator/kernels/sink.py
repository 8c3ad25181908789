"""Sinks: make every computed value reach an output (array store, outer local, helper return).

A block never ends with a local of its own whose last value nobody read: the generator folds
such values into an outer local (``total += wp.length(v3)``), an array store or an atomic, and
the kernel's final stores (or a helper's return) consume whatever is still pending at the top.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Protocol

from .env import ArrayParam, Env, Var
from .types import ATOMIC_ADD_DTYPES, FLOAT_SCALARS, TYPES, WType, literal, scalar_literal, vec

# Kinds of outer locals a block may accumulate into with ``+=`` (the value keeps its type, which
# Warp requires of a variable assigned inside a dynamic loop).
FOLD_KINDS = ("scalar", "vec", "mat")
_MAX_TERMS = 3  # values combined by one sink statement


class Exprs(Protocol):
    """What a sink asks of the expression generator (curator.kernels.expr.ExprGen, which imports
    this module: a Protocol, not an import back)."""

    def index(self, arr: ArrayParam) -> str: ...
    def expr(self, key: str, depth: int) -> str: ...
    def var_leaf(self, key: str, avoid: tuple[str, ...] = ()) -> str: ...


def _distinct_literals(rng: random.Random, key: str) -> tuple[str, str]:
    first = scalar_literal(rng, key)
    second = scalar_literal(rng, key)
    while second == first:
        second = scalar_literal(rng, key)
    return first, second


def to_scalar(rng: random.Random, text: str, t: WType) -> tuple[str, str]:
    """An expression reading ``text`` (of type ``t``) with a scalar type; returns (text, key)."""
    kind = t.kind
    if kind == "scalar":
        return text, t.key
    if kind == "vec":
        if t.scalar in FLOAT_SCALARS and rng.random() < 0.4:
            return f"wp.{rng.choice(('length', 'length_sq'))}({text})", t.scalar
        return f"{text}[{rng.randrange(t.size)}]", t.scalar
    if kind in ("mat", "spatial_matrix"):
        roll = rng.random()
        if kind == "mat" and roll < 0.3:
            return f"wp.trace({text})", t.scalar
        if kind == "mat" and roll < 0.5:
            return f"wp.determinant({text})", t.scalar
        return f"{text}[{rng.randrange(t.size)}, {rng.randrange(t.size)}]", t.scalar
    if kind == "quat":
        if rng.random() < 0.3:
            return f"wp.length({text})", t.scalar
        return f"{text}[{rng.randrange(4)}]", t.scalar
    if kind == "transform":
        part = rng.choice(("wp.transform_get_translation", "wp.transform_point"))
        if part == "wp.transform_point":
            return f"wp.length(wp.transform_point({text}, {literal(rng, vec(t.scalar, 3))}))", t.scalar
        return f"wp.length({part}({text}))", t.scalar
    if kind == "spatial":
        if rng.random() < 0.3:
            return f"wp.length(wp.{rng.choice(('spatial_top', 'spatial_bottom'))}({text}))", t.scalar
        return f"{text}[{rng.randrange(6)}]", t.scalar
    raise ValueError(t.key)


def cast(text: str, src: str, dst: str) -> str:
    """``text`` of scalar type ``src`` as scalar type ``dst`` (no cast when they already agree)."""
    if src == dst:
        return text
    if (src, dst) == ("int32", "float32"):
        return f"float({text})"
    if (src, dst) == ("float32", "int32"):
        return f"int({text})"
    return f"{TYPES[dst].ctor}({text})"


def from_scalar(rng: random.Random, text: str, t: WType) -> str:
    """A value of type ``t`` built from ``text`` (a scalar of ``t.scalar``)."""
    kind = t.kind
    if kind == "scalar":
        return text
    if kind == "vec":
        if t.scalar == "int32":
            return f"({literal(rng, t)} * {text})"
        return f"{t.ctor}({text})" if rng.random() < 0.5 else f"({text} * {literal(rng, t)})"
    if kind == "mat":
        return f"({text} * {literal(rng, t)})"
    if kind == "quat":
        if rng.random() < 0.5:
            axis = literal(rng, vec(t.scalar, 3))
            return f"wp.quat_from_axis_angle(wp.normalize({axis}), {text})"
        a, b = _distinct_literals(rng, t.scalar)
        return f"wp.quat_rpy({text}, {a}, {b})"
    if kind == "transform":
        q = literal(rng, TYPES["quat" if t.scalar == "float32" else "quatd"])
        return f"{t.ctor}({vec(t.scalar, 3).ctor}({text}), {q})"
    if kind == "spatial":
        return f"({literal(rng, t)} * {text})"
    if kind == "spatial_matrix":
        top = literal(rng, TYPES["spatial_vector"])
        return f"wp.outer(({top} * {text}), {literal(rng, TYPES['spatial_vector'])})"
    if kind == "bool":
        raise ValueError("bool is handled by convert")
    raise ValueError(t.key)


def convert(rng: random.Random, text: str, src: str, dst: str) -> str:
    """An expression of type ``dst`` that reads ``text`` (of type ``src``)."""
    if src == dst:
        return text
    s, d = TYPES[src], TYPES[dst]
    if s.kind == d.kind == "vec" and s.size == d.size and s.scalar in FLOAT_SCALARS and d.scalar in FLOAT_SCALARS:
        return f"{d.ctor}({text})"
    if d.kind == "bool":
        scalar, key = (text, "bool") if s.kind == "bool" else to_scalar(rng, text, s)
        return scalar if key == "bool" else f"({scalar} > {scalar_literal(rng, key)})"
    if s.kind == "bool":
        a, b = _distinct_literals(rng, d.scalar)
        return from_scalar(rng, f"wp.where({text}, {a}, {b})", d)
    scalar, key = to_scalar(rng, text, s)
    return from_scalar(rng, cast(scalar, key, d.scalar), d)


def combine(dst: str, texts: list[str]) -> str:
    """Texts of type ``dst`` joined into one value (``*`` composes rotations, ``+`` adds)."""
    op = " * " if TYPES[dst].kind in ("quat", "transform") else " + "
    return op.join(dict.fromkeys(texts))  # x + x would repeat an operand


def chunks(items: list, size: int = _MAX_TERMS) -> list[list]:
    return [items[k : k + size] for k in range(0, len(items), size)]


class SinkMixin:
    """BodyGen methods that consume pending values; expects rng, env, exprs, in_kernel, emit."""

    acc: Var | None = None
    body_start: int = 0  # line index where a lazily declared accumulator goes
    # BodyGen's, declared for the type checker (bare annotations: nothing at run time)
    rng: random.Random
    env: Env
    exprs: Exprs
    in_kernel: bool
    lines: list[str]
    if TYPE_CHECKING:

        def emit(self, indent: int, text: str, writes: tuple[str, ...] = ()) -> None: ...

    def settle(self, indent: int) -> None:
        """Sink the pending locals of the innermost scope (called at the end of a block)."""
        pending = [v for v in self.env.scopes[-1] if v.assignable and v.pending]
        for chunk in chunks(pending, self.rng.randint(1, _MAX_TERMS)):
            self.sink(indent, [(v.name, v.type) for v in chunk])

    def sink(self, indent: int, terms: list[tuple[str, str]]) -> None:
        rng, env = self.rng, self.env
        outer = [
            v
            for scope in env.scopes[:-1]
            for v in scope
            if v.assignable and TYPES[v.type].kind in FOLD_KINDS and all(v.name != t for t, _ in terms)
        ]
        if outer and (not self.in_kernel or rng.random() < 0.5):
            target = rng.choice(outer)
            value = combine(target.type, [convert(rng, t, k, target.type) for t, k in terms])
            op = "-=" if rng.random() < 0.2 else "+="
            self.emit(indent, f"{target.name} {op} {value}", writes=(target.name,))
        elif self.in_kernel:
            self.store(indent, rng.choice(env.arrays), terms)
        else:
            acc = self.accumulator()
            value = combine(acc.type, [convert(rng, t, k, acc.type) for t, k in terms])
            self.emit(indent, f"{acc.name} += {value}", writes=(acc.name,))

    def store(
        self, indent: int, arr, terms: list[tuple[str, str]], index: str | None = None, add: bool = False
    ) -> None:
        """Write ``terms`` (converted to the array's dtype) into ``arr``: a store, += or an atomic.

        ``add`` rules out a plain ``=`` (the element already holds a value that must survive)."""
        rng = self.rng
        index = index or self.exprs.index(arr)
        value = self.element_value(arr, index, terms)
        kind = TYPES[arr.dtype].kind
        roll = rng.random()
        if arr.dtype in ATOMIC_ADD_DTYPES and roll < 0.25:
            self.emit(indent, f"wp.atomic_add({arr.name}, {index}, {value})")
        elif kind in ("scalar", "vec") and (add or roll < 0.5):
            self.emit(indent, f"{arr.name}[{index}] += {value}")
        else:
            self.emit(indent, f"{arr.name}[{index}] = {value}")

    def element_value(self, arr, index: str, terms: list[tuple[str, str]]) -> str:
        """``terms`` combined as a value for ``arr[index]``, never that element alone (x = x)."""
        lhs = f"{arr.name}[{index}]"
        texts = [convert(self.rng, t, k, arr.dtype) for t, k in terms]
        if texts == [lhs]:
            texts.append(self.exprs.var_leaf(arr.dtype, (lhs,)))
        return combine(arr.dtype, texts)

    def accumulator(self) -> Var:
        """A float32 local declared at the top of the body, created on first use."""
        if self.acc is None:
            name = self.env.fresh("acc")
            self.acc = Var(name, "float32", pending=True)
            self.env.add(self.acc, outermost=True)
            self.lines.insert(self.body_start, f"    {name} = float(0.0)")
        return self.acc

    def final_stores(self, indent: int, terms: list[tuple[str, str]]) -> None:
        """Kernel end: every pending value reaches an output array (``arrays[0]`` always written)."""
        rng, env = self.rng, self.env
        if not terms:
            terms = [(self.exprs.expr(env.arrays[0].dtype, 2), env.arrays[0].dtype)]
        outputs = [env.arrays[0], *rng.sample(env.arrays[1:], len(env.arrays) - 1)]
        outputs = outputs[: max(1, min(len(outputs), (len(terms) + _MAX_TERMS - 1) // _MAX_TERMS))]
        groups: list[list[tuple[str, str]]] = [[] for _ in outputs]
        for n, term in enumerate(terms):
            groups[n % len(outputs)].append(term)
        for arr, group in zip(outputs, groups, strict=True):
            index = self.exprs.index(arr)
            parts = chunks(group) if TYPES[arr.dtype].kind in ("scalar", "vec") else [group]
            for n, part in enumerate(parts):
                if n == 0:
                    self.emit(indent, f"{arr.name}[{index}] = {self.element_value(arr, index, part)}")
                else:
                    self.store(indent, arr, part, index, add=True)

    def pending_terms(self, scope: list[Var]) -> list[tuple[str, str]]:
        """(text, type) of the pending locals of ``scope`` and the parameters nobody read."""
        terms = [(v.name, v.type) for v in scope if v.assignable and v.pending]
        terms += [(v.name, v.type) for v in scope if not v.assignable and v.name not in self.env.used]
        return terms
