"""`curator report`: REPORT.md from the store and the export manifest."""

from __future__ import annotations

from pathlib import Path

import click

from curator.cli.common import db_option, open_store

DEFAULT_EXPORTS = Path("exports")


@click.command("report")
@db_option
@click.option(
    "--exports",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The folder `curator export` wrote (its manifest.json is read); an error if it holds no export.  "
    "[default: exports when it holds one, else a report without the dataset]",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("REPORT.md"),
    show_default=True,
    help="Where to write the report.",
)
def command(db, exports, out):
    """Write the chief scientist's report (JIT, IR, Warp, and the dataset as measured)."""
    from curator.export.release import NotAnExport, load_manifest
    from curator.measure import report

    if not out.parent.exists() and str(out.parent):
        raise click.ClickException(f"cannot write {out}: folder {out.parent} does not exist")
    from curator.store import can_write

    # a bad store is named first; writable where it can be, so the kernels' measures are kept (curator.measure.measures)
    with open_store(db, readonly=not can_write(db)) as store:
        if exports is None:
            exports = DEFAULT_EXPORTS
        else:
            try:
                load_manifest(exports)
            except NotAnExport as exc:
                raise click.ClickException(f"--exports: {exc}") from None
        path = report.write(store, exports, out, db_name=str(db))
    click.echo(f"wrote {path}")
