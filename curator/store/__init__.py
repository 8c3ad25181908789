"""The curator store: the only package that talks SQL.  One SQLite file, WAL mode."""

from curator.records import FailureRecord, KernelRecord
from curator.store.base import APPLICATION_ID, SCHEMA_VERSION, BaseStore, StoreError, can_write, now
from curator.store.executions import ExecutionStoreMixin
from curator.store.exports import ExportStoreMixin
from curator.store.kernels import KernelStoreMixin, WriteCounts
from curator.store.measures import MeasuresStoreMixin
from curator.store.neardup import NearDupStoreMixin
from curator.store.review import ReviewStoreMixin
from curator.store.runs import RunStoreMixin
from curator.store.verify import VerifyStoreMixin

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "FailureRecord",
    "KernelRecord",
    "Store",
    "StoreError",
    "WriteCounts",
    "can_write",
    "now",
]


class Store(
    MeasuresStoreMixin,
    ReviewStoreMixin,
    NearDupStoreMixin,
    ExportStoreMixin,
    VerifyStoreMixin,
    ExecutionStoreMixin,
    RunStoreMixin,
    KernelStoreMixin,
    BaseStore,
):
    """A curator store; its queries live in one mixin per concern (kernels, runs, review, near-dups,
    export, verification, executions, builtin coverage)."""
