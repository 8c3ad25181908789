"""Shared fixtures: small real stores made through the real pipeline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A suite started in the background without job control (`make test &`, a CI runner) inherits
# SIGINT ignored, and so would every `curator` it starts: the Ctrl-C tests would then interrupt
# nothing.  A handler here (not an ignore) makes the children start with SIGINT at its default.
signal.signal(signal.SIGINT, signal.default_int_handler)


def run_curator(*args: str, cwd: Path | None = None, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    """Run the real `curator` command line in a subprocess (as a user would)."""
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "curator", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


@pytest.fixture(scope="session")
def small_store(tmp_path_factory) -> Path:
    """A store with 60 generated kernels (3 per category), both devices; do not modify it."""
    db = tmp_path_factory.mktemp("small") / "small.db"
    res = run_curator("generate", "--device", "all", "--count", "60", "--seed", "7", "--workers", "2", "--db", str(db))
    assert res.returncode == 0, res.stderr
    return db


# The documented record of an exported line (README, dataset card): every key, in order, with
# its JSON type(s).  Written out here, not taken from curator, so a dropped, renamed, reordered
# or retyped field fails.
EXPORT_SCHEMA = {
    "id": (str,),
    "name": (str,),
    "category": (str,),
    "device": (str,),
    "source": (str,),
    "structs": (str,),
    "functions": (str,),
    "args": (str,),
    "forward": (str,),
    "backward": (str,),
    "entry": (str,),
    "launch_dim": (int,),
    "kernel_args": (list, type(None)),
    "skeleton_hash": (str,),
    "origin": (str,),
    "provenance": (str, type(None)),
    "seed": (int, type(None)),
    "run_seed": (int, type(None)),
    "generator_version": (str, type(None)),
    "warp_version": (str,),
    "compiled": (bool, type(None)),
    "ran": (str, type(None)),
    "grad_check": (str, type(None)),
}


def assert_export_schema(row: dict) -> None:
    assert list(row) == list(EXPORT_SCHEMA)
    for key, types in EXPORT_SCHEMA.items():
        assert isinstance(row[key], types), (key, row[key])
        assert bool in types or not isinstance(row[key], bool), (key, row[key])


class NobodyDir(type(Path())):
    owner_ids: tuple[int, int]


@pytest.fixture
def nobody_dir():
    """A folder owned by the unprivileged user `nobody` (the suite runs as root), for checks that
    only mean something without root's rights (read-only folders and files)."""
    import pwd
    import shutil
    import tempfile

    user = pwd.getpwnam("nobody")
    path = NobodyDir(tempfile.mkdtemp(prefix="curator-nobody-"))
    path.owner_ids = (user.pw_uid, user.pw_gid)
    os.chmod(path, 0o755)
    os.chown(path, *path.owner_ids)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run_as_nobody(*args: str, home: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """``run_curator`` as the user `nobody` (setpriv drops root's uid, gid and groups)."""
    drop = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [*drop, sys.executable, "-m", "curator", *args],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def in_documented_sample(kernel_id: str, fraction: float, seed: int) -> bool:
    """The sample `--sample F --seed S` picks: a hash of seed and id (blake2b, 8 bytes) below F of
    its range, stable across runs; written out here so tests do not take the code's word for it."""
    import hashlib

    digest = hashlib.blake2b(f"{seed}:{kernel_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < fraction * 2**64
