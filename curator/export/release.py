"""A release on disk: the manifest sealed with its own SHA-256, every file's size and SHA-256
in it, `curator export --check`, and what an export finds in the folder it writes to."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from curator.errors import CuratorError
from curator.export.files import manifest_text

MANIFEST = "manifest.json"
CARD = "README.md"
SEAL = "manifest_sha256"  # the manifest's own hash: its text written without this key


class NotAnExport(CuratorError):
    """The folder holds no curator export (one sentence for the user)."""


def seal(manifest: dict) -> str:
    """The manifest's text with SEAL set to the SHA-256 of its text without it."""
    body = {k: v for k, v in manifest.items() if k != SEAL}
    return manifest_text({**body, SEAL: hashlib.sha256(manifest_text(body).encode()).hexdigest()})


def load_manifest(folder: Path) -> dict:
    """The manifest of the export in ``folder``; NotAnExport if there is none or it is not
    curator's (no curator_version, no devices)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotAnExport(f"{folder} is not a folder")
    path = folder / MANIFEST
    if not path.is_file():
        empty = not any(folder.iterdir())
        raise NotAnExport(f"{folder} holds no export ({'it is empty' if empty else f'no {MANIFEST}'})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise NotAnExport(f"{path} is not JSON: not a curator export manifest") from None
    except OSError as exc:
        raise NotAnExport(f"cannot read {path}: {exc.strerror or exc}") from None
    if (
        not isinstance(manifest, dict)
        or "curator_version" not in manifest
        or not isinstance(manifest.get("devices"), dict)
    ):
        raise NotAnExport(f"{path} is not a curator export manifest")
    return manifest


def files_of(manifest: dict) -> dict[str, dict]:
    """relative path -> {bytes, sha256} of every file the manifest vouches for (older
    manifests, without ``files``: each device's file)."""
    if isinstance(manifest.get("files"), dict):
        return manifest["files"]
    return {d["file"]: {"bytes": d["bytes"], "sha256": d["sha256"]} for d in manifest["devices"].values()}


def data_files(manifest: dict) -> dict[str, dict]:
    """The data files only (not the card)."""
    return {rel: v for rel, v in files_of(manifest).items() if rel != CARD}


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class CheckResult:
    files: int = 0  # files checked
    bytes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check(folder: Path) -> CheckResult:
    """Every file the manifest lists exists with its size and SHA-256, the manifest's seal
    holds, and the folder has no other file (hidden files aside).  NotAnExport if no export."""
    folder = Path(folder)
    manifest = load_manifest(folder)
    res = CheckResult()
    text = (folder / MANIFEST).read_text(encoding="utf-8")
    if SEAL not in manifest:
        res.problems.append(f"{MANIFEST} has no {SEAL} (written before releases were sealed)")
    elif seal(manifest) != text:
        res.problems.append(f"{MANIFEST} was changed after it was written (its {SEAL} does not match)")
    listed = files_of(manifest)
    for rel, want in sorted(listed.items()):
        path = folder / rel
        if not path.is_file():
            res.problems.append(f"{rel} is missing")
            continue
        size = path.stat().st_size
        res.files, res.bytes = res.files + 1, res.bytes + size
        if size != want["bytes"]:
            res.problems.append(f"{rel} has {size:,} bytes, the manifest says {want['bytes']:,}")
        elif sha256_of(path) != want["sha256"]:
            res.problems.append(f"{rel} does not match its SHA-256 in the manifest")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel not in listed and rel != MANIFEST and not any(part.startswith(".") for part in Path(rel).parts):
            res.problems.append(f"{rel} is not part of the export")
    return res


def complete_export(folder: Path) -> dict | None:
    """The manifest of a complete export in ``folder`` (every listed data file present with
    its size and SHA-256), else None: nothing there, not curator's, or left incomplete."""
    try:
        manifest = load_manifest(folder)
    except NotAnExport:
        return None
    for rel, want in data_files(manifest).items():
        path = Path(folder) / rel
        if not path.is_file() or path.stat().st_size != want["bytes"] or sha256_of(path) != want["sha256"]:
            return None
    return manifest


def remove_stale(folder: Path, old: dict | None, new: dict) -> list[str]:
    """Remove the files of the export ``old`` that ``new`` does not have (another device,
    format or split), and the folders left empty; returns what was removed."""
    if old is None:
        return []
    gone = []
    for rel in sorted(set(files_of(old)) - set(files_of(new)) - {MANIFEST}):
        path = Path(folder) / rel
        if path.is_file():
            path.unlink()
            gone.append(rel)
            parent = path.parent
            if parent != Path(folder) and not any(parent.iterdir()):
                parent.rmdir()
    return gone
