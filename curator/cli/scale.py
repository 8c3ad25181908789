"""The --ray option of generate, verify and ingest: where their batches run."""

from __future__ import annotations

import click

from curator.scale import ClusterError

ray_option = click.option(
    "--ray",
    metavar="ADDRESS",
    default=None,
    help="Run the batches on the Ray cluster at ADDRESS (HOST:PORT, or 'auto'); this process stays the "
    'only writer of the store.  Needs `pip install "curator[ray]"`.',
)


def pool_factory_of(address: str | None):
    """(pool factory, cluster CPUs) for --ray ADDRESS; (None, None) without it (Ray is not imported)."""
    if address is None:
        return None, None
    try:
        from curator.scale import ray_pool
    except ImportError:
        raise click.ClickException('--ray needs Ray: pip install "curator[ray]"') from None
    try:
        cpus = ray_pool.connect(address)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from None
    return ray_pool.ray_pool_factory(address), cpus


def ray_worker_factory_of(address: str | None):
    """The ingest worker factory for --ray ADDRESS; None without it (Ray is not imported)."""
    if address is None:
        return None
    pool_factory_of(address)  # joins the cluster, or exits with one line
    from curator.ingest import ray as ray_ingest

    return ray_ingest.ray_worker_factory(address)
