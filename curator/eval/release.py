"""Read the records of one config and split of a release (JSONL or Parquet folder) without
importing the export stage: the manifest says which file holds them."""

from __future__ import annotations

import json
from pathlib import Path

from curator.eval import EvalError
from curator.records import DEVICES, PIECES

RUN_FIELDS = ("id", "name", "category", "source", "launch_dim")  # what a kernel's launch needs


def manifest(release: Path) -> dict:
    path = Path(release) / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvalError(f"{release} holds no readable release manifest ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise EvalError(f"{path} is not a curator release manifest")
    return data


def data_file(release: Path, config: str, split: str) -> Path:
    """The file of ``config``'s ``split`` the manifest lists."""
    files = manifest(release)["files"]
    for rel in sorted(files):
        stem = Path(rel).stem
        if rel.startswith(f"{config}/") and stem in (f"warp_kernels_{config}_{split}", f"warp_kernels_{config}"):
            if stem == f"warp_kernels_{config}" and split != "train":
                continue
            return Path(release) / rel
    raise EvalError(f"{release} has no {config}/{split} data file (the manifest lists {len(files)} files)")


def read_records(release: Path, config: str, split: str, device: str | None = None) -> list[dict]:
    """The records of ``config``/``split``, each with its kernel's launch fields and ``pieces`` (the
    stored code of ``device``; a ``paired`` record holds both devices' pieces, ``cpu_forward``...)."""
    path = data_file(release, config, split)
    device = device or (config if config in DEVICES else "cpu")
    if device not in DEVICES:
        raise EvalError(f"unknown device {device!r} (one of {', '.join(DEVICES)})")
    rows = _read_parquet(path) if path.suffix == ".parquet" else _read_jsonl(path)
    prefix = "" if config in DEVICES else f"{device}_"
    out = []
    for row in rows:
        pieces = {p: row.get(f"{prefix}{p}") or "" for p in PIECES}
        if not pieces["forward"]:
            continue  # no code for this device
        ran = row.get(f"{prefix}ran") if prefix else row.get("ran")
        out.append({**{k: row.get(k) for k in RUN_FIELDS}, "device": device, "ran": ran, "pieces": pieces})
    return out


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _read_parquet(path: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()
