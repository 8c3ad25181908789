"""`curator merge`: combine stores (e.g. the shards of `generate --shard I/N`) into one."""

from __future__ import annotations

from pathlib import Path

import click

from curator.cli.common import db_option, interruptible, mib, open_store


@click.command("merge")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option
def command(sources, db):
    """Add every kernel, artifact, failure, review, verification and run of the SOURCES stores to
    the store --db (created if missing).

    Content-hash ids make it idempotent: merging the same store again adds nothing, and the
    shards of `curator generate --shard I/N` merge into exactly the unsharded run's kernels.
    A review or verification present in two stores keeps the more recent one.  Each source is
    merged in one transaction, so an interrupted merge resumes when run again.
    """
    from curator.store import StoreError
    from curator.store.merge import merge_into

    for src in sources:  # refuse a bad source before the output store is created or touched
        if src.exists() and db.exists() and src.resolve() == db.resolve():
            raise click.ClickException(f"{src} is the output store itself; give it only as --db")
        open_store(src, readonly=True).close()
    store = open_store(db, create=True)
    with store, interruptible("merge"):
        totals: dict = {}
        try:
            with store.recorded_run("merge", {"sources": [str(s) for s in sources]}, lambda: totals):
                for src in sources:
                    counts = merge_into(store, src)
                    totals[str(src)] = counts.as_dict()
                    code = ", ".join(f"{d} {mib(b)}" for d, b in sorted(counts.bytes.items())) or "no new code"
                    click.echo(
                        f"{src}: {counts.kernels} new kernels, {counts.artifacts} new artifacts ({code}), "
                        f"{counts.failures} failures, {counts.verifications} verifications, {counts.reviews} "
                        f"reviews, {counts.runs} runs"
                    )
        except StoreError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{db}: {store.count_kernels()} kernels")
