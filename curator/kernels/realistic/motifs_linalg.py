"""Small dense linear algebra motifs: FEM deformation gradients, decompositions, covariances."""

from __future__ import annotations

from . import names as N
from . import slots
from .extras import post_float, post_vec
from .kernel import Kernel


def fem_tet(k: Kernel) -> None:
    """Neo-Hookean tetrahedron: deformation gradient, invariants, stress, nodal forces."""
    x = k.array(N.POS, "wp.vec3")
    tets = k.array(("tets", "indices", "tet_indices"), "int", 2)
    dm_inv = k.array(("Dm_inv", "pose", "rest_inv"), "wp.mat33")
    mu = k.scalar(("k_mu", "mu", "shear"))
    lam = k.scalar(("k_lambda", "lam", "bulk"))
    f = k.array(N.FORCE, "wp.vec3")
    (t,) = k.thread(k.pick(("tid", "t", "e")))
    ids = [k.let((f"i{n}", f"v{n}", f"p{n}"), f"{tets}[{t}, {n}]") for n in range(4)]
    x0 = k.let(("x0", "p_0"), f"{x}[{ids[0]}]")
    cols = [k.let((f"x{n}0", f"e{n}"), f"{x}[{ids[n]}] - {x0}") for n in (1, 2, 3)]
    ds = k.let(("Ds", "D", "M"), f"wp.matrix_from_cols({', '.join(cols)})")
    inv_rest = k.let(("Dm", "inv_rest", "B"), f"{dm_inv}[{t}]")
    F = k.let(("F", "defgrad"), f"{ds} * {inv_rest}")
    J = k.let(("J", "det", "vol_ratio"), f"wp.determinant({F})")
    post_float(k, J, 1)
    ic = k.let(("Ic", "I1", "tr"), f"wp.trace(wp.transpose({F}) * {F})")
    alpha = k.let(("alpha", "a"), f"1.0 + {mu} / {lam}")
    if k.chance(0.5):
        finv_t = k.let(("FinvT", "cof"), f"wp.transpose(wp.inverse({F}))")
        P = k.let(
            ("P", "stress"), f"{F} * {mu} * (1.0 - 1.0 / ({ic} + 1.0)) + {finv_t} * ({lam} * ({J} - {alpha}) * {J})"
        )
    else:
        dJ = k.let(
            ("dJdF", "cof"),
            f"wp.matrix_from_cols(wp.cross({cols[1]}, {cols[2]}), wp.cross({cols[2]}, {cols[0]}), "
            f"wp.cross({cols[0]}, {cols[1]}))",
        )
        P = k.let(
            ("P", "stress"),
            f"{F} * ({mu} * (1.0 - 1.0 / ({ic} + 1.0))) + {dJ} * wp.transpose({inv_rest}) * ({lam} * ({J} - {alpha}))",
        )
    if k.chance(0.5):
        energy = k.array(N.ENERGY, "float")
        k.emit(f"wp.atomic_add({energy}, 0, 0.5 * wp.ddot({P}, {F}))")
    H = k.let(("H", "forces_m"), f"{P} * wp.transpose({inv_rest})")
    fs = []
    for n in range(3):
        fs.append(k.let((f"f{n + 1}", f"g{n + 1}"), f"wp.vec3({H}[0, {n}], {H}[1, {n}], {H}[2, {n}])"))
        k.emit(f"wp.atomic_sub({f}, {ids[n + 1]}, {fs[-1]})")
    k.emit(f"wp.atomic_add({f}, {ids[0]}, {fs[0]} + {fs[1]} + {fs[2]})")


def decompose(k: Kernel) -> None:
    """Polar/eigen/QR decompositions of per-element matrices (output-argument and tuple forms)."""
    dim = k.pick((3, 3, 2))
    mt, vt = f"wp.mat{dim}{dim}", f"wp.vec{dim}"
    A_arr = k.array(("A", "mats", "F", "cov"), mt)
    (i,) = k.thread(k.pick(("i", "tid")))
    A = k.let(("A", "M", "F"), f"{A_arr}[{i}]")
    kind = "svd" if dim == 2 else k.pick(("svd", "svd", "eig", "qr"))
    c: str | None  # no third factor for eig3
    a, b, c = k.fresh("U", "Q"), k.fresh("sigma", "d", "s"), k.fresh("V", "R")
    if kind == "svd":
        fn = f"wp.svd{dim}"
        if k.chance(0.5):
            k.emit(f"{a} = {mt}()")
            k.emit(f"{b} = {vt}()")
            k.emit(f"{c} = {mt}()")
            k.emit(f"{fn}({A}, {a}, {b}, {c})")
        else:
            k.emit(f"{a}, {b}, {c} = {fn}({A})")
        R = k.let(("R", "rot"), f"{a} * wp.transpose({c})")
        with k.block(f"if wp.determinant({R}) < 0.0:"):
            k.emit(f"{R} = -{R}")
        out = k.array(("R_out", "rotations", "polar"), mt)
        k.emit(f"{out}[{i}] = {R}")
        sv = k.array(("sv", "stretches", "singular"), vt)
        if dim == 3:
            post_vec(k, b)
        k.emit(f"{sv}[{i}] = {b}")
        return
    fn = "wp.eig3" if kind == "eig" else "wp.qr3"
    if kind == "eig":
        a, b, c = a, b, None
        if k.chance(0.5):
            k.emit(f"{a} = wp.mat33()")
            k.emit(f"{b} = wp.vec3()")
            k.emit(f"{fn}({A}, {a}, {b})")
        else:
            k.emit(f"{a}, {b} = {fn}({A})")
        m = k.let(("m", "k_min", "idx"), f"wp.{k.pick(('argmin', 'argmax'))}({b})")
        n = k.array(("normals", "axes", "principal"), "wp.vec3")
        k.emit(f"{n}[{i}] = wp.vec3({a}[0, {m}], {a}[1, {m}], {a}[2, {m}])")
        ev = k.array(("evals", "eigenvalues", "lam"), "wp.vec3")
        post_vec(k, b)
        k.emit(f"{ev}[{i}] = {b}")
    else:
        k.emit(f"{a}, {c} = {fn}({A})")
        d = k.let(("d", "diag_r"), f"wp.get_diag({c})")
        out = k.array(("Q_out", "basis", "ortho"), "wp.mat33")
        k.emit(f"{out}[{i}] = {a} * wp.diag(wp.sign({d}))")


def covariance(k: Kernel) -> None:
    """Outer-product accumulation over a neighbourhood, regularised and inverted."""
    x = k.array(N.POS, "wp.vec3")
    nbrs = k.array(("neighbors", "nbr", "adj"), "int", 2)
    (i,) = k.thread(k.pick(("i", "tid")))
    xi = k.let(("xi", "c", "center"), f"{x}[{i}]")
    C = k.let(("C", "cov", "S"), "wp.mat33(0.0)")
    j = k.fresh("j", "n")
    with k.block(f"for {j} in range({nbrs}.shape[1]):"):
        nb = k.let(("nb", "idx", "other"), f"{nbrs}[{i}, {j}]")
        with k.block(f"if {nb} < 0:"):
            k.emit("break")
        d = k.let(N.DELTA, f"{x}[{nb}] - {xi}")
        wd = k.let(("wd", "dw", "d_w"), f"{d} * {slots.falloff(k, f'wp.length({d})', k.scalar(N.RADIUS))}")
        k.emit(f"{C} += wp.outer({wd}, {d})")
    reg = k.scalar(("reg", "eps", "damping"))
    k.emit(f"{C} += wp.identity(n=3, dtype=float) * {reg}")
    if k.chance(0.3):
        prev = k.array(("C_prev", "cov_old", "history"), "wp.mat33")
        k.emit(f"{C} = wp.lerp({prev}[{i}], {C}, {k.scalar(('blend', 'alpha', 'momentum'))})")
        k.emit(f"{prev}[{i}] = {C}")
    form = k.rng.randrange(3)
    out = k.array(("C_inv", "precision", "metric"), "wp.mat33")
    if form == 0:
        k.emit(f"{out}[{i}] = wp.inverse({C})")
    elif form == 1:
        k.emit(f"{out}[{i}] = wp.inverse_approx({C} / wp.trace({C}))")
    else:
        k.emit(f"{out}[{i}] = wp.cw_div({C}, wp.mat33(wp.max(wp.get_diag({C}))))")
    if k.chance(0.5):
        an = k.array(("anisotropy", "aniso", "ratio"), "float")
        d = k.let(("dg", "diag_c"), f"wp.get_diag({C})")
        k.emit(f"{an}[{i}] = {slots.measure(k, d)} / (wp.determinant({C}) + {k.eps()})")


def mat_transform(k: Kernel) -> None:
    """Per-element matrix-vector work: skinning, rotations from columns, TRS points."""
    pts = k.array(N.POS, "wp.vec3")
    (i,) = k.thread(k.pick(("i", "tid", "v")))
    p = k.let(("p", "x_rest", "pt"), f"{pts}[{i}]")
    form = k.rng.randrange(4)
    out = k.array(("out", "deformed", "x_out"), "wp.vec3")
    if form == 0:
        M = k.array(("M", "world", "model"), "wp.mat44")
        fn = k.pick(("transform_point", "transform_vector"))
        m = f"{M}[{i} % {M}.shape[0]]"
        if k.chance(0.4):
            m = k.let(("M_inv", "inv_model"), f"wp.{k.pick(('inverse', 'inverse_approx'))}({m})")
            with k.block(f"if wp.determinant({m}) == 0.0:"):
                k.emit("return")
        q = k.let(("q", "x_new"), f"wp.{fn}({m}, {p})")
        post_vec(k, q)
        k.emit(f"{out}[{i}] = {q}")
    elif form == 1:
        a = k.array(("tangent", "t_axis", "u"), "wp.vec3")
        b = k.array(("bitangent", "b_axis", "w"), "wp.vec3")
        t = k.let(("t", "tan"), f"wp.normalize({a}[{i}])")
        n = k.let(("n", "nrm"), f"wp.normalize(wp.cross({t}, {b}[{i}]))")
        fn = k.pick(("matrix_from_cols", "matrix_from_rows"))
        R = k.let(("R", "frame", "tbn"), f"wp.{fn}({t}, wp.cross({n}, {t}), {n})")
        k.emit(f"{out}[{i}] = {R} * {p}" if fn == "matrix_from_cols" else f"{out}[{i}] = {p} * {R}")
    elif form == 2:
        w = k.array(("omega", "w", "ang"), "wp.vec3")
        dt = k.dt()
        R = k.let(("R", "rot"), f"wp.identity(n=3, dtype=float) + {dt} * wp.skew({w}[{i}])")
        q = k.let(("q", "x_new"), f"{R} * {p}")
        post_vec(k, q)
        k.emit(f"{out}[{i}] = {q}")
    else:
        bones = k.array(("bones", "joint_mats", "skin"), "wp.mat44")
        wts = k.array(("weights", "skin_w"), "wp.vec4")
        wv = k.let(("wv", "bw"), f"{wts}[{i}]")
        acc = k.let(N.ACC, "wp.vec3(0.0)")
        b = k.fresh("b", "j")
        bones_n = f"wp.static({k.mod.const(('NUM_INFLUENCES', 'MAX_BONES', 'K'), '4')})" if k.chance(0.5) else "4"
        with k.block(f"for {b} in range({bones_n}):"):
            k.emit(f"{acc} += wp.transform_point({bones}[{b}], {p}) * {wv}[{b}]")
        post_vec(k, acc)
        k.emit(f"{out}[{i}] = {acc}")
