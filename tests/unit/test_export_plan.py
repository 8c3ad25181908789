"""`curator export --plan`: the kernels a release would take, so that verifying exactly those
(and the margin) lets `--verified-only` write the same release shape; a kernel that fails
verification is replaced by a planned spare, never by an unplanned kernel."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_export import build

from curator import export as exp
from curator.cli import main
from curator.export import plan
from curator.store import Store
from curator.store.executions import ExecutionRow
from curator.store.exports import ExportFilter

SPLITS = "train=0.8,validation=0.1,test=0.1"


def release_args(target_mb: float, *extra):
    return ["--target-mb", target_mb, "--splits", SPLITS, "--paired", "--dedup", "--seed", 3, *extra]


def invoke(*args):
    return CliRunner().invoke(main, ["export", *map(str, args)])


@pytest.fixture
def db(tmp_path):
    return build(tmp_path / "s.db")


def prove(db, ids, failing=()):
    """Record what `verify --execute` records: both devices compiled, the CPU run ran; the
    ``failing`` kernels crashed on the CPU."""
    with Store.open(db) as s:
        for kid in ids:
            for device in ("cpu", "cuda"):
                s.conn.execute(
                    "INSERT INTO verifications (kernel_id, device, compiler, options, ok, verified_at)"
                    " VALUES (?, ?, 'c', 'o', 1, 'now')",
                    (kid, device),
                )
        s.conn.commit()
        s.record_executions([ExecutionRow(k, "cpu", 0, "w", "crashed" if k in failing else "ran") for k in ids])


def exported_ids(out):
    ids = set()
    for f in out.glob("*/*.jsonl"):
        ids |= {json.loads(line)["id"] for line in f.open()}
    return ids


def test_verified_only_release_draws_from_the_plan_and_skips_failures(db, tmp_path):
    listing = tmp_path / "plan.txt"
    r = invoke(*release_args(0.12, "--plan", listing, "--plan-margin", 0.3, "--db", db))
    assert r.exit_code == 0, r.output
    planned = plan.read_ids(listing)
    assert planned and len(planned) == len(set(planned))
    assert not (tmp_path / "exports").exists()  # a plan writes no release
    # The same release unverified: every fourth planned kernel it takes fails on the CPU.
    r = invoke(*release_args(0.12, "--out", tmp_path / "plain", "--db", db))
    assert r.exit_code == 0, r.output
    plain = exported_ids(tmp_path / "plain")
    failing = set(sorted(plain & set(planned))[::6])
    assert len(failing) >= 4
    prove(db, planned, failing)
    r = invoke(*release_args(0.12, "--verified-only", "--out", tmp_path / "proven", "--db", db))
    assert r.exit_code == 0, r.output
    proven = exported_ids(tmp_path / "proven")
    assert proven <= set(planned) - failing
    assert proven - plain  # spares were used
    for f in (tmp_path / "proven").glob("*/*.jsonl"):
        for line in f.open():
            rec = json.loads(line)
            if "ran" not in rec:  # paired
                assert (rec["cpu_compiled"], rec["cuda_compiled"], rec["cpu_ran"], rec["cuda_ran"]) == (
                    True,
                    True,
                    "ran",
                    None,
                )
            else:  # a CUDA record's `ran` is about a GPU launch: none without a GPU
                assert (rec["compiled"], rec["ran"]) == (True, "ran" if rec["device"] == "cpu" else None)


def test_a_plan_without_spares_leaves_a_failure_short(db, tmp_path):
    listing = tmp_path / "plan.txt"
    assert invoke(*release_args(0.12, "--plan", listing, "--plan-margin", 0, "--db", db)).exit_code == 0
    planned = plan.read_ids(listing)
    prove(db, planned, failing=set(planned[:1]))
    r = invoke(*release_args(0.12, "--verified-only", "--out", tmp_path / "proven", "--db", db))
    assert r.exit_code == 1
    assert "cannot fill" in r.output and "Traceback" not in r.output


def test_plan_api_matches_the_release_selection(db):
    with Store.open(db) as s:
        opts = exp.ExportOptions(
            out=db.parent / "unused", devices=("cpu", "cuda"), target_bytes=100_000, seed=3, paired=True
        )
        p = plan.plan(s, opts, margin=0)
        assert set(p.per_config) == {"cpu", "cuda", "paired"}
        assert len(p.ids) >= max(p.per_config.values())


def test_verify_ids_from_names_an_unknown_id_in_one_line(db, tmp_path):
    listing = tmp_path / "ids.txt"
    with Store.open(db) as s:
        known = [k for k, _ in s.export_candidates(ExportFilter("cpu"))][:2]
    listing.write_text("# planned\n" + "\n".join([*known, "feedfacefeedfacefeed"]) + "\n")
    r = CliRunner().invoke(main, ["verify", "--ids-from", str(listing), "--db", str(db)])
    assert r.exit_code == 1
    assert r.output.strip().splitlines() == [
        f"Error: --ids-from {listing}: 1 id(s) not in the store, such as 'feedfacefeedfacefeed'"
    ]
    with Store.open(db) as s:
        assert s.conn.execute("SELECT COUNT(*) FROM verifications").fetchone()[0] == 0
