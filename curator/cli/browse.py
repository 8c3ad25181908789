"""`curator browse`: review kernels in a terminal UI (labels and notes go to the store)."""

from __future__ import annotations

import click

from curator.cli.common import db_option, open_store


@click.command("browse")
@db_option
def command(db):
    """Browse and review the store: Python next to its CPU/CUDA code, labels, search, near-dups.

    Labels (accept / reject / flag) and notes are saved at once and are what `curator export`
    filters on.  The store may be open in `curator generate` at the same time; press r to pick
    up new kernels.  Press ? in the browser for every key.
    """
    from curator.tui.app import CuratorApp  # Textual is imported only by this command

    with open_store(db) as store:
        CuratorApp(store).run()
