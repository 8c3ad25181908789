"""What a kernel record is: devices and code pieces, content-hash ids, per-kernel seeds, the
record dataclasses the store writes, and building a signed record from generated artifacts.
Used alike by generate, ingest and the store; imports neither Warp nor SQL."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DEVICES: tuple[str, ...] = ("cpu", "cuda")
# Order in which the pieces make up a kernel's full code (as in Warp's module source).
PIECES: tuple[str, ...] = ("structs", "functions", "args", "forward", "backward", "entry")
MIB = 1 << 20  # sizes: 1 MiB = 1,048,576 bytes


def kernel_id(source: str) -> str:
    """Content-hash id of a kernel: equal sources are one kernel."""
    return hashlib.sha256(source.encode()).hexdigest()[:20]


def kernel_seed(run_seed: int, index: int) -> int:
    """The generator seed of the index-th kernel of a run: stable across processes."""
    digest = hashlib.blake2b(f"{run_seed}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


@dataclass
class KernelRecord:
    """A kernel ready to store: its Python source and its generated code per device."""

    id: str
    name: str
    category: str
    source: str
    skeleton_hash: str
    minhash: bytes | None
    artifacts: dict  # device -> {"pieces": {...}, "codegen_ms": float, "warp_version": str}
    seed: int | None = None
    run_seed: int | None = None
    run_index: int | None = None
    generator_version: str | None = None
    launch_dim: int = 1
    kernel_args: list | None = None
    origin: str = "synthetic"
    provenance: dict | None = None
    # visible Warp builtin signatures its build resolved (curator.warp.calls); None: not recorded
    builtin_signatures: list[str] | None = None


@dataclass
class FailureRecord:
    """A kernel (or file) that could not be turned into a pair, and why."""

    kernel_id: str
    category: str | None
    seed: int | None
    stage: str
    exc_type: str
    message: str
    source: str | None


def artifacts_of(arts: dict) -> dict:
    """The stored form of ``curator.warp.build.Artifact`` objects, by device."""
    return {
        d: {"pieces": a.pieces, "codegen_ms": a.codegen_ms, "warp_version": a.warp_version} for d, a in arts.items()
    }


def make_record(kid: str, name: str, category: str, source: str, arts: dict, **fields) -> KernelRecord:
    """A record from Warp's artifacts (``Artifact`` by device); ``fields`` are the provenance
    columns (seed, run_seed, generator_version, launch_dim, kernel_args, origin, ...).  Unsigned:
    ``curator.neardup.sign_record`` fills in its skeleton hash and MinHash signature."""
    record = KernelRecord(
        id=kid,
        name=name,
        category=category,
        source=source,
        skeleton_hash="",
        minhash=None,
        artifacts=artifacts_of(arts),
        **fields,
    )
    return record
