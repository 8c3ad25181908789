"""`curator generate --ray` on a real local Ray cluster (separate processes on 127.0.0.1): the same
rows as a local run, an actor SIGKILLed mid-run, and the cluster going away mid-run; `ingest` and
`verify` (a compiler that crashes or hangs on a kernel) on the cluster."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_curator
from tests.integration import compiler_faults
from tests.integration.conftest import REFERENCE_ARGS, REFERENCE_COUNT, store_rows
from tests.integration.ray_cluster import ENV, LocalRayCluster, actor_pids

pytestmark = [pytest.mark.ray, pytest.mark.slow]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One 2-CPU cluster for the module, torn down (every process of it) at the end."""
    c = LocalRayCluster(tmp_path_factory.mktemp("r")).start()  # short: Ray's socket paths must fit 107 bytes
    try:
        yield c
    finally:
        c.stop()
        assert c.pids() == [], "Ray processes left running"


def ray_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "curator", *args], env=ENV, capture_output=True, text=True, timeout=600
    )


def ray_generate(address: str, db) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "curator", *REFERENCE_ARGS, "--ray", address, "--db", str(db)]
    return subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def committed(db) -> tuple[int, str | None]:
    """(kernels stored, status of the last generate run) as another reader sees them now."""
    if not db.exists():
        return 0, None
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        n = conn.execute("SELECT COUNT(*) FROM kernels").fetchone()[0]
        row = conn.execute("SELECT status FROM runs WHERE command = 'generate' ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:  # the schema is being created
        return 0, None
    finally:
        conn.close()
    return n, row[0] if row else None


def wait_for(predicate, proc, timeout=240.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before {what}: {proc.stderr.read()[-2000:]}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def check_sound(db) -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        dup = conn.execute("SELECT COUNT(*) - COUNT(DISTINCT source) FROM kernels").fetchone()[0]
        assert dup == 0
        half = conn.execute(
            "SELECT COUNT(*) FROM kernels k WHERE (SELECT COUNT(*) FROM artifacts a WHERE a.kernel_id = k.id) != 2"
        ).fetchone()[0]
        assert half == 0
    finally:
        conn.close()


def test_ray_run_equals_local_run_row_by_row(cluster, reference_store, tmp_path):
    db = tmp_path / "ray.db"
    res = ray_run(*REFERENCE_ARGS, "--ray", cluster.address, "--db", str(db))
    assert res.returncode == 0, res.stderr
    ray_kernels, ray_artifacts = store_rows(db)
    local_kernels, local_artifacts = store_rows(reference_store)
    assert len(local_kernels) == REFERENCE_COUNT
    assert ray_kernels == local_kernels  # ids, sources, signatures, provenance of the plan
    assert ray_artifacts == local_artifacts  # the generated code, piece by piece, byte for byte
    # a rerun on the cluster resumes: nothing new, nothing duplicated
    again = ray_run(*REFERENCE_ARGS, "--ray", cluster.address, "--db", str(db))
    assert again.returncode == 0, again.stderr
    assert store_rows(db) == (local_kernels, local_artifacts)


def _kill_an_actor_mid_run(address: str, db):
    """Start a run and SIGKILL one of its actors once a first batch committed: (the run, the
    victim's pid, what was committed at the kill), or None when the run ended before the kill
    could land (the actors were gone: a short run on a fast machine)."""
    proc = ray_generate(address, db)
    try:
        pids = actor_pids(address)
        while not pids and proc.poll() is None:
            pids = actor_pids(address)
        if not pids:  # the run ended before its actors could be seen
            proc.communicate(timeout=300)
            return None
        while committed(db)[0] == 0 and proc.poll() is None:
            time.sleep(0.05)
        if proc.poll() is not None:  # the run ended before a kill could land mid-run
            proc.communicate(timeout=300)
            return None
        victim = pids[0]
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            proc.communicate(timeout=300)
            return None
        return proc, victim, committed(db)
    except BaseException:
        proc.kill()
        proc.wait()
        raise


def test_actor_sigkilled_mid_run_batch_retried_elsewhere(cluster, reference_store, tmp_path):
    for attempt in range(3):
        db = tmp_path / f"killed{attempt}.db"
        landed = _kill_an_actor_mid_run(cluster.address, db)
        if landed is not None:
            break
    else:
        pytest.skip("the run ended before the kill could land, three times: no fault was injected")
    proc, victim, (stored_at_kill, status_at_kill) = landed
    try:
        # the kill landed mid-run: some batches committed, the run not finished
        assert 0 < stored_at_kill < REFERENCE_COUNT
        assert status_at_kill == "running"
        _out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    with pytest.raises(ProcessLookupError):
        os.kill(victim, 0)  # the actor really died
    check_sound(db)
    assert store_rows(db) == store_rows(reference_store)  # nothing lost, nothing twice
    assert committed(db) == (REFERENCE_COUNT, "done")


def test_cluster_gone_mid_run_one_line_error_then_local_resume(reference_store, tmp_path, tmp_path_factory):
    own = LocalRayCluster(tmp_path_factory.mktemp("r")).start()  # this test stops its cluster
    db = tmp_path / "lost.db"
    try:
        proc = ray_generate(own.address, db)
        try:
            wait_for(lambda: committed(db)[0] > 0, proc, what="a first batch to commit")
            assert proc.poll() is None  # the head goes away while the run is going on
            own.stop()
            _out, err = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        own.stop()
    assert own.pids() == []
    assert proc.returncode == 1
    assert "Traceback" not in err
    message = [ln for ln in err.splitlines() if ln.startswith("Error:")]
    assert len(message) == 1 and "Ray cluster" in message[0], err[-2000:]
    stored, status = committed(db)
    assert 0 < stored < REFERENCE_COUNT and status == "failed"
    check_sound(db)
    # the next run, locally, resumes to the same final store
    res = run_curator(*REFERENCE_ARGS, "--workers", "2", "--db", str(db))
    assert res.returncode == 0, res.stderr
    assert store_rows(db) == store_rows(reference_store)


def select(db, sql: str) -> list:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def failure_keys(db) -> list:
    return select(db, "SELECT kernel_id, stage, exc_type FROM failures ORDER BY 1, 2")


def test_ingest_on_ray_stores_what_a_local_ingest_stores(cluster, tmp_path):
    folder = tmp_path / "src"
    shutil.copytree(FIXTURES / "kernels", folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(FIXTURES / "hostile" / "crashes.py", folder)  # kills its actor: recorded, the run goes on
    local, remote = tmp_path / "local.db", tmp_path / "ray.db"
    res = run_curator("ingest", str(folder), "--trust", "--db", str(local))
    assert res.returncode == 0, res.stderr
    res = ray_run("ingest", str(folder), "--trust", "--ray", cluster.address, "--db", str(remote))
    assert res.returncode == 0, res.stderr
    kernels = store_rows(local)
    assert kernels[0] and store_rows(remote) == kernels
    assert ("WorkerCrash" in {f[2] for f in failure_keys(local)}) and failure_keys(remote) == failure_keys(local)


def test_verify_on_ray_records_what_a_local_verify_records(cluster, small_store, tmp_path):
    local, remote = tmp_path / "local.db", tmp_path / "ray.db"
    shutil.copy(small_store, local)
    shutil.copy(small_store, remote)
    args = ("verify", "--device", "cpu", "--sample", "0.06", "--seed", "3", "--workers", "1")  # 5 kernels, one compiler
    res = run_curator(*args, "--db", str(local))
    assert res.returncode == 0, res.stderr
    res = ray_run(*args, "--ray", cluster.address, "--db", str(remote))
    assert res.returncode == 0, res.stderr
    sql = "SELECT kernel_id, device, compiler, options, ok FROM verifications ORDER BY 1, 2"
    results = [select(db, sql) for db in (local, remote)]
    assert results[0] and results[1] == results[0]


# `curator verify` with the compilers of compiler_faults in its workers: the initializer carries
# them to the Ray actors (argv: the fault log, then the command line)
FAULTY_VERIFY = """
import sys
from curator.verify import compile as verify
from tests.integration import compiler_faults
verify._init_worker = compiler_faults.use(sys.argv[1])
from curator.cli import main
main(sys.argv[2:], prog_name="curator")
"""


def test_verify_on_ray_records_a_compiler_crash_and_a_hang_for_their_kernels(cluster, small_store, tmp_path):
    """Four kernels in batches of 2 on two actors: the compiler aborts on one kernel and never
    returns on another.  Each batch is bisected on the pool (its actor died or was killed past
    --compile-timeout, and replaced), the two kernels recorded as failed compiles, the others as
    passed, and the run ends as a local one does: exit 1 for the failed kernels, in one line."""
    db = tmp_path / "faults.db"
    shutil.copy(small_store, db)
    ids = [r[0] for r in select(db, "SELECT id FROM kernels ORDER BY id LIMIT 4")]
    crashes, hangs = ids[1], ids[3]  # batches [ids[0], crashes] and [ids[2], hangs]
    compiler_faults.plant(db, crashes, compiler_faults.ABORT_MARKER)
    compiler_faults.plant(db, hangs, compiler_faults.HANG_MARKER)
    listed = tmp_path / "ids.txt"
    listed.write_text("\n".join(ids) + "\n")
    log = tmp_path / "faults.log"
    args = [
        "verify",
        "--device",
        "cpu",
        "--ids-from",
        str(listed),
        "--batch-size",
        "2",
        "--compile-timeout",
        "8",
        "--ray",
        cluster.address,
        "--db",
        str(db),
    ]
    res = subprocess.run(
        [sys.executable, "-c", FAULTY_VERIFY, str(log), *args], env=ENV, capture_output=True, text=True, timeout=600
    )
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr[-3000:]
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("Error:")]
    assert errors == ["Error: 2 kernel(s) failed verification; see `curator verify --failures`"], res.stderr[-3000:]

    # the faults happened, in Ray actors (not here): each kernel's batch, then the kernel alone twice
    aborted, hung = compiler_faults.faulty_pids(log, "abort"), compiler_faults.faulty_pids(log, "hang")
    assert len(set(aborted)) == len(aborted) == 3 and len(set(hung)) == len(hung) == 3
    assert os.getpid() not in aborted + hung
    rows = {r[0]: r[1:] for r in select(db, "SELECT kernel_id, ok, diagnostics, ms FROM verifications")}
    assert set(rows) == set(ids)
    ok, diagnostics, ms = rows[crashes]
    assert ok == 0 and "the compiler crashed: the Ray actor process" in diagnostics and ms > 0
    ok, diagnostics, ms = rows[hangs]
    assert ok == 0 and "the compiler did not finish within 8 s" in diagnostics and ms >= 8000
    assert [rows[k][0] for k in ids if k not in (crashes, hangs)] == [1, 1]
    ((status, counts),) = select(db, "SELECT status, counts FROM runs WHERE command = 'verify'")
    counts = json.loads(counts)
    assert status == "done" and counts["hangs"] == 3 and counts["worker_deaths"] == 6
    assert (counts["devices"]["cpu"]["crashed"], counts["devices"]["cpu"]["hung"]) == (1, 1)


def test_verify_cluster_gone_mid_compile_one_line_error(small_store, tmp_path, tmp_path_factory):
    """The cluster goes away while an actor compiles (a compile that never returns, so the run is
    surely mid-batch): one line naming the cluster, no kernel blamed, the run marked failed."""
    own = LocalRayCluster(tmp_path_factory.mktemp("r")).start()  # this test stops its cluster
    db, log = tmp_path / "gone.db", tmp_path / "faults.log"
    shutil.copy(small_store, db)
    ids = [r[0] for r in select(db, "SELECT id FROM kernels ORDER BY id LIMIT 2")]
    compiler_faults.plant(db, ids[0], compiler_faults.HANG_MARKER)
    listed = tmp_path / "ids.txt"
    listed.write_text("\n".join(ids) + "\n")
    args = [
        "verify",
        "--device",
        "cpu",
        "--ids-from",
        str(listed),
        "--batch-size",
        "1",
        "--compile-timeout",
        "600",
        "--ray",
        own.address,
        "--db",
        str(db),
    ]
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", FAULTY_VERIFY, str(log), *args],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(lambda: compiler_faults.faulty_pids(log, "hang"), proc, what="the compile to hang")
            own.stop()
            _out, err = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        own.stop()
    assert own.pids() == []
    assert proc.returncode == 1 and "Traceback" not in err, err[-3000:]
    message = [ln for ln in err.splitlines() if ln.startswith("Error:")]
    assert len(message) == 1 and "Ray cluster" in message[0], err[-3000:]
    assert ids[0] not in {r[0] for r in select(db, "SELECT kernel_id FROM verifications")}
    assert select(db, "SELECT status FROM runs WHERE command = 'verify'") == [("failed",)]


POOL_KILL = """
import concurrent.futures, json, os, signal, sys, time
from curator.scale import ray_pool

def work(i):
    time.sleep(0.3)
    return i, os.getpid()

ray_pool.connect(sys.argv[1])
pool = ray_pool.RayPool(2)
futures = [pool.submit(work, i) for i in range(12)]
first = next(concurrent.futures.as_completed(futures))
victim = first.result()[1]
os.kill(victim, signal.SIGKILL)  # it holds its next batch(es): 2 in flight per actor, 11 waiting
results = [f.result(timeout=240) for f in futures]
pool.shutdown()
print(json.dumps({"ids": sorted(i for i, _ in results), "pids": sorted({p for _, p in results}),
                  "victim": victim, "deaths": pool.actor_deaths}))
"""


def test_pool_reruns_the_batches_of_a_killed_actor_on_another(cluster):
    res = subprocess.run(
        [sys.executable, "-c", POOL_KILL, cluster.address], env=ENV, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["deaths"] >= 1  # a batch was in flight on the killed actor: it failed there
    assert out["ids"] == list(range(12))  # ... and every batch still has its result, from a live actor
    assert out["victim"] in out["pids"]
    with pytest.raises(ProcessLookupError):
        os.kill(out["victim"], 0)


def test_driver_interrupted_then_killed_mid_run_rerun_on_ray_resumes_to_the_same_rows(
    cluster, reference_store, tmp_path
):
    """A prefix of the reference plan (--count 160): the same kernels as the reference's first 160."""
    db = tmp_path / "driver.db"
    args = [
        sys.executable,
        "-m",
        "curator",
        "generate",
        "--count",
        "160",
        "--device",
        "all",
        "--seed",
        "5",
        "--ray",
        cluster.address,
        "--db",
        str(db),
    ]
    for sig, status in ((signal.SIGINT, "interrupted"), (signal.SIGKILL, "running")):
        before = committed(db)[0]
        proc = subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda b=before: committed(db)[0] > b, proc, what="a batch to commit")
            proc.send_signal(sig)  # Ctrl-C, then a kill of the driver: its actors go with its Ray job
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stored, last = committed(db)
        assert before < stored < 160 and last == status  # stopped mid-run (a kill leaves no end recorded)
        if sig == signal.SIGINT:
            errors = [ln for ln in err.splitlines() if ln.startswith("Error:")]
            assert proc.returncode == 130 and "Traceback" not in err, err[-2000:]
            assert len(errors) == 1 and "generate interrupted" in errors[0]
        check_sound(db)
    res = ray_run(*args[3:])
    assert res.returncode == 0, res.stderr
    kernels, artifacts = store_rows(reference_store)
    first = {k[0] for k in kernels if k[7] < 160}  # run_index
    assert store_rows(db) == ([k for k in kernels if k[0] in first], [a for a in artifacts if a[0] in first])
    deadline = time.monotonic() + 60
    while actor_pids(cluster.address) and time.monotonic() < deadline:
        time.sleep(1)
    assert actor_pids(cluster.address) == []  # no actor outlives its driver
