"""Unit tests of the random kernel generator (no Warp needed)."""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from curator.kernels import CATEGORIES, GENERATOR_VERSION, KernelSpec, generate_kernel
from curator.kernels.quality import KINDS, findings
from curator.kernels.sink import convert
from curator.kernels.types import TYPES
from curator.neardup import skeleton

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = [
    "arithmetic",
    "vector",
    "matrix",
    "control_flow",
    "math",
    "atomic",
    "nested_loop",
    "multi_conditional",
    "combined",
    "scalar_param",
    "quaternion",
    "transform",
    "spatial",
    "struct",
    "func_call",
    "while_loop",
    "multi_dim",
    "random",
    "bitwise",
    "mixed_precision",
]
SEEDS = (0, 1, 7, 123456789, 2**40 + 3)


def _decorator_names(node: ast.AST) -> list[str]:
    return [ast.unparse(d) for d in getattr(node, "decorator_list", [])]


def _kernel_def(source: str) -> ast.FunctionDef:
    kernels = [n for n in ast.parse(source).body if "wp.kernel" in _decorator_names(n)]
    assert len(kernels) == 1, f"expected exactly one @wp.kernel, found {len(kernels)}"
    return kernels[0]


def _tid_arity(kernel: ast.FunctionDef) -> int:
    for node in ast.walk(kernel):
        if isinstance(node, ast.Assign) and ast.unparse(node.value) == "wp.tid()":
            target = node.targets[0]
            return len(target.elts) if isinstance(target, ast.Tuple) else 1
    raise AssertionError("kernel never calls wp.tid()")


def test_version_and_categories():
    assert isinstance(GENERATOR_VERSION, str) and GENERATOR_VERSION.count(".") == 2
    assert tuple(CATEGORIES[: len(REQUIRED)]) == tuple(REQUIRED)
    assert len(set(CATEGORIES)) == len(CATEGORIES)


def test_same_seed_gives_identical_spec():
    for category in CATEGORIES:
        assert generate_kernel(42, category) == generate_kernel(42, category)


def test_different_seeds_and_categories_differ():
    for category in CATEGORIES:
        sources = {generate_kernel(seed, category).source for seed in SEEDS}
        assert len(sources) == len(SEEDS), category
    assert generate_kernel(5, "vector").source != generate_kernel(5, "matrix").source


def test_unknown_category_rejected():
    with pytest.raises(ValueError):
        generate_kernel(1, "no_such_category")


@pytest.mark.parametrize("category", CATEGORIES)
def test_spec_is_consistent_with_source(category):
    for seed in SEEDS:
        spec = generate_kernel(seed, category)
        assert isinstance(spec, KernelSpec)
        assert (spec.category, spec.seed) == (category, seed)
        assert spec.source.startswith("import warp as wp\n")
        tree = ast.parse(spec.source)
        for node in tree.body[1:]:
            assert isinstance(node, (ast.FunctionDef, ast.ClassDef)), ast.unparse(node)[:80]
            assert _decorator_names(node)[0] in ("wp.kernel", "wp.func", "wp.struct")
        kernel = _kernel_def(spec.source)
        assert kernel.name == spec.name
        assert _tid_arity(kernel) == spec.launch_dim
        assert spec.launch_dim in (1, 2, 3)
        params = tuple((a.arg, ast.unparse(a.annotation)) for a in kernel.args.args)
        assert params == spec.args


def test_sources_are_structurally_diverse():
    for category in CATEGORIES:
        skeletons = {skeleton(generate_kernel(seed, category).source) for seed in range(15)}
        assert len(skeletons) == 15, category


def test_categories_bias_their_theme():
    def count(category: str, needle: str) -> int:
        return sum(generate_kernel(seed, category).source.count(needle) for seed in range(20))

    assert count("quaternion", "quat") > count("arithmetic", "quat")
    assert count("atomic", "wp.atomic_") > count("math", "wp.atomic_")
    assert count("while_loop", "while ") > count("vector", "while ")
    assert all("@wp.struct" in generate_kernel(seed, "struct").source for seed in range(10))
    assert all("@wp.func" in generate_kernel(seed, "func_call").source for seed in range(10))
    assert all("wp.rand_init" in generate_kernel(seed, "random").source for seed in range(10))
    assert all(generate_kernel(seed, "multi_dim").launch_dim > 1 for seed in range(10))


_SUBPROCESS_CODE = """
import hashlib, sys
from curator.kernels import CATEGORIES, generate_kernel
digest = hashlib.sha256()
for category in CATEGORIES:
    digest.update(generate_kernel(99, category).source.encode())
assert "warp" not in sys.modules, "generator imported warp"
print(digest.hexdigest())
"""


def _run(hash_seed: str) -> str:
    env = {"PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", _SUBPROCESS_CODE], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_deterministic_across_processes_and_no_warp_import():
    assert _run("1") == _run("12345")


_FLAWED = """import warp as wp


@wp.func
def unused_fn(p0: float) -> float:
    return p0


@wp.kernel
def flawed(out: wp.array(dtype=float), n: float):
    i = wp.tid()
    a1 = n - n
    a2 = wp.abs(wp.abs(n))
    a3 = wp.min(a1, a1)
    dead = a2 * 2.0
    if 1.0 < 2.0:
        a1 = a1
    wp.atomic_min(out, i, out[i])
    w = n
    w = a3
    out[i] = w + wp.sin(0.5)
"""


def test_quality_findings_detect_each_flaw():
    # every kind planted at least once, counted by hand (a kind not found, or one found where
    # nothing was planted, fails the comparison)
    assert dict(findings(_FLAWED)) == {
        "identical_operands": 2,  # n - n, wp.min(a1, a1)
        "unread_locals": 1,  # dead
        "overwritten_locals": 1,  # w = n, overwritten by w = a3 before any read
        "constant_conditions": 1,  # if 1.0 < 2.0
        "constant_operations": 2,  # 1.0 < 2.0, wp.sin(0.5)
        "redundant_nesting": 1,  # wp.abs(wp.abs(n))
        "self_assignments": 2,  # a1 = a1, wp.atomic_min(out, i, out[i])
        "uncalled_helpers": 1,  # unused_fn
    }


def test_quality_findings_accept_clean_code():
    source = """import warp as wp


@wp.kernel
def clean(out: wp.array(dtype=wp.vec3), n: float):
    i, j = wp.tid()
    axis = wp.quat_from_axis_angle(wp.normalize(wp.vec3(1.0, 1.0, 0.0)), n)
    total = float(0.0)
    for k in range(3):
        total += n * float(j)
    out[i] = wp.quat_rotate(axis, wp.vec3(total))
"""
    assert sum(findings(source).values()) == 0


@pytest.mark.parametrize("category", CATEGORIES)
def test_generated_kernels_have_no_trivial_or_dead_code(category):
    total = Counter()
    for seed in range(25):
        total.update(findings(generate_kernel(seed, category).source))
    assert total == Counter({kind: 0 for kind in KINDS}), {k: n for k, n in total.items() if n}


def test_every_local_reaches_an_output():
    # A stronger form of "never read": no local may be left holding a value that nobody reads
    # before the function ends (last statement of each function is a store or a return).
    for category in CATEGORIES:
        for seed in range(10):
            tree = ast.parse(generate_kernel(seed, category).source)
            for func in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
                last = func.body[-1]
                assert isinstance(last, (ast.Return, ast.Assign, ast.AugAssign, ast.Expr)), ast.unparse(last)
                if isinstance(last, ast.Assign):
                    assert isinstance(last.targets[0], ast.Subscript), ast.unparse(last)


def test_conversions_read_their_source_and_skip_needless_casts():
    rng = random.Random(5)
    for src in TYPES:
        for dst in TYPES:
            text = convert(rng, "x", src, dst)
            assert "x" in {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}, (src, dst, text)
            if src == dst:
                assert text == "x"
            assert f"{TYPES[dst].ctor}({TYPES[dst].ctor}(" not in text


def test_quality_findings_count_overwritten_locals():
    source = """import warp as wp


@wp.kernel
def k(out: wp.array(dtype=float), n: float):
    i = wp.tid()
    a = n * 2.0
    a = n + 1.0
    b = n
    if n > 0.0:
        b = n - 1.0
    b = b + a
    out[i] = b
"""
    found = findings(source)
    assert found["overwritten_locals"] == 1  # the first `a = ...` only
    assert found["unread_locals"] == 0
