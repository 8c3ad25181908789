"""The typed environment: live variables, array/struct parameters and helper functions in scope."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Var:
    name: str
    type: str  # type key (types.TYPES)
    assignable: bool = True  # False for loop indices, tid() indices and parameters


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

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def push(self) -> None:
        self.scopes.append([])

    def pop(self) -> None:
        self.scopes.pop()

    def add(self, var: Var) -> None:
        self.scopes[-1].append(var)

    def all_vars(self) -> list[Var]:
        return [v for scope in self.scopes for v in scope]

    def vars_of(self, key: str) -> list[Var]:
        return [v for scope in self.scopes for v in scope if v.type == key]
