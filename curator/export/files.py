"""Export files written atomically (temporary file in the same folder, then os.replace),
the manifest and the Hugging Face dataset card."""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

from curator.records import MIB


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class OutputError(Exception):
    """The output folder cannot be written (one sentence for the user)."""


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _remove_stale_temps(folder: Path, name: str) -> None:
    """Remove temporary files an export killed earlier left for ``name`` (their writer's pid,
    part of the name, is gone); a live export's files are left alone."""
    for tmp in folder.glob(f".{name}.*.tmp"):
        pid = tmp.name[len(name) + 2 :].split(".", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        except PermissionError:
            pass  # another user's live process


class Staging:
    """Files of one export, written under temporary names in their final folders and moved
    into place together by ``commit()``; anything else (an error, Ctrl-C) removes them, and
    the folders this export created if they are left empty.  Use as a context manager."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self._temps: list[tuple[Path, Path]] = []  # (temporary, final)
        self._stale: list[Path] = []  # files of an earlier export that this one replaces
        self._created: list[Path] = []
        self._committed = False

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._committed:
            self.discard()

    def folder(self, rel: str) -> Path:
        """Make ``out/rel`` (and parents), remembering what this export created."""
        path = self.out / rel if rel else self.out
        missing = []
        p = path
        while not p.exists():
            missing.append(p)
            if p.parent == p:
                break
            p = p.parent
        if p.exists() and not p.is_dir():
            raise OutputError(f"cannot write to {path}: {p} is a file, not a folder")
        for q in reversed(missing):
            try:
                q.mkdir()
            except OSError as exc:
                raise OutputError(f"cannot create folder {q}: {_describe(exc)}") from None
            self._created.append(q)
        if not os.access(path, os.W_OK | os.X_OK):
            raise OutputError(f"cannot write to folder {path}: permission denied")
        return path

    def open(self, rel: str) -> HashingWriter:
        """A binary writer for ``out/rel`` (a temporary file until commit)."""
        final = self.out / rel
        folder = self.folder(str(Path(rel).parent) if Path(rel).parent != Path(".") else "")
        if final.is_dir():
            raise OutputError(f"cannot write {final}: a folder of that name is in the way")
        _remove_stale_temps(folder, final.name)
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise OutputError(f"cannot write to folder {folder}: {_describe(exc)}") from None
        self._temps.append((Path(tmp), final))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        return HashingWriter(os.fdopen(fd, "wb", buffering=1 << 20), final)

    def write_text(self, rel: str, text: str) -> HashingWriter:
        with self.open(rel) as w:
            w.write(text.encode("utf-8"))
        return w

    def remove_on_commit(self, rel: str) -> None:
        """Remove ``out/rel`` (and its folder, if that leaves it empty) when the export commits:
        a data file of an earlier export that the new manifest will not describe."""
        if (self.out / rel).is_file() and all(final != self.out / rel for _, final in self._temps):
            self._stale.append(self.out / rel)

    def commit(self) -> None:
        """Move every staged file to its final name, then remove the stale ones."""
        try:
            for tmp, final in self._temps:
                os.replace(tmp, final)
        except OSError as exc:
            raise OutputError(f"cannot write {final}: {_describe(exc)}") from None
        for stale in self._stale:
            try:
                stale.unlink(missing_ok=True)
            except OSError as exc:
                raise OutputError(f"cannot remove {stale} of an earlier export: {_describe(exc)}") from None
            with contextlib.suppress(OSError):  # other files in it: keep the folder
                stale.parent.rmdir()
        self._committed = True

    def discard(self) -> None:
        for tmp, _ in self._temps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        for folder in reversed(self._created):
            with contextlib.suppress(OSError):  # not empty (someone else's files): keep it
                folder.rmdir()


class HashingWriter:
    """A file writer that counts bytes and lines and computes SHA-256 as it goes."""

    def __init__(self, fh, final: Path):
        self.fh = fh
        self.final = final
        self.sha = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> None:
        self.fh.write(data)
        self.sha.update(data)
        self.bytes += len(data)

    def close(self) -> None:
        if not self.fh.closed:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()

    def __enter__(self) -> HashingWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def sha256(self) -> str:
        return self.sha.hexdigest()


# -- manifest ----------------------------------------------------------------------------
def git_revision(cwd: Path | None = None) -> str | None:
    """``git rev-parse HEAD`` in the working directory, or None (no git, not a checkout)."""
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    rev = proc.stdout.strip()
    return rev if proc.returncode == 0 and rev else None


def creation_time() -> str:
    """Now in UTC, or SOURCE_DATE_EPOCH when set (reproducible builds: then the manifest is
    byte-identical across runs as well)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        stamp = _dt.datetime.fromtimestamp(int(epoch), _dt.UTC)
    else:
        stamp = _dt.datetime.now(_dt.UTC)
    return stamp.isoformat(timespec="seconds")


def manifest_text(manifest: dict) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# -- dataset card ------------------------------------------------------------------------
def size_category(n: int) -> str:
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < bound:
            return label
    return "1M<n<10M"


def dataset_card(manifest: dict, field_docs: list[tuple[str, str]], builder: str = "json") -> str:
    """README.md for the Hugging Face Hub: YAML front matter (one config per device), then a
    description built from the manifest.  No timestamps, so it is reproducible."""
    devices = manifest["devices"]
    total = sum(d["records"] for d in devices.values())
    has_real = any(d.get("origins", {}).get("real") for d in devices.values())
    lines = ["---", f"license: {'other' if has_real else 'apache-2.0'}", "task_categories:", "- text-generation",
             "language:", "- en", "tags:", "- code", "- nvidia-warp", "- cuda", "- cpp", "size_categories:",
             f"- {size_category(total)}", "pretty_name: NVIDIA Warp kernels with their generated C++ and CUDA",
             "configs:"]  # fmt: skip
    for device, d in devices.items():
        lines += [f"- config_name: {device}", "  data_files:", "  - split: train", f"    path: {d['file']}"]
    lines += ["---", "", "# NVIDIA Warp kernels with their generated C++ and CUDA", ""]
    lines += [
        "Each record pairs a `@wp.kernel` written in Python for [NVIDIA Warp](https://github.com/NVIDIA/warp)"
        " with the code Warp's code generator produces for it: C++ for the CPU (`cpu` config) or CUDA C++"
        " (`cuda` config), kept piece by piece (structs, functions, argument struct, forward kernel,"
        " backward/adjoint kernel, entry points).",
        "",
        "Synthetic kernels come from a type-directed random generator; every one built with Warp"
        f" {', '.join(manifest['warp_versions']) or '?'}. Made by curator {manifest['curator_version']}.",
        "",
        "| config | file | records | MiB | categories |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for device, d in devices.items():
        lines.append(f"| {device} | `{d['file']}` | {d['records']:,} | {d['bytes'] / MIB:,.2f} |"
                     f" {len(d['categories'])} |")  # fmt: skip
    lines += ["", "Kernels per category (the selection is balanced: equal counts per category):", ""]
    cats = sorted({c for d in devices.values() for c in d["categories"]})
    lines.append("| category | " + " | ".join(devices) + " |")
    lines.append("| --- |" + " ---: |" * len(devices))
    for c in cats:
        row = [str(d["categories"].get(c, {}).get("records", 0)) for d in devices.values()]
        lines.append(f"| {c} | " + " | ".join(row) + " |")
    dd = manifest.get("dedup")
    lines += [""]
    if dd:
        lines.append(
            f"Near-duplicates were removed: MinHash ({dd['num_perm']} permutations) over token 5-grams of the"
            f" normalised source, LSH at Jaccard {dd['threshold']}; {dd['kernels']:,} stored kernels formed"
            f" {dd['clusters']:,} clusters and only one kernel per cluster is exported."
        )
    else:
        lines.append("No near-duplicate filtering was applied (identical sources are stored once).")
    if has_real:
        lines += ["", "Some records come from real code (`origin` = `real`); their `provenance` gives the source"
                  " file and its license, which applies to that record."]  # fmt: skip
    lines += _measures_lines(manifest.get("measures"))
    lines += ["", "## Fields", "", "Every line has every field (null when absent).", ""]
    lines += [f"- `{k}`: {doc}" for k, doc in field_docs]
    lines += ["", "## Loading", "", "```python", "from datasets import load_dataset", ""]
    first = next(iter(devices), "cpu")
    load = f'ds = load_dataset("{builder}", data_files="{devices[first]["file"]}", split="train")'
    lines += [load if devices else "", "```", ""]
    lines += ["`manifest.json` holds sizes, SHA-256 sums, versions, seeds and the export's arguments.", ""]
    return "\n".join(lines)


def _measures_lines(measures: dict | None) -> list[str]:
    """Builtin coverage and kernel shape for the card (figures of the store the export came from)."""
    if not measures:
        return []
    from curator.measures import coverage_markdown, profile_markdown

    lines = ["", "## Warp builtins covered", "", "Figures of the store this export was drawn from"
             " (`curator stats --coverage`).", ""]  # fmt: skip
    lines += coverage_markdown(measures["coverage"])
    lines += ["## Kernel shape", "", "Figures of the store this export was drawn from (`curator stats --profile`).", ""]
    return lines + profile_markdown(measures["profile"])[:-1]
