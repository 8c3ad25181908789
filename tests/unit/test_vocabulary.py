"""The generator's list of Warp's type names and constants is the installed Warp's."""

from __future__ import annotations

import pytest

from curator.kernels import vocabulary


def test_type_names_and_constants_are_warps_own():
    wp = pytest.importorskip("warp")
    from warp._src import types as T

    def kernel_type(v) -> bool:
        return isinstance(v, type) and (v in T.scalar_types or v is T.bool or hasattr(v, "_wp_scalar_type_"))

    public = [n for n in dir(wp) if not n.startswith("_")]
    types = {n for n in public if kernel_type(getattr(wp, n))}
    constants = {n for n in public if isinstance(getattr(wp, n), float)}
    assert set(vocabulary.TYPE_NAMES) == types
    assert set(vocabulary.CONSTANT_NAMES) == constants
    assert len(vocabulary.TYPE_NAMES) == len(set(vocabulary.TYPE_NAMES))
    # an alias is a second name of a type that has another one
    for alias in vocabulary.ALIASES:
        assert sorted(n for n in types if getattr(wp, n) is getattr(wp, alias)) == sorted([alias, alias[:-1]])
