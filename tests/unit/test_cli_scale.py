"""`ingest --ray` finds its worker factory where ingest's Ray code lives (curator/ingest/ray.py)."""

import pytest

from curator.cli import scale


def test_ingest_ray_worker_factory_is_importable(monkeypatch):
    pytest.importorskip("ray")
    from curator.ingest import ray as ray_ingest

    joined = []
    monkeypatch.setattr(scale, "pool_factory_of", joined.append)  # no cluster is joined
    monkeypatch.setattr(ray_ingest, "ray_worker_factory", lambda address: ("factory", address))
    assert scale.ray_worker_factory_of("10.0.0.1:6379") == ("factory", "10.0.0.1:6379")
    assert joined == ["10.0.0.1:6379"]
    assert scale.ray_worker_factory_of(None) is None
