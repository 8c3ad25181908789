"""`curator export --plan FILE`: the kernels an export would write, so that `curator verify
--ids-from FILE` proves exactly those (and a margin) before `export --verified-only` writes them.

The plan runs the export's own selection (same clusters, decontamination, split assignment and
balanced selection; ``run.prepare``) with every split's target raised by ``margin`` and nothing
written.  Because splits are assigned without regard to verification and each category's
kernels are taken in a seeded order, the `--verified-only` export of the same options draws
each category's records from the front of the same order: from the planned kernels, as long as
fewer of them fail verification than the margin holds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from curator import neardup
from curator.export import records
from curator.export.formats import ExportFormat
from curator.export.run import ExportOptions, _export_config, prepare
from curator.export.select import seeded_order
from curator.export.shortfall import DeviceShortfall

if TYPE_CHECKING:
    from curator.store import Store

DEFAULT_MARGIN = 0.05
DEFAULT_SPARES = 2


class _IdSink:
    """A sink that keeps the ids of the records it is given (and counts their bytes)."""

    def __init__(self, ids: set[str]):
        self.ids, self.bytes, self.sha256 = ids, 0, ""

    def add(self, rec: dict, data: bytes) -> None:
        self.ids.add(rec["id"])
        self.bytes += len(data)

    def __enter__(self) -> _IdSink:
        return self

    def __exit__(self, *exc) -> None:
        pass


@dataclass
class Plan:
    ids: list[str]  # every kernel a config and split would take, margin included, sorted
    per_config: dict[str, int]  # records selected per config (all splits)
    short: list[str]  # config/split labels the store cannot fill even without verification


def plan(
    store: Store,
    opts: ExportOptions,
    margin: float = DEFAULT_MARGIN,
    spares: int = DEFAULT_SPARES,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> Plan:
    """The kernels the export ``opts`` (with ``verified_only`` off) would select, each split's
    target raised by ``margin`` (a share: 0.05 is 5 % more bytes, so about 5 % more kernels per
    category), and ``spares`` more kernels of every category in every split (small splits hold a
    few kernels per category, where a share rounds to none).  Clusters computed on the way are
    stored, as a successful export stores them."""
    wide = replace(opts, verified_only=False, allow_short=True, target_bytes=int(opts.target_bytes * (1 + margin)))
    prep = prepare(store, wide)
    ids: set[str] = set()
    fmt = ExportFormat("plan", "plan", "", records.encode, lambda stage, rel, keys: _IdSink(ids))
    per_config: dict[str, int] = {}
    shortfalls: list[DeviceShortfall] = []
    for config in wide.configs:
        out = _export_config(
            store, wide, config, prep.eligible[config], prep.assignment, fmt, None, shortfalls, on_progress
        )
        per_config[config] = sum(s["records"] for s in out["splits"].values())
        ids |= _spares(prep.eligible[config].kernels, prep.assignment, ids, opts.seed, spares)
    if prep.dedup_run is not None:
        neardup.save_clusters(store, prep.dedup_run)
    return Plan(sorted(ids), per_config, [s.label for s in shortfalls])


def _spares(kernels: list[tuple[str, str]], assignment: dict[str, str], taken: set[str], seed: int, n: int) -> set[str]:
    """For each split and category: the ``n`` kernels that follow the last one taken in the
    seeded order the selection walks (``select.seeded_order``)."""
    groups: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    for k, c in kernels:
        groups[(assignment.get(k), c)].append(k)
    out: set[str] = set()
    for ids in groups.values():
        order = seeded_order(ids, seed)
        last = max((i for i, k in enumerate(order) if k in taken), default=-1)
        out.update(order[last + 1 : last + 1 + n])
    return out


def write_plan(path: Path, p: Plan) -> None:
    """One kernel id per line (what `curator verify --ids-from` reads), written atomically."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(f"{k}\n" for k in p.ids))
    tmp.replace(path)


def read_ids(path: Path) -> list[str]:
    """The ids of a plan file (blank lines and lines starting with # are ignored)."""
    return [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
