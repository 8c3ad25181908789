"""The export formats: where a device's file goes, how records are written, and how the dataset
card tells `datasets` to read it.  A new format is one more entry in ``FORMATS``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from curator.export import records
from curator.export.files import HashingWriter, Staging


class LineSink:
    """Writes each record's encoded line as it comes (line-oriented formats such as JSONL)."""

    def __init__(self, out: HashingWriter):
        self.out = out

    def add(self, rec: dict, data: bytes) -> None:
        self.out.write(data)

    @property
    def bytes(self) -> int:
        return self.out.bytes

    @property
    def sha256(self) -> str:
        return self.out.sha256

    def __enter__(self) -> LineSink:
        return self

    def __exit__(self, *exc) -> None:
        self.out.close()


@dataclass(frozen=True)
class ExportFormat:
    """One file format an export can write."""

    name: str
    suffix: str  # file name ending
    builder: str  # the Hugging Face `datasets` builder that loads it ("json", "parquet", ...)
    encode: Callable[[dict], bytes]  # a record's bytes: what counts towards --target-mb
    sink: Callable[[Staging, str], LineSink]  # opens the file a device's records go to

    def path(self, device: str) -> str:
        """The file of ``device``, relative to the export folder."""
        return f"{device}/warp_kernels_{device}.{self.suffix}"


def _jsonl_sink(stage: Staging, rel: str) -> LineSink:
    return LineSink(stage.open(rel))


FORMATS: dict[str, ExportFormat] = {
    "jsonl": ExportFormat("jsonl", "jsonl", "json", records.encode, _jsonl_sink),
}
DEFAULT_FORMAT = "jsonl"


def get(name: str) -> ExportFormat:
    """The format called ``name``; ValueError names the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown export format {name!r}; choose from: {', '.join(FORMATS)}") from None
