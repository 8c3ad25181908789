"""Faults and concurrency: a full disk, a read-only store, two writers, labels written while
generate runs, and kills of export.  Whatever happens, nothing committed is lost."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curator.store import Store
from tests.conftest import run_curator


def complete_kernels(db: Path) -> int:
    with Store.open(db, readonly=True) as s:
        assert s.integrity_check() == "ok"
        bad = s.conn.execute(
            "SELECT COUNT(*) FROM kernels k WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.kernel_id = k.id)"
        ).fetchone()[0]
        assert bad == 0
        return s.count_kernels()


@pytest.fixture
def tiny_fs(tmp_path, request):
    """A small tmpfs made by the test (6 MiB, or the size a `tmpfs_size` mark gives; needs
    root, skipped otherwise)."""
    mark = request.node.get_closest_marker("tmpfs_size")
    size = mark.args[0] if mark else "6m"
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    cmd = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)]
    if subprocess.run(cmd, capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (not root)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_disk_full_during_generate_keeps_what_was_committed(tiny_fs):
    db = tiny_fs / "s.db"
    assert run_curator("generate", "--count", "6", "--seed", "2", "--workers", "1", "--db", str(db)).returncode == 0
    with Store.open(db) as s:
        first = s.conn.execute("SELECT id FROM kernels ORDER BY id LIMIT 1").fetchone()[0]
        s.set_review(first, "accepted", note="checked by hand")
    res = run_curator("generate", "--count", "2000", "--seed", "2", "--workers", "1", "--db", str(db))
    assert res.returncode == 1
    assert "full" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    n = complete_kernels(db)
    assert n > 6
    with Store.open(db) as s:  # still opens writable once space is back
        assert s.review_of(first)["status"] == "accepted"
    # the same command resumes once there is room again
    bigger = tiny_fs.parent / "big"
    bigger.mkdir()
    for f in tiny_fs.glob("s.db*"):  # the database with its WAL: committed pages live there too
        shutil.copy(f, bigger / f.name)
    # (a reader on the full disk may see only the checkpointed part; never less than that)
    n = complete_kernels(bigger / "s.db")
    res = run_curator("generate", "--count", str(n + 4), "--seed", "2", "--workers", "1", "--db", str(bigger / "s.db"))
    assert res.returncode == 0, res.stderr
    assert complete_kernels(bigger / "s.db") == n + 4


@pytest.mark.tmpfs_size("600k")
def test_export_to_full_disk_leaves_no_partial_file(small_store, tiny_fs):
    out = tiny_fs / "exports"
    res = run_curator("export", "--target-mb", "3", "--db", str(small_store), "--out", str(out), "--allow-short")
    assert res.returncode == 1
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    leftovers = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert leftovers == []


@pytest.mark.tmpfs_size("64m")
def test_read_only_store(small_store, tiny_fs):
    db = tiny_fs / "ro.db"
    shutil.copy(small_store, db)
    before = db.read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    res = run_curator("generate", "--count", "70", "--seed", "7", "--db", str(db))
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "read-only" in res.stderr or "readonly" in res.stderr or "not writable" in res.stderr
    res = run_curator("stats", "--json", "--db", str(db))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["kernels"] == 60
    assert db.read_bytes() == before


def test_two_generates_on_one_store_both_progress(tmp_path):
    db = tmp_path / "two.db"
    assert run_curator("generate", "--count", "2", "--seed", "1", "--workers", "1", "--db", str(db)).returncode == 0
    cmds = [
        [sys.executable, "-m", "curator", "generate", "--count", "40", "--seed", str(seed), "--workers", "1",
         "--db", str(db)]
        for seed in (1, 1, 2)
    ]  # fmt: skip
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in cmds]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1] for o in outs]
    assert complete_kernels(db) == 80  # seed 1 twice at once: the same 40 kernels, stored once
    with Store.open(db, readonly=True) as s:
        assert s.conn.execute("SELECT COUNT(*) - COUNT(DISTINCT source) FROM kernels").fetchone()[0] == 0


def test_labels_written_while_generate_runs_are_kept(tmp_path):
    db = tmp_path / "l.db"
    assert run_curator("generate", "--count", "20", "--seed", "4", "--workers", "1", "--db", str(db)).returncode == 0
    with Store.open(db, readonly=True) as s:
        ids = [r[0] for r in s.conn.execute("SELECT id FROM kernels ORDER BY id")]
    cmd = [sys.executable, "-m", "curator", "generate", "--count", "200", "--seed", "4", "--workers", "2",
           "--db", str(db)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rng = random.Random(3)
    written = {}
    with Store.open(db) as s:  # as the TUI does: its own connection, a write per key press
        for i, kid in enumerate(ids * 3):
            status = rng.choice(["accepted", "rejected", "flagged", None])
            s.set_review(kid, status, note=f"note {i}")
            written[kid] = (status, f"note {i}")
            time.sleep(0.05)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    with Store.open(db, readonly=True) as s:
        for kid, (status, note) in written.items():
            r = s.review_of(kid)
            assert (r["status"], r["note"]) == (status, note)
        assert len(s.review_events(ids[0])) == 3
    assert complete_kernels(db) == 200


def test_sigkill_export_never_leaves_a_partial_file(small_store, tmp_path):
    ref = tmp_path / "ref"
    args = ["export", "--target-mb", "1", "--db", str(small_store), "--allow-short"]
    assert run_curator(*args, "--out", str(ref)).returncode == 0
    digests = {p.relative_to(ref): p.read_bytes() for p in ref.rglob("*.jsonl")}
    rng = random.Random(9)
    for attempt in range(8):
        out = tmp_path / f"o{attempt}"
        cmd = [sys.executable, "-m", "curator", *args, "--out", str(out)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(0.5, 2.5))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for rel, data in digests.items():  # under its final name a file is complete or absent
            if (out / rel).exists():
                assert (out / rel).read_bytes() == data
    assert run_curator(*args, "--out", str(out)).returncode == 0
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*.jsonl")} == digests
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]


def test_sigkill_verify_then_resume(small_store, tmp_path):
    db = tmp_path / "v.db"
    shutil.copy(small_store, db)
    cmd = [sys.executable, "-m", "curator", "verify", "--sample", "0.2", "--seed", "3", "--workers", "1",
           "--db", str(db)]  # fmt: skip
    rng = random.Random(5)
    seen = []
    for _ in range(4):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(1.0, 6.0))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        with Store.open(db, readonly=True) as s:
            assert s.integrity_check() == "ok"
            seen.append(s.conn.execute("SELECT COUNT(*) FROM verifications").fetchone()[0])
    assert seen == sorted(seen)  # finished batches are never lost
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    from curator.verify import sample

    with Store.open(db, readonly=True) as s:
        expected = set(sample([r[0] for r in s.conn.execute("SELECT id FROM kernels")], 0.2, 3))
        rows = s.conn.execute("SELECT kernel_id, device FROM verifications").fetchall()
    assert len(rows) == len(set(rows)) == 2 * len(expected)
    assert {k for k, _ in rows} == expected
