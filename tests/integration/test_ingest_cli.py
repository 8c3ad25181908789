"""`curator ingest` end to end on small hand-written kernel files (real Warp codegen, real
worker processes): what is stored, what is skipped and why, and that bad modules never stop
the run."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_curator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
BROKEN = "import warp as wp\n\n\n@wp.kernel\ndef half(a: wp.array(dtype=float):\n    pass\n"


def kernel_folder(dest: Path) -> Path:
    """A copy of the fixture kernel files plus one that does not parse (kept out of the repo so
    ruff can check every file there)."""
    folder = dest / "kernels"
    shutil.copytree(FIXTURES / "kernels", folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "broken_syntax.py").write_text(BROKEN)
    return folder


def rows(db: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return kernel_folder(tmp_path_factory.mktemp("src"))


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, folder) -> tuple[Path, dict]:
    db = tmp_path_factory.mktemp("ingest") / "real.db"
    res = run_curator("ingest", str(folder), "--trust", "--json", "--db", str(db), timeout=300)
    assert res.returncode == 0, res.stderr
    return db, json.loads(res.stdout)


def test_top_level_instantiated_factory_and_overloaded_kernels_are_stored_as_real(ingested):
    db, _ = ingested
    stored = {
        r[0]: r[1:] for r in rows(db, "SELECT name, origin, category, launch_dim, seed, generator_version FROM kernels")
    }
    assert set(stored) == {
        "scatter_add",
        "rotate",
        "particle_weight",
        "in_class",
        "scale",
        "generic_sum",
        "cuda_only",
        "lane_ids",
    }
    assert {v[0] for v in stored.values()} == {"real"}
    assert stored["scatter_add"][1] == "atomic"
    assert stored["rotate"][1:3] == ("matrix", 2)
    assert stored["in_class"][1] == "bitwise"
    assert all(v[3] is None and v[4] is None for v in stored.values())  # no seed, no generator


def test_stored_kernels_have_code_for_both_devices_where_warp_can_make_it(ingested):
    db, report = ingested
    per_kernel = dict(
        rows(
            db,
            "SELECT k.name, group_concat(a.device) FROM kernels k JOIN artifacts a ON a.kernel_id = k.id GROUP BY k.id",
        )
    )
    assert len(per_kernel) == 8
    assert sorted(per_kernel.pop("cuda_only").split(",")) == ["cuda"]  # the CPU backend refuses its ABI
    assert sorted(per_kernel.pop("lane_ids").split(",")) == ["cuda"]  # PTX assembly: no CPU can build it
    assert all(sorted(devs.split(",")) == ["cpu", "cuda"] for devs in per_kernel.values())
    assert report["stored"] == {"cpu": 6, "cuda": 8, "all": 6}
    (forward,) = rows(
        db,
        "SELECT a.forward FROM artifacts a JOIN kernels k ON k.id = a.kernel_id"
        " WHERE k.name = 'scatter_add' AND a.device = 'cuda'",
    )[0]
    assert "atomic_add" in forward


def test_provenance_records_file_line_and_factory_or_overload(ingested):
    db, _ = ingested
    prov = {name: json.loads(p) for name, p in rows(db, "SELECT name, provenance FROM kernels")}
    assert prov["rotate"]["file"] == "basic.py"
    line = prov["rotate"]["line"]
    assert (FIXTURES / "kernels" / "basic.py").read_text().splitlines()[line - 1] == "@wp.kernel"
    assert prov["in_class"]["qualname"] == "Holder.in_class"
    assert prov["scale"]["factory"] is True
    assert prov["generic_sum"]["overload"]
    assert "package" not in prov["rotate"]  # a loose file belongs to no installed package


def test_source_is_the_kernel_with_the_helpers_it_uses_and_its_id_is_its_hash(ingested):
    db, _ = ingested
    from curator.records import kernel_id

    kid, source = rows(db, "SELECT id, source FROM kernels WHERE name = 'particle_weight'")[0]
    assert kid == kernel_id(source)
    assert source.index("class Particle") < source.index("def weight") < source.index("def particle_weight")
    (plain,) = rows(db, "SELECT source FROM kernels WHERE name = 'scatter_add'")[0]
    assert plain.startswith("@wp.kernel\ndef scatter_add(") and "Particle" not in plain


def test_skips_and_import_failures_are_recorded_with_reasons(ingested):
    db, report = ingested
    fails = {
        (stage, exc, msg.split(":")[0]) for stage, exc, msg in rows(db, "SELECT stage, exc_type, message FROM failures")
    }
    assert fails == {
        ("ingest-skip", "factory-not-instantiated", "factory.py"),
        ("ingest-skip", "generic-without-overloads", "factory.py"),
        ("ingest-import", "ModuleNotFoundError", "needs_missing_dep.py"),
        ("ingest-import", "SyntaxError", "broken_syntax.py"),
        ("ingest-codegen", "WarpCodegenError", "cuda_only.py"),
        ("ingest-codegen", "PTXInlineAssembly", "ptx_native.py"),
    }
    assert report["skipped"] == {"factory-not-instantiated": 1, "generic-without-overloads": 1}
    assert report["import_failures"] == {"ModuleNotFoundError": 1, "SyntaxError": 1}
    (msg,) = rows(db, "SELECT message FROM failures WHERE exc_type = 'factory-not-instantiated'")[0]
    assert "make_unused.<locals>.never_made" in msg
    (msg,) = rows(db, "SELECT message FROM failures WHERE exc_type = 'WarpCodegenError'")[0]
    assert "cuda_only: cpu:" in msg
    (msg,) = rows(db, "SELECT message FROM failures WHERE exc_type = 'PTXInlineAssembly'")[0]
    assert "lane_ids: cpu: PTX inline assembly" in msg


@pytest.mark.slow  # three CLI runs; essential, kept in the default run
def test_rerun_adds_nothing_and_stats_counts_real_kernels(ingested, folder):
    db, _ = ingested
    before = rows(db, "SELECT COUNT(*) FROM kernels")[0][0], rows(db, "SELECT COUNT(*) FROM failures")[0][0]
    res = run_curator("ingest", str(folder), "--trust", "--json", "--db", str(db), timeout=300)
    assert res.returncode == 0, res.stderr
    again = json.loads(res.stdout)
    assert again["new_kernels"] == 0 and again["already_stored"] == 8
    after = rows(db, "SELECT COUNT(*) FROM kernels")[0][0], rows(db, "SELECT COUNT(*) FROM failures")[0][0]
    assert after == before
    stats = run_curator("stats", "--json", "--db", str(db))
    assert stats.returncode == 0, stats.stderr
    figures = json.loads(stats.stdout)
    assert figures["kernels"] == 8
    assert figures["devices"]["cpu"]["kernels"] == 6 and figures["devices"]["cuda"]["kernels"] == 8
    per_category = figures["categories"].values()  # every stored kernel is an ingested one, told apart
    assert sum(c["real"] for c in per_category) == 8 and sum(c["synthetic"] for c in per_category) == 0
    assert run_curator("stats", "--db", str(db)).returncode == 0


@pytest.mark.slow  # waits out a timeout and respawns the worker twice; essential, kept in the default run
def test_a_hanging_and_a_crashing_module_do_not_stop_the_run(tmp_path):
    db = tmp_path / "hostile.db"
    res = run_curator(
        "ingest", str(FIXTURES / "hostile"), "--trust", "--timeout", "3", "--json", "--db", str(db), timeout=300
    )
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["import_failures"] == {"Timeout": 1, "WorkerCrash": 1}
    assert rows(db, "SELECT name FROM kernels") == [("survivor",)]
    fails = dict(rows(db, "SELECT exc_type, message FROM failures"))
    assert fails["Timeout"].startswith("hangs.py:") and fails["WorkerCrash"].startswith("crashes.py:")


def test_paths_outside_installed_packages_need_trust_and_leave_no_store(tmp_path):
    db = tmp_path / "none.db"
    res = run_curator("ingest", str(FIXTURES / "kernels"), "--db", str(db))
    assert res.returncode == 2
    assert "--trust" in res.stderr and "Traceback" not in res.stderr
    assert not db.exists()


def test_no_path_and_no_package_is_a_usage_error(tmp_path):
    res = run_curator("ingest", "--db", str(tmp_path / "x.db"))
    assert res.returncode == 2 and "PATH" in res.stderr


SLOW = """import os
import time

import warp as wp

_started = time.time()
time.sleep(3.0)


@wp.kernel
def slow_{i}(a: wp.array(dtype=float)):
    i = wp.tid()
    a[i] = a[i] * {i}.0 + 1.0


with open(os.path.join(os.path.dirname(__file__), "imports.log"), "a") as _log:
    _log.write(f"{{os.getpid()}} {{_started}} {{time.time()}}\\n")
"""


def test_workers_import_modules_at_once_and_store_what_one_worker_stores(tmp_path, folder):
    slow = tmp_path / "slow"  # modules that take 3 s to import and log when, and in which process
    slow.mkdir()
    for i in range(3):
        (slow / f"slow_{i}.py").write_text(SLOW.format(i=i))
    res = run_curator("ingest", str(slow), "--trust", "--workers", "3", "--db", str(tmp_path / "s.db"), timeout=300)
    assert res.returncode == 0, res.stderr
    spans = [tuple(float(x) for x in line.split()) for line in (slow / "imports.log").read_text().splitlines()]
    assert len(spans) == 3 and len({pid for pid, _, _ in spans}) == 3  # three worker processes
    overlapping = [(a, b) for a in spans for b in spans if a < b and a[1] < b[2] and b[1] < a[2]]
    assert overlapping, spans  # at least two imported at the same time
    assert sorted(rows(tmp_path / "s.db", "SELECT name FROM kernels")) == [(f"slow_{i}",) for i in range(3)]

    # the fixture folder with one worker and with three: the same kernels, code, provenance and failures
    stores = {}
    for n in (1, 3):
        stores[n] = tmp_path / f"w{n}.db"
        res = run_curator("ingest", str(folder), "--trust", "--workers", str(n), "--db", str(stores[n]), timeout=300)
        assert res.returncode == 0, res.stderr
    queries = (
        "SELECT id, name, category, provenance FROM kernels ORDER BY id",
        "SELECT kernel_id, device, bytes FROM artifacts ORDER BY 1, 2",
        "SELECT kernel_id, stage, exc_type FROM failures ORDER BY 1, 2, 3",
    )
    for sql in queries:
        one, many = rows(stores[1], sql), rows(stores[3], sql)
        assert one and one == many, sql


def test_a_worker_stopped_from_another_thread_while_importing_ends_its_job_cleanly(tmp_path):
    """What Ctrl-C does: the run's main thread kills a worker whose thread is waiting on an
    import. The waiting thread must record the module as lost, not fail on handles the main
    thread cleared (CI once saw AttributeError: 'NoneType' object has no attribute 'close')."""
    import threading
    import time

    from curator.ingest import IngestError, _gather, _Worker
    from curator.ingest.discover import make_job

    job = make_job(FIXTURES / "hostile" / "hangs.py")
    for _ in range(3):  # the two threads' stops interleave differently from one try to the next
        worker = _Worker(("cpu",), set())
        proc = worker.ensure().process
        outcome: dict = {}

        def gather(w=worker, out=outcome):
            try:
                out["result"] = _gather(w, job, timeout=120)
            except BaseException as exc:  # what the test is about
                out["error"] = exc

        thread = threading.Thread(target=gather)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive() and proc.is_alive(), "the import ended before the stop"  # the stop lands mid-import
        worker.close(kill=True)
        thread.join(60)
        assert not thread.is_alive()
        assert "error" not in outcome, repr(outcome.get("error"))
        (failure,) = outcome["result"].failures
        assert failure.exc_type == "WorkerCrash" and failure.message.startswith("hangs.py:")
        assert not proc.is_alive() and worker.worker is None
        with pytest.raises(IngestError, match="stopping"):
            worker.ensure()  # a closed worker never starts another process
