"""One exported record per kernel and device (or per kernel for the paired config): fixed keys,
fixed types, null when absent; its JSONL encoding is what counts toward ``--target-mb``."""

from __future__ import annotations

import json

# The keys of every line, in order, with what they hold; they follow
# curator.store.exports.EXPORT_COLUMNS.
FIELDS = (
    ("id", "content hash of the Python source (string)"),
    ("name", "the `@wp.kernel` function's name"),
    ("category", "the generator category"),
    ("device", "`cpu` or `cuda`"),
    ("source", "the Python module: the `@wp.kernel` and any `@wp.func`/`@wp.struct` it uses"),
    ("structs", "generated code of the structs the kernel uses (empty string when none)"),
    ("functions", "generated code of the `@wp.func` it calls, forward and adjoint"),
    ("args", "the kernel's argument struct (CPU; empty for CUDA)"),
    ("forward", "the generated forward kernel"),
    ("backward", "the generated backward (adjoint) kernel"),
    ("entry", "the CPU entry points (empty for CUDA, whose kernels are `__global__`)"),
    ("launch_dim", "launch dimensionality (int)"),
    ("kernel_args", "`[[name, annotation], ...]` of the kernel's parameters, or null"),
    ("skeleton_hash", "hash of the normalised source: equal for renamed or re-constanted clones"),
    ("origin", "`synthetic` (generated) or `real` (ingested from existing code)"),
    ("provenance", "JSON text: file, line, package, license of a real kernel; null for synthetic ones"),
    ("seed", "the generator seed of a synthetic kernel (int), else null"),
    ("run_seed", "the `--seed` of the `curator generate` run that made it (int), else null"),
    ("generator_version", "version of curator's kernel generator, else null"),
    ("warp_version", "the Warp version whose code generator produced the code"),
    # verification (curator verify): see docs/verification.md
    ("compiled", "this device's code compiled with Warp's compiler (bool), null if never compiled"),
    ("ran", "`ran` / `not-runnable` / a failure when launched on this device (CPU), null if not launched"),
    ("grad_check", "`pass` / `fail` / `not-differentiable`: the adjoint check on this device, null if not run"),
)
KEYS = tuple(k for k, _ in FIELDS)
STRING_KEYS = frozenset(KEYS) - {"launch_dim", "kernel_args", "seed", "run_seed", "compiled"}
# The type of each non-string key: what the card's features and the Parquet schema declare.
TYPES = {
    "launch_dim": "int64",
    "kernel_args": "string_list_list",
    "seed": "int64",
    "run_seed": "int64",
    "compiled": "bool",
}

# The code pieces of one device (the order of curator.records.PIECES).
_PIECE_KEYS = ("structs", "functions", "args", "forward", "backward", "entry")
_CHECK_KEYS = ("compiled", "ran", "grad_check")
# The `paired` config: one record per kernel with the Python, every CPU and CUDA piece and each
# device's verification fields.
_SHARED = (
    "id",
    "name",
    "category",
    "source",
    "launch_dim",
    "kernel_args",
    "skeleton_hash",
    "origin",
    "provenance",
    "seed",
    "run_seed",
    "generator_version",
    "warp_version",
)
PAIRED_FIELDS = tuple(
    [(k, doc) for k, doc in FIELDS if k in _SHARED]
    + [(f"{d}_{p}", f"{doc} ({d.upper()})") for d in ("cpu", "cuda") for p, doc in FIELDS if p in _PIECE_KEYS]
    + [(f"{d}_{p}", f"{doc} ({d.upper()})") for d in ("cpu", "cuda") for p, doc in FIELDS if p in _CHECK_KEYS]
)
PAIRED_KEYS = tuple(k for k, _ in PAIRED_FIELDS)


def type_of(key: str) -> str:
    """``string``, ``int64``, ``bool`` or ``string_list_list`` (paired keys share their base key's type)."""
    base = key.split("_", 1)[1] if key.startswith(("cpu_", "cuda_")) else key
    return TYPES.get(base, "string")


def record(row: tuple) -> dict:
    """The line's object from a store row (curator.store.exports.EXPORT_COLUMNS)."""
    rec = dict(zip(KEYS, row, strict=True))
    args = rec["kernel_args"]
    rec["kernel_args"] = [[str(x) for x in pair] for pair in json.loads(args)] if args is not None else None
    rec["compiled"] = bool(rec["compiled"]) if rec["compiled"] is not None else None
    return rec


def paired_record(cpu: dict, cuda: dict) -> dict:
    """The paired record of one kernel from its CPU and CUDA records (same id)."""
    if cpu["id"] != cuda["id"]:
        raise ValueError(f"pairing {cpu['id']} with {cuda['id']}")
    rec = {k: cpu[k] for k in _SHARED}
    if cpu["warp_version"] != cuda["warp_version"]:
        rec["warp_version"] = f"{cpu['warp_version']} (cpu), {cuda['warp_version']} (cuda)"
    for d, r in (("cpu", cpu), ("cuda", cuda)):
        rec.update({f"{d}_{p}": r[p] for p in (*_PIECE_KEYS, *_CHECK_KEYS)})
    return {k: rec[k] for k in PAIRED_KEYS}


# Line breaks other than \n that JSON leaves raw but str.splitlines() and some readers split on.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def encode(rec: dict) -> bytes:
    """One UTF-8 JSON line (newline included) that every line splitter sees as one line.  Valid
    JSON whatever the text holds: a string that cannot be UTF-8 (a lone surrogate) makes the
    line fall back to ASCII escapes."""
    text = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
    if "\x85" in text or "\u2028" in text or "\u2029" in text:  # rare: a plain search first
        text = text.translate(_LINE_BREAKS)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(rec, separators=(",", ":")) + "\n").encode("ascii")
