"""Export files written atomically (temporary file in the same folder, then os.replace) and
the manifest's text; the dataset card is in ``card``."""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

from curator.errors import CuratorError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class OutputError(CuratorError):
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

    # what pyarrow's PythonFile asks of a writable file
    @property
    def closed(self) -> bool:
        return self.fh.closed

    def tell(self) -> int:
        return self.bytes

    def flush(self) -> None:
        self.fh.flush()


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
