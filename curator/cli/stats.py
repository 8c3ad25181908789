"""`curator stats`: what the store holds, per device and category."""

from __future__ import annotations

import json

import click

from curator.cli.common import db_option, json_option, open_store

ORIGINS = ("synthetic", "real", "all")


@click.command("stats")
@db_option
@json_option()
@click.option("--failures", "show_failures", is_flag=True, help="Also list the first recorded failures.")
@click.option("--coverage", is_flag=True, help="Visible Warp builtin names and signatures the kernels use, per family.")
@click.option(
    "--source",
    type=click.Choice(ORIGINS),
    default="synthetic",
    show_default=True,
    help="Kernels --coverage measures: generated, ingested, or both.",
)
@click.option("--profile", is_flag=True, help="Shape of the kernel bodies, synthetic and real side by side.")
@click.option(
    "--tables",
    is_flag=True,
    help="The store's tables with their rows and columns (the store is a plain SQLite file: sqlite-utils and "
    "Datasette open it as it is).",
)
def command(db, as_json, show_failures, coverage, source, profile, tables):
    """Kernels, bytes, codegen failures and distinct normalised skeletons per device and category."""
    if sum((coverage, profile, tables)) > 1:
        raise click.UsageError("--coverage, --profile and --tables are separate reports; pass one")
    if tables:
        _tables(db, as_json)
        return
    if coverage:
        _coverage(db, as_json, source)
        return
    if profile:
        _profile(db, as_json)
        return
    from curator.measure import stats as stats_mod

    with open_store(db, readonly=True) as store:
        report = stats_mod.collect(store)
        failures = store.failures(limit=20) if show_failures else []
    if as_json:
        click.echo(json.dumps(report | ({"failure_list": failures} if show_failures else {}), indent=2))
        return
    stats_mod.render(report, failures)


def _coverage(db, as_json: bool, source: str) -> None:
    from curator.measure import coverage, measures
    from curator.store import can_write

    # writable where it can be: the per-kernel measures it computes are kept for the next run
    with open_store(db, readonly=not can_write(db)) as store:
        report = measures.coverage_of(store, source)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    coverage.render(report, f"{source} kernels")


def _profile(db, as_json: bool) -> None:
    from curator.measure import measures
    from curator.measure import profile as profile_mod
    from curator.store import can_write

    with open_store(db, readonly=not can_write(db)) as store:
        report = measures.profiles_of(store, diversity=True)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    profile_mod.render(report)


def _tables(db, as_json: bool) -> None:
    with open_store(db, readonly=True) as store:
        rows = store.tables()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("table", "rows", "columns", title=f"tables of {db}")
    for r in rows:
        table.add_row(r["table"], f"{r['rows']:,}", ", ".join(r["columns"]))
    Console().print(table)
