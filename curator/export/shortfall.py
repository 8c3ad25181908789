"""Why an export could not fill its target with balanced categories, and the `curator generate`
command that would close the gap."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from curator.export.select import Selection
from curator.records import MIB

if TYPE_CHECKING:
    from curator.store import Store

GENERATE_MARGIN = 1.1  # extra kernels to ask generate for: failures and duplicates


@dataclass
class DeviceShortfall:
    device: str
    size: int
    target: int
    need_per_category: int  # kernels per category a full export needs (estimated)
    have: dict[str, int]  # category -> eligible kernels
    short: dict[str, int]  # category -> kernels missing
    generate: dict[str, int] = field(default_factory=dict)  # category -> kernels to generate
    too_coarse: bool = False  # enough kernels, but none small enough to land within +1 %
    empty: bool = False  # no kernel qualifies at all (an empty store, or filters that leave none)
    label: str = ""  # what fell short, when not the device itself (a config's split: "cpu/validation")


def compute_shortfall(store: Store, device, sel: Selection, by_cat, cats, n_candidates, n_eligible) -> DeviceShortfall:
    """How many kernels per category a balanced export of the target needs, from the mean
    line size of each category so far."""
    if not any(by_cat.get(c) for c in cats):
        return DeviceShortfall(device, 0, sel.target, 0, {}, {}, empty=True)
    mean_all = sel.size / sel.records if sel.records else 40_000
    means = [sel.bytes[c] / sel.counts[c] if sel.counts.get(c) else mean_all for c in cats]
    per_round = sum(means) or mean_all
    need = math.ceil(sel.target / per_round) if cats else 0
    have = {c: len(by_cat.get(c, ())) for c in cats}
    short = {c: need - have[c] for c in cats if need > have[c]}
    if not short:  # ran out only of lines small enough to stay within +1 %
        return DeviceShortfall(device, sel.size, sel.target, need, have, {}, too_coarse=True)
    stored = store.category_kernel_counts(device)
    generate = {}
    for c, missing in short.items():
        keep = min(1.0, have[c] / stored[c]) if stored.get(c) and have[c] else 1.0
        generate[c] = math.ceil(missing / keep * GENERATE_MARGIN)
    return DeviceShortfall(device, sel.size, sel.target, need, have, short, generate)


def generate_command(
    shortfalls: list[DeviceShortfall], db: str, max_run_seed: int | None, restricted: bool = False
) -> str:
    """The `curator generate` command that would close the shortfalls: a fresh seed, the short
    categories round-robin (no --category when every category is short and the export was not
    restricted to some), enough kernels for the most-short one."""
    shortfalls = [s for s in shortfalls if not (s.too_coarse or s.empty)]
    if not shortfalls:
        return ""
    devs = sorted({s.device for s in shortfalls})
    cats = sorted({c for s in shortfalls for c in s.generate})
    every = set().union(*(s.have for s in shortfalls))
    per_cat = max((n for s in shortfalls for n in s.generate.values()), default=0)
    device = devs[0] if len(devs) == 1 else "all"
    seed = (max_run_seed or 0) + 1
    parts = ["curator generate", f"--device {device}", f"--count {per_cat * len(cats)}", f"--seed {seed}"]
    if restricted or set(cats) != every:
        parts += [f"--category {c}" for c in cats]
    parts.append(f"--db {db}")
    return " ".join(parts)


def shortfall_summary(shortfalls: list[DeviceShortfall]) -> str:
    """Per device: the size reached and the kernels missing per category."""
    parts = []
    for s in shortfalls:
        if s.empty:
            parts.append(
                f"{s.device}: no kernel to export (the store has none that --status, --category, --source "
                "and --verified-only allow; `curator generate` makes some)"
            )
            continue
        if s.too_coarse:
            parts.append(
                f"{s.label or s.device}: {s.size / MIB:.2f} of {s.target / MIB:g} MiB, no line left is small enough "
                "to land within +1 % of the target (use a larger --target-mb)"
            )
            continue
        cats = ", ".join(f"{c} {n}" for c, n in sorted(s.short.items()))
        have = sorted(s.have[c] for c in s.short)
        has = f"{have[0]}" if have[0] == have[-1] else f"{have[0]}-{have[-1]}"
        parts.append(
            f"{s.label or s.device}: {s.size / MIB:.2f} of {s.target / MIB:g} MiB, needs ~{s.need_per_category} "
            f"kernels per category, short: {cats} (they have {has})"
        )
    return "; ".join(parts)


def shortfall_message(shortfalls: list[DeviceShortfall], opts, max_run_seed: int | None) -> str:
    """The one-line error of an export (``opts``: its ExportOptions) that fell short."""
    cmd = generate_command(shortfalls, opts.db, max_run_seed, restricted=bool(opts.categories))
    hint = " (then accept them in review)" if opts.status == "accepted" else ""
    run = f"Run `{cmd}`{hint} and export again, or pass" if cmd else "Pass"
    return (
        f"the store cannot fill --target-mb {opts.target_bytes / MIB:g} with balanced categories: "
        f"{shortfall_summary(shortfalls)}. {run} --allow-short to write what there is"
    )
