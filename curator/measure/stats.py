"""Store statistics: per device and category, with distinct normalised skeletons."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from curator.records import MIB

if TYPE_CHECKING:
    from curator.store import Store

WP_NAME = re.compile(r"\bwp\.([A-Za-z_][A-Za-z0-9_]*)")


def collect(store: Store) -> dict:
    """Figures for `curator stats` (and the report): per device/category and totals."""
    rows = store.stats()
    failures = store.failure_counts()
    by_cat: dict[str, dict] = {}
    wp_names: set[str] = set()
    kernels_per_cat: dict[str, int] = {}
    for _kid, category, source in store.sources():
        wp_names.update(WP_NAME.findall(source))
        kernels_per_cat[category] = kernels_per_cat.get(category, 0) + 1
    skeletons = store.category_skeletons()
    origins = store.category_origin_counts()
    for cat, n in sorted(kernels_per_cat.items()):
        by_cat[cat] = {
            "kernels": n,
            "synthetic": origins.get(cat, {}).get("synthetic", 0),  # generated
            "real": origins.get(cat, {}).get("real", 0),  # ingested (curator ingest)
            "skeletons": len(skeletons.get(cat, ())),
            "distinct_share": len(skeletons.get(cat, ())) / n if n else 0.0,
            "failures": failures.get(cat, 0),
        }
    devices: dict[str, dict] = {}
    for r in rows:
        d = devices.setdefault(r["device"], {"kernels": 0, "bytes": 0, "categories": {}})
        d["kernels"] += r["kernels"]
        d["bytes"] += r["bytes"]
        d["categories"][r["category"]] = {"kernels": r["kernels"], "bytes": r["bytes"], "skeletons": r["skeletons"]}
    total = sum(kernels_per_cat.values())
    all_skel = len({s for v in skeletons.values() for s in v})
    return {
        "kernels": total,
        "skeletons": all_skel,
        "distinct_share": all_skel / total if total else 0.0,
        "failures": sum(failures.values()),
        "failure_share": sum(failures.values()) / (total + sum(failures.values())) if total else 0.0,
        "origins": store.origin_counts(),
        "verification": _verification(store),
        "ingest_skips": store.ingest_skip_counts(),
        "wp_names": sorted(wp_names),
        "categories": by_cat,
        "devices": devices,
    }


def _verification(store: Store) -> dict:
    """device -> verified/passed/pass rate, overall and per category (curator verify)."""
    out: dict[str, dict] = {}
    for r in store.verification_stats():
        d = out.setdefault(r["device"], {"verified": 0, "passed": 0, "failed": 0, "categories": {}})
        for k in ("verified", "passed", "failed"):
            d[k] += r[k]
        d["categories"][r["category"]] = {k: r[k] for k in ("verified", "passed", "failed", "pass_rate")}
    for d in out.values():
        d["pass_rate"] = d["passed"] / d["verified"] if d["verified"] else None
    return out


def render(report: dict, failures: list[dict]) -> None:
    """Print the figures as rich tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    t = Table(title="kernels per category")
    for col in ("category", "kernels", "synthetic", "real", "skeletons", "distinct", "failures"):
        t.add_column(col, justify="left" if col == "category" else "right")
    for cat, c in report["categories"].items():
        t.add_row(
            cat,
            f"{c['kernels']:,}",
            f"{c['synthetic']:,}",
            f"{c['real']:,}",
            f"{c['skeletons']:,}",
            f"{100 * c['distinct_share']:.1f} %",
            f"{c['failures']:,}",
        )
    origins = report["origins"]
    t.add_row(
        "[bold]all",
        f"{report['kernels']:,}",
        f"{origins.get('synthetic', 0):,}",
        f"{origins.get('real', 0):,}",
        f"{report['skeletons']:,}",
        f"{100 * report['distinct_share']:.1f} %",
        f"{report['failures']:,}",
        end_section=True,
    )
    console.print(t)
    for device, d in report["devices"].items():
        ver = report["verification"].get(device, {"categories": {}})
        dt = Table(title=f"{device}: {d['kernels']:,} kernels, {d['bytes'] / MIB:,.2f} MiB")
        for col in ("category", "kernels", "MiB", "skeletons", "verified", "passed"):
            dt.add_column(col, justify="left" if col == "category" else "right")
        for cat, c in d["categories"].items():
            v = ver["categories"].get(cat, {})
            rate = f" ({100 * v['pass_rate']:.0f} %)" if v.get("pass_rate") is not None else ""
            dt.add_row(
                cat,
                f"{c['kernels']:,}",
                f"{c['bytes'] / MIB:,.2f}",
                f"{c['skeletons']:,}",
                f"{v.get('verified', 0):,}",
                f"{v.get('passed', 0):,}{rate}",
            )
        console.print(dt)
    console.print(f"distinct wp.<name> referenced in Python sources: {len(report['wp_names'])}")
    console.print("kernels by origin: " + ", ".join(f"{o} {n:,}" for o, n in report["origins"].items()))
    if report["ingest_skips"]:
        console.print("skipped by ingest: " + ", ".join(f"{r} {n:,}" for r, n in report["ingest_skips"].items()))
    for f in failures:
        console.print(f"[red]{f['category']} {f['kernel_id']} {f['stage']}: {f['exc_type']}: {f['message'][:200]}")
