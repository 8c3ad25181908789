"""Faults and concurrency: a full disk, a read-only store, two writers, labels written while
generate runs, and kills of export.  Whatever happens, nothing committed is lost."""

from __future__ import annotations

import contextlib
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
from tests.conftest import in_documented_sample, run_curator


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
    """A small tmpfs made by the test (6 MiB, or the size a `tmpfs_size` mark gives).  Mounting
    needs root: the suite runs as root (here and in CI), so failing to mount is an error."""
    mark = request.node.get_closest_marker("tmpfs_size")
    size = mark.args[0] if mark else "6m"
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    cmd = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, f"cannot mount a tmpfs (the fault tests run as root): {res.stderr}"
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
    res = run_curator("stats", "--coverage", "--json", "--db", str(db))  # measures every kernel, keeps nothing
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["kernels"] == 60
    assert db.read_bytes() == before


def test_two_generates_on_one_store_both_progress(tmp_path):
    db = tmp_path / "two.db"
    assert run_curator("generate", "--count", "2", "--seed", "1", "--workers", "1", "--db", str(db)).returncode == 0
    cmds = [
        [
            sys.executable,
            "-m",
            "curator",
            "generate",
            "--count",
            "40",
            "--seed",
            str(seed),
            "--workers",
            "1",
            "--db",
            str(db),
        ]
        for seed in (1, 1, 2)
    ]
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in cmds]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1] for o in outs]
    assert complete_kernels(db) == 80  # seed 1 twice at once: the same 40 kernels, stored once
    with Store.open(db, readonly=True) as s:
        assert s.conn.execute("SELECT COUNT(*) - COUNT(DISTINCT source) FROM kernels").fetchone()[0] == 0


def _wait_for(predicate, deadline: float, proc=None) -> bool:
    """Poll ``predicate`` until it holds (True), ``proc`` ends or the deadline passes (False)."""
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def _kernel_times(db: Path, after: str) -> list[str]:
    with Store.open(db, readonly=True) as s:
        rows = s.conn.execute("SELECT created_at FROM kernels WHERE created_at > ? ORDER BY 1", (after,))
        return [r[0] for r in rows]


def test_labels_written_while_generate_runs_are_kept(tmp_path):
    """Labels are written only once generate has committed a batch, and until it ends; the
    store's timestamps show generate committing kernels between the first and last label."""
    db = tmp_path / "l.db"
    assert run_curator("generate", "--count", "20", "--seed", "4", "--workers", "1", "--db", str(db)).returncode == 0
    with Store.open(db, readonly=True) as s:
        ids = [r[0] for r in s.conn.execute("SELECT id FROM kernels ORDER BY id")]
        seeded = s.conn.execute("SELECT MAX(created_at) FROM kernels").fetchone()[0]
    cmd = [
        sys.executable,
        "-m",
        "curator",
        "generate",
        "--count",
        "200",
        "--seed",
        "4",
        "--workers",
        "2",
        "--db",
        str(db),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert _wait_for(lambda: len(_kernel_times(db, seeded)) > 0, time.monotonic() + 120, proc), "no commit seen"
    rng = random.Random(3)
    written: dict[str, list] = {}
    with Store.open(db) as s:  # as the TUI does: its own connection, a write per key press
        i = 0
        while proc.poll() is None and i < 2000:
            kid = ids[i % len(ids)]
            status = rng.choice(["accepted", "rejected", "flagged", None])
            s.set_review(kid, status, note=f"note {i}")
            written.setdefault(kid, []).append((status, f"note {i}"))
            i += 1
            time.sleep(0.02)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert written, "generate ended before a label was written"
    with Store.open(db, readonly=True) as s:
        for kid, history in written.items():
            r = s.review_of(kid)
            assert (r["status"], r["note"]) == history[-1]
            assert [(e["status"], e["note"]) for e in s.review_events(kid)] == history
        first, last = s.conn.execute("SELECT MIN(at), MAX(at) FROM review_events").fetchone()
    made = _kernel_times(db, seeded)
    assert len(made) == 180
    assert [t for t in made if first < t < last], "no kernel was committed while labels were written"
    assert made[-1] > first  # generate was still committing after the first label
    assert complete_kernels(db) == 200


# `curator export` with every line's encoding slowed down (the harness, not the code under test,
# is patched), so that a kill can be timed to land while the files are being written.
SLOW_EXPORT = (
    "import dataclasses, time\n"
    "from curator.export import formats\n"
    "fmt = formats.FORMATS['jsonl']\n"
    "slow = lambda rec, real=fmt.encode: (time.sleep(0.01), real(rec))[1]\n"
    "formats.FORMATS['jsonl'] = dataclasses.replace(fmt, encode=slow)\n"
    "from curator.cli import main\n"
    "main(prog_name='curator')\n"
)


def _staged(out: Path, device: str) -> list[Path]:
    folder = out / device
    return list(folder.glob(f".warp_kernels_{device}.jsonl.*.tmp")) if folder.is_dir() else []


def test_sigkill_export_never_leaves_a_partial_file(small_store, tmp_path):
    """Each kill lands while a data file is being staged (its temporary file exists and the run
    is alive, both asserted); the previous export in the folder survives intact, and a rerun
    writes the same files as an export never interrupted."""
    args = ["export", "--target-mb", "1", "--db", str(small_store), "--allow-short"]
    ref = tmp_path / "ref"
    assert run_curator(*args, "--out", str(ref)).returncode == 0
    new = {p.relative_to(ref): p.read_bytes() for p in ref.rglob("*.jsonl")}
    out = tmp_path / "out"
    assert run_curator(*args, "--seed", "5", "--out", str(out)).returncode == 0
    old = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert {k: v for k, v in old.items() if k in new} != new  # the older export differs
    rng = random.Random(9)
    for attempt in range(4):
        device = ("cpu", "cuda")[attempt % 2]  # mid-way through the first or the second file
        cmd = [sys.executable, "-c", SLOW_EXPORT, *args, "--out", str(out)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        staged = _wait_for(lambda d=device: _staged(out, d), time.monotonic() + 60, proc)
        time.sleep(rng.uniform(0.0, 0.3))
        alive = proc.poll() is None
        with contextlib.suppress(ProcessLookupError):  # ended already: the assert below says so
            os.killpg(proc.pid, signal.SIGKILL)
        err = proc.communicate()[1]
        assert staged and alive, (attempt, err)  # the kill hit an export that was writing
        assert _staged(out, device)  # its temporary file is still there: killed before the move
        after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and ".tmp" not in p.name}
        assert after == old  # nothing under a final name changed
    # a different release is there (seed 5): replacing it needs --force (curator/export/release.py)
    assert run_curator(*args, "--out", str(out)).returncode == 1
    assert run_curator(*args, "--force", "--out", str(out)).returncode == 0
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*.jsonl")} == new
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]


def _verified(db: Path) -> int:
    with Store.open(db, readonly=True) as s:
        return s.conn.execute("SELECT COUNT(*) FROM verifications").fetchone()[0]


def test_sigkill_verify_then_resume(small_store, tmp_path):
    """Each kill lands after the run committed a batch beyond what was stored and before it
    finished (both asserted); the resumed run ends with exactly the documented sample."""
    db = tmp_path / "v.db"
    shutil.copy(small_store, db)
    with Store.open(db, readonly=True) as s:
        ids = [r[0] for r in s.conn.execute("SELECT id FROM kernels")]
    expected = {(k, "cpu") for k in ids if in_documented_sample(k, 0.2, 3)}
    assert 3 * 2 < len(expected) < len(ids)  # more than two batches of 3, and a real sample
    cmd = [
        sys.executable,
        "-m",
        "curator",
        "verify",
        "--device",
        "cpu",
        "--sample",
        "0.2",
        "--seed",
        "3",
        "--workers",
        "1",
        "--batch-size",
        "3",
        "--db",
        str(db),
    ]
    seen = [0]
    for _ in range(2):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        committed = _wait_for(lambda: _verified(db) > seen[-1], time.monotonic() + 120, proc)
        alive = proc.poll() is None
        with contextlib.suppress(ProcessLookupError):  # ended already: the assert below says so
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert committed and alive  # a batch was committed, and the run had not finished
        seen.append(_verified(db))
        assert seen[-2] < seen[-1] < len(expected)
        with Store.open(db, readonly=True) as s:
            assert s.integrity_check() == "ok"
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    with Store.open(db, readonly=True) as s:
        rows = s.conn.execute("SELECT kernel_id, device FROM verifications").fetchall()
    assert len(rows) == len(set(rows)) and set(rows) == expected
