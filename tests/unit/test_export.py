"""`curator export` on small stores: files, balance, bounds, stable keys and types, byte-identical
reruns, filters, and clean failures (one line, non-zero exit, no files, store untouched)."""

from __future__ import annotations

import hashlib
import json
import random

import pytest
from click.testing import CliRunner
from test_dedup import make_record, rewrite

from curator import export as exp
from curator.cli import main
from curator.export import formats, records
from curator.kernels import generate_kernel
from curator.store import Store
from curator.store.executions import ExecutionRow
from curator.store.exports import ExportFilter
from tests.conftest import assert_export_schema

CATS = ("arithmetic", "vector", "matrix", "control_flow")
PER_CAT = 40
MIB = 1 << 20


def build(db, per_cat=PER_CAT, cats=CATS, extra=()):
    """A store of generated sources with small fake code pieces (lines of ~1.5-4 KB)."""
    # Stress-style kernels: dense and mutually far apart, so no two of them are near-duplicates.
    specs = [(c, generate_kernel(i, c, "stress")) for c in cats for i in range(per_cat)]
    recs = [make_record(s.name, c, s.source) for c, s in specs]
    with Store.open(db, create=True) as s:
        s.write_batch([*recs, *extra], [], None)
    return db


@pytest.fixture(scope="module")
def base_db(tmp_path_factory):
    return build(tmp_path_factory.mktemp("exp") / "base.db")


@pytest.fixture
def db(base_db, tmp_path):
    """A private copy of the base store (tests may change it)."""
    dest = tmp_path / "s.db"
    with Store.open(base_db) as src, Store.open(dest, create=True) as dst:
        src.conn.backup(dst.conn)
    return dest


def total_bytes(db, device="cpu") -> int:
    with Store.open(db) as s:
        rows = s.export_rows(device, [k for k, _ in s.export_candidates(ExportFilter(device))])
        return sum(len(records.encode(records.record(r))) for r in rows)


def invoke(*args):
    return CliRunner().invoke(main, ["export", *map(str, args)])


def lines_of(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def store_state(db) -> tuple:
    """Everything a failed export must leave as it was."""
    with Store.open(db) as s:
        return tuple(
            s.conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("kernels", "artifacts", "reviews", "dedup_clusters", "dedup_state")
        )


def target_mb(db, share=0.6) -> float:
    return round(total_bytes(db) * share / MIB, 4)


# -- what an export writes ----------------------------------------------------------------


def test_export_writes_balanced_files_manifest_and_card(db, tmp_path):
    out = tmp_path / "out"
    mb = target_mb(db)
    res = invoke("--db", db, "--out", out, "--target-mb", mb)
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    target = int(mb * MIB)
    for device in ("cpu", "cuda"):
        path = out / device / f"warp_kernels_{device}.jsonl"
        size = path.stat().st_size
        assert target <= size <= target * 1.01
        rows = lines_of(path)
        for r in rows:  # the documented keys, in order, each with its documented JSON type
            assert_export_schema(r)
        assert all(r["device"] == device for r in rows)
        assert len({r["id"] for r in rows}) == len(rows)
        counts = {c: sum(r["category"] == c for r in rows) for c in CATS}
        assert max(counts.values()) - min(counts.values()) <= 1
        assert min(counts.values()) >= 20 and max(counts.values()) / min(counts.values()) <= 1.05
        m = manifest["devices"][device]
        assert (m["bytes"], m["records"], m["sha256"]) == (size, len(rows), digest(path))
        assert {c: v["records"] for c, v in m["categories"].items()} == counts
        assert sum(v["bytes"] for v in m["categories"].values()) == size
        assert m["reached_target"] is True
    assert manifest["dedup"] is None and manifest["warp_versions"] == ["1.19.0"]
    assert manifest["curator_version"] and "created_at" in manifest and "git_revision" in manifest
    card = (out / "README.md").read_text()
    front = card.split("---\n")[1]
    assert "config_name: cpu" in front and "path: cpu/warp_kernels_cpu.jsonl" in front
    assert "config_name: cuda" in front and "license: apache-2.0" in front and "size_categories:" in front
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_line_content_matches_the_store(db, tmp_path):
    out = tmp_path / "o"
    assert invoke("--db", db, "--out", out, "--target-mb", target_mb(db, 0.3), "--device", "cuda").exit_code == 0
    assert not (out / "cpu").exists()
    row = lines_of(out / "cuda" / "warp_kernels_cuda.jsonl")[0]
    with Store.open(db) as s:
        k, a = s.get_kernel(row["id"]), s.get_artifact(row["id"], "cuda")
    assert row["source"] == k["source"] and row["name"] == k["name"] and row["category"] == k["category"]
    for piece in ("structs", "functions", "args", "forward", "backward", "entry"):
        assert row[piece] == a[piece]
    assert row["origin"] == "synthetic" and row["provenance"] is None and row["warp_version"] == "1.19.0"


def test_same_arguments_give_identical_files(db, tmp_path, monkeypatch):
    mb = target_mb(db, 0.5)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    for name in ("a", "b"):
        assert invoke("--db", db, "--out", tmp_path / name, "--target-mb", mb, "--seed", 3).exit_code == 0
    for rel in ("cpu/warp_kernels_cpu.jsonl", "cuda/warp_kernels_cuda.jsonl", "README.md", "manifest.json"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["created_at"].startswith("2023-11-14")
    assert invoke("--db", db, "--out", tmp_path / "c", "--target-mb", mb, "--seed", 4).exit_code == 0
    a, c = (lines_of(tmp_path / n / "cpu" / "warp_kernels_cpu.jsonl") for n in ("a", "c"))
    assert [r["id"] for r in a] != [r["id"] for r in c]  # the seed decides the selection order


def test_rejected_never_and_accepted_only(db, tmp_path):
    with Store.open(db) as s:
        ids = [k for k, _ in s.export_candidates(ExportFilter("cpu"))]
        rejected, accepted = ids[:30], ids[30:50]
        for k in rejected:
            s.set_review(k, "rejected")
        for k in accepted:
            s.set_review(k, "accepted")
        s.set_review(ids[50], "flagged")
    out = tmp_path / "o"
    assert invoke("--db", db, "--out", out, "--target-mb", 100, "--allow-short").exit_code == 0
    got = {r["id"] for r in lines_of(out / "cpu" / "warp_kernels_cpu.jsonl")}
    assert not got & set(rejected) and ids[50] in got
    res = invoke("--db", db, "--out", out, "--target-mb", 100, "--allow-short", "--status", "accepted", "--force")
    assert res.exit_code == 0, res.output
    got = {r["id"] for r in lines_of(out / "cpu" / "warp_kernels_cpu.jsonl")}
    assert got and got <= set(accepted)


def test_category_option(db, tmp_path):
    out = tmp_path / "o"
    res = invoke("--db", db, "--out", out, "--target-mb", 0.12, "--category", "vector", "--category", "matrix")
    assert res.exit_code == 0, res.output
    for device in ("cpu", "cuda"):
        cats = {r["category"] for r in lines_of(out / device / f"warp_kernels_{device}.jsonl")}
        assert cats == {"vector", "matrix"}
    res = invoke("--db", db, "--out", tmp_path / "q", "--target-mb", 5, "--category", "vector", "--device", "cpu")
    assert res.exit_code == 1 and "vector " in res.output and "--category vector --db" in res.output
    assert "arithmetic" not in res.output
    res = invoke("--db", db, "--out", tmp_path / "p", "--target-mb", 0.05, "--category", "nope")
    assert res.exit_code == 1 and "no kernels of category nope" in res.output
    assert not (tmp_path / "p").exists()


def test_unusual_characters_stay_valid_json(tmp_path):
    weird = (
        "import warp as wp\n\n@wp.kernel\ndef k(a: wp.array(dtype=float)):\n"
        '    a[0] = 1.0  # "q" \\ \u2028 \x85 é ✓ \U0001f600 \x00\n'
    )
    rec = make_record("k", "arithmetic", weird)
    db = build(tmp_path / "w.db", per_cat=3, cats=("arithmetic",), extra=[rec])
    out = tmp_path / "o"
    assert invoke("--db", db, "--out", out, "--target-mb", 1, "--allow-short", "--device", "cpu").exit_code == 0
    rows = lines_of(out / "cpu" / "warp_kernels_cpu.jsonl")
    assert [r["source"] for r in rows if r["id"] == rec.id] == [weird]
    raw = (out / "cpu" / "warp_kernels_cpu.jsonl").read_bytes()
    assert raw.count(b"\n") == len(rows)  # no raw newline inside a line
    assert records.encode({"s": "\ud800"}) == b'{"s":"\\ud800"}\n'  # a lone surrogate: escaped, still JSON


# -- dedup ---------------------------------------------------------------------------------


def test_dedup_recomputes_when_the_store_changes(db, tmp_path):
    mb = target_mb(db, 0.3)
    res = invoke("--db", db, "--out", tmp_path / "a", "--target-mb", mb, "--dedup")
    assert res.exit_code == 0, res.output
    with Store.open(db) as s:
        state = s.dedup_state()
        assert state["kernels"] == state["clusters"] == len(CATS) * PER_CAT
        spec = generate_kernel(0, "vector", "stress")
        clone = make_record("clone", "vector", rewrite(spec.source, random.Random(2)))
        s.write_batch([clone], [], None)
    res = invoke("--db", db, "--out", tmp_path / "b", "--target-mb", mb, "--dedup")
    assert res.exit_code == 0, res.output
    with Store.open(db) as s:
        state2 = s.dedup_state()
        assert state2["kernels"] == len(CATS) * PER_CAT + 1 and state2["clusters"] == len(CATS) * PER_CAT
        assert state2["fingerprint"] == s.dedup_fingerprint()
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["dedup"]["removed"] == 1 and manifest["dedup"]["threshold"] == 0.8
    res = invoke("--db", db, "--out", tmp_path / "c", "--target-mb", mb, "--dedup", "--threshold", "0.9")
    assert res.exit_code == 0
    with Store.open(db) as s:
        assert s.dedup_state()["threshold"] == 0.9


# -- failures -----------------------------------------------------------------------------


def test_shortfall_fails_cleanly_with_the_generate_command(db, tmp_path):
    out = tmp_path / "out"
    before = store_state(db)
    res = invoke("--db", db, "--out", out, "--target-mb", 50, "--dedup")
    assert res.exit_code == 1
    msg = res.output.strip()
    assert msg.count("\n") == 0 and msg.startswith("Error: the store cannot fill --target-mb 50")
    for c in CATS:
        assert f"{c} " in msg
    assert "(they have 40)" in msg
    assert "curator generate --device all --count " in msg and f"--db {db}" in msg
    assert "--category" not in msg  # every category is short: generate them all
    assert "--allow-short" in msg
    assert not out.exists()  # nothing written, not even the folder
    assert store_state(db) == before  # the clusters computed for it were not stored either


def test_allow_short_writes_what_there_is(db, tmp_path):
    out = tmp_path / "out"
    res = invoke("--db", db, "--out", out, "--target-mb", 50, "--device", "cpu", "--allow-short")
    assert res.exit_code == 0, res.output
    assert "short of the target" in res.output
    rows = lines_of(out / "cpu" / "warp_kernels_cpu.jsonl")
    assert len(rows) == len(CATS) * PER_CAT  # balanced stores: everything fits
    m = json.loads((out / "manifest.json").read_text())["devices"]["cpu"]
    assert m["reached_target"] is False and m["balance"]["ratio"] == 1.0


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["--target-mb", "0"], 2, "--target-mb"),
        (["--target-mb", "-1"], 2, "--target-mb"),
        (["--target-mb", "1", "--device", "gpu"], 2, "'gpu' is not one of"),
        (["--target-mb", "1", "--status", "maybe"], 2, "--status"),
        (["--target-mb", "1", "--threshold", "0"], 2, "--threshold"),
        ([], 2, "--target-mb"),
    ],
)
def test_bad_usage(db, tmp_path, args, code, text):
    before = store_state(db)
    res = invoke("--db", db, "--out", tmp_path / "o", *args)
    assert res.exit_code == code and text in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o").exists() and store_state(db) == before


def test_out_that_cannot_be_written(db, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    before = store_state(db)
    for out in (blocker, blocker / "sub"):
        res = invoke("--db", db, "--out", out, "--target-mb", 0.05, "--dedup")
        assert res.exit_code in (1, 2) and "Traceback" not in res.output
        assert [line for line in res.output.splitlines() if line.startswith("Error:")] == [
            res.output.strip().splitlines()[-1]
        ]  # one line (after click's usage header for a bad option value)
    assert blocker.read_text() == "x" and store_state(db) == before
    # A folder in the way of a file.
    out = tmp_path / "o"
    (out / "cpu" / "warp_kernels_cpu.jsonl").mkdir(parents=True)
    res = invoke("--db", db, "--out", out, "--target-mb", 0.05)
    assert res.exit_code == 1 and "in the way" in res.output
    assert sorted(p.name for p in out.rglob("*")) == ["cpu", "warp_kernels_cpu.jsonl"]


def test_interrupted_export_leaves_previous_files(db, tmp_path, monkeypatch):
    out = tmp_path / "out"
    mb = target_mb(db, 0.3)
    assert invoke("--db", db, "--out", out, "--target-mb", mb).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    calls = {"n": 0}
    real = formats.LineSink.add

    def interrupting(self, rec, data):
        calls["n"] += 1
        if calls["n"] > 60:  # in the middle of the second file (~48 lines each)
            raise KeyboardInterrupt
        return real(self, rec, data)

    monkeypatch.setattr(formats.LineSink, "add", interrupting)
    res = invoke("--db", db, "--out", out, "--target-mb", mb, "--seed", 9)
    assert res.exit_code == 130 and "interrupted" in res.output
    assert calls["n"] == 61  # the interruption hit the export mid-way (second file)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # old files intact, no temporaries left


def test_verified_only_hook(db):
    with Store.open(db) as s:
        ids = [k for k, _ in s.export_candidates(ExportFilter("cpu"))][:3]
        for kid, ok in zip(ids, (1, 0, 1), strict=True):
            s.conn.execute(
                "INSERT INTO verifications (kernel_id, device, compiler, options, ok, verified_at)"
                " VALUES (?, 'cpu', 'clang', '', ?, 'now')",
                (kid, ok),
            )
        s.conn.execute(
            "INSERT INTO verifications (kernel_id, device, compiler, options, ok, verified_at)"
            " VALUES (?, 'cpu', 'gcc', '', 0, 'now')",
            (ids[2],),
        )
        # compiled, but never launched on the CPU: not verified
        assert s.export_candidates(ExportFilter("cpu", verified_only=True)) == []
        more = [k for k, _ in s.export_candidates(ExportFilter("cpu"))][3:5]
        for kid in more:  # compiled, then the run failed: never verified
            s.conn.execute(
                "INSERT INTO verifications (kernel_id, device, compiler, options, ok, verified_at)"
                " VALUES (?, 'cpu', 'clang', '', 1, 'now')",
                (kid,),
            )
        s.record_executions(
            [ExecutionRow(k, "cpu", 0, "warp", "ran") for k in ids]
            + [
                ExecutionRow(more[0], "cpu", 0, "warp", "crashed", "SIGSEGV"),
                ExecutionRow(more[1], "cpu", 0, "warp", "not-runnable", "volume handle"),
            ]
        )
        got = [k for k, _ in s.export_candidates(ExportFilter("cpu", verified_only=True))]
        assert got == sorted([ids[0], more[1]])
        assert s.export_candidates(ExportFilter("cuda", verified_only=True)) == []


def test_export_api_checks(db, tmp_path):
    with Store.open(db) as s:
        opts = exp.ExportOptions(out=tmp_path / "o", devices=("tpu",), target_bytes=1000)
        with pytest.raises(exp.ExportError, match="unknown device tpu"):
            exp.export(s, opts)
        opts = exp.ExportOptions(out=tmp_path / "o", devices=("cpu",), target_bytes=0)
        with pytest.raises(exp.ExportError, match="more than 0"):
            exp.export(s, opts)
    assert not (tmp_path / "o").exists()


def test_source_filter_separates_real_and_synthetic(db, tmp_path):
    """--source picks kernels by origin; the manifest counts each origin."""
    real = []
    for i in range(150):
        spec = generate_kernel(10_000 + i, "vector", "stress")
        rec = make_record(
            f"real_{i}", "geometry", spec.source.replace("import warp as wp", "import warp as wp  # real")
        )
        rec.origin, rec.provenance = "real", {"file": f"examples/ex_{i}.py", "line": 3, "package": "warp"}
        real.append(rec)
    with Store.open(db) as s:
        s.write_batch(real, [], None)
    runs = {}
    for source in ("synthetic", "real", "all"):
        out = tmp_path / source
        res = invoke("--db", db, "--out", out, "--target-mb", 0.2, "--device", "cpu", "--source", source)
        assert res.exit_code == 0, res.output
        rows = lines_of(out / "cpu" / "warp_kernels_cpu.jsonl")
        runs[source] = ({r["origin"] for r in rows}, {r["category"] for r in rows})
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["arguments"]["source"] == source
        assert manifest["devices"]["cpu"]["origins"] == {
            o: sum(r["origin"] == o for r in rows) for o in runs[source][0]
        }
    assert runs["synthetic"] == ({"synthetic"}, set(CATS))
    assert runs["real"] == ({"real"}, {"geometry"})
    assert runs["all"] == ({"synthetic", "real"}, {*CATS, "geometry"})
    rows = lines_of(tmp_path / "real" / "cpu" / "warp_kernels_cpu.jsonl")
    assert all(json.loads(r["provenance"])["package"] == "warp" for r in rows)
