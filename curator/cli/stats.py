"""`curator stats`: what the store holds, per device and category."""

from __future__ import annotations

import json

import click

from curator.cli.common import db_option, open_store

ORIGINS = {"synthetic": "synthetic", "real": "real", "all": None}


@click.command("stats")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--failures", "show_failures", is_flag=True, help="Also list the first recorded failures.")
@click.option("--coverage", is_flag=True, help="Visible Warp builtin names and signatures the kernels use, per family.")
@click.option("--source", type=click.Choice(tuple(ORIGINS)), default="synthetic", show_default=True,
              help="Kernels --coverage measures: generated, ingested, or both.")  # fmt: skip
def command(db, as_json, show_failures, coverage, source):
    """Kernels, bytes, codegen failures and distinct normalised skeletons per device and category."""
    if coverage:
        _coverage(db, as_json, source)
        return
    from curator import stats as stats_mod

    with open_store(db, readonly=True) as store:
        report = stats_mod.collect(store)
        failures = store.failures(limit=20) if show_failures else []
    if as_json:
        click.echo(json.dumps(report | ({"failure_list": failures} if show_failures else {}), indent=2))
        return
    stats_mod.render(report, failures)


def _coverage(db, as_json: bool, source: str) -> None:
    from curator import coverage
    from curator.kernels.surface import load_surface

    surface = load_surface()
    with open_store(db, readonly=True) as store:
        rows = store.kernels_with_builtin_signatures(ORIGINS[source], surface.warp_version)
        report = coverage.measure(surface, ((src, sigs) for _kid, src, sigs in rows))
    report["source"] = source
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    coverage.render(report, f"{source} kernels")
