"""The curator store: the only package that talks SQL.  One SQLite file, WAL mode."""

from curator.store.base import APPLICATION_ID, SCHEMA_VERSION, BaseStore, StoreError, now
from curator.store.dedup import DedupStoreMixin
from curator.store.kernels import FailureRecord, KernelRecord, KernelStoreMixin, WriteCounts
from curator.store.measures import MeasuresStoreMixin
from curator.store.review import ReviewStoreMixin
from curator.store.verify import VerifyStoreMixin

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "FailureRecord",
    "KernelRecord",
    "Store",
    "StoreError",
    "WriteCounts",
    "now",
]


class Store(MeasuresStoreMixin, ReviewStoreMixin, DedupStoreMixin, VerifyStoreMixin, KernelStoreMixin, BaseStore):
    """A curator store; its queries live in one mixin per concern (kernels, review, dedup...)."""
