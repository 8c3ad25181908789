"""`curator stats`: what the store holds, per device and category."""

from __future__ import annotations

import json

import click

from curator.cli.common import db_option, json_option, open_store


@click.command("stats")
@db_option
@json_option()
@click.option("--failures", "show_failures", is_flag=True, help="Also list the first recorded failures.")
def command(db, as_json, show_failures):
    """Kernels, bytes, codegen failures and distinct normalised skeletons per device and category."""
    from curator import stats as stats_mod

    with open_store(db, readonly=True) as store:
        report = stats_mod.collect(store)
        failures = store.failures(limit=20) if show_failures else []
    if as_json:
        click.echo(json.dumps(report | ({"failure_list": failures} if show_failures else {}), indent=2))
        return
    stats_mod.render(report, failures)
