"""`curator ingest` stores the same bytes for the same input, whatever the process's string-hash
seed and whatever its worker imported before."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_curator

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "ingest" / "numbering"
# Every stored column but the run's own (timestamps, timings, run and row ids).
STORED = {
    "kernels": "SELECT id, name, category, source, origin, provenance, seed, run_seed, run_index,"
    " generator_version, launch_dim, kernel_args, skeleton_hash, minhash FROM kernels ORDER BY id",
    "artifacts": "SELECT kernel_id, device, structs, functions, args, forward, backward, entry, bytes,"
    " warp_version FROM artifacts ORDER BY kernel_id, device",
    "failures": "SELECT kernel_id, category, seed, stage, exc_type, message, source FROM failures"
    " ORDER BY kernel_id, stage",
    "kernel_builtins": "SELECT kernel_id, warp_version, signatures FROM kernel_builtins ORDER BY 1, 2",
}


def _import_order(seed: str) -> list[str]:
    """The order models.py imports its models in under this hash seed."""
    code = "print(*{'particles', 'springs'})"  # models.MODELS
    env = os.environ | {"PYTHONHASHSEED": seed}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.split()


def _stored(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        return {table: conn.execute(sql).fetchall() for table, sql in STORED.items()}
    finally:
        conn.close()


def test_two_hash_seeds_store_the_same_bytes(tmp_path, monkeypatch):
    """particles.py and springs.py each define a @wp.func ``square``; models.py imports them in the
    order of a set, so the one imported second is Warp's second ``square`` of the process
    (``square_1``) under one hash seed and its first under another.  The stored code named
    helpers that way (a fresh-clone ingest of Warp stored ``scale_through_function`` of
    warp/tests/test_options.py with ``square_1`` once, ``square_0`` the next time); it now names
    them as a fresh process loading the kernel's stored source does."""
    seeds = [str(s) for s in range(20)]
    first = next(s for s in seeds if _import_order(s) != _import_order(seeds[0]))
    chosen = (seeds[0], first)
    assert _import_order(chosen[0]) == _import_order(chosen[1])[::-1]  # the fault's cause happens
    stored = []
    for seed in chosen:
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        db = tmp_path / f"h{seed}.db"
        res = run_curator("ingest", str(FOLDER), "--trust", "--workers", "1", "--db", str(db), timeout=300)
        assert res.returncode == 0, res.stderr
        stored.append(_stored(db))
    names = {row[0]: row[1] for row in stored[0]["kernels"]}
    assert sorted(names.values()) == ["clear", "kinetic_energy", "spring_energy"]
    assert len(stored[0]["artifacts"]) == 6  # both devices of each
    for table in STORED:
        assert stored[0][table] == stored[1][table], table
    for kid, device, _structs, functions, *_ in stored[0]["artifacts"]:
        if names[kid] != "clear":  # the kernel's only `square`: a fresh process's first
            assert "square_0(" in functions and "square_1" not in functions, (names[kid], device)
