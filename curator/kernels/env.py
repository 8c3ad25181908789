"""The typed environment: live variables, array/struct parameters and helper functions in scope."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .types import TYPES

# Names a statement reads: identifiers not preceded by a dot (attributes) or a word character.
_IDENT = re.compile(r"(?<![\w.])[A-Za-z_]\w*")
_FIELD = re.compile(r"(?<![\w.])[A-Za-z_]\w*\.[A-Za-z_]\w*")  # s1.pos (struct local fields)


@dataclass
class Var:
    name: str
    type: str  # type key (types.TYPES)
    assignable: bool = True  # False for loop indices, tid() indices and parameters
    # True while the value last written has not been read yet; a block may not end with a
    # pending local of its own (the generator sinks it into an output or an outer local).
    pending: bool = False


@dataclass
class ArrayParam:
    name: str
    dtype: str  # type key or a struct name
    ndim: int


@dataclass
class StructDef:
    name: str
    fields: list[tuple[str, str]]  # (field name, type key)


@dataclass
class Helper:
    name: str
    params: list[tuple[str, str]]  # (param name, type key)
    ret: str


@dataclass
class Env:
    """Scopes of live variables plus everything a statement or expression may refer to."""

    scopes: list[list[Var]] = field(default_factory=lambda: [[]])
    arrays: list[ArrayParam] = field(default_factory=list)
    struct: StructDef | None = None
    struct_reads: list[tuple[str, str]] = field(default_factory=list)  # ("cfg.gain", type key)
    struct_locals: list[str] = field(default_factory=list)  # local struct instances (writable)
    struct_arrays: list[ArrayParam] = field(default_factory=list)
    helpers: list[Helper] = field(default_factory=list)
    rng_state: str | None = None
    tid: list[str] = field(default_factory=list)
    int_bounds: list[str] = field(default_factory=list)  # int32 texts usable as loop bounds
    loop_depth: int = 0
    nest: int = 0
    counter: int = 0
    by_name: dict[str, Var] = field(default_factory=dict)  # every tracked name (incl. rng, struct locals)
    used: set[str] = field(default_factory=set)  # every name any emitted statement has read
    static_vars: set[str] = field(default_factory=set)  # static-loop indices (never cast them)
    _typed: dict[str, list[Var]] | None = None  # vars_of cache, dropped whenever scopes change
    _compound: bool = False  # whether any var in scope is a vector/matrix/... (with _typed)

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def push(self) -> None:
        self.scopes.append([])

    def pop(self) -> None:
        self.scopes.pop()
        self._typed = None

    def add(self, var: Var, outermost: bool = False) -> None:
        self.scopes[0 if outermost else -1].append(var)
        self.by_name[var.name] = var
        self._typed = None

    def track(self, var: Var) -> None:
        """Track reads of ``var`` without putting it in scope (rng state, struct locals)."""
        self.by_name[var.name] = var

    def note(self, text: str, writes: tuple[str, ...] = ()) -> None:
        """Record an emitted statement: every name in ``text`` is read, then ``writes`` are written."""
        for name in _IDENT.findall(text):
            self.used.add(name)
            var = self.by_name.get(name)
            if var is not None:
                var.pending = False
        if self.struct_locals:
            for name in _FIELD.findall(text):
                var = self.by_name.get(name)
                if var is not None:
                    var.pending = False
        for name in writes:
            self.by_name[name].pending = True

    def all_vars(self) -> list[Var]:
        return [v for scope in self.scopes for v in scope]

    def typed(self) -> dict[str, list[Var]]:
        """Variables in scope grouped by type key (cached until the scopes change)."""
        if self._typed is None:
            self._typed = {}
            for scope in self.scopes:
                for v in scope:
                    self._typed.setdefault(v.type, []).append(v)
            self._compound = any(TYPES[k].kind not in ("scalar", "bool") for k in self._typed)
        return self._typed

    def has_compound(self) -> bool:
        self.typed()
        return self._compound

    def vars_of(self, key: str) -> list[Var]:
        return self.typed().get(key, [])
