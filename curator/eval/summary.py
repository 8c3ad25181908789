"""Aggregate per-prediction results: compile@1, pass@1 and pass@k per category and overall over
the informative records (a record without a prediction counts as failed), as JSON or a table."""

from __future__ import annotations

from collections import defaultdict

from curator.eval.passk import pass_at_k

KS = (1, 5, 10)


def summarise(tasks: dict[str, dict], results: list[dict], excluded: dict[str, str]) -> dict:
    """``tasks``: informative record id -> record; ``results``: the results of their predictions;
    ``excluded``: vacuous or unrunnable record id -> why."""
    by_id: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        if r["id"] in tasks:
            by_id[r["id"]].append(r)
    groups: dict[str, list[str]] = defaultdict(list)
    for rid, rec in sorted(tasks.items()):
        groups[rec["category"]].append(rid)
    cats = {c: _figures(ids, by_id) for c, ids in sorted(groups.items())}
    overall = _figures(sorted(tasks), by_id)
    statuses: dict[str, int] = defaultdict(int)
    for r in results:
        statuses[r["status"]] += 1
    return {
        "overall": overall,
        "categories": cats,
        "statuses": dict(sorted(statuses.items())),
        "excluded": len(excluded),
        "excluded_why": _reasons(excluded),
    }


def _reasons(excluded: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for why in excluded.values():
        out[why.split(":")[0]] += 1
    return dict(sorted(out.items()))


def _figures(ids: list[str], by_id: dict[str, list[dict]]) -> dict:
    n_min = min((len(by_id[i]) for i in ids), default=0)
    out: dict[str, float] = {"records": len(ids), "predicted": sum(1 for i in ids if by_id[i]), "samples": n_min}
    if not ids:
        return out
    out["compile@1"] = _mean(ids, by_id, "compiled", 1)
    for k in KS:
        if k == 1 or (n_min >= k):
            out[f"pass@{k}"] = _mean(ids, by_id, "correct", k)
    return out


def _mean(ids: list[str], by_id: dict[str, list[dict]], key: str, k: int) -> float:
    total = 0.0
    for i in ids:
        samples = by_id[i]
        total += pass_at_k(len(samples), sum(1 for s in samples if s[key]), k) if samples else 0.0
    return round(total / len(ids), 4)


def render(summary: dict, title: str) -> None:
    """A rich table for people."""
    from rich.console import Console
    from rich.table import Table

    keys = [k for k in ("compile@1", "pass@1", "pass@5", "pass@10") if k in summary["overall"]]
    table = Table(title=title)
    for col in ("category", "records", *keys):
        table.add_column(col, justify="left" if col == "category" else "right")
    for cat, f in [*summary["categories"].items(), ("overall", summary["overall"])]:
        table.add_row(cat, str(f["records"]), *[f"{100 * f[k]:.1f} %" if k in f else "" for k in keys])
    console = Console()
    console.print(table)
    console.print(f"excluded (vacuous or unrunnable reference): {summary['excluded']} {summary['excluded_why']}")
    console.print(f"prediction results: {summary['statuses']}")
