"""`curator dedup`: near-duplicate clusters of the stored kernels (MinHash LSH)."""

from __future__ import annotations

import json
import time

import click

from curator.cli.common import db_option, interruptible, json_option, open_store, threshold_option


@click.command("dedup")
@threshold_option("Estimated Jaccard similarity (token 5-grams of the normalised source) that makes a pair.")
@click.option("--force", is_flag=True, help="Recompute even if the stored clusters are current.")
@json_option()
@db_option
def command(threshold, force, as_json, db):
    """Cluster near-duplicate kernels and store every kernel's cluster representative.

    Renamed or re-constanted clones and exact copies of the normalised source join one
    cluster; its representative is an accepted kernel if any, else the smallest id.
    `curator export --dedup` exports representatives only.
    """
    from curator import neardup

    with open_store(db) as store, interruptible("dedup"):
        started = time.perf_counter()
        state = store.dedup_state()
        current = not force and neardup.is_current(state, store.dedup_fingerprint(), threshold)
        if not current:
            state = neardup.save_clusters(store, neardup.compute_clusters(store, threshold))
        seconds = time.perf_counter() - started
        per_category = store.dedup_summary()
        largest = store.largest_clusters(5)
    report = dict(
        state,
        removed=state["kernels"] - state["clusters"],
        recomputed=not current,
        seconds=round(seconds, 3),
        categories=per_category,
        largest=largest,
    )
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    _render(report)


def _render(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    how = f"computed in {report['seconds']:.1f} s" if report["recomputed"] else "already current"
    console.print(
        f"{report['kernels']:,} kernels in {report['clusters']:,} clusters at threshold {report['threshold']}: "
        f"{report['removed']:,} near-duplicates ({how})"
    )
    t = Table(title="near-duplicates per category")
    for col in ("category", "kernels", "clusters", "removed"):
        t.add_column(col, justify="left" if col == "category" else "right")
    for c in report["categories"]:
        t.add_row(c["category"], f"{c['kernels']:,}", f"{c['clusters']:,}", f"{c['removed']:,}")
    console.print(t)
    for rep, n in report["largest"]:
        console.print(f"  cluster of {n} kernels, representative {rep}")
