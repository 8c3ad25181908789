"""Numeric motifs: element-wise arithmetic, activations, piecewise functions, solvers, stencils."""

from __future__ import annotations

from . import names as N
from . import slots
from .extras import post_float, post_vec
from .kernel import Kernel

_ACTIVATIONS = (
    ("relu", "wp.max({x}, 0.0)"),
    ("sigmoid", "1.0 / (1.0 + wp.exp(-{x}))"),
    ("tanh", "wp.tanh({x})"),
    ("softplus", "wp.log(1.0 + wp.exp({x}))"),
    ("gelu", "0.5 * {x} * (1.0 + wp.erf({x} * 0.70710678))"),
    ("silu", "{x} / (1.0 + wp.exp(-{x}))"),
    ("elu", "wp.where({x} > 0.0, {x}, wp.exp({x}) - 1.0)"),
    ("leaky", "wp.where({x} > 0.0, {x}, 0.01 * {x})"),
)


def axpy(k: Kernel) -> None:
    """y = a*x + b*y and friends, 1-d, with optional guards and strided indexing."""
    dtype = k.pick(("float", "float", "wp.float64", "wp.float16", "wp.vec3", "wp.vec2"))
    x = k.array(N.IN_F, dtype, kinds=True)
    y = k.array(N.OUT_F, dtype, kinds=True)
    scal = "wp.float64" if dtype == "wp.float64" else "wp.float16" if dtype == "wp.float16" else "float"
    a = k.scalar(("alpha", "a", "scale"), scal)
    b = k.scalar(("beta", "b"), scal) if k.chance(0.5) else None
    (i,) = k.thread(k.pick(("i", "tid", "idx")))
    src = f"{x}[{i}]"
    if k.chance(0.3) and not any(v in dict(k.params)[x] for v in ("indexed", "fabric")):  # a .shape to guard with
        stride = k.scalar(("stride", "step"), "int")
        off = k.scalar(("offset", "start"), "int")
        j = k.let(("j", "src_idx", "k"), f"{off} + {i} * {stride}")
        with k.block(f"if {j} >= {x}.shape[0]:"):  # a strided view past the end of x: nothing to read
            k.emit("return")
        src = f"{x}[{j}]"
    if b is None:
        op = k.pick(("+=", "-=", "="))
        k.emit(f"{y}[{i}] {op} {a} * {src}")
    else:
        t = k.let(N.TMP_F, src)
        if dtype == "float":
            post_float(k, t)
        k.emit(f"{y}[{i}] = {a} * {t} + {b} * {y}[{i}]")


def index_math(k: Kernel) -> None:
    """Row/column bookkeeping over a flat buffer: //, %, clamps, integer powers."""
    src = k.array(N.IN_F, "float")
    dst = k.array(N.OUT_F, "float")
    width = k.scalar(("width", "cols", "nx", "stride"), "int")
    height = k.scalar(("height", "rows", "ny"), "int") if k.chance(0.5) else None
    (i,) = k.thread(k.pick(("i", "tid")))
    if k.chance(0.5):  # the divisor guarded, as kernels taking a width from the caller do
        with k.block(f"if {width} <= 0:"):
            k.emit("return")
    else:
        width = k.let(("w", "cols_safe", "width_c"), f"wp.max({width}, 1)")
    row = k.let(("row", "y", "r"), f"{i} // {width}")
    col = k.let(("col", "x", "c"), f"{i} % {width}")
    if height is not None:
        with k.block(f"if {row} >= {height}:"):
            k.emit("return")
    left = k.let(("left", "xl", "c0"), f"wp.max({col} - 1, 0)")
    right = k.let(("right", "xr", "c1"), f"wp.min({col} + 1, {width} - 1)")
    base = k.let(("base", "row_start", "off"), f"{row} * {width}")
    acc = k.let(N.ACC, f"{src}[{base} + {left}] + {src}[{base} + {right}]")
    post_float(k, acc, 1)
    form = k.rng.randrange(3)
    if form == 0:
        k.emit(f"{dst}[{i}] = 0.5 * {acc} - {src}[{i}]")
    elif form == 1:
        k.emit(f"{dst}[{i}] = ({acc} - 2.0 * {src}[{i}]) / float({width})")
    else:
        k.emit(f"{dst}[{i}] = {slots.any_unary(k, acc)}")


def polynomial(k: Kernel) -> None:
    """Horner evaluation of a polynomial with coefficients from an array or constants."""
    x = k.array(N.IN_F, "float")
    y = k.array(N.OUT_F, "float")
    (i,) = k.thread("i")
    t = k.let(("t", "u", "s"), f"{x}[{i}]")
    if k.chance(0.5):
        coeffs = k.array(("coeffs", "c", "poly"), "float")
        deg = k.scalar(("degree", "order", "n_coeffs"), "int")
        acc = k.let(N.ACC, f"{coeffs}[{deg}]")
        j = k.fresh("j", "d")
        with k.block(f"for {j} in range({deg} - 1, -1, -1):"):
            k.emit(f"{acc} = {acc} * {t} + {coeffs}[{j}]")
    else:
        n = k.rng.randint(2, 4)
        terms = [k.num(-2.0, 2.0) for _ in range(n)]
        acc = k.let(N.ACC, terms[0])
        for c in terms[1:]:
            k.emit(f"{acc} = {acc} * {t} + {c}")
    post_float(k, acc)
    k.emit(f"{y}[{i}] = {acc}")


def activation(k: Kernel) -> None:
    """Neural-style element-wise functions with optional bias and derivative output."""
    x = k.array(N.IN_F, "float", kinds=True)
    y = k.array(N.OUT_F, "float")
    bias = k.array(("bias", "b"), "float") if k.chance(0.5) else None
    (i,) = k.thread(k.pick(("i", "tid")))
    z = k.let(("z", "pre", "h"), f"{x}[{i}] + {bias}[{i}]" if bias else f"{x}[{i}]")
    name, form = k.pick(_ACTIVATIONS)
    if k.chance(0.5):
        a = k.let((name, "act", "a"), form.format(x=z))
        post_float(k, a, 1)
        k.emit(f"{y}[{i}] = {a}")
    else:
        k.emit(f"{y}[{i}] = {form.format(x=z)}")
    if k.chance(0.4):
        grad = k.array(("grad", "dy", "deriv"), "float")
        k.emit(f"{grad}[{i}] = {slots.any_unary(k, z)}")


def special_functions(k: Kernel) -> None:
    """A scalar field evaluated through several math builtins, as in lookup/fit kernels."""
    x = k.array(N.IN_F, "float")
    y = k.array(N.OUT_F, "float")
    (i,) = k.thread(k.pick(("i", "tid")))
    u = k.let(("u", "t", "xi"), f"{x}[{i}]")
    r = k.let(("r", "mag", "au"), f"wp.abs({u})")
    c = k.let(("c", "cu", "unit"), f"wp.clamp({u}, -1.0, 1.0)")
    a = k.let(("a", "f0", "lhs"), slots.pos_unary(k, r))
    b = k.let(("b", "f1", "rhs"), slots.unit_unary(k, c))
    parts = [a, b]
    if k.chance(0.6):
        parts.append(k.let(("g", "f2", "extra"), slots.any_unary(k, u)))
    if k.chance(0.5):
        parts.append(k.let(("p", "f3", "pw"), f"wp.pow({r}, {k.num(0.5, 3.0, 1)})"))
    res = k.let(("res", "value", "out_val"), " + ".join(parts[:2]))
    for extra in parts[2:]:
        k.emit(f"{res} = {slots.binary(k, res, extra)}")
    with k.block(f"if {k.pick(slots.PREDICATES).format(x=res)}:"):
        k.emit(f"{y}[{i}] = {res}")
    with k.block("else:"):
        k.emit(f"{y}[{i}] = 0.0")


def piecewise(k: Kernel) -> None:
    """if/elif chains that classify a value (material phases, regimes, LOD bands)."""
    x = k.array(N.IN_F, "float")
    y = k.array(N.OUT_F, "float")
    label = k.array(("label", "phase", "region", "material"), "int") if k.chance(0.5) else None
    (i,) = k.thread(k.pick(("i", "tid")))
    t = k.let(("t", "s", "temp", "val"), f"{x}[{i}]")
    bands = sorted({round(k.rng.uniform(-2.0, 4.0), 1) for _ in range(k.rng.randint(2, 4))})
    res = k.fresh("res", "out_val", "resp")
    for n, edge in enumerate(bands):
        head = "if" if n == 0 else "elif"
        with k.block(f"{head} {t} < {edge}:"):
            k.emit(f"{res} = {slots.any_unary(k, t) if k.chance(0.5) else f'{t} * {k.num(0.1, 3.0)}'}")
            if label is not None:
                k.emit(f"{label}[{i}] = {n}")
    with k.block("else:"):
        k.emit(f"{res} = {slots.binary(k, t, k.scalar(('cap', 'limit', 'hi')))}")
        if label is not None:
            k.emit(f"{label}[{i}] = {len(bands)}")
    post_float(k, res, 1)
    k.emit(f"{y}[{i}] = {res}")


def newton_solve(k: Kernel) -> None:
    """Per-element Newton or bisection iterations in a while loop with a tolerance."""
    x = k.array(N.IN_F, "float")
    y = k.array(N.OUT_F, "float")
    tol = k.scalar(N.EPS)
    max_iter = k.scalar(("max_iter", "max_iters", "iters"), "int")
    (i,) = k.thread(k.pick(("i", "tid")))
    target = k.let(("target", "rhs", "c"), f"wp.abs({x}[{i}]) + 1.0")
    post_float(k, target, 1)
    it = k.let(("it", "n", "count"), "int(0)")
    if k.chance(0.5):
        z = k.let(("z", "guess", "root"), target)
        err = k.let(("err", "res", "f"), f"{z} ** 2.0 - {target}")
        with k.block(f"while wp.abs({err}) > {tol} and {it} < {max_iter}:"):
            k.emit(f"{z} = {z} - {err} / (2.0 * {z})")
            k.emit(f"{err} = {z} ** 2.0 - {target}")
            k.emit(f"{it} += 1")
    else:
        lo = k.let(("lo", "a"), "float(0.0)")
        hi = k.let(("hi", "b"), target)
        z = k.fresh("mid", "m", "z")
        k.emit(f"{z} = 0.5 * ({lo} + {hi})")
        with k.block(f"while {hi} - {lo} > {tol} and {it} < {max_iter}:"):
            k.emit(f"{z} = 0.5 * ({lo} + {hi})")
            with k.block(f"if {slots.pick_monotone(k, z)} > {target}:"):
                k.emit(f"{hi} = {z}")
            with k.block("else:"):
                k.emit(f"{lo} = {z}")
            k.emit(f"{it} += 1")
    post_float(k, z, 1)
    k.emit(f"{y}[{i}] = {z}")
    if k.chance(0.5):
        iters = k.array(("iterations", "n_iter", "steps_taken"), "int")
        k.emit(f"{iters}[{i}] = {it}")
    else:
        with k.block(f"if {it} == {max_iter}:"):
            k.emit(f'wp.printf("element %d did not converge\\n", {i})')


def stencil_2d(k: Kernel) -> None:
    """Diffusion / Laplacian / blur on a 2-d grid, with a static unrolled neighbourhood."""
    dtype = k.pick(("float", "float", "wp.vec3", "wp.float64"))
    src = k.array(N.GRID_F, dtype, 2)
    dst = k.array(("out", "next", "field_out", "dst"), dtype, 2)
    i, j = k.thread(*k.pick((("i", "j"), ("x", "y"), ("row", "col"))))
    nx = k.let(("nx", "w", "width"), f"{src}.shape[0]")
    ny = k.let(("ny", "hgt", "height"), f"{src}.shape[1]")
    with k.block(f"if {i} == 0 or {j} == 0 or {i} >= {nx} - 1 or {j} >= {ny} - 1:"):
        k.emit("return")
    c = k.let(("c", "center", "u0"), f"{src}[{i}, {j}]")
    coef = k.scalar(("alpha", "kappa", "diffusivity", "nu"), "wp.float64" if dtype == "wp.float64" else "float")
    if dtype == "wp.float64" or k.chance(0.5):
        lap = k.let(("lap", "sum_n", "acc"), f"{src}[{i} - 1, {j}] + {src}[{i} + 1, {j}]")
        k.emit(f"{lap} += {src}[{i}, {j} - 1] + {src}[{i}, {j} + 1]")
        if k.chance(0.4):
            k.emit(f"{lap} += {src}[{i} - 1, {j} - 1] + {src}[{i} + 1, {j} + 1]")
        four = "wp.float64(4.0)" if dtype == "wp.float64" else "4.0"
        res = k.let(("res", "u_new", "next_val"), f"{c} + {coef} * ({lap} - {four} * {c})")
        if dtype == "float":
            post_float(k, res)
        elif k.chance(0.5) and dtype == "wp.float64":
            k.emit(f"{res} = wp.max({res}, wp.float64(0.0))")
        if k.chance(0.3):
            src_term = k.array(("source", "forcing", "q"), dtype, 2)
            k.emit(f"{res} += {src_term}[{i}, {j}]")
        k.emit(f"{dst}[{i}, {j}] = {res}")
        return
    radius = k.mod.const(("RADIUS", "R", "HALF_WIDTH"), "1")
    zero = "wp.vec3(0.0)" if dtype == "wp.vec3" else "float(0.0)"
    lap = k.let(("lap", "sum_n", "acc"), zero)
    var = k.fresh("s", "m", "o")
    with k.block(f"for {var} in range(wp.static(2 * {radius} + 1)):"):
        off = k.let(("off", "d", "sh"), f"{var} - {radius}")
        k.emit(f"{lap} += {src}[{i} + {off}, {j}] + {src}[{i}, {j} + {off}]")
    res = k.let(("res", "u_new", "next_val"), f"{c} + {coef} * ({lap} - wp.static(4.0 * {radius} + 2.0) * {c})")
    if dtype == "float":
        post_float(k, res)
    else:
        post_vec(k, res)
    k.emit(f"{dst}[{i}, {j}] = {res}")
