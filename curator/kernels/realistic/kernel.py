"""The kernel under construction: parameters, body, launch shape, and small helpers motifs share."""

from __future__ import annotations

import random
import re

from ..vocabulary import ALIASES
from .writer import IND, Body, ModuleWriter

FLOATS = ("float", "wp.float32", "float")  # how a float32 is spelled in annotations, weighted
_DT_NAMES = ("dt", "time_step", "h", "delta_t")
# The float32 types under the names Warp also exports for them (wp.vec3f is wp.vec3).
_ALIASES = {f"wp.{alias[:-1]}": f"wp.{alias}" for alias in ALIASES}
_INDEX_TYPES = frozenset({"int", "wp.int32", "wp.uint32", "wp.int64"})


class Kernel:
    """Motifs append parameters and statements here; :meth:`source` renders the whole module."""

    def __init__(self, rng: random.Random, name: str):
        self.rng = rng
        self.name = name
        self.mod = ModuleWriter(rng)
        self.mod.taken.add(name)
        self.body = Body(rng, self.mod.taken)
        self.mod.avoid = self.body.locals
        self.params: list[tuple[str, str]] = []
        self.param_names: set[str] = set()
        self.tid: list[str] = []
        self.block_dim = 0  # > 0: launched with wp.launch_tiled(..., block_dim=block_dim)
        self.decorator = "@wp.kernel"
        self.factory: tuple[str, str] | None = None  # (factory def line, its call) for kernel factories
        self.generic = False
        self.lane = False  # the last wp.tid() value is the lane inside a tiled block
        self.overload_of: str | None = None  # the generic kernel a concrete wp.overload is taken of
        self.concrete: list[tuple[str, str]] = []  # the overload's (parameter, annotation) pairs
        self.bindings: dict[str, str] = {}  # a factory's type parameters -> the types its call passes
        # What a motif composed after another may take over, so the parts share their data:
        self.arrays: list[tuple[str, str, int, bool]] = []  # (name, dtype, ndim, plain wp.array)
        self.scalars: list[tuple[str, tuple[str, ...], str]] = []  # (name, name pool, annotation)
        self.earlier = -1  # >= 0 while a composed motif runs: arrays[:earlier] are the earlier parts'
        self.earlier_scalars = 0
        self.taken_over: set[str] = set()  # earlier parameters the composed motif took (each once)

    # -- randomness --------------------------------------------------------------------------
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, seq):
        return self.rng.choice(seq)

    def num(self, lo: float, hi: float, digits: int = 2) -> str:
        """A float literal in [lo, hi] written the way people do (0.5, 1e-3, 9.81)."""
        value = round(self.rng.uniform(lo, hi), digits)
        if value == 0.0:
            value = lo if lo != 0.0 else hi
        return repr(float(value))

    def eps(self) -> str:
        return self.pick(("1e-6", "1.0e-6", "1e-8", "1.0e-5", "1e-4"))

    # -- parameters --------------------------------------------------------------------------
    def param(self, pool: tuple[str, ...] | str, annotation: str) -> str:
        pool = (pool,) if isinstance(pool, str) else pool
        base = self.pick(pool)
        name, n = base, 1
        while name in self.param_names or name in self.body.locals or name in self.mod.taken:
            n += 1
            name = f"{base}_{n}" if base[-1].isdigit() else f"{base}{n}"
        self.param_names.add(name)
        self.body.locals.add(name)
        self.params.append((name, annotation))
        return name

    def array(self, pool, dtype: str, ndim: int = 1, kinds: bool = False) -> str:
        """An array parameter; with ``kinds`` a 1-d one is sometimes an indexed or fabric array.  A motif
        composed after another mostly takes over an earlier array of the same type instead: it reads what
        the earlier part wrote, or updates the same state."""
        # Integer arrays are indices, counters and masks: a later part that took one over could write
        # values an earlier part indexes with (out-of-bounds reads and writes at launch), so they are not shared.
        if self.earlier >= 0 and dtype not in _INDEX_TYPES:
            same = [
                a[0]
                for a in self.arrays[: self.earlier]
                if a[1:3] == (dtype, ndim) and (a[3] or kinds) and a[0] not in self.taken_over
            ]
            if same and self.chance(0.8 if not self.taken_over else 0.4):
                self.taken_over.add(name := self.pick(same))
                return name
        plain = not (kinds and ndim == 1 and self.chance(0.12))
        if dtype in _ALIASES and self.chance(0.2):  # code bases that spell the precision out
            dtype = _ALIASES[dtype]
        if not plain:
            kind = self.pick(("indexedarray", "indexedarray", "fabricarray", "indexedfabricarray"))
            ann = f"wp.{kind}(dtype={dtype})"
        elif ndim == 1:
            ann = self.pick((f"wp.array(dtype={dtype})",) * 6 + (f"wp.array1d(dtype={dtype})", f"wp.array[{dtype}]"))
        else:
            forms = (f"wp.array{ndim}d(dtype={dtype})",) * 3 + (f"wp.array(dtype={dtype}, ndim={ndim})",)
            ann = self.pick((*forms, f"wp.array{ndim}d[{dtype}]"))
        name = self.param(pool, ann)
        self.arrays.append((name, dtype, ndim, plain))
        return name

    def scalar(self, pool, ann: str | None = None) -> str:
        """A scalar parameter; a composed motif shares an earlier one of the same pool and type (one time
        step, one count) where there is one."""
        pool = (pool,) if isinstance(pool, str) else tuple(pool)
        if self.earlier >= 0:
            # no annotation asked for means a float32 one: an earlier float64 or int of the pool does not fit
            want = set(FLOATS) if ann is None else {ann}
            same = [n for n, p, a in self.scalars[: self.earlier_scalars] if p == pool and a in want]
            if same:
                return same[0]
        name = self.param(pool, ann or self.pick(FLOATS))
        self.scalars.append((name, pool, dict(self.params)[name]))
        return name

    def dt(self) -> str:
        return self.scalar(_DT_NAMES)

    def annotation(self, param: str) -> str:
        return dict(self.params)[param]

    def composing(self) -> None:
        """Mark that the motifs from here on are composed after the ones before (see :meth:`array`)."""
        self.earlier = len(self.arrays)
        self.earlier_scalars = len(self.scalars)
        self.taken_over = set()

    # -- body --------------------------------------------------------------------------------
    def emit(self, text: str) -> None:
        self.body.emit(text)

    def block(self, header: str):
        return self.body.block(header)

    def let(self, pool, value: str) -> str:
        return self.body.let(pool, value)

    def fresh(self, *pool: str) -> str:
        return self.body.fresh(*pool)

    def thread(self, *names: str) -> list[str]:
        """``i = wp.tid()`` (or a tuple); names are reserved as locals.  A second motif composed
        into the same kernel gets the existing indices back."""
        if self.tid:
            if len(names) != len(self.tid):
                raise ValueError("composed motifs disagree on the launch dimension")
            return self.tid
        self.tid = list(names)
        for n in names:
            self.body.locals.add(n)
        self.emit(f"{', '.join(names)} = wp.tid()")
        if self.block_dim == 0 and self.factory is None and self.overload_of is None:
            self._entry(names)
        return self.tid

    def _entry(self, names) -> None:
        """How real kernels start: a bounds check, an activity mask, or an index indirection."""
        roll = self.rng.random()
        if roll < 0.4:
            return
        if len(self.tid) == 1:
            if roll < 0.65:
                self.guard(self.tid[0], self.scalar(("n", "num", "count", "num_items", "size"), "int"))
            elif roll < 0.8:
                kinds = ("int", "wp.uint8", "bool", "wp.int8", "wp.uint16", "wp.int16", "wp.uint32", "wp.int64")
                mask = self.array(("active", "mask", "enabled", "alive"), self.pick(kinds))
                self.arrays.pop()  # the launch's own: no part reads it as data or writes it
                self.emit(f"if not {mask}[{self.tid[0]}]:")
                self.emit(IND + "return")
            else:
                # Launched over a subset: the motif works on ``i = indices[tid]``.
                ids = self.array(("indices", "active_ids", "selection", "work_ids"), "int")
                # a part that took it over could write it: later threads would index out of bounds
                self.arrays.pop()
                outer = self.tid[0]
                inner = self.fresh("idx", "i", "p", "k")
                self.emit(f"{inner} = {ids}[{outer}]")
                if self.chance(0.4):
                    self.emit(f"if {inner} < 0:")
                    self.emit(IND + "return")
                self.tid = [inner]
                self.tid_outer = outer
            return
        bounds = [self.scalar((f"n{a}", f"dim_{a}", f"size_{a}"), "int") for a in "xyzw"[: len(self.tid)]]
        test = " or ".join(f"{t} >= {b}" for t, b in zip(self.tid, bounds, strict=True))
        self.emit(f"if {test}:")
        self.emit(IND + "return")

    def guard(self, index: str, bound: str) -> None:
        """An early-return guard, written one of the ways real kernels do."""
        self.emit(f"if {index} >= {bound}:")
        self.emit(IND + "return")

    # -- output ------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """What other motifs may continue this body: "1d", "2d", "tile1d", "tile2d", or "" (none)."""
        if self.factory is not None or self.overload_of is not None:
            return ""
        if self.block_dim:
            return "tilelane" if self.lane else {1: "tile1d", 2: "tile2d"}.get(len(self.tid), "")
        return {1: "1d", 2: "2d", 3: "3d"}.get(len(self.tid), "")

    @property
    def launch_dim(self) -> int:
        return len(self.tid) - (1 if self.lane else 0)

    def signature(self, name: str, indent: str = "") -> list[str]:
        """``def name(params):`` on one line, or one parameter a line when that passes 100 chars."""
        sig = ", ".join(f"{p}: {a}" for p, a in self.params)
        line = f"{indent}def {name}({sig}):"
        if len(line) <= 100:
            return [line]
        return [f"{indent}def {name}(", *(f"{indent}{IND}{p}: {a}," for p, a in self.params), f"{indent}):"]

    def order_params(self) -> None:
        """Half the kernels list arrays first and scalars after, as many code bases do."""
        if self.overload_of is None and self.chance(0.5):
            arrays = [p for p in self.params if "array" in p[1]]
            self.params = arrays + [p for p in self.params if "array" not in p[1]]

    @property
    def args(self) -> tuple[tuple[str, str], ...]:
        """The launch parameters: the concrete overload's where the kernel is generic, and a
        factory's type parameters replaced by the types its call passes."""
        if self.concrete:
            return tuple(self.concrete)
        if not self.bindings:
            return tuple(self.params)
        names = re.compile(r"\b(" + "|".join(map(re.escape, self.bindings)) + r")\b(?!\s*=)")
        return tuple((p, names.sub(lambda m: self.bindings[m.group(1)], a)) for p, a in self.params)

    def source(self) -> str:
        if self.overload_of is not None:
            kernel = [self.decorator, *self.signature(self.overload_of), *self.body.lines]
            if self.chance(0.5):
                types = ", ".join(a for _, a in self.concrete)
                self.mod.tail.append(f"{self.name} = wp.overload({self.overload_of}, [{types}])")
            else:
                types = ", ".join(f'"{p}": {a}' for p, a in self.concrete)
                self.mod.tail.append(f"{self.name} = wp.overload({self.overload_of}, {{{types}}})")
        elif self.factory is None:
            kernel = [self.decorator, *self.signature(self.name), *self.body.lines]
        else:
            head, call = self.factory
            inner = [IND + self.decorator, *self.signature(self.factory_inner, IND)]
            inner += [IND + line for line in self.body.lines]
            kernel = [head, *inner, "", f"{IND}return {self.factory_inner}"]
            self.mod.tail.insert(0, f"{self.name} = {call}")
        return self.mod.render(kernel)

    factory_inner = "kernel_impl"
