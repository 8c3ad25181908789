"""`curator export --decontaminate`: planted near-copies of reference kernels (renamed,
re-constanted, one line added) are all dropped; kernels unrelated to the reference (by an
exact Jaccard computed here, with a tokeniser of the test's own) are all kept."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner
from release_helpers import clone, jaccard
from test_dedup import make_record

from curator.cli import main
from curator.export import decontaminate
from curator.kernels import generate_kernel
from curator.store import Store

CATS = ("arithmetic", "vector", "matrix", "control_flow")
THRESHOLD = 0.8


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A store of base kernels plus near-copies of 8 reference kernels, and the reference as a
    folder of Python files."""
    tmp = tmp_path_factory.mktemp("decon")
    rng = random.Random(11)
    refs = [generate_kernel(50_000 + i, CATS[i % len(CATS)]) for i in range(8)]
    folder = tmp / "reference"
    folder.mkdir()
    for i, spec in enumerate(refs):
        (folder / f"ref_{i}.py").write_text(spec.source)
    (folder / "notes.py").write_text("x = 1\n")  # no kernel in it
    base = [make_record(s.name, c, s.source) for c in CATS for s in (generate_kernel(i, c) for i in range(30))]
    planted = [make_record(f"copy_{i}", s.category, clone(s.source, rng)) for i, s in enumerate(refs)]
    planted += [
        make_record(f"pad_{i}", s.category, clone(s.source, rng) + "\n_extra = 1\n") for i, s in enumerate(refs)
    ]
    db = tmp / "s.db"
    with Store.open(db, create=True) as st:
        st.write_batch(base + planted, [], None)
    close = {r.id for r in planted if max(jaccard(r.source, s.source) for s in refs) >= 0.9}
    unrelated = {r.id for r in base if max(jaccard(r.source, s.source) for s in refs) < 0.5}
    assert close == {r.id for r in planted}  # every planted copy is a near-copy by our own measure
    # most base kernels are unrelated to the reference, so "none of them is dropped" tests something;
    # the share is the generator's (its seeds change with its version): 117 of 120 for 2.3.0
    assert len(unrelated) >= 0.8 * len(base)
    return {"db": db, "folder": folder, "refs": refs, "planted": close, "unrelated": unrelated, "tmp": tmp}


def test_near_copies_dropped_unrelated_kept(world):
    with Store.open(world["db"]) as st:
        dropped = decontaminate.contaminated(st, decontaminate.path_reference(world["folder"]), THRESHOLD)
    assert world["planted"] <= set(dropped)
    assert not set(dropped) & world["unrelated"]


def test_default_reference_is_the_real_kernels_in_the_store(world, tmp_path):
    db = tmp_path / "r.db"
    with Store.open(world["db"]) as src, Store.open(db, create=True) as dst:
        src.conn.backup(dst.conn)
    real = []
    for spec in world["refs"]:
        rec = make_record(spec.name, spec.category, spec.source)
        rec.origin, rec.provenance = "real", {"file": "warp/tests/x.py", "line": 1, "package": "warp"}
        real.append(rec)
    with Store.open(db) as st:
        st.write_batch(real, [], None)
        dropped = decontaminate.contaminated(st, decontaminate.store_reference(st), THRESHOLD)
    assert world["planted"] <= set(dropped) and not set(dropped) & world["unrelated"]
    out = tmp_path / "o"
    res = CliRunner().invoke(
        main,
        [
            "export",
            "--db",
            str(db),
            "--out",
            str(out),
            "--device",
            "cpu",
            "--target-mb",
            "5",
            "--allow-short",
            "--decontaminate",
        ],
    )
    assert res.exit_code == 0, res.output
    m = json.loads((out / "manifest.json").read_text())
    d = m["decontamination"]
    assert d["dropped"] == len(dropped) and d["reference_kernels"] == len(real) and "warp 8" in d["reference"]
    ids = {json.loads(x)["id"] for x in (out / "cpu" / "warp_kernels_cpu.jsonl").read_text().splitlines()}
    assert ids and not ids & set(dropped)
    assert f"{d['dropped']:,} were within Jaccard {THRESHOLD}" in (out / "README.md").read_text()


def test_reference_as_jsonl_and_bad_references(world, tmp_path):
    jsonl = tmp_path / "ref.jsonl"
    jsonl.write_text("".join(json.dumps({"source": s.source}) + "\n" for s in world["refs"]))
    ref = decontaminate.path_reference(jsonl)
    assert ref.kernels == len(world["refs"])
    (tmp_path / "bad.jsonl").write_text('{"src": 1}\n')
    (tmp_path / "empty").mkdir()
    cases = [
        (["--reference", str(tmp_path / "bad.jsonl")], "no string field 'source'"),
        (["--reference", str(tmp_path / "empty")], "holds no kernel"),
        ([], "no real kernels"),
    ]
    for extra, text in cases:
        res = CliRunner().invoke(
            main,
            [
                "export",
                "--db",
                str(world["db"]),
                "--out",
                str(tmp_path / "o"),
                "--target-mb",
                "1",
                "--decontaminate",
                *extra,
            ],
        )
        assert res.exit_code == 1 and text in res.output and res.output.strip().count("\n") == 0, res.output
        assert not (tmp_path / "o").exists()


def test_definition_minhashes_are_kept_reused_and_the_same_from_the_process_pool(world, tmp_path, monkeypatch):
    """Each synthetic kernel's definitions are signed once and kept (kernel_def_minhash); a second
    decontamination reads them without parsing any source, and signing on a pool of processes
    keeps the same values as signing in this process."""
    ref = decontaminate.path_reference(world["folder"])
    kept = {}
    for name, parallel_from in (("serial", 10**9), ("pool", 1)):
        db = tmp_path / f"{name}.db"
        with Store.open(world["db"]) as src, Store.open(db, create=True) as dst:
            src.conn.backup(dst.conn)
        monkeypatch.setattr(decontaminate, "PARALLEL_FROM", parallel_from)
        with Store.open(db) as st:
            st.conn.execute("DELETE FROM kernel_def_minhash")
            first = decontaminate.contaminated(st, ref, THRESHOLD)
            kept[name] = st.kernel_def_minhashes("synthetic", decontaminate.DEF_PARAMS)
            n = st.conn.execute("SELECT COUNT(*) FROM kernels WHERE origin = 'synthetic'").fetchone()[0]
            assert len(kept[name]) == n and all(len(b) % (4 * 128) == 0 and b for b in kept[name].values())
            with monkeypatch.context() as m:
                m.setattr(decontaminate, "kernel_definitions", lambda source: pytest.fail("parsed a source again"))
                assert decontaminate.contaminated(st, ref, THRESHOLD) == first
        assert world["planted"] <= set(first) and not set(first) & world["unrelated"]
    assert kept["pool"] == kept["serial"]
