"""The store refuses what is not a curator store, migrates older ones, and writes atomically."""

import sqlite3

import pytest

from curator.store import FailureRecord, KernelRecord, Store, StoreError
from curator.store import base as store_base


def record(kid="k1", devices=("cpu", "cuda"), category="arithmetic"):
    pieces = {p: f"// {p} of {kid}\n" for p in ("structs", "functions", "args", "forward", "backward", "entry")}
    return KernelRecord(
        id=kid,
        name=f"k_{kid}",
        category=category,
        source=f"# {kid}\n",
        skeleton_hash="s" + kid,
        minhash=None,
        artifacts={d: {"pieces": pieces, "codegen_ms": 1.0, "warp_version": "1.19.0"} for d in devices},
    )


def test_new_store_has_schema_and_wal(tmp_path):
    with Store.open(tmp_path / "s.db", create=True) as s:
        assert s.schema_version() == store_base.SCHEMA_VERSION
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.conn.execute("PRAGMA application_id").fetchone()[0] == store_base.APPLICATION_ID
        tables = {r[0] for r in s.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"kernels", "artifacts", "failures", "runs", "reviews", "kernels_fts"} <= tables


def test_missing_store_without_create(tmp_path):
    with pytest.raises(StoreError, match="no curator store"):
        Store.open(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"hello, this is a text file\n" * 10, "not an SQLite database"),
        (b"SQLite format 3\x00" + b"\x00" * 20, "truncated"),
    ],
)
def test_refuses_non_stores_untouched(tmp_path, content, message):
    path = tmp_path / "x.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=message):
        Store.open(path, create=True)
    assert path.read_bytes() == content


def test_refuses_directory(tmp_path):
    with pytest.raises(StoreError, match="directory"):
        Store.open(tmp_path, create=True)


def test_refuses_other_application_sqlite(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another application"):
        Store.open(path, create=True)
    assert path.read_bytes() == before


def test_refuses_future_schema_naming_version(tmp_path):
    path = tmp_path / "future.db"
    Store.open(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {store_base.SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=f"version {store_base.SCHEMA_VERSION + 5}"):
        Store.open(path)


def test_refuses_truncated_store(tmp_path):
    path = tmp_path / "t.db"
    with Store.open(path, create=True) as s:
        s.write_batch([record(f"k{i}") for i in range(50)], [], None)
        s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(StoreError):
        s = Store.open(path)
        s.integrity_check()
        s.count_kernels()  # reading a missing page fails


def test_older_store_is_backed_up_then_migrated(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    with Store.open(path, create=True) as s:
        s.write_batch([record("k1")], [], None)
    monkeypatch.setattr(store_base, "SCHEMA_VERSION", store_base.SCHEMA_VERSION + 1)
    monkeypatch.setitem(
        store_base.MIGRATIONS, store_base.SCHEMA_VERSION - 1, "ALTER TABLE kernels ADD COLUMN license TEXT;"
    )
    with Store.open(path) as s:
        assert s.schema_version() == store_base.SCHEMA_VERSION
        cols = {r[1] for r in s.conn.execute("PRAGMA table_info(kernels)")}
        assert "license" in cols
        assert s.count_kernels() == 1
    backup = tmp_path / f"old.db.bak-v{store_base.SCHEMA_VERSION - 1}"
    assert backup.exists()
    conn = sqlite3.connect(backup)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store_base.SCHEMA_VERSION - 1
    assert conn.execute("SELECT COUNT(*) FROM kernels").fetchone()[0] == 1


def test_write_batch_is_idempotent_and_counts(tmp_path):
    with Store.open(tmp_path / "s.db", create=True) as s:
        c1 = s.write_batch([record("a"), record("b")], [], None)
        c2 = s.write_batch([record("a"), record("b")], [], None)
        assert (c1.kernels, c1.artifacts, c1.duplicates) == (2, 4, 0)
        assert (c2.kernels, c2.artifacts, c2.duplicates) == (0, 0, 2)
        # a cuda-only rerun after cpu adds the missing device to the same kernel
        s.write_batch([record("c", devices=("cpu",))], [], None)
        c3 = s.write_batch([record("c", devices=("cuda",))], [], None)
        assert (c3.kernels, c3.artifacts) == (0, 1)
        assert s.kernel_devices()["c"] == {"cpu", "cuda"}
        assert s.device_bytes("cpu") == c1.bytes["cpu"] * 3 // 2


def test_write_batch_is_atomic(tmp_path):
    """A failure mid-batch leaves nothing of the batch behind."""
    with Store.open(tmp_path / "s.db", create=True) as s:
        bad = record("bad")
        bad.artifacts["cpu"]["pieces"] = {"forward": "only"}  # missing pieces -> KeyError mid-write
        with pytest.raises(KeyError):
            s.write_batch([record("good"), bad], [], None)
        assert s.count_kernels() == 0
        assert s.kernel_devices() == {}


def test_failures_recorded_once(tmp_path):
    with Store.open(tmp_path / "s.db", create=True) as s:
        f = FailureRecord("x", "math", 3, "build", "TypeError", "boom", "src")
        assert s.write_batch([], [f, f], None).failures == 1
        assert s.failed_ids() == {"x"}
        assert s.failure_counts() == {"math": 1}


def test_fts_indexes_names_and_source(tmp_path):
    with Store.open(tmp_path / "s.db", create=True) as s:
        s.write_batch([record("alpha"), record("beta")], [], None)
        rows = s.conn.execute("SELECT name FROM kernels_fts WHERE kernels_fts MATCH ?", ('"k_alpha"',)).fetchall()
        assert rows == [("k_alpha",)]


def test_v1_store_migrates_to_current_with_backup(tmp_path):
    """A real older store: v1 had no update trigger on the search index."""
    path = tmp_path / "v1.db"
    with Store.open(path, create=True) as s:
        s.write_batch([record("old")], [], None)
        s.conn.execute("DROP TRIGGER kernels_fts_au")
        s.conn.execute("ALTER TABLE runs DROP COLUMN pid")  # v3 added the runs' pid and host
        s.conn.execute("ALTER TABLE runs DROP COLUMN host")
        s.conn.execute("ALTER TABLE verifications DROP COLUMN mode")  # v4 added mode and executions
        s.conn.execute("DROP TABLE executions")
        s.conn.execute("DROP TABLE kernel_measures")  # v6 kept the kernels' measures
        s.conn.execute("DROP TABLE kernel_def_minhash")  # v7 kept their definitions' MinHash values
        s.conn.execute("PRAGMA user_version = 1")
    with Store.open(path) as s:
        assert s.schema_version() == store_base.SCHEMA_VERSION
        s.conn.execute("UPDATE kernels SET name = 'renamed_kernel' WHERE id = 'old'")
        hits = s.conn.execute("SELECT rowid FROM kernels_fts WHERE kernels_fts MATCH ?", ('"renamed_kernel"',))
        assert len(hits.fetchall()) == 1
        assert {"pid", "host"} <= {r[1] for r in s.conn.execute("PRAGMA table_info(runs)")}
        assert "mode" in {r[1] for r in s.conn.execute("PRAGMA table_info(verifications)")}
        assert "pair_ok" in {r[1] for r in s.conn.execute("PRAGMA table_info(executions)")}
        assert {"kernel_id", "version", "names", "figures"} <= {
            r[1] for r in s.conn.execute("PRAGMA table_info(kernel_measures)")
        }
        assert {"kernel_id", "params", "hashvalues"} == {
            r[1] for r in s.conn.execute("PRAGMA table_info(kernel_def_minhash)")
        }
    assert (tmp_path / "v1.db.bak-v1").exists()


def test_v5_store_gains_kept_measures_dropped_when_a_kernel_is_edited(tmp_path):
    """v6: the kernel_measures table, and its rows go when the kernel's source or name changes."""
    path = tmp_path / "v5.db"
    with Store.open(path, create=True) as s:
        s.write_batch([record("a"), record("b")], [], None)
        s.conn.execute("DROP TRIGGER kernel_measures_au")
        s.conn.execute("DROP TABLE kernel_measures")
        s.conn.execute("DROP TABLE kernel_def_minhash")
        s.conn.execute("PRAGMA user_version = 5")
    with Store.open(path) as s:
        assert s.schema_version() == store_base.SCHEMA_VERSION
        assert s.write_kernel_measures(1, [("a", ["add"], None), ("b", [], {"statements": 1})]) == 2
        s.conn.execute("UPDATE kernels SET name = 'k_renamed' WHERE id = 'a'")
        assert [r[0] for r in s.kernel_measures(None, 1, None)] == ["a", "b"]
        assert [r[3] for r in s.kernel_measures(None, 1, None)] == [None, []]  # a: to measure again
        assert [r[0] for r in s.kernels_without_measures(1, None, "", 10)] == ["a"]
        assert [r[0] for r in s.kernels_without_measures(2, None, "", 10)] == ["a", "b"]
    assert (tmp_path / "v5.db.bak-v5").exists()


def test_v6_store_gains_kept_definition_minhashes_dropped_when_a_kernel_is_edited(tmp_path):
    """v7: the kernel_def_minhash table; a row goes when its kernel's source changes, and a row made
    with other parameters is not returned."""
    path = tmp_path / "v6.db"
    with Store.open(path, create=True) as s:
        s.write_batch([record("a"), record("b")], [], None)
        s.conn.execute("DROP TRIGGER kernel_def_minhash_au")
        s.conn.execute("DROP TABLE kernel_def_minhash")
        s.conn.execute("PRAGMA user_version = 6")
    with Store.open(path) as s:
        assert s.schema_version() == store_base.SCHEMA_VERSION == 7
        assert s.write_kernel_def_minhashes("p1", [("a", b"\x01" * 8), ("b", b"")]) == 2
        origin = s.conn.execute("SELECT origin FROM kernels WHERE id = 'a'").fetchone()[0]
        assert s.kernel_def_minhashes(origin, "p1") == {"a": b"\x01" * 8, "b": b""}
        assert s.kernel_def_minhashes(origin, "p2") == {}
        s.conn.execute("UPDATE kernels SET source = source || '\n' WHERE id = 'a'")
        assert s.kernel_def_minhashes(origin, "p1") == {"b": b""}
    assert (tmp_path / "v6.db.bak-v6").exists()


def test_a_killed_run_is_marked_killed_by_the_next_run(tmp_path):
    """A run row whose process died (SIGKILL) stays 'running' until a later run sees its pid gone."""
    import os
    import subprocess
    import sys

    path = tmp_path / "runs.db"
    code = (
        "import os, signal, sys\n"
        "from curator.store import Store\n"
        "s = Store.open(sys.argv[1])\n"
        "s.start_run('generate', {})\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    with Store.open(path, create=True) as s:
        live = s.start_run("verify", {})  # this process: alive, must stay running
    proc = subprocess.run([sys.executable, "-c", code, str(path)], timeout=120)
    assert proc.returncode == -9  # the child really died by SIGKILL, its row left behind
    with Store.open(path) as s:
        rows = {r["command"]: r for r in s.runs()}
        dead_pid = rows["generate"]["pid"]
        assert rows["generate"]["status"] == "running" and dead_pid not in (None, os.getpid())
        with s.recorded_run("ingest", {}, dict):
            pass
        after = {r["command"]: r for r in s.runs()}
    assert after["generate"]["status"] == "killed" and after["generate"]["ended_at"]
    assert after["verify"]["status"] == "running" and after["verify"]["id"] == live
    assert after["ingest"]["status"] == "done"
