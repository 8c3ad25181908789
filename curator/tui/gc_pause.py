"""Keeping Python's full garbage collections out of key presses while the browser runs.

A full (generation 2) collection walks every tracked object: ~220,000 of them once a few kernels
are highlighted (Textual keeps caches on every rendered line), 100-200 ms on a loaded 2-core
machine, and it runs inside whatever handler allocated last: a key press.  Objects alive once
the app is up (modules, Textual, styles, widgets) live as long as the app, so they are frozen
out of collections, and full collections run ten times less often; the highlighting caches are
bounded (views.highlighted, screens.loaders.DetailCache), so memory stays flat.
"""

from __future__ import annotations

import gc

FULL_EVERY = 100  # generation-1 collections between full ones (Python's default: 10)


class GcPause:
    """start() when the app mounts and again once it is up; stop() as it exits restores all."""

    def __init__(self) -> None:
        self._saved: tuple[int, int, int] | None = None
        self._was_frozen = False

    def start(self) -> None:
        if self._saved is None:
            self._saved = gc.get_threshold()
            self._was_frozen = gc.get_freeze_count() > 0
            gc.set_threshold(self._saved[0], self._saved[1], max(self._saved[2], FULL_EVERY))
        gc.freeze()

    def stop(self) -> None:
        if self._saved is None:
            return
        gc.set_threshold(*self._saved)
        self._saved = None
        if not self._was_frozen:  # someone else's freeze is theirs to undo
            gc.unfreeze()
