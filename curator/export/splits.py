"""Leakage-proof splits: kernels grouped by near-duplicate cluster and normalised skeleton
(union-find), whole groups assigned to splits per category, deterministically by seed."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from curator.errors import CuratorError
from curator.export.select import seeded_order

TRAIN = "train"
HOLDOUT = "holdout"  # the split of --holdout-category kernels
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class SplitError(CuratorError, ValueError):
    """A --splits value that cannot be used (one sentence for the user)."""


def parse_splits(text: str) -> dict[str, float]:
    """``train=0.9,validation=0.05,test=0.05`` -> {name: share}, in the order given.  Shares are
    positive and add up to 1; a ``train`` split is required; ``holdout`` is reserved."""
    shares: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        name, eq, value = part.partition("=")
        name = name.strip()
        if not eq or not _NAME.match(name):
            raise SplitError(f"--splits wants NAME=SHARE,... (such as train=0.9,test=0.1), not {part!r}")
        if name in shares or name == HOLDOUT:
            raise SplitError(f"--splits: {name!r} is {'reserved' if name == HOLDOUT else 'given twice'}")
        try:
            share = float(value)
        except ValueError:
            raise SplitError(f"--splits: the share of {name} is not a number: {value.strip()!r}") from None
        if not 0 < share <= 1:
            raise SplitError(f"--splits: the share of {name} must be in (0, 1], not {share:g}")
        shares[name] = share
    if TRAIN not in shares:
        raise SplitError("--splits needs a train split (the one --target-mb sizes)")
    if abs(sum(shares.values()) - 1) > 1e-6:
        raise SplitError(f"--splits: the shares add up to {sum(shares.values()):g}, not 1")
    return shares


def format_splits(shares: dict[str, float]) -> str:
    """The --splits value of ``shares`` (their order matters: it breaks ties in ``assign``)."""
    return ",".join(f"{k}={v:g}" for k, v in shares.items())


@dataclass(frozen=True)
class KernelKeys:
    """What ties a kernel to others: its near-duplicate cluster and its normalised skeleton."""

    id: str
    category: str
    cluster: str  # the cluster representative's id (the kernel's own id when it has none)
    skeleton: str


def groups(kernels: Iterable[KernelKeys]) -> dict[str, str]:
    """kernel id -> its group (the smallest id of the group): kernels sharing a cluster or a
    skeleton, transitively, are one group."""
    kernels = sorted(kernels, key=lambda k: k.id)
    parent = list(range(len(kernels)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, str], int] = {}
    for i, k in enumerate(kernels):
        for key in (("cluster", k.cluster), ("skeleton", k.skeleton)):
            j = first.setdefault(key, i)
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    return {k.id: kernels[find(i)].id for i, k in enumerate(kernels)}


def assign(
    kernels: Iterable[KernelKeys], shares: dict[str, float], seed: int, holdout: Iterable[str] = ()
) -> dict[str, str]:
    """kernel id -> split.  A group with a kernel of a ``holdout`` category goes to HOLDOUT;
    the others are dealt per category (a group's category: its smallest id's), in an order the
    seed decides, each to the split furthest below its share of the kernels dealt so far (so a
    small category still gives validation and test a kernel early).
    So every split holds each category in proportion, and no group crosses splits."""
    kernels = list(kernels)
    by_id = {k.id: k for k in kernels}
    group_of = groups(kernels)
    members: dict[str, list[str]] = defaultdict(list)
    for kid, g in group_of.items():
        members[g].append(kid)
    held = set(holdout)
    out: dict[str, str] = {}
    by_category: dict[str, list[str]] = defaultdict(list)
    for g, ids in members.items():
        if any(by_id[k].category in held for k in ids):
            out.update(dict.fromkeys(ids, HOLDOUT))
        else:
            by_category[by_id[g].category].append(g)
    names = list(shares)
    for cat in sorted(by_category):
        taken = dict.fromkeys(names, 0)
        total = 0
        for g in seeded_order(by_category[cat], seed):
            n = len(members[g])
            total += n
            split = max(names, key=lambda s: (shares[s] * total - taken[s], -names.index(s)))
            taken[split] += n
            out.update(dict.fromkeys(members[g], split))
    return out
