"""curator.store.merge on small stores built through the store API (no Warp)."""

from __future__ import annotations

import time

import pytest

from curator.store import KernelRecord, Store, StoreError
from curator.store.merge import merge_into
from curator.store.verify import Verification


def record(n: int) -> KernelRecord:
    pieces = {p: f"// {p} of kernel {n}\n" for p in ("structs", "functions", "args", "forward", "backward", "entry")}
    art = {"pieces": pieces, "codegen_ms": 1.0, "warp_version": "1.19.0"}
    return KernelRecord(
        id=f"k{n:04d}",
        name=f"k{n}",
        category="arithmetic",
        source=f"# kernel {n}\n",
        skeleton_hash=f"s{n}",
        minhash=None,
        artifacts={"cpu": art, "cuda": art},
        seed=n,
    )


def make_store(path, numbers) -> Store:
    store = Store.open(path, create=True)
    run = store.start_run("generate", {"path": str(path)})
    store.write_batch([record(n) for n in numbers], [], run)
    store.finish_run(run, "done", {})
    return store


def table(store: Store, sql: str) -> list:
    return store.conn.execute(sql).fetchall()


def test_merge_unions_kernels_keeps_newer_review_and_is_idempotent(tmp_path):
    a = make_store(tmp_path / "a.db", [1, 2, 3])
    b = make_store(tmp_path / "b.db", [3, 4])
    a.set_review("k0003", "accepted", "fine")
    a.record_verifications([Verification("k0001", "cpu", "clang", "-O0", True, "", 1.0)])
    time.sleep(0.01)  # the review in b is later than the one in a
    b.set_review("k0003", "rejected", "duplicate")
    b.record_verifications([Verification("k0004", "cuda", "nvrtc", "sm_86", False, "error: x", 2.0)])
    a.close()
    b.close()
    with Store.open(tmp_path / "out.db", create=True) as out:
        first = [merge_into(out, tmp_path / "a.db"), merge_into(out, tmp_path / "b.db")]
        rows = {
            t: table(out, f"SELECT * FROM {t} ORDER BY 1, 2")
            for t in ("kernels", "artifacts", "verifications", "reviews", "runs")
        }
        again = [merge_into(out, tmp_path / "b.db"), merge_into(out, tmp_path / "a.db")]
        assert {t: table(out, f"SELECT * FROM {t} ORDER BY 1, 2") for t in rows} == rows
        assert [r[0] for r in rows["kernels"]] == ["k0001", "k0002", "k0003", "k0004"]
        assert len(rows["artifacts"]) == 8
        assert out.review_of("k0003")["status"] == "rejected"  # the more recent label wins, in any order
        assert [e["status"] for e in out.review_events("k0003")] == ["accepted", "rejected"]
        assert {(r[0], r[1], r[4]) for r in rows["verifications"]} == {("k0001", "cpu", 1), ("k0004", "cuda", 0)}
        assert len(rows["runs"]) == 2  # each source's generate run, once
        assert out.integrity_check() == "ok"
        assert out.conn.execute("SELECT COUNT(*) FROM kernels_fts WHERE kernels_fts MATCH 'kernel'").fetchone()[0] == 4
    assert [c.kernels for c in first] == [3, 1]
    assert [c.artifacts for c in first] == [6, 2]
    assert all(c.kernels == c.artifacts == c.runs == c.reviews == c.verifications == 0 for c in again)


def test_merge_refuses_itself_and_non_curator_files(tmp_path):
    make_store(tmp_path / "a.db", [1]).close()
    (tmp_path / "notes.db").write_text("not a database\n")
    with Store.open(tmp_path / "a.db") as a:
        with pytest.raises(StoreError, match="output store itself"):
            merge_into(a, tmp_path / "a.db")
        with pytest.raises(StoreError, match="not an SQLite database"):
            merge_into(a, tmp_path / "notes.db")
        assert a.count_kernels() == 1
