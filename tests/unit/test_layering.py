"""The architecture's rules, checked on the source tree (docs/architecture.md):
only ``curator/warp/`` touches Warp internals, ``curator/kernels/`` never imports Warp, only
``curator/store/`` runs SQL, and the headless modules never import Textual.  Each checker is
also run on a planted violation, so a checker that cannot fail is caught too."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import curator

ROOT = Path(curator.__file__).parent
SQL_ATTRS = {"conn", "execute", "executemany", "executescript"}


def _modules(root: Path):
    for path in sorted(root.rglob("*.py")):
        yield path.relative_to(root).as_posix(), ast.parse(path.read_text(), str(path))


def _imports(tree: ast.AST) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return out


def warp_internals_outside_warp(root: Path) -> list[str]:
    """Modules outside warp/ that import ``warp._src`` (or name it in a string, as importlib would)."""
    bad = []
    for rel, tree in _modules(root):
        if rel.startswith("warp/"):
            continue
        strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        if any(m.startswith("warp._src") for m in _imports(tree)) or any("warp._src" in s for s in strings):
            bad.append(rel)
    return bad


def warp_in_generator(root: Path) -> list[str]:
    """Modules of kernels/ that import Warp or curator's Warp layer."""
    bad = []
    for rel, tree in _modules(root):
        if rel.startswith("kernels/") and any(
            m == "warp" or m.startswith(("warp.", "curator.warp", "curator.measure.gencheck")) for m in _imports(tree)
        ):
            bad.append(rel)
    return bad


def sql_outside_store(root: Path) -> list[str]:
    """Modules outside store/ that reach a connection or run a statement."""
    bad = []
    for rel, tree in _modules(root):
        if rel.startswith("store/"):
            continue
        if any(isinstance(n, ast.Attribute) and n.attr in SQL_ATTRS for n in ast.walk(tree)):
            bad.append(rel)
    return bad


CHECKS = {
    "warp internals only in curator/warp": warp_internals_outside_warp,
    "no Warp in curator/kernels": warp_in_generator,
    "no SQL outside curator/store": sql_outside_store,
}
PLANTS = {
    "warp internals only in curator/warp": ("export/sneaky.py", "from warp._src import context\n"),
    "no Warp in curator/kernels": ("kernels/sneaky.py", "def f():\n    import warp as wp\n    return wp\n"),
    "no SQL outside curator/store": ("report_extra.py", "def f(store):\n    return store.conn.execute('SELECT 1')\n"),
}


@pytest.mark.parametrize("rule", CHECKS)
def test_the_tree_keeps_the_rule(rule):
    assert CHECKS[rule](ROOT) == []


@pytest.mark.parametrize("rule", CHECKS)
def test_a_planted_violation_is_found(rule, tmp_path):
    rel, text = PLANTS[rule]
    (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / rel).write_text(text)
    (tmp_path / "store").mkdir(exist_ok=True)
    (tmp_path / "store" / "ok.py").write_text("def f(conn):\n    return conn.execute('SELECT 1')\n")
    (tmp_path / "warp").mkdir(exist_ok=True)
    (tmp_path / "warp" / "ok.py").write_text("from warp._src import context\n")
    assert CHECKS[rule](tmp_path) == [rel]


def _fresh(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.strip()


HEADLESS = [
    "curator.store",
    "curator.neardup",
    "curator.export",
    "curator.generate",
    "curator.verify",
    "curator.verify.differential",
    "curator.cli",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_modules_never_import_textual(module):
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    assert _fresh(code) == "[]", f"{module} imports Textual"


def test_the_textual_check_can_fail():
    assert _fresh("import sys, curator.tui.app; print('textual' in sys.modules)") == "True"


def test_generating_a_kernel_loads_no_warp():
    code = (
        "import sys\nfrom curator.kernels import CATEGORIES, generate_kernel\n"
        "[generate_kernel(s, c) for c in CATEGORIES for s in range(3)]\n"
        "print(sorted(m for m in sys.modules if m == 'warp' or m.startswith('warp.')))"
    )
    assert _fresh(code) == "[]"


# Where there is a GPU, Warp's default device is the GPU: a launch input made without naming its
# device lands there, and a CPU kernel given a mesh or an array built on the GPU crashes.  The
# modules that make launch inputs and launch name the device of every allocation and launch.
# (a Mesh or Bvh is made on the device of its point arrays)
DEVICE_CALLS = {
    "array",
    "zeros",
    "empty",
    "ones",
    "full",
    "HashGrid",
    "launch",
    "launch_tiled",
    "synchronize_device",
    "load_from_numpy",
    "allocate_by_voxels",
}
LAUNCHING = [
    "warp/inputs.py",
    "warp/adjoint.py",
    "warp/execute.py",
    "warp/launch.py",
    "warp/values.py",
    "verify/differential.py",
]


def _calls_without_device(code: str) -> list[int]:
    """Lines of ``wp.<call>(...)`` / ``wp.<Type>.<call>(...)`` in DEVICE_CALLS with no ``device=``."""
    lines = []
    for node in ast.walk(ast.parse(code)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        base = node.func.value
        while isinstance(base, ast.Attribute):
            base = base.value
        named = any(k.arg == "device" for k in node.keywords)
        named |= node.func.attr == "synchronize_device" and bool(node.args)
        if isinstance(base, ast.Name) and base.id == "wp" and node.func.attr in DEVICE_CALLS and not named:
            lines.append(node.lineno)
    return sorted(lines)


@pytest.mark.parametrize("module", LAUNCHING)
def test_launch_inputs_name_their_device(module):
    assert _calls_without_device((ROOT / module).read_text()) == [], module


def test_the_device_check_can_fail():
    planted = (
        "import warp as wp\nm = wp.Mesh(wp.array(p, dtype=wp.vec3), faces)\nwp.launch(k, dim=1, device=d)\n"
        "g = wp.HashGrid(4, 4, 4)\nwp.synchronize_device()\n"
    )
    assert _calls_without_device(planted) == [2, 4, 5]
