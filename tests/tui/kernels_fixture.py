"""A small, fixed store for the TUI tests: hand-written Warp kernels run through
curator.generate.record_for_spec, so the generated code is real and the same on every run."""

from __future__ import annotations

from pathlib import Path

from curator.store import Store

HEADER = "import warp as wp\n\n\n"

# (category, kernel name, body); sources are deterministic, so are ids and generated code.
KERNELS = [
    (
        "arithmetic",
        "scale_add",
        """@wp.kernel
def scale_add(x: wp.array(dtype=float), y: wp.array(dtype=float), a: float):
    i = wp.tid()
    y[i] = a * x[i] + y[i]
""",
    ),
    (
        "arithmetic",
        "scale_sub",
        """@wp.kernel
def scale_sub(x: wp.array(dtype=float), y: wp.array(dtype=float), a: float):
    i = wp.tid()
    y[i] = a * x[i] - y[i]
""",
    ),
    (
        "arithmetic",
        "square_all",
        """@wp.kernel
def square_all(x: wp.array(dtype=float)):
    i = wp.tid()
    x[i] = x[i] * x[i]
""",
    ),
    (
        "control_flow",
        "clamp_positive",
        """@wp.kernel
def clamp_positive(x: wp.array(dtype=float), limit: float):
    i = wp.tid()
    v = x[i]
    if v < 0.0:
        v = 0.0
    elif v > limit:
        v = limit
    x[i] = v
""",
    ),
    (
        "control_flow",
        "sum_loop",
        """@wp.kernel
def sum_loop(x: wp.array(dtype=float), out: wp.array(dtype=float), n: int):
    i = wp.tid()
    s = float(0.0)
    for j in range(n):
        s += x[i] * float(j)
    out[i] = s
""",
    ),
    (
        "vector",
        "normalize_vecs",
        """@wp.kernel
def normalize_vecs(v: wp.array(dtype=wp.vec3), out: wp.array(dtype=wp.vec3)):
    i = wp.tid()
    out[i] = wp.normalize(v[i])
""",
    ),
    (
        "vector",
        "dot_atomic",
        """@wp.kernel
def dot_atomic(a: wp.array(dtype=wp.vec3), b: wp.array(dtype=wp.vec3), total: wp.array(dtype=float)):
    i = wp.tid()
    wp.atomic_add(total, 0, wp.dot(a[i], b[i]))
""",
    ),
]


class _Spec:
    def __init__(self, name: str, category: str, source: str) -> None:
        self.name, self.category, self.source = name, category, source
        self.seed, self.launch_dim, self.args = 0, 1, ()


def records():
    from curator.generate import record_for_spec

    out = []
    for index, (category, name, body) in enumerate(KERNELS):
        record = record_for_spec(_Spec(name, category, HEADER + body), None, index, ("cpu", "cuda"))
        assert record is not None and not hasattr(record, "stage"), f"codegen failed for {name}: {record}"
        out.append(record)
    return out


def build_store(path: Path) -> Path:
    with Store.open(path, create=True) as store:
        store.write_batch(records(), [], None)
    return path


def add_clusters(store: Store) -> None:
    """Stand-in for `curator dedup`: scale_add and scale_sub form one near-dup cluster."""
    ids = {r[1]: r[0] for r in store.conn.execute("SELECT id, name FROM kernels")}
    with store.transaction() as conn:
        for name, rep, sim in (
            ("scale_add", "scale_add", 1.0),
            ("scale_sub", "scale_add", 0.82),
            ("square_all", "square_all", 1.0),
        ):
            conn.execute("INSERT INTO dedup_clusters VALUES (?, ?, ?)", (ids[name], ids[rep], sim))
        conn.execute(
            "INSERT INTO dedup_state VALUES (1, 0.7, 128, 'fixture', ?, 2, '2025-01-01T00:00:00Z')", (len(ids),)
        )
