"""Categories of real kernels from what their AST uses (never from file names), plus launch
dimension and argument annotations.  No Warp import: this reads source text only.

Categories are the generator's names where they fit (atomic, matrix, vector, ...) and
``tile``, ``geometry`` (mesh/BVH/hash grid), ``volume`` and ``other`` where they do not.  A
kernel that uses several things gets the first of ``PRIORITY``: the rarer and more specific
feature wins, so a kernel with a mesh query and a loop is ``geometry``, not ``control_flow``.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterable

PRIORITY = (
    "tile",
    "volume",
    "geometry",
    "random",
    "spatial",
    "transform",
    "quaternion",
    "struct",
    "atomic",
    "matrix",
    "bitwise",
    "nested_loop",
    "while_loop",
    "vector",
    "control_flow",
    "math",
    "func_call",
    "arithmetic",
    "other",
)


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_MATH = _names(
    "sin cos tan asin acos atan atan2 sinh cosh tanh exp log log2 log10 sqrt cbrt pow floor ceil round rint trunc "
    "frac abs sign clamp min max step lerp smoothstep erf erfc erfinv erfcinv isnan isinf isfinite degrees radians "
    "mod div"
)
_VECTOR = _names("dot cross length length_sq normalize vector vec2 vec3 vec4 vec2f vec3f vec4f")
_MATRIX = _names(
    "matrix mat22 mat33 mat44 mat22f mat33f mat44f mat22d mat33d mat44d outer transpose inverse determinant "
    "identity diag trace ddot skew svd2 svd3 qr3 eig3 matrix_from_cols matrix_from_rows mul"
)
_GEOMETRY_PREFIXES = ("mesh_", "bvh_", "hash_grid_", "closest_point", "intersect_", "Mesh", "Bvh", "HashGrid")
_RANDOM = _names(
    "rand_init randi randu randf randn noise pnoise curlnoise poisson sample_unit_ring sample_unit_disk "
    "sample_unit_sphere_surface sample_unit_sphere sample_unit_hemisphere_surface sample_unit_hemisphere "
    "sample_unit_square sample_unit_cube sample_triangle"
)
_BIT_OPS = (ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift)


def _called_name(node: ast.Call) -> tuple[str, bool]:
    """(name, is_wp) of a call: ``wp.sin(x)`` -> ("sin", True); ``helper(x)`` -> ("helper", False)."""
    f = node.func
    if isinstance(f, ast.Attribute):
        base = f.value
        while isinstance(base, ast.Attribute):
            base = base.value
        return f.attr, isinstance(base, ast.Name) and base.id in ("wp", "warp")
    if isinstance(f, ast.Name):
        return f.id, False
    return "", False


def _wp_names(tree: ast.AST) -> set[str]:
    """Warp names the tree uses: ``wp.<name>`` at any depth (``wp.types.vec3`` gives vec3) and
    the names of bare calls (``from warp import tid``).  Local variable names do not count."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in ("wp", "warp"):
                names.add(node.attr)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            names.add(node.func.id)
    return names


def _is_struct_decorator(node: ast.expr) -> bool:
    if isinstance(node, ast.Call):
        node = node.func
    return (isinstance(node, ast.Name) and node.id == "struct") or (
        isinstance(node, ast.Attribute) and node.attr == "struct"
    )


def features(tree: ast.AST) -> set[str]:
    """The categories whose features appear in the tree."""
    found: set[str] = set()
    names = _wp_names(tree)
    user_calls = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name, is_wp = _called_name(node)
            if not is_wp and name and name not in ("range", "int", "float", "bool", "len", "min", "max", "abs"):
                user_calls = True
        elif isinstance(node, ast.BinOp):
            found.add("bitwise" if isinstance(node.op, _BIT_OPS) else "arithmetic")
        elif isinstance(node, ast.AugAssign):
            if isinstance(node.op, _BIT_OPS):
                found.add("bitwise")
            elif isinstance(node.target, ast.Subscript):
                found.add("atomic")  # ``a[i] += x`` on an array is an atomic add in Warp
            else:
                found.add("arithmetic")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
            found.add("bitwise")
        elif isinstance(node, ast.ClassDef) and any(_is_struct_decorator(d) for d in node.decorator_list):
            found.add("struct")
        elif isinstance(node, ast.While):
            found.add("while_loop")
        elif isinstance(node, ast.If | ast.IfExp | ast.For | ast.Break | ast.Continue):
            found.add("control_flow")
        if isinstance(node, ast.For) and any(isinstance(n, ast.For) for n in ast.walk(node) if n is not node):
            found.add("nested_loop")
    if user_calls:
        found.add("func_call")
    for name in names:
        low = name.lower()
        if name.startswith("tile") or name.startswith("Tile"):
            found.add("tile")
        elif name.startswith("volume_") or name == "Volume":
            found.add("volume")
        elif name.startswith(_GEOMETRY_PREFIXES):
            found.add("geometry")
        elif name in _RANDOM:
            found.add("random")
        elif low.startswith("spatial_"):
            found.add("spatial")
        elif low.startswith("transform"):
            found.add("transform")
        elif low.startswith("quat"):
            found.add("quaternion")
        elif name.startswith("atomic_"):
            found.add("atomic")
        elif name in _MATRIX or (low.startswith("mat") and low[3:5].isdigit()):
            found.add("matrix")
        elif name in _VECTOR or (low.startswith("vec") and low[3:4].isdigit()):
            found.add("vector")
        elif name in _MATH:
            found.add("math")
    return found


def categorize(source: str) -> str:
    """The category of a kernel from its source (the kernel and any helpers shown with it)."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return "other"
    return choose(features(tree))


def choose(found: Iterable[str]) -> str:
    found = set(found)
    return next((c for c in PRIORITY if c in found), "other")


def _kernel_function(tree: ast.AST, name: str | None) -> ast.FunctionDef | None:
    funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    named = [f for f in funcs if f.name == name]
    found = named or funcs
    return found[-1] if found else None


def launch_dim(source: str, name: str | None = None) -> int:
    """The number of values the kernel unpacks from ``wp.tid()`` (1 when it calls it otherwise)."""
    func = _kernel_function(ast.parse(textwrap.dedent(source)), name)
    if func is None:
        return 1
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            called, _ = _called_name(node.value)
            if called == "tid":
                target = node.targets[0]
                return len(target.elts) if isinstance(target, ast.Tuple | ast.List) else 1
    return 1


def kernel_args(source: str, name: str | None = None) -> list[list[str]]:
    """``[[name, annotation text], ...]`` of the kernel's parameters, as written."""
    func = _kernel_function(ast.parse(textwrap.dedent(source)), name)
    if func is None:
        return []
    params = func.args.posonlyargs + func.args.args + func.args.kwonlyargs
    return [[a.arg, ast.unparse(a.annotation) if a.annotation is not None else ""] for a in params]
