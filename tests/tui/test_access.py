"""The TUI's store access on exit: queued labels are written, later reads refused."""

import pytest

from curator.store import Store
from curator.tui.access import StoreAccess, StoreClosed


def test_close_writes_queued_labels_then_refuses_reads(store_path):
    with Store.open(store_path) as store:
        kid = store.kernel_page(None, "all", 0, 1)[0].id
        access = StoreAccess(store)
        access.queue_review(kid, "flagged", "look again")  # pressed just before quitting
        access.close()
        with pytest.raises(StoreClosed):
            access.read(lambda s: s.count_kernels())
        with pytest.raises(StoreClosed):
            access.scan(lambda s: s.count_kernels())
    with Store.open(store_path) as store:
        assert store.review_of(kid)["status"] == "flagged"
        assert store.review_of(kid)["note"] == "look again"
