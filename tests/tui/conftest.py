"""Fixtures of the TUI tests: a fixed small store (real Warp code), copied per test."""

from __future__ import annotations

import shutil

import pytest
from kernels_fixture import add_clusters, build_store

from curator.store import Store


@pytest.fixture(scope="session")
def template_store(tmp_path_factory):
    path = build_store(tmp_path_factory.mktemp("template") / "fixture.db")
    with Store.open(path) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def store_path(template_store, tmp_path):
    path = tmp_path / "fixture.db"
    shutil.copy(template_store, path)
    return path


@pytest.fixture
def store(store_path):
    with Store.open(store_path) as s:
        yield s


@pytest.fixture
def clustered_store(store):
    add_clusters(store)
    return store


@pytest.fixture
def anyio_backend():
    return "asyncio"  # the Pilot tests run on anyio's pytest plugin, over asyncio
