"""Warp's visible builtin surface (names, families, signatures) read from the committed table, without Warp."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Signature:
    """One visible overload: ``text`` is ``name(arg: type, ...) -> type`` in Warp's type notation."""

    name: str
    text: str
    family: str


@dataclass(frozen=True)
class Builtin:
    """One visible builtin name, its family (Warp's doc group of its first overload) and its overloads."""

    name: str
    family: str
    signatures: tuple[Signature, ...]


@dataclass(frozen=True)
class BuiltinSurface:
    warp_version: str
    builtins: tuple[Builtin, ...]

    def names(self) -> dict[str, Builtin]:
        return {b.name: b for b in self.builtins}

    def signatures(self) -> tuple[Signature, ...]:
        return tuple(s for b in self.builtins for s in b.signatures)

    def names_per_family(self) -> Counter[str]:
        return Counter(b.family for b in self.builtins)

    def signatures_per_family(self) -> Counter[str]:
        return Counter(s.family for s in self.signatures())

    def family(self, family: str) -> tuple[Builtin, ...]:
        return tuple(b for b in self.builtins if b.family == family)


def parse_surface(text: str) -> BuiltinSurface:
    data = json.loads(text)
    builtins = tuple(
        Builtin(
            b["name"],
            b["family"],
            tuple(Signature(b["name"], s["text"], s["family"]) for s in b["signatures"]),
        )
        for b in data["builtins"]
    )
    return BuiltinSurface(data["warp_version"], builtins)


@cache
def load_surface() -> BuiltinSurface:
    """The table ``python -m curator.warp.surface --write`` wrote for the pinned Warp."""
    text = resources.files("curator.kernels").joinpath("data/warp_builtins.json").read_text()
    return parse_surface(text)
