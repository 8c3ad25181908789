"""Which motifs make up each category, with weights."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import motifs_bits as B
from . import motifs_factory as K
from . import motifs_field as F
from . import motifs_generic as Q
from . import motifs_geo as O
from . import motifs_grid as D
from . import motifs_lang as G
from . import motifs_linalg as L
from . import motifs_math as M
from . import motifs_meta as T
from . import motifs_misc as C
from . import motifs_rot as R
from . import motifs_sim as S
from . import motifs_tile as X
from . import motifs_tile2 as Y
from . import motifs_typed as P

_TABLE = {
    "arithmetic": {
        M.axpy: 3,
        M.index_math: 2,
        M.polynomial: 2,
        C.table_lookup: 2,
        C.pack_features: 1,
        Y.tile_gather_scatter: 3,
        X.tile_thread_values: 2,
    },
    "vector": {
        S.integrate_particles: 3,
        S.spring_forces: 2,
        S.boundary_collision: 1,
        C.vertex_normals: 2,
        P.typed_values: 1,
    },
    "control_flow": {S.boundary_collision: 2, M.piecewise: 2, M.newton_solve: 1, C.check_values: 1},
    "math": {M.activation: 2, M.special_functions: 3, X.tile_softmax: 2, X.tile_row_reduce: 2},
    "atomic": {S.reduce_atomic: 3, S.spring_forces: 1, D.grid_scatter: 3, Y.tile_scatter_bins: 2, X.tile_row_reduce: 2},
    "multi_conditional": {M.piecewise: 3, S.boundary_collision: 1},
    "while_loop": {
        M.newton_solve: 4,
        O.mesh_aabb_loop: 1,
        O.bvh_loop: 1,
        O.hash_grid_neighbors: 1,
        Y.tile_work_stack: 2,
    },
    "multi_dim": {
        D.batched_images: 1,
        M.stencil_2d: 3,
        F.volume_voxels: 1,
        D.image_ops: 3,
        D.advect_2d: 2,
        D.grid3d_update: 2,
        D.matmul_naive: 2,
        Y.tile_shapes: 3,
        X.tile_gemm: 2,
    },
    "nested_loop": {
        S.sph_density: 2,
        L.covariance: 1,
        M.polynomial: 1,
        B.hashing: 1,
        L.mat_transform: 1,
        C.local_buffer: 2,
        X.tile_scan_sort: 2,
        Y.tile_fft_filter: 1,
    },
    "scalar_param": {
        S.integrate_particles: 2,
        M.axpy: 1,
        S.sph_density: 1,
        M.piecewise: 1,
        K.kernel_factory: 1,
        X.tile_thread_values: 2,
    },
    "quaternion": {S.rigid_body_update: 1, R.quat_ops: 3},
    "transform": {R.transform_points: 2, R.transform_edit: 1},
    "spatial": {R.spatial_dynamics: 1, R.spatial_integrate: 1},
    "matrix": {
        L.fem_tet: 1,
        L.decompose: 2,
        L.covariance: 1,
        L.mat_transform: 2,
        X.tile_gemm: 3,
        Y.tile_linear_solve: 2,
    },
    "struct": {G.struct_model: 2, G.struct_records: 2, G.struct_helper: 2},
    "func_call": {G.helper_calls: 3, G.struct_records: 1, T.custom_grad: 1},
    "generic": {Q.generic_overload: 2, T.user_types: 1, K.kernel_factory: 1, C.pack_features: 1, T.generic_helpers: 2},
    "custom_grad": {T.custom_grad: 1},
    "geometry": {
        O.mesh_closest_point: 2,
        O.mesh_raycast: 2,
        O.mesh_aabb_loop: 2,
        O.bvh_loop: 2,
        O.hash_grid_neighbors: 2,
        O.edge_edge: 1,
    },
    "tile": {
        X.tile_gemm: 3,
        X.tile_row_reduce: 3,
        X.tile_softmax: 2,
        X.tile_scan_sort: 2,
        X.tile_thread_values: 2,
        Y.tile_linear_solve: 2,
        Y.tile_fft_filter: 1,
        Y.tile_gather_scatter: 2,
        Y.tile_shapes: 2,
        Y.tile_random: 1,
        Y.tile_scatter_bins: 1,
        Y.tile_work_stack: 1,
        Y.tile_bvh_batch: 2,
    },
    "volume": {F.volume_sdf_collision: 3, F.volume_sample_points: 3, F.volume_voxels: 2, F.texture_lookup: 2},
    "random": {B.monte_carlo: 3, B.noise_field: 2, Y.tile_random: 3},
    "bitwise": {B.hashing: 2, B.bit_packing: 2, B.xorshift_stream: 1, B.radix_histogram: 2, P.typed_values: 1},
    "mixed_precision": {B.mixed_precision: 3, X.tile_gemm: 1, P.typed_values: 4},
}

if TYPE_CHECKING:
    from collections.abc import Callable

    from .kernel import Kernel

# category -> (motifs, their weights)
RECIPES: dict[str, tuple[list[Callable[[Kernel], None]], list[float]]] = {
    cat: (list(table), list(table.values())) for cat, table in _TABLE.items()
}

# 1-d motifs that can follow another motif in the same kernel body.
_COMPANIONS_1D: list[Callable[[Kernel], None]] = [
    S.integrate_particles,
    S.spring_forces,
    S.reduce_atomic,
    S.boundary_collision,
    M.axpy,
    M.activation,
    M.special_functions,
    M.piecewise,
    M.polynomial,
    B.monte_carlo,
    R.quat_ops,
    R.transform_points,
    L.mat_transform,
    G.helper_calls,
    B.mixed_precision,
    D.grid_scatter,
    C.vertex_normals,
    C.table_lookup,
    C.local_buffer,
    C.pack_features,
    C.check_values,
]
# Motifs that can follow another one in the same kernel body, by launch shape (Kernel.kind).
COMPANIONS: dict[str, list[Callable[[Kernel], None]]] = {
    "1d": _COMPANIONS_1D,
    "2d": [M.stencil_2d, D.image_ops, D.advect_2d, D.matmul_naive],
    "3d": [F.volume_voxels, D.grid3d_update],
    "tile2d": [X.tile_gemm, Y.tile_shapes],
    "tilelane": [X.tile_thread_values, Y.tile_scatter_bins, Y.tile_work_stack],
    "tile1d": [
        X.tile_row_reduce,
        X.tile_softmax,
        X.tile_scan_sort,
        Y.tile_random,
        Y.tile_gather_scatter,
        Y.tile_linear_solve,
    ],
}
RECIPES["combined"] = (_COMPANIONS_1D, [1.0] * len(_COMPANIONS_1D))
ALWAYS_COMPOSED = ("combined",)
