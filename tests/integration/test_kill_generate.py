"""SIGKILL `curator generate` at random moments: the store stays sound, a rerun completes."""

import os
import random
import signal
import subprocess
import sys
import time

from curator.store import Store, StoreError

KILLS = int(os.environ.get("CURATOR_KILLS", "8"))
COUNT = 600


def check_store(db, devices=("cpu", "cuda")):
    with Store.open(db, readonly=True) as s:
        assert s.integrity_check() == "ok"
        # every kernel complete: all its artifacts present, or the kernel absent
        incomplete = s.conn.execute(
            "SELECT COUNT(*) FROM kernels k WHERE (SELECT COUNT(*) FROM artifacts a WHERE a.kernel_id = k.id) != ?",
            (len(devices),),
        ).fetchone()[0]
        assert incomplete == 0
        orphans = s.conn.execute(
            "SELECT COUNT(*) FROM artifacts a LEFT JOIN kernels k ON k.id = a.kernel_id WHERE k.id IS NULL"
        ).fetchone()[0]
        assert orphans == 0
        dup = s.conn.execute("SELECT COUNT(*) - COUNT(DISTINCT source) FROM kernels").fetchone()[0]
        assert dup == 0
        return s.count_kernels()


def _stored(db) -> int:
    if not db.exists():
        return 0
    try:
        with Store.open(db, readonly=True) as s:
            return s.count_kernels()
    except StoreError:  # the first run may not have made the schema yet
        return 0


def _kill_after_next_commit(cmd, db, before: int, rng: random.Random, deadline: float) -> bool:
    """Start ``cmd``, wait until it has committed a batch beyond ``before`` (polling the store),
    then SIGKILL it and its workers a random moment later.  True if the kill hit a running command."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while proc.poll() is None and _stored(db) <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.4))  # land anywhere in the next batches, mid-write or not
        running = proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the command and its workers
        proc.wait()
    return running


def test_sigkill_generate_repeatedly_then_resume(tmp_path):
    """Each kill lands after the run committed a batch and before it finished (both asserted),
    so every kill really interrupts a writing run; committed kernels are never lost."""
    db = tmp_path / "k.db"
    rng = random.Random(1234)
    cmd = [
        sys.executable,
        "-m",
        "curator",
        "generate",
        "--count",
        str(COUNT),
        "--seed",
        "11",
        "--workers",
        "2",
        "--db",
        str(db),
    ]
    counts = [0]
    deadline = time.monotonic() + 300
    while len(counts) <= KILLS and time.monotonic() < deadline:
        if not _kill_after_next_commit(cmd, db, counts[-1], rng, deadline):
            break  # the run finished before the kill: no more mid-run kills to make
        counts.append(check_store(db))
        assert counts[-1] > counts[-2]  # the killed run had committed something new
        assert counts[-1] < COUNT  # ... and was killed before it finished
    assert len(counts) - 1 >= min(KILLS, 3), f"only {len(counts) - 1} kills landed mid-run: {counts}"
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert check_store(db) == COUNT
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert f"0 new kernels, 0 new artifacts, {COUNT} already stored" in res.stdout


def test_ctrl_c_exits_130_and_records_interrupted_run(tmp_path):
    db = tmp_path / "i.db"
    cmd = [
        sys.executable,
        "-m",
        "curator",
        "generate",
        "--count",
        "400",
        "--seed",
        "5",
        "--workers",
        "1",
        "--db",
        str(db),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while proc.poll() is None and not _stored(db) and time.monotonic() < deadline:
        time.sleep(0.05)  # wait until something is committed
    assert proc.poll() is None and _stored(db), "generate ended or committed nothing before Ctrl-C"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the group
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    n = check_store(db)
    assert 0 < n < 400
    with Store.open(db, readonly=True) as s:
        assert s.runs("generate")[-1]["status"] == "interrupted"
