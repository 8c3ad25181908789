"""Balanced selection: equal numbers of kernels per category, round-robin, until the bytes
written reach a target, landing inside [target, upper]."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

# The most a category's count may exceed the smallest one's (ratio), once counts are large
# enough for a round-robin's +1 to stay under it (20 or more per category).
MAX_BALANCE_RATIO = 1.05
UPPER_SLACK = 0.01  # land within +1 % of the target


def upper_bound(target: int) -> int:
    return int(target * (1 + UPPER_SLACK))


def seeded_order(ids: Iterable[str], seed: int) -> list[str]:
    """``ids`` in an order decided by ``seed`` alone (not by insertion order or rowids)."""
    return sorted(ids, key=lambda i: hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=8).digest())


@dataclass
class Selection:
    """What a balanced selection picked."""

    categories: tuple[str, ...]
    target: int
    upper: int
    counts: dict[str, int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    size: int = 0
    exhausted: str | None = None  # the category that ran out first, if one did
    skipped: int = 0  # items passed over because they would have overshot ``upper``

    @property
    def reached(self) -> bool:
        return self.size >= self.target

    @property
    def records(self) -> int:
        return sum(self.counts.values())

    def ratio(self) -> float:
        """max/min of the per-category counts (1.0 for an empty selection)."""
        counts = [self.counts[c] for c in self.categories]
        if not counts or max(counts) == 0:
            return 1.0
        return max(counts) / min(counts) if min(counts) else float("inf")


def select_balanced(
    streams: Mapping[str, Iterable[T]],
    size_of: Callable[[T], int],
    target: int,
    upper: int | None = None,
    selection: Selection | None = None,
) -> Iterator[tuple[str, T]]:
    """Yield (category, item) round-robin over the categories (sorted), taking each
    category's items in stream order, until the sizes add up to ``target``.

    Counts never differ by more than one between categories.  An item that would push the
    total past ``upper`` is passed over for the category's next one, so the total lands in
    [target, upper] whenever items small enough exist.  When a category runs out
    (``selection.exhausted``) the round is finished without it and the selection stops.
    Pass ``selection`` to read the figures.
    """
    if target <= 0:
        raise ValueError("target must be positive")
    upper = upper_bound(target) if upper is None else upper
    cats = tuple(sorted(streams))
    sel = selection if selection is not None else Selection(cats, target, upper)
    sel.categories, sel.target, sel.upper = cats, target, upper
    for c in cats:
        sel.counts.setdefault(c, 0)
        sel.bytes.setdefault(c, 0)
    iters = {c: iter(streams[c]) for c in cats}
    if not cats:
        return
    while True:
        for c in cats:
            while True:
                item: T | _End = next(iters[c], _END)
                if item is _END or sel.size + (n := size_of(item)) <= upper:
                    break
                sel.skipped += 1
            if item is _END:
                # Finish the round with the other categories (counts stay within one of each
                # other), then stop: this category cannot take part in another round.
                sel.exhausted = sel.exhausted or c
                continue
            sel.size += n
            sel.counts[c] += 1
            sel.bytes[c] += n
            yield c, item
            if sel.size >= target:
                return
        if sel.exhausted:
            return


class _End(enum.Enum):
    """The end of a category's stream (a member, so the type checker can tell it from an item)."""

    END = 0


_END = _End.END
