"""curator verify without a compiler: sampling, the verifications queries, diagnostics split."""

from __future__ import annotations

import pytest

from curator import records, verify
from curator.store import KernelRecord, Store
from curator.store.verify import Verification, verified_condition
from curator.warp import compile as warp_compile

PIECES = {p: f"// {p}\n" for p in records.PIECES}


def _record(kid: str, category: str, devices=("cpu", "cuda")) -> KernelRecord:
    arts = {d: {"pieces": PIECES, "codegen_ms": 1.0, "warp_version": "1.19.0"} for d in devices}
    return KernelRecord(
        id=kid, name=f"k_{kid}", category=category, source=f"# {kid}\n", skeleton_hash=kid, minhash=None, artifacts=arts
    )


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "v.db", create=True)
    s.write_batch(
        [
            _record("a1", "math"),
            _record("a2", "math"),
            _record("b1", "struct"),
            _record("c1", "vector", devices=("cpu",)),
        ],
        [],
        None,
    )
    yield s
    s.close()


def _v(kid, device, ok, compiler="clang 1", options="-O2", diag=None):
    return Verification(kid, device, compiler, options, ok, diag, 1.5)


def test_sample_is_deterministic_and_about_the_fraction():
    ids = [f"{i:020x}" for i in range(4000)]
    a = verify.sample(ids, 0.1, seed=3)
    assert a == verify.sample(reversed(ids), 0.1, seed=3)[::-1]
    assert 300 < len(a) < 500
    assert verify.sample(ids, 0.1, seed=4) != a
    # membership does not depend on the other ids (a store that grows keeps its sample)
    assert verify.sample(ids[:100], 0.1, seed=3) == [k for k in a if k in set(ids[:100])]
    assert verify.sample(ids, None) == ids
    assert verify.sample(ids, 1.0) == ids


def test_kernel_ids_by_origin_and_category(store):
    """What `verify --origin/--category` selects."""
    real = _record("r1", "tile")
    real.origin = "real"
    store.write_batch([real], [], None)
    assert store.kernel_ids() == ["a1", "a2", "b1", "c1", "r1"]
    assert store.kernel_ids(origin="real") == ["r1"]
    assert store.kernel_ids(origin="synthetic", categories=("math", "vector")) == ["a1", "a2", "c1"]
    assert store.kernel_ids(origin="real", categories=("math",)) == []


def test_record_and_skip_keys(store):
    store.record_verifications([_v("a1", "cpu", True), _v("a2", "cpu", False, diag="kernel.cpp:3:1: error: x")])
    assert store.verified_keys("cpu", "clang 1", "-O2") == {"a1", "a2"}
    assert store.verified_keys("cpu", "clang 1", "-O3") == set()
    assert store.verified_keys("cpu", "clang 1", "-O2", ["a1", "b1"]) == {"a1"}
    # same key again replaces, never duplicates
    store.record_verifications([_v("a2", "cpu", True)])
    rows = store.conn.execute("SELECT ok, diagnostics FROM verifications WHERE kernel_id = 'a2'").fetchall()
    assert rows == [(1, None)]


def test_verified_ids_needs_a_pass_and_no_failure(store):
    store.record_verifications(
        [
            _v("a1", "cpu", True),
            _v("a2", "cpu", True),
            _v("a2", "cpu", False, compiler="clang 2"),
            _v("b1", "cuda", True),
            _v("c1", "cpu", True, compiler="launch warp 1.19.0"),
        ]
    )
    assert store.verified_ids("cpu") == {"a1"}
    assert store.verified_ids("cuda") == {"b1"}
    sql, params = verified_condition("cpu")
    got = {r[0] for r in store.conn.execute(f"SELECT k.id FROM kernels k WHERE {sql}", params)}
    assert got == {"a1"}


def test_verification_stats_per_device_and_category(store):
    store.record_verifications([_v("a1", "cpu", True), _v("a2", "cpu", False), _v("b1", "cuda", True)])
    stats = {(r["device"], r["category"]): r for r in store.verification_stats()}
    assert stats[("cpu", "math")] == {
        "device": "cpu",
        "category": "math",
        "kernels": 2,
        "verified": 2,
        "passed": 1,
        "failed": 1,
        "pass_rate": 0.5,
    }
    assert stats[("cuda", "struct")]["pass_rate"] == 1.0
    assert stats[("cpu", "vector")]["verified"] == 0 and stats[("cpu", "vector")]["pass_rate"] is None
    assert ("cuda", "vector") not in stats  # no CUDA code stored for it


def test_failures_listing_has_category_and_diagnostics(store):
    store.record_verifications([_v("b1", "cuda", False, diag='kernel.cu(12): error: identifier "x" is undefined')])
    (row,) = store.verification_failures("cuda")
    assert row["category"] == "struct" and "undefined" in row["diagnostics"]
    assert store.verification_failures("cpu") == []
    assert [r["device"] for r in store.kernel_verifications("b1")] == ["cuda"]


def test_split_diagnostics_by_line_ranges():
    diag = (
        "kernel.cpp:12:3: warning: unused [-Wunused]\n"
        "   12 |   int x;\n"
        "kernel.cpp:40:1: warning: self-comparison\n"
        "   40 |   a > a\n"
        "kernel.cu(25): warning #177-D: variable declared but never referenced\n"
        "2 warnings generated.\n"
    )
    first, second, third = warp_compile.split_diagnostics(diag, [(10, 20), (21, 30), (31, 50)])
    assert first.startswith("kernel.cpp:12:3") and "int x" in first and "generated" not in first
    assert second.startswith("kernel.cu(25)")
    assert "self-comparison" in third and "a > a" in third and "generated" not in third
