"""The export formats: where a config's split goes, how records are written, and how the dataset
card tells `datasets` to read it.  A new format is one more entry in ``FORMATS``.

Every format counts the same bytes toward ``--target-mb``: a record's JSONL line
(``records.encode``).  So one selection fills every format, and a Parquet export holds exactly
the records of the JSONL export made with the same arguments (its file is smaller: compressed)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, Self

from curator.export import records
from curator.export.files import HashingWriter, Staging

# Parquet row groups: flushed at this many bytes of records (JSONL-encoded, i.e. before
# compression) or rows, so a streaming reader holds one small group at a time (~130 records of
# ~60 KiB) and `datasets` can shard a file by row group.
ROW_GROUP_BYTES = 8 << 20
ROW_GROUP_ROWS = 1000


class RecordSink(Protocol):
    """Where one split's records go: a file of a format (LineSink, ParquetSink) or, for a plan, the
    ids alone (curator.export.plan)."""

    def add(self, rec: dict, data: bytes) -> None: ...
    @property
    def bytes(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc) -> None: ...


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


def arrow_schema(keys: Sequence[str]):
    """The pyarrow schema of records with ``keys`` (types from ``records.type_of``)."""
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "bool": pa.bool_(),
        "string_list_list": pa.list_(pa.list_(pa.string())),
    }
    return pa.schema([(k, types[records.type_of(k)]) for k in keys])


class ParquetSink(LineSink):
    """Buffers records and writes them as Parquet row groups (zstd) of ROW_GROUP_BYTES/ROWS."""

    def __init__(self, out: HashingWriter, keys: Sequence[str]):
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__(out)
        self._pa = pa
        self.schema = arrow_schema(keys)
        self._file = pa.PythonFile(out, mode="w")
        self._writer = pq.ParquetWriter(self._file, self.schema, compression="zstd")
        self._rows: list[dict] = []
        self._buffered = 0

    def add(self, rec: dict, data: bytes) -> None:
        self._rows.append(rec)
        self._buffered += len(data)
        if self._buffered >= ROW_GROUP_BYTES or len(self._rows) >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            table = self._pa.Table.from_pylist(self._rows, schema=self.schema)
            self._writer.write_table(table, row_group_size=len(self._rows))
        self._rows, self._buffered = [], 0

    def __exit__(self, exc_type, *exc) -> None:
        try:
            if exc_type is None:
                self._flush()
            self._writer.close()
        finally:
            self.out.close()


@dataclass(frozen=True)
class ExportFormat:
    """One file format an export can write."""

    name: str
    suffix: str  # file name ending
    builder: str  # the Hugging Face `datasets` builder that loads it ("json", "parquet", ...)
    encode: Callable[[dict], bytes]  # a record's bytes: what counts towards --target-mb
    sink: Callable[[Staging, str, Sequence[str]], RecordSink]  # opens a file for records with these keys

    def path(self, config: str, split: str | None = None) -> str:
        """The file of ``config`` (and ``split``, when the export has splits), relative to the
        export folder."""
        tail = f"_{split}" if split else ""
        return f"{config}/warp_kernels_{config}{tail}.{self.suffix}"


def _jsonl_sink(stage: Staging, rel: str, keys: Sequence[str]) -> LineSink:
    return LineSink(stage.open(rel))


def _parquet_sink(stage: Staging, rel: str, keys: Sequence[str]) -> LineSink:
    return ParquetSink(stage.open(rel), keys)


FORMATS: dict[str, ExportFormat] = {
    "jsonl": ExportFormat("jsonl", "jsonl", "json", records.encode, _jsonl_sink),
    "parquet": ExportFormat("parquet", "parquet", "parquet", records.encode, _parquet_sink),
}
DEFAULT_FORMAT = "jsonl"


def get(name: str) -> ExportFormat:
    """The format called ``name``; ValueError names the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown export format {name!r}; choose from: {', '.join(FORMATS)}") from None
