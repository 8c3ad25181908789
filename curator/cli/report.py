"""`curator report`: REPORT.md from the store and the export manifest."""

from __future__ import annotations

from pathlib import Path

import click

from curator.cli.common import db_option, open_store


@click.command("report")
@db_option
@click.option("--exports", type=click.Path(file_okay=False, path_type=Path), default=Path("exports"),
              show_default=True, help="The folder `curator export` wrote (its manifest.json is read).")  # fmt: skip
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("REPORT.md"),
              show_default=True, help="Where to write the report.")  # fmt: skip
def command(db, exports, out):
    """Write the chief scientist's report (JIT, IR, Warp, and the dataset as measured)."""
    from curator import report

    if not out.parent.exists() and str(out.parent):
        raise click.ClickException(f"cannot write {out}: folder {out.parent} does not exist")
    with open_store(db, readonly=True) as store:
        path = report.write(store, exports, out, db_name=str(db))
    click.echo(f"wrote {path}")
