"""Assorted motifs: vertex normals, sorted-table lookups, local scratch buffers, packed features, checks."""

from __future__ import annotations

from . import names as N
from . import slots
from .extras import post_float
from .kernel import Kernel


def vertex_normals(k: Kernel) -> None:
    """Area-weighted vertex normals: one thread per triangle, scattered with atomics."""
    x = k.array(N.POS, "wp.vec3")
    tris = k.array(("tris", "indices", "faces"), "int", 2)
    normals = k.array(("normals", "vertex_n", "n_out"), "wp.vec3")
    (t,) = k.thread(k.pick(("tid", "t", "f")))
    ids = [k.let((f"i{c}", f"v{c}"), f"{tris}[{t}, {c}]") for c in range(3)]
    e1 = k.let(("e1", "ab"), f"{x}[{ids[1]}] - {x}[{ids[0]}]")
    e2 = k.let(("e2", "ac"), f"{x}[{ids[2]}] - {x}[{ids[0]}]")
    n = k.let(("n", "fn", "area_n"), f"wp.cross({e1}, {e2})")
    if k.chance(0.5):
        k.emit(f"{n} = {slots.direction(k, n)}" if k.chance(0.5) else f"{n} = wp.smooth_normalize({n}, 1e-6)")
    if k.chance(0.4):
        s = k.param(("axis_scale", "anisotropy", "scale"), "wp.vec3")
        k.emit(f"{n} = wp.cw_mul({n}, {s})")
    for c in range(3):
        k.emit(f"wp.atomic_add({normals}, {ids[c]}, {n})")


def table_lookup(k: Kernel) -> None:
    """Piecewise-linear lookup in a sorted table via binary search (wp.lower_bound)."""
    xs = k.array(("xs", "knots", "table_x", "breakpoints"), "float")
    ys = k.array(("ys", "values", "table_y"), "float")
    q = k.array(("queries", "x", "t"), "float")
    out = k.array(N.OUT_F, "float")
    (i,) = k.thread(k.pick(("i", "tid")))
    v = k.let(("v", "xq"), f"{q}[{i}]")
    post_float(k, v, 1)
    n = k.let(("n", "size"), f"{xs}.shape[0]")
    if k.chance(0.3):
        lo = k.scalar(("start", "begin"), "int")
        j = k.let(("j", "idx"), f"wp.lower_bound({xs}, {lo}, {n}, {v})")
    else:
        j = k.let(("j", "idx"), f"wp.lower_bound({xs}, {v})")
    k.emit(f"{j} = wp.clamp({j}, 1, {n} - 1)")
    x0, x1 = k.let(("x0", "a"), f"{xs}[{j} - 1]"), k.let(("x1", "b"), f"{xs}[{j}]")
    t = k.let(("t", "w", "frac"), f"wp.clamp(({v} - {x0}) / ({x1} - {x0}), 0.0, 1.0)")
    if k.chance(0.5):
        y = k.let(("y", "res"), f"wp.lerp({ys}[{j} - 1], {ys}[{j}], {t})")
    else:
        y = k.let(("y", "res"), f"{ys}[{j} - 1] + ({ys}[{j}] - {ys}[{j} - 1]) * wp.smoothstep(0.0, 1.0, {t})")
    post_float(k, y, 1)
    k.emit(f"{out}[{i}] = {y}")


def local_buffer(k: Kernel) -> None:
    """A small per-thread scratch array (wp.zeros in a kernel) filled and reduced in loops."""
    size = k.mod.const(("K", "WINDOW", "TAPS", "NUM_SAMPLES"), str(k.rng.randint(3, 8)))
    x = k.array(N.IN_F, "float")
    out = k.array(N.OUT_F, "float")
    (i,) = k.thread(k.pick(("i", "tid")))
    buf = k.let(("buf", "window", "taps"), f"wp.zeros(shape={size}, dtype=float)")
    j = k.fresh("j", "k")
    bound = f"wp.static({size})" if k.chance(0.5) else size
    with k.block(f"for {j} in range({bound}):"):
        src = k.let(("src", "idx"), f"wp.clamp({i} + {j} - {size} // 2, 0, {x}.shape[0] - 1)")
        k.emit(f"{buf}[{j}] = {x}[{src}]")
    acc = k.let(N.ACC, "float(0.0)")
    m = k.fresh("m", "s")
    form = k.rng.randrange(3)
    with k.block(f"for {m} in range({bound}):"):
        if form == 0:
            k.emit(f"{acc} += {buf}[{m}]")
        elif form == 1:
            k.emit(f"{acc} = wp.max({acc}, wp.abs({buf}[{m}]))")
        else:
            k.emit(f"{acc} += {buf}[{m}] * {slots.falloff(k, f'float({m})', f'float({size})')}")
    post_float(k, acc)
    k.emit(f"{out}[{i}] = {acc} / float({size})" if form != 1 else f"{out}[{i}] = {acc}")


def pack_features(k: Kernel) -> None:
    """Generic-length vectors and matrices built from scalars (wp.vector / wp.matrix / wp.cast)."""
    a = k.array(("a", "mass", "u"), "float")
    b = k.array(("b", "stiff", "w"), "float")
    (i,) = k.thread(k.pick(("i", "tid")))
    u = k.let(("u", "x0"), f"{a}[{i}]")
    w = k.let(("w", "x1"), f"{b}[{i}]")
    r = k.let(("r", "ratio"), f"wp.div_approx({u}, {w} + 1.0)" if k.chance(0.5) else f"{u} / ({w} + 1.0)")
    if k.chance(0.5):
        v = k.let(("f", "feat"), f"wp.vector({u}, {w}, {r}, {u} * {w}, length=4, dtype=float)")
        out = k.array(("features", "feat_out"), "wp.vec4")
        k.emit(f"{out}[{i}] = {v}")
    else:
        m = k.let(("M", "S"), f"wp.matrix({u}, {r}, -{r}, {w}, shape=(2, 2), dtype=float)")
        out = k.array(("mats", "tensors"), "wp.mat22")
        if k.chance(0.5):
            inv = k.pick(("inverse", "inverse_approx"))
            with k.block(f"if wp.abs(wp.determinant({m})) > {k.eps()}:"):
                k.emit(f"{m} = wp.{inv}({m})")
        k.emit(f"{out}[{i}] = {m}")
    if k.chance(0.5):
        bits = k.array(("bins", "codes"), "int")
        k.emit(f"{bits}[{i}] = wp.cast({r} * 16.0, int) + int(wp.nonzero({u}))")


def check_values(k: Kernel) -> None:
    """A test-style kernel: recompute a value, compare with a reference, report mismatches."""
    x = k.array(N.IN_F, "float")
    ref = k.array(("expected", "ref", "gold"), "float")
    (i,) = k.thread(k.pick(("i", "tid")))
    v = k.let(("v", "got"), f"{slots.any_unary(k, f'{x}[{i}]')}")
    tol = k.scalar(N.EPS)
    form = k.rng.randrange(5)
    if form == 4:
        flags = k.array(("above", "expected_flags", "want_above"), "wp.bool")
        k.emit(f"wp.expect_eq({v} > {ref}[{i}] + {tol}, {flags}[{i}])")
        if k.chance(0.5):
            k.emit(f"wp.expect_neq({v}, {ref}[{i}])")
    elif form == 3:
        dtype = k.pick(("wp.vec3", "wp.quat", "wp.mat33"))
        got = k.array(("got_v", "actual", "result"), dtype)
        want = k.array(("want_v", "expected_v", "gold_v"), dtype)
        k.emit(f"wp.expect_near({got}[{i}], {want}[{i}], {tol})")
        k.emit(f"wp.expect_near({v}, {ref}[{i}], {tol})")
    elif form == 0:
        k.emit(f"wp.expect_near({v}, {ref}[{i}], {tol})")
    elif form == 1:
        with k.block(f"if wp.abs({v} - {ref}[{i}]) > {tol}:"):
            k.emit(f'wp.printf("mismatch at %d: %f vs %f\\n", {i}, {v}, {ref}[{i}])')
    else:
        with k.block(f"if not wp.isfinite({v}):"):
            k.emit(f"wp.print({v})")
        errs = k.array(("errors", "err_count"), "int")
        with k.block(f"if wp.abs({v} - {ref}[{i}]) > {tol}:"):
            k.emit(f"wp.atomic_add({errs}, 0, 1)")
