"""Geometry motifs: mesh point and ray queries, AABB/BVH query loops, hash-grid neighbour loops."""

from __future__ import annotations

from . import names as N
from . import slots
from .extras import post_vec
from .kernel import Kernel


def _point_query(k: Kernel, mesh: str, p: str) -> tuple[str, bool]:
    """``query = wp.mesh_query_point*(...)`` in one of its variants: (query name, has a sign)."""
    form = k.rng.randrange(6)
    max_dist = k.scalar(N.MAX_DIST) if form < 5 else ""
    q = k.fresh("query", "q", "hit")
    if form == 0:
        k.emit(f"{q} = wp.mesh_query_point({mesh}, {p}, {max_dist})")
    elif form == 1:
        k.emit(f"{q} = wp.mesh_query_point_no_sign({mesh}, {p}, {max_dist})")
    elif form == 2:
        k.emit(f"{q} = wp.mesh_query_point_sign_normal({mesh}, {p}, {max_dist}, {k.eps()})")
    elif form == 3:
        k.emit(f"{q} = wp.mesh_query_point_sign_parity({mesh}, {p}, {max_dist}, 3, {k.num(1e-3, 1e-2, 3)})")
    elif form == 4:
        k.emit(f"{q} = wp.mesh_query_point_sign_winding_number({mesh}, {p}, {max_dist}, 2.0, 0.5)")
    else:
        k.emit(f"{q} = wp.mesh_query_furthest_point_no_sign({mesh}, {p}, {k.scalar(('min_dist', 'inner_r'))})")
    return q, form in (0, 2, 3, 4)


def mesh_closest_point(k: Kernel) -> None:
    """Particles against a mesh: closest point, signed distance, contact push-out."""
    mesh = k.param(N.MESH, "wp.uint64")
    x = k.array(N.POS, "wp.vec3")
    (i,) = k.thread(k.pick(("tid", "i")))
    p = k.let(("p", "x0", "xq"), f"{x}[{i}]")
    q, signed = _point_query(k, mesh, p)
    with k.block(f"if not {q}.result:"):
        k.emit("return")
    cp = k.let(("cp", "closest", "x_mesh"), f"wp.mesh_eval_position({mesh}, {q}.face, {q}.u, {q}.v)")
    d = k.let(N.DELTA, f"{p} - {cp}")
    dist = k.let(N.DIST, f"wp.length({d})")
    if signed and k.chance(0.5):
        k.emit(f"{dist} *= {q}.sign")
    out_kind = k.rng.randrange(3)
    if out_kind == 0:
        radius = k.scalar(N.RADIUS)
        with k.block(f"if {dist} < {radius}:"):
            n = k.let(N.DIR, f"wp.mesh_eval_face_normal({mesh}, {q}.face)")
            k.emit(f"{x}[{i}] = {p} + {n} * ({radius} - {dist})")
    elif out_kind == 1:
        v = k.array(N.VEL, "wp.vec3")
        mv = k.let(("v_mesh", "vm", "wall_v"), f"wp.mesh_eval_velocity({mesh}, {q}.face, {q}.u, {q}.v)")
        rel = k.let(("v_rel", "dv"), f"{v}[{i}] - {mv}")
        post_vec(k, rel, None, 1)
        k.emit(f"{v}[{i}] = {mv} + {rel} * {slots.falloff(k, dist, k.scalar(N.RADIUS))}")
    else:
        sdf = k.array(("sdf", "phi", "dist_out"), "float")
        k.emit(f"{sdf}[{i}] = {dist}")


def mesh_raycast(k: Kernel) -> None:
    """Camera or sensor rays against a mesh: closest hit, any hit, or a crossing count."""
    mesh = k.param(N.MESH, "wp.uint64")
    origins = k.array(("origins", "ray_o", "starts"), "wp.vec3")
    dirs = k.array(("directions", "ray_d", "dirs"), "wp.vec3")
    form = k.rng.randrange(4)
    max_t = k.scalar(("max_t", "t_max", "far")) if form < 3 else ""
    (i,) = k.thread(k.pick(("tid", "i", "ray")))
    o = k.let(("o", "ro", "start"), f"{origins}[{i}]")
    d = k.let(("d", "rd", "dir"), f"wp.normalize({dirs}[{i}])")
    if form <= 1:
        q = k.let(("query", "hit", "q"), f"wp.mesh_query_ray({mesh}, {o}, {d}, {max_t})")
        depth = k.array(("depth", "t_hit", "dist"), "float")
        with k.block(f"if {q}.result:"):
            k.emit(f"{depth}[{i}] = {q}.t")
            if form == 1:
                color = k.array(("color", "shade", "pixels"), "wp.vec3")
                light = k.param(("light_dir", "sun", "l"), "wp.vec3")
                k.emit(f"{color}[{i}] = wp.vec3(wp.max(wp.dot({q}.normal, {light}), 0.0))")
        with k.block("else:"):
            k.emit(f"{depth}[{i}] = {max_t}")
    elif form == 2:
        vis = k.array(("visible", "occluded", "mask"), "int")
        k.emit(f"{vis}[{i}] = wp.where(wp.mesh_query_ray_anyhit({mesh}, {o}, {d}, {max_t}), 0, 1)")
    else:
        inside = k.array(("inside", "parity", "crossings"), "int")
        n = k.let(("n", "count", "hits"), f"wp.mesh_query_ray_count_intersections({mesh}, {o}, {d})")
        k.emit(f"{inside}[{i}] = {n} % 2")


def mesh_aabb_loop(k: Kernel) -> None:
    """Triangles overlapping a box around each query point or triangle, via the mesh BVH."""
    mesh = k.param(N.MESH, "wp.uint64")
    x = k.array(N.POS, "wp.vec3")
    radius = k.scalar(N.RADIUS)
    count = k.array(N.COUNT, "int")
    (i,) = k.thread(k.pick(("tid", "i")))
    p = k.let(("p", "center"), f"{x}[{i}]")
    use_sphere = k.chance(0.3)
    if use_sphere:
        q = k.let(("query", "q"), f"wp.mesh_query_sphere({mesh}, {p}, {radius})")
    else:
        ext = k.let(("ext", "r3"), f"wp.vec3({radius})")
        q = k.let(("query", "q"), f"wp.mesh_query_aabb({mesh}, {p} - {ext}, {p} + {ext})")
    face = k.let(("face", "f", "tri"), "int(0)")
    n = k.let(("n", "num", "found"), "int(0)")
    nxt = "mesh_query_next" if use_sphere or k.chance(0.3) else "mesh_query_aabb_next"
    with k.block(f"while wp.{nxt}({q}, {face}):"):
        ids = [k.let((f"i{c}", f"v{c}"), f"wp.mesh_get_index({mesh}, {face} * 3 + {c})") for c in range(3)]
        if k.chance(0.3):
            m = k.let(("m", "mesh_data"), f"wp.mesh_get({mesh})")
            pts = [k.let((f"p{c}", f"a{c}"), f"{m}.points[{ids[c]}]") for c in range(3)]
        else:
            pts = [k.let((f"p{c}", f"a{c}"), f"wp.mesh_get_point({mesh}, {ids[c]})") for c in range(3)]
        kind = k.rng.randrange(3)
        if kind == 0:
            c = k.let(("c", "centroid"), f"({pts[0]} + {pts[1]} + {pts[2]}) / 3.0")
            with k.block(f"if wp.length({c} - {p}) < {radius}:"):
                k.emit(f"{n} += 1")
        elif kind == 1:
            tri = k.array(("tri_a", "other_tri", "probe"), "wp.vec3", 2)
            hit = f"wp.intersect_tri_tri({tri}[{i}, 0], {tri}[{i}, 1], {tri}[{i}, 2], {pts[0]}, {pts[1]}, {pts[2]})"
            with k.block(f"if {hit} != 0:"):
                k.emit(f"{n} += 1")
        else:
            nrm = k.let(("fn", "face_n"), f"wp.normalize(wp.cross({pts[1]} - {pts[0]}, {pts[2]} - {pts[0]}))")
            with k.block(f"if wp.abs(wp.dot({p} - {pts[0]}, {nrm})) < {radius}:"):
                k.emit(f"{n} += 1")
            if k.chance(0.5):
                mv = k.array(("tri_vel", "vmax", "speed"), "float")
                k.emit(f"wp.atomic_max({mv}, 0, wp.length(wp.mesh_get_velocity({mesh}, {ids[0]})))")
    k.emit(f"{count}[{i}] = {n}")


def bvh_loop(k: Kernel) -> None:
    """Broad phase over a BVH of boxes: AABB, sphere, ray or capsule queries."""
    from_mesh = k.chance(0.3)
    handle = k.param(N.MESH if from_mesh else N.BVH, "wp.uint64")
    lowers = k.array(("lowers", "lo", "box_lo"), "wp.vec3")
    uppers = k.array(("uppers", "hi", "box_hi"), "wp.vec3")
    (i,) = k.thread(k.pick(("tid", "i")))
    bvh = k.let(("bvh", "tree"), f"wp.mesh_get_bvh({handle})") if from_mesh else handle
    lo = k.let(("lo", "lower", "b_lo"), f"{lowers}[{i}]")
    hi = k.let(("hi", "upper", "b_hi"), f"{uppers}[{i}]")
    root = "-1"
    if k.chance(0.3):
        groups = k.array(("group", "groups", "env_id"), "int")
        fn = "mesh_get_group_root" if from_mesh else "bvh_get_group_root"
        root = k.let(("root", "group_root"), f"wp.{fn}({handle if from_mesh else bvh}, {groups}[{i}])")
    form = k.rng.randrange(4)
    if form == 0:
        q = k.let(("query", "q"), f"wp.bvh_query_aabb({bvh}, {lo}, {hi}, {root})")
    elif form == 1:
        c = k.let(("c", "center"), f"({lo} + {hi}) * 0.5")
        q = k.let(("query", "q"), f"wp.bvh_query_sphere({bvh}, {c}, wp.length({hi} - {c}), {root})")
    elif form == 2:
        d = k.let(("d", "ray_dir"), f"wp.normalize({hi} - {lo})")
        q = k.let(("query", "q"), f"wp.bvh_query_ray({bvh}, {lo}, {d}, {root})")
    else:
        d = k.let(("axis", "seg"), f"{hi} - {lo}")
        r = k.scalar(N.RADIUS)
        q = k.let(("query", "q"), f"wp.bvh_query_capsule({bvh}, {lo}, {d}, {r}, {root})")
    idx = k.let(("idx", "bounds_nr", "item"), "int(0)")
    hits = k.let(("hits", "n", "count"), "int(0)")
    with k.block(f"while wp.bvh_query_next({q}, {idx}):"):
        with k.block(f"if {idx} == {i}:"):
            k.emit("continue")
        k.emit(f"{hits} += 1")
        if k.chance(0.5):
            pairs = k.array(("pairs", "candidates", "overlaps"), "wp.vec2i")
            slot = k.let(("slot", "k"), f"wp.atomic_add({k.array(N.COUNT, 'int')}, 0, 1)")
            with k.block(f"if {slot} < {pairs}.shape[0]:"):
                k.emit(f"{pairs}[{slot}] = wp.vec2i({i}, {idx})")
    out = k.array(("num_overlaps", "counts", "degree"), "int")
    k.emit(f"{out}[{i}] = {hits}")


def hash_grid_neighbors(k: Kernel) -> None:
    """The particle neighbour loop over a hash grid (DEM/SPH style), with grid-sorted ids."""
    grid = k.param(N.GRID, "wp.uint64")
    prec = k.pick(("f", "f", "f", "d", "h"))
    vt, ft = {"f": ("wp.vec3", "float"), "d": ("wp.vec3d", "wp.float64"), "h": ("wp.vec3h", "wp.float16")}[prec]
    x = k.array(N.POS, vt)
    radius = k.scalar(N.RADIUS, ft)
    f = k.array(N.FORCE, vt)
    (tid,) = k.thread(k.pick(("tid", "t")))
    i = k.let(("i", "p_id"), f"wp.hash_grid_point_id({grid}, {tid})")
    xi = k.let(("xi", "x0"), f"{x}[{i}]")
    acc = k.let(N.ACC, f"{vt}()" if prec != "f" else "wp.vec3(0.0)")
    group = ""
    if k.chance(0.25):
        groups = k.array(("group", "env_of", "layer"), "int")
        group = f", {groups}[{i}]"
    if k.chance(0.5):
        q = k.let(("query", "q"), f"wp.hash_grid_query({grid}, {xi}, {radius}{group})")
        j = k.let(("index", "j", "nbr"), "int(0)")
        loop = f"while wp.hash_grid_query_next({q}, {j}):"
    else:
        j = k.fresh("index", "j", "nbr")
        loop = f"for {j} in wp.hash_grid_query({grid}, {xi}, {radius}{group}):"
    with k.block(loop):
        with k.block(f"if {j} == {i}:"):
            k.emit("continue")
        d = k.let(N.DELTA, f"{xi} - {x}[{j}]")
        r = k.let(N.DIST, f"wp.length({d})")
        with k.block(f"if {r} < {radius}:"):
            if prec != "f":
                k.emit(f"{acc} += {d} * (({radius} - {r}) / ({r} + {ft}(1e-3)))")
            else:
                ks = k.scalar(N.STIFF)
                k.emit(f"{acc} += {d} / ({r} + {k.eps()}) * {ks} * {slots.falloff(k, r, radius)}")
    k.emit(f"{f}[{i}] = {acc}")


def edge_edge(k: Kernel) -> None:
    """Cloth self-collision: closest points between edge pairs."""
    x = k.array(N.POS, "wp.vec3")
    edges = k.array(("edges", "edge_indices"), "int", 2)
    pairs = k.array(("pairs", "candidates"), "wp.vec2i")
    thickness = k.scalar(("thickness", "margin", "radius"))
    (t,) = k.thread(k.pick(("tid", "t")))
    pr = k.let(("pair", "pr"), f"{pairs}[{t}]")
    e0, e1 = k.let(("e0", "ea"), f"{pr}[0]"), k.let(("e1", "eb"), f"{pr}[1]")
    p1 = k.let(("p1", "a0"), f"{x}[{edges}[{e0}, 0]]")
    q1 = k.let(("q1", "a1"), f"{x}[{edges}[{e0}, 1]]")
    p2 = k.let(("p2", "b0"), f"{x}[{edges}[{e1}, 0]]")
    q2 = k.let(("q2", "b1"), f"{x}[{edges}[{e1}, 1]]")
    st = k.let(("st", "res"), f"wp.closest_point_edge_edge({p1}, {q1}, {p2}, {q2}, {k.eps()})")
    dist = k.let(N.DIST, f"{st}[2]")
    with k.block(f"if {dist} > {thickness}:"):
        k.emit("return")
    ca = k.let(("ca", "c0"), f"wp.lerp({p1}, {q1}, {st}[0])")
    cb = k.let(("cb", "c1"), f"wp.lerp({p2}, {q2}, {st}[1])")
    out = k.array(("contact_n", "normals", "push"), "wp.vec3")
    k.emit(f"{out}[{t}] = wp.normalize({ca} - {cb}) * ({thickness} - {dist})")
