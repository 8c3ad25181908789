"""Rotation motifs: quaternion algebra, rigid transforms, spatial (twist/wrench) vectors."""

from __future__ import annotations

from . import names as N
from . import slots
from .extras import post_vec
from .kernel import Kernel

_AXES = ("wp.vec3(0.0, 1.0, 0.0)", "wp.vec3(1.0, 0.0, 0.0)", "wp.vec3(0.0, 0.0, 1.0)")


def _quat_source(k: Kernel, i: str) -> str:
    """A quaternion local read or built several ways."""
    form = k.rng.randrange(5)
    if form == 0:
        return k.let(("q", "rot", "r"), f"{k.array(N.ROT, 'wp.quat')}[{i}]")
    if form == 1:
        angles = k.array(("angles", "rpy", "euler"), "wp.vec3")
        e = k.let(("e", "ang", "a"), f"{angles}[{i}]")
        if k.chance(0.5):
            return k.let(("q", "rot", "r"), f"wp.quat_rpy({e}[0], {e}[1], {e}[2])")
        order = k.pick(("0, 1, 2", "2, 1, 0", "2, 0, 2", "0, 1, 0"))
        return k.let(("q", "rot", "r"), f"wp.quat_from_euler({e}, {order})")
    if form == 2:
        axis = k.array(("axes", "axis", "hinge_axis"), "wp.vec3")
        angle = k.array(("angle", "theta", "joint_q"), "float")
        return k.let(("q", "rot", "r"), f"wp.quat_from_axis_angle(wp.normalize({axis}[{i}]), {angle}[{i}])")
    if form == 3:
        mats = k.array(("R", "rot_mats", "frames"), "wp.mat33")
        return k.let(("q", "rot", "r"), f"wp.quat_from_matrix({mats}[{i}])")
    comps = k.array(("quat_data", "qv", "coeffs"), "wp.vec4")
    c = k.let(("c", "qc"), f"{comps}[{i}]")
    q = k.let(("q", "rot", "r"), f"wp.quaternion({c}[0], {c}[1], {c}[2], {c}[3])")
    k.emit(f"{q} = wp.normalize({q})")
    return q


def quat_ops(k: Kernel) -> None:
    """Orientation bookkeeping: relative rotations, interpolation, twist, conversions."""
    (i,) = k.thread(k.pick(("i", "tid", "b")))
    q = _quat_source(k, i)
    outputs = k.rng.sample(range(8), k.rng.randint(2, 4))
    for o in outputs:
        if o == 0:
            target = k.array(("target", "q_goal", "ref_rot"), "wp.quat")
            t = k.scalar(("t", "blend", "alpha"))
            out = k.array(("q_out", "interp", "smoothed"), "wp.quat")
            k.emit(f"{out}[{i}] = wp.quat_slerp({q}, {target}[{i}], {t})")
        elif o == 1:
            ref = k.array(("q_ref", "parent_rot", "rest_rot"), "wp.quat")
            rel = k.let(("dq", "q_rel", "rel"), f"wp.quat_inverse({ref}[{i}]) * {q}")
            err = k.array(("err", "angle_err", "deviation"), "float")
            axis = k.fresh("axis", "ax")
            angle = k.fresh("angle", "ang")
            k.emit(f"{axis}, {angle} = wp.quat_to_axis_angle({rel})")
            k.emit(f"{err}[{i}] = {angle} * wp.length({axis})")
        elif o == 2:
            mats = k.array(("R_out", "mats", "orient"), "wp.mat33")
            k.emit(f"{mats}[{i}] = wp.quat_to_matrix({q})")
        elif o == 3:
            rpy = k.array(("rpy_out", "euler_out", "attitude"), "wp.vec3")
            k.emit(
                f"{rpy}[{i}] = wp.quat_to_rpy({q})" if k.chance(0.5) else f"{rpy}[{i}] = wp.quat_to_euler({q}, 2, 1, 0)"
            )
        elif o == 4:
            axis = k.pick(_AXES)
            tw = k.array(("twist", "swing_twist", "tw"), "wp.quat")
            k.emit(f"{tw}[{i}] = wp.quat_twist({axis}, {q})")
        elif o == 5:
            ang = k.array(("twist_angle", "yaw", "heading"), "float")
            fn = k.pick(("quat_twist_angle", "quat_twist_angle_signed"))
            k.emit(f"{ang}[{i}] = wp.{fn}({k.pick(_AXES)}, {q})")
        elif o == 6:
            pts = k.array(("local_pts", "offsets", "r_local"), "wp.vec3")
            world = k.array(("world_pts", "r_world", "rotated"), "wp.vec3")
            fn = k.pick(("quat_rotate", "quat_rotate_inv"))
            k.emit(f"{world}[{i}] = wp.{fn}({q}, {pts}[{i}])")
        elif o == 7 and k.chance(0.5):
            target = k.array(("q_prev", "last_rot", "q_old"), "wp.quat")
            qt = k.let(("qt", "q_t"), f"{target}[{i}]")
            with k.block(f"if wp.dot({q}, {qt}) < 0.0:"):
                k.emit(f"{qt} = -{qt}")
            t = k.scalar(("t", "blend", "alpha"))
            out = k.array(("q_blend", "nlerp_out", "q_mid"), "wp.quat")
            k.emit(f"{out}[{i}] = wp.normalize(wp.lerp({qt}, {q}, {t}))")
            diff = k.array(("q_change", "dq_norm", "change"), "float")
            k.emit(f"{diff}[{i}] = wp.length({q} - {qt}) + wp.length_sq({q} + {qt})")
        else:
            sim = k.array(("similarity", "align", "cos_half"), "float")
            ident = k.let(("q0", "q_id", "identity"), "wp.quat_identity(dtype=float)")
            k.emit(f"{sim}[{i}] = wp.abs(wp.dot({q}, {ident}))")


def transform_points(k: Kernel) -> None:
    """Body frames applied to points: compose, invert, convert to and from matrices."""
    body_q = k.array(N.BODY_Q, "wp.transform")
    pts = k.array(N.POS, "wp.vec3")
    body = k.array(("shape_body", "point_body", "owner"), "int") if k.chance(0.5) else None
    (i,) = k.thread(k.pick(("i", "tid", "p")))
    if body is not None:
        b = k.let(("b", "body_id", "bid"), f"{body}[{i}]")
        tf = k.fresh("X_wb", "tf", "X")
        with k.block(f"if {b} < 0:"):
            k.emit(f"{tf} = wp.transform_identity(dtype=float)")
        with k.block("else:"):
            k.emit(f"{tf} = {body_q}[{b}]")
    else:
        tf = k.let(("X_wb", "tf", "X"), f"{body_q}[{i}]")
    if k.chance(0.4):
        local = k.param(("X_local", "shape_tf", "offset_tf"), "wp.transform")
        k.emit(f"{tf} = wp.transform_multiply({tf}, {local})" if k.chance(0.6) else f"{tf} = {tf} * {local}")
    p = k.let(("p", "x_local", "pt"), f"{pts}[{i}]")
    form = k.rng.randrange(4)
    out = k.array(("out", "world", "x_world"), "wp.vec3")
    if form == 0:
        k.emit(f"{out}[{i}] = wp.transform_point({tf}, {p})")
    elif form == 1:
        inv = k.let(("X_bw", "inv", "tf_inv"), f"wp.transform_inverse({tf})")
        k.emit(f"{out}[{i}] = wp.transform_point({inv}, {p})")
    elif form == 2:
        m = k.let(("M", "mat", "m44"), f"wp.transform_to_matrix({tf})")
        k.emit(f"{out}[{i}] = wp.transform_point({m}, {p})")
    else:
        t = k.let(("t", "trans"), f"wp.transform_get_translation({tf})")
        r = k.let(("r", "rot"), f"wp.transform_get_rotation({tf})")
        k.emit(f"{out}[{i}] = wp.quat_rotate({r}, {p}) + {t}")
    if k.chance(0.5):
        n_arr = k.array(("normals", "dirs", "n_local"), "wp.vec3")
        fn = k.pick(("transform_vector", "transform_vector"))
        k.emit(f"{n_arr}[{i}] = wp.normalize(wp.{fn}({tf}, {n_arr}[{i}]))")
    if k.chance(0.4):
        scale = k.array(("scale", "scales", "s"), "wp.vec3")
        m = k.let(
            ("M", "m44", "trs"),
            f"wp.transform_compose(wp.transform_get_translation({tf}), wp.transform_get_rotation({tf}), {scale}[{i}])",
        )
        pos, rot, sc = k.fresh("pos", "t_out"), k.fresh("rot", "q_out"), k.fresh("sc", "s_out")
        k.emit(f"{pos}, {rot}, {sc} = wp.transform_decompose({m})")
        k.emit(f"{body_q}[{i}] = wp.transformation({pos} * {sc}[0], {rot}, dtype=float)")


def transform_edit(k: Kernel) -> None:
    """Joint frame updates: set translation/rotation, from/to matrix, TRS matrices."""
    tfs = k.array(N.BODY_Q, "wp.transform")
    (i,) = k.thread(k.pick(("i", "tid", "j")))
    tf = k.let(("tf", "X", "pose"), f"{tfs}[{i}]")
    q = _quat_source(k, i)
    k.emit(f"wp.transform_set_rotation({tf}, {q})")
    if k.chance(0.6):
        off = k.array(("offset", "shift", "delta"), "wp.vec3")
        k.emit(f"wp.transform_set_translation({tf}, wp.transform_get_translation({tf}) + {off}[{i}])")
    if k.chance(0.5):
        mats = k.array(("M", "mats", "world_mats"), "wp.mat44")
        if k.chance(0.5):
            k.emit(f"{mats}[{i}] = wp.transform_to_matrix({tf})")
        else:
            sc = k.param(("scale", "s"), "wp.vec3")
            k.emit(f"{mats}[{i}] = wp.transform_compose(wp.transform_get_translation({tf}), {q}, {sc})")
            k.emit(f"{tf} = wp.transform_from_matrix({mats}[{i}])")
    k.emit(f"{tfs}[{i}] = {tf}")


def spatial_dynamics(k: Kernel) -> None:
    """Featherstone-style twists and wrenches: body velocities, contact wrenches, power."""
    body_q = k.array(N.BODY_Q, "wp.transform")
    body_qd = k.array(N.BODY_QD, "wp.spatial_vector")
    (i,) = k.thread(k.pick(("i", "b", "tid")))
    tf = k.let(("X_wb", "tf"), f"{body_q}[{i}]")
    qd = k.let(("qd", "twist", "v_s"), f"{body_qd}[{i}]")
    w = k.let(("w", "omega"), f"wp.spatial_top({qd})")
    v = k.let(("v", "vel"), f"wp.spatial_bottom({qd})")
    choices = [k.pick((1, 2)), *k.rng.sample((0, 3, 4), k.rng.randint(1, 2))]
    k.rng.shuffle(choices)
    for c in choices:
        if c == 0:
            r = k.array(("contact_r", "offsets", "r_c"), "wp.vec3")
            pv = k.array(("point_vel", "v_contact", "vp"), "wp.vec3")
            k.emit(f"{pv}[{i}] = wp.velocity_at_point({qd}, {r}[{i}])")
        elif c == 1:
            f = k.array(("body_f", "wrench", "f_ext"), "wp.spatial_vector")
            k.emit(f"{f}[{i}] = wp.transform_wrench({tf}, wp.spatial_vector({w} * 0.5, {v}))")
        elif c == 2:
            out = k.array(("qd_world", "twist_w", "v_world"), "wp.spatial_vector")
            k.emit(f"{out}[{i}] = wp.transform_twist({tf}, {qd})")
        elif c == 3:
            f = k.array(("f_s", "wrenches", "forces"), "wp.spatial_vector")
            power = k.array(("power", "work", "energy"), "float")
            k.emit(f"{power}[{i}] = wp.spatial_dot({qd}, {f}[{i}])")
            k.emit(f"{f}[{i}] = {f}[{i}] + wp.spatial_cross_dual({qd}, {f}[{i}])")
        else:
            acc = k.array(("body_qdd", "acc", "a_s"), "wp.spatial_vector")
            k.emit(f"{acc}[{i}] = wp.spatial_cross({qd}, {acc}[{i}])")
    if k.chance(0.4):
        R = k.let(("R", "rot_m"), f"wp.quat_to_matrix(wp.transform_get_rotation({tf}))")
        S = k.let(("S", "skew_p"), f"wp.skew(wp.transform_get_translation({tf})) * {R}")
        X = k.array(("X_s", "adjoints", "spatial_X"), "wp.spatial_matrix")
        k.emit(f"{X}[{i}] = wp.spatial_adjoint({R}, {S})")
    speed = k.let(("speed", "ke"), f"{slots.measure(k, w)} + wp.length({v})")
    sp = k.array(("speed_out", "kinetic", "vel_norm"), "float")
    k.emit(f"{sp}[{i}] = {speed}")
    if k.chance(0.3):
        post_vec(k, v, None, 1)
        k.emit(f"{body_qd}[{i}] = wp.spatial_vector({w}, {v})")


def _joint_acceleration(k: Kernel, body_qd: str, dt: str, i: str, qd: str, f: str) -> None:
    """One joint's acceleration from its motion subspace and the body's spatial inertia."""
    inertia = k.array(("body_I", "I_s", "inertia"), "wp.spatial_matrix")
    axis = k.array(("joint_S", "motion_subspace", "joint_axis"), "wp.spatial_vector")
    s = k.let(("S", "s_j", "axis"), f"{axis}[{i}]")
    d = k.let(("D", "d_j", "inertia_s"), f"wp.spatial_dot({s}, {inertia}[{i}] * {s})")
    bias = k.let(("c", "bias", "coriolis"), f"wp.spatial_cross_dual({qd}, {inertia}[{i}] * {qd})")
    tau = k.let(("tau", "u_j", "torque"), f"wp.spatial_dot({s}, {f} - {bias})")
    qdd = k.let(("qdd", "acc", "a_j"), f"{tau} / wp.max({d}, {k.eps()})")
    k.emit(f"{qd} = {qd} + {s} * ({qdd} * {dt})")
    k.emit(f"{body_qd}[{i}] = {qd}")


def spatial_integrate(k: Kernel) -> None:
    """Rigid bodies stepped from their spatial wrench (semi-implicit Euler, as Warp's integrators
    do), or one joint's acceleration from its motion subspace and the body's spatial inertia."""
    body_qd = k.array(N.BODY_QD, "wp.spatial_vector")
    body_f = k.array(("body_f", "wrenches", "f_ext"), "wp.spatial_vector")
    dt = k.dt()
    (i,) = k.thread(k.pick(("i", "b", "tid")))
    qd = k.let(("qd", "twist", "v_s"), f"{body_qd}[{i}]")
    f = k.let(("f", "wrench", "f_s"), f"{body_f}[{i}]")
    if k.chance(0.35):
        _joint_acceleration(k, body_qd, dt, i, qd, f)
        return
    body_q = k.array(N.BODY_Q, "wp.transform")
    inv_m = k.array(("body_inv_mass", "inv_mass", "inv_m"), "float")
    inv_i = k.array(("body_inv_inertia", "inv_I", "I_inv"), "wp.mat33")
    tf = k.let(("tf", "X_wb", "pose"), f"{body_q}[{i}]")
    x0 = k.let(("x0", "com", "p"), f"wp.transform_get_translation({tf})")
    r = k.let(("r", "rot", "q"), f"wp.transform_get_rotation({tf})")
    w, v = k.let(("w", "omega"), f"wp.spatial_top({qd})"), k.let(("v", "vel"), f"wp.spatial_bottom({qd})")
    t, fo = k.let(("t", "torque", "tau"), f"wp.spatial_top({f})"), k.let(("fo", "force"), f"wp.spatial_bottom({f})")
    m = k.let(("m_inv", "im", "w_m"), f"{inv_m}[{i}]")
    if k.chance(0.3):  # kinematic bodies (zero inverse mass) are left where they are
        with k.block(f"if {m} == 0.0:"):
            k.emit("return")
    if k.chance(0.5):
        g = k.param(N.GRAVITY, "wp.vec3")
        k.emit(f"{v} = {v} + ({fo} * {m} + {g} * wp.nonzero({m})) * {dt}")
    else:
        k.emit(f"{v} = {v} + {fo} * {m} * {dt}")
    if k.chance(0.5):
        w_body = k.let(("wb", "w_local", "omega_b"), f"wp.quat_rotate_inv({r}, {w})")
        tb = k.let(("tb", "t_local", "tau_b"), f"wp.quat_rotate_inv({r}, {t})")
        k.emit(f"{w_body} = {w_body} + {inv_i}[{i}] * {tb} * {dt}")
        if k.chance(0.5):
            k.emit(f"{w_body} = {w_body} * (1.0 - {k.scalar(('angular_damping', 'ang_damp', 'kd_w'))} * {dt})")
        k.emit(f"{w} = wp.quat_rotate({r}, {w_body})")
    else:  # the inverse inertia taken to world frame instead
        rm = k.let(("R", "rot_m", "Rwb"), f"wp.quat_to_matrix({r})")
        iw = k.let(("I_inv_w", "inv_I_world"), f"{rm} * {inv_i}[{i}] * wp.transpose({rm})")
        k.emit(f"{w} = {w} + {iw} * {t} * {dt}")
    post_vec(k, v, dt, 1)
    k.emit(f"{x0} = {x0} + {v} * {dt}")
    if k.chance(0.5):
        k.emit(f"{r} = wp.normalize({r} + wp.quat({w}, 0.0) * {r} * 0.5 * {dt})")
    else:
        ang = k.let(("angle", "theta", "w_len"), f"wp.length({w}) * {dt}")
        with k.block(f"if {ang} > {k.eps()}:"):
            k.emit(f"{r} = wp.normalize(wp.quat_from_axis_angle(wp.normalize({w}), {ang}) * {r})")
    if k.chance(0.4):
        ke = k.array(N.ENERGY, "float")
        k.emit(f"wp.atomic_add({ke}, 0, 0.5 * wp.length_sq({v}) / wp.max({m}, {k.eps()}))")
    k.emit(f"{body_q}[{i}] = wp.transform({x0}, {r})")
    k.emit(f"{body_qd}[{i}] = wp.spatial_vector({w}, {v})")
