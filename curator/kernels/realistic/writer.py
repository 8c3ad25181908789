"""Source writers for realistic kernels: the module (imports, constants, types, helpers) and a kernel body."""

from __future__ import annotations

import random
from contextlib import contextmanager

IND = "    "


class ModuleWriter:
    """Collects the parts of one generated module in the order Python needs them."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.imports: list[str] = ["import warp as wp"]
        self.consts: list[str] = []
        self.blocks: list[list[str]] = []  # structs, types, @wp.func helpers, in definition order
        self.tail: list[str] = []  # module-level lines after the kernel (overloads, factory calls)
        self.taken: set[str] = set()
        self.avoid: set[str] = set()  # the kernel's parameters and locals (a helper must not be shadowed)

    def need_any(self) -> None:
        if "from typing import Any" not in self.imports:
            self.imports.append("from typing import Any")

    def name(self, *pool: str) -> str:
        """A module-level name from ``pool`` not used yet."""
        base = self.rng.choice(pool)
        name, n = base, 1
        while name in self.taken or name in self.avoid:
            n += 1
            name = f"{base}{n}"
        self.taken.add(name)
        return name

    def const(self, pool: tuple[str, ...], value: str) -> str:
        name = self.name(*pool)
        self.consts.append(f"{name} = wp.constant({value})")
        return name

    def block(self, lines: list[str]) -> None:
        self.blocks.append(lines)

    def render(self, kernel: list[str]) -> str:
        parts = ["\n".join(self.imports)]
        if self.consts:
            parts.append("\n".join(self.consts))
        parts += ["\n".join(b) for b in self.blocks]
        parts.append("\n".join(kernel))
        if self.tail:
            parts.append("\n".join(self.tail))
        return "\n\n\n".join(parts) + "\n"


class Body:
    """The statements of one function, with scoped indentation and fresh local names."""

    def __init__(self, rng: random.Random, reserved: set[str], indent: int = 1):
        self.rng = rng
        self.lines: list[str] = []
        self.level = indent
        self.locals: set[str] = set()
        self.reserved = reserved  # module-level names a local must not shadow

    def emit(self, text: str) -> None:
        self.lines.append(IND * self.level + text)

    @contextmanager
    def block(self, header: str):
        self.emit(header)
        self.level += 1
        try:
            yield
        finally:
            self.level -= 1

    def fresh(self, *pool: str) -> str:
        base = self.rng.choice(pool)
        name, n = base, 1
        while name in self.locals or name in self.reserved:
            n += 1
            name = f"{base}_{n}"
        self.locals.add(name)
        return name

    def let(self, pool: tuple[str, ...] | str, value: str) -> str:
        """``name = value`` with a fresh name; returns the name."""
        name = self.fresh(*((pool,) if isinstance(pool, str) else pool))
        self.emit(f"{name} = {value}")
        return name
