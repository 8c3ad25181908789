"""`curator generate` and `curator stats` through the real command line."""

import json
import sqlite3

import pytest

from curator.store import Store
from tests.conftest import in_documented_sample, run_curator


def db_snapshot(path):
    return path.read_bytes() if path.exists() else None


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--device", "tpu", "--count", "3"], 2, "tpu"),
        (["--category", "nonsense", "--count", "3"], 2, "unknown category 'nonsense'"),
        (["--count", "0"], 2, "--count"),
        (["--count", "abc"], 2, "--count"),
        (["--target-mb", "-1"], 2, "--target-mb"),
        (["--target-mb", "0"], 2, "--target-mb"),
        (["--count", "3", "--target-mb", "1"], 2, "exactly one"),
        ([], 2, "exactly one"),
        (["--count", "3", "--workers", "0"], 2, "--workers"),
        (["--count", "3", "--seed", "-4"], 2, "--seed"),
        (["--count", "3", "--style", "dense"], 2, "--style"),
        (["--count", "3", "--style", "stress", "--category", "tile"], 2, "has no stress style"),
    ],
)
def test_bad_options_one_line_usage_error(tmp_path, args, code, needle):
    db = tmp_path / "s.db"
    res = run_curator("generate", *args, "--db", str(db))
    assert res.returncode == code
    assert needle in res.stderr
    assert "Traceback" not in res.stderr
    assert not db.exists()


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p.write_text("just some text\n"), "not an SQLite database"),
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.mkdir(), "directory"),
    ],
)
def test_bad_db_untouched(tmp_path, make, needle):
    db = tmp_path / "s.db"
    make(db)
    before = db_snapshot(db) if db.is_file() else None
    res = run_curator("generate", "--count", "3", "--db", str(db))
    assert res.returncode == 1
    assert needle in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    if before is not None:
        assert db.read_bytes() == before


def test_other_sqlite_app_untouched(tmp_path):
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    res = run_curator("generate", "--count", "3", "--db", str(db))
    assert res.returncode == 1 and "another application" in res.stderr
    assert db.read_bytes() == before


def test_unwritable_path(tmp_path):
    res = run_curator("generate", "--count", "3", "--db", str(tmp_path / "no" / "such" / "dir" / "s.db"))
    assert res.returncode == 1 and "does not exist" in res.stderr and "Traceback" not in res.stderr


def test_stats_on_missing_store(tmp_path):
    res = run_curator("stats", "--db", str(tmp_path / "none.db"))
    assert res.returncode == 1 and "no curator store" in res.stderr
    assert not (tmp_path / "none.db").exists()


def test_small_store_has_every_category_and_both_devices(small_store):
    from curator.kernels import CATEGORIES

    with Store.open(small_store, readonly=True) as s:
        assert set(s.categories()) == set(CATEGORIES)
        devices = s.kernel_devices()
        assert len(devices) == 60
        assert all(v == {"cpu", "cuda"} for v in devices.values())
        row = s.conn.execute("SELECT forward, backward, bytes FROM artifacts LIMIT 1").fetchone()
        assert "<L " not in row[0] and row[1] and row[2] > 0
        assert s.conn.execute("SELECT COUNT(*) FROM kernels WHERE minhash IS NULL").fetchone()[0] == 0
        runs = s.runs("generate")
        assert runs[-1]["status"] == "done"


def test_rerun_adds_nothing_and_cuda_after_cpu_pairs_up(tmp_path):
    db = tmp_path / "s.db"
    args = ["generate", "--count", "20", "--seed", "3", "--workers", "1", "--db", str(db)]
    assert run_curator(*args, "--device", "cpu").returncode == 0
    with Store.open(db, readonly=True) as s:
        cpu_ids = set(s.kernel_devices())
        assert s.conn.execute("SELECT COUNT(*) FROM artifacts WHERE device='cuda'").fetchone()[0] == 0
    assert run_curator(*args, "--device", "cuda").returncode == 0
    with Store.open(db, readonly=True) as s:
        devs = s.kernel_devices()
        assert set(devs) == cpu_ids  # same seed -> the same kernels, now with CUDA code too
        assert all(v == {"cpu", "cuda"} for v in devs.values())
        n = s.conn.execute("SELECT COUNT(*) FROM artifacts").fetchone()[0]
    res = run_curator(*args, "--device", "all")
    assert res.returncode == 0 and "0 new kernels, 0 new artifacts, 20 already stored" in res.stdout
    with Store.open(db, readonly=True) as s:
        assert s.conn.execute("SELECT COUNT(*) FROM artifacts").fetchone()[0] == n


def _batches(db, device) -> list[int]:
    """Bytes of each committed batch of ``device`` code, in commit order (a batch shares its stamp)."""
    with Store.open(db, readonly=True) as s:
        q = "SELECT SUM(bytes) FROM artifacts WHERE device = ? GROUP BY created_at ORDER BY created_at"
        return [r[0] for r in s.conn.execute(q, (device,))]


@pytest.mark.parametrize(("device", "devices"), [("cpu", ("cpu",)), ("all", ("cpu", "cuda"))])
def test_target_mb_stops_at_target(tmp_path, device, devices):
    db = tmp_path / "s.db"
    target = int(1.5 * (1 << 20))  # more than one batch of 16 kernels (~1 MiB of CPU code)
    res = run_curator("generate", "--device", device, "--target-mb", "1.5", "--workers", "1", "--db", str(db))
    assert res.returncode == 0, res.stderr
    reached = []  # per device: the index of the batch whose commit reached the target
    for d in devices:
        sizes = _batches(db, d)
        assert sum(sizes) >= target, d
        reached.append(next(i for i in range(len(sizes)) if sum(sizes[: i + 1]) >= target))
    # It stops submitting once every device reached the target; at most 3 batches (3 per
    # worker) are in flight then, so at most 2 more commit after the one that reached it.
    assert len(_batches(db, devices[0])) <= max(reached) + 3, (reached, _batches(db, devices[0]))
    with Store.open(db, readonly=True) as s:
        n = s.conn.execute("SELECT COUNT(*) FROM kernels").fetchone()[0]
        assert s.conn.execute("SELECT COUNT(*) FROM artifacts").fetchone()[0] == n * len(devices)


def test_stats_json(small_store):
    res = run_curator("stats", "--json", "--db", str(small_store))
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["kernels"] == 60
    assert set(report["devices"]) == {"cpu", "cuda"}
    assert sum(c["kernels"] for c in report["devices"]["cpu"]["categories"].values()) == 60
    assert len(report["wp_names"]) > 30


def test_verify_sample_compiles_a_share_as_it_goes(tmp_path):
    db = tmp_path / "v.db"
    res = run_curator(
        "generate", "--count", "12", "--seed", "8", "--workers", "2", "--verify-sample", "0.5", "--db", str(db)
    )
    assert res.returncode == 0, res.stderr
    with Store.open(db, readonly=True) as s:
        ids = [r[0] for r in s.conn.execute("SELECT id FROM kernels")]
        rows = s.conn.execute("SELECT kernel_id, device, ok FROM verifications").fetchall()
    expected = {k for k in ids if in_documented_sample(k, 0.5, 8)}
    assert expected and {(k, d) for k, d, _ in rows} == {(k, d) for k in expected for d in ("cpu", "cuda")}
    assert all(ok == 1 for *_, ok in rows)
    report = json.loads(run_curator("stats", "--json", "--db", str(db)).stdout)
    for device in ("cpu", "cuda"):
        v = report["verification"][device]
        assert (v["verified"], v["passed"], v["pass_rate"]) == (len(expected), len(expected), 1.0)


def test_style_stress_stores_generator_1_kernels(tmp_path):
    from curator.kernels import categories_for, generate_kernel, version_label

    def rows(sql):
        with sqlite3.connect(db) as conn:
            return conn.execute(sql).fetchall()

    db = tmp_path / "s.db"
    res = run_curator(
        "generate", "--count", "6", "--style", "stress", "--device", "cpu", "--workers", "1", "--db", str(db)
    )
    assert res.returncode == 0, res.stderr
    stored = rows("SELECT seed, category, source, generator_version FROM kernels")
    assert len(stored) == 6
    for seed, category, source, version in stored:
        assert category in categories_for("stress") and version == version_label("stress")
        assert source == generate_kernel(seed, category, "stress").source
    runs = rows("SELECT arguments FROM runs")
    assert json.loads(runs[0][0])["style"] == "stress"
