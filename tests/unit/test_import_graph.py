"""The import direction of docs/architecture.md, read off the source (function-level and
TYPE_CHECKING imports included): `cli`, `tui` > stages (`generate`, `verify`, `ingest`, `export`,
`measure`, `eval`) > `neardup`, `scale` > `warp`, `kernels`, `store` > `records`, `errors`.  A
package imports only packages of a lower layer, except the deliberate imports listed in EXCEPTIONS
with their reasons; no module cycle, no package cycle; at most four loose modules at the top.  Each
check also runs on a planted tree, so a check that cannot fail is caught too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import curator

ROOT = Path(curator.__file__).parent

LAYERS = {
    "cli": 5,
    "tui": 5,
    "__main__": 6,  # `python -m curator`: the command line
    "generate": 4,
    "verify": 4,
    "ingest": 4,
    "export": 4,
    "measure": 4,
    "eval": 4,
    "neardup": 3,
    "scale": 3,
    "warp": 2,
    "kernels": 2,
    "store": 2,
    "records": 1,
    "errors": 1,
    "": 0,  # curator/__init__.py: the version
}

# (importing module, imported module): why the import goes sideways
EXCEPTIONS = {
    ("curator.cli.browse", "curator.tui.app"): "`curator browse` is the command that opens the TUI",
    ("curator.export.decontaminate", "curator.ingest.discover"): (
        "decontamination finds a reference package's kernels the way ingest does (AST only, nothing imported)"
    ),
    ("curator.measure.report", "curator.export.release"): "the report describes a release: it reads its manifest",
    ("curator.measure.report", "curator.export.card"): "the report gives the release's reproduce command",
    ("curator.measure.report", "curator.export.benchmark"): (
        "the report gives the release's benchmark baselines, the table its card shows (`curator eval figures`)"
    ),
    ("curator.measure.report_proof", "curator.verify.gradfindings"): (
        "the report sorts the adjoint check's failures by the construct in the kernel"
    ),
    ("curator.warp.calls", "curator.kernels.surface"): (
        "the builtin-call recorder reads the generator's committed table of Warp's builtins (data, no code)"
    ),
}
MAX_LOOSE = 4


def module_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the curator modules it imports, for the package at ``root`` (named by its folder)."""
    pkg = root.name
    mods: dict[str, tuple[Path, list[str]]] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            package = parts
        else:
            package = parts[:-1]
        mods[".".join(parts)] = (path, package)

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, (path, package) in mods.items():
        found: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {resolve(a.name) for a in node.names if a.name.split(".")[0] == pkg}
            elif isinstance(node, ast.ImportFrom):
                base = (
                    ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
                    if node.level
                    else node.module or ""
                )
                if base.split(".")[0] == pkg:
                    found |= {resolve(f"{base}.{a.name}") for a in node.names}
        graph[name] = {m for m in found if m and m != name}
    return graph


def top_package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward_imports(graph: dict[str, set[str]], exceptions=EXCEPTIONS) -> list[str]:
    """Imports of a package of the same or a higher layer, not listed in ``exceptions``."""
    bad = []
    for src, targets in graph.items():
        for dst in targets:
            a, b = top_package(src), top_package(dst)
            if a != b and LAYERS.get(a, 99) <= LAYERS.get(b, 99) and (src, dst) not in exceptions:
                bad.append(f"{src} -> {dst}")
    return sorted(bad)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for src, targets in graph.items():
        a = top_package(src)
        out.setdefault(a, set()).update(top_package(t) for t in targets if top_package(t) != a)
    return out


def loose_modules(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))


def test_no_import_goes_up_a_layer():
    assert upward_imports(module_graph(ROOT)) == []


def test_every_listed_exception_is_still_an_import():
    graph = module_graph(ROOT)
    assert [pair for pair in EXCEPTIONS if pair[1] not in graph.get(pair[0], set())] == []


def test_no_module_cycle_and_no_package_cycle():
    graph = module_graph(ROOT)
    assert cycles(graph) == []
    assert cycles(package_graph(graph)) == []


def test_every_package_has_a_layer():
    assert sorted({top_package(m) for m in module_graph(ROOT)} - set(LAYERS)) == []


def test_at_most_four_loose_modules_at_the_top():
    assert len(loose_modules(ROOT)) <= MAX_LOOSE, loose_modules(ROOT)


@pytest.fixture
def planted(tmp_path):
    """A small tree laid out like curator's, whose imports go down."""
    root = tmp_path / "curator"
    files = {
        "__init__.py": "",
        "records.py": "import hashlib\n",
        "store/__init__.py": "from curator.records import x\n",
        "store/kernels.py": "from . import base\n",
        "store/base.py": "from curator import records\n",
        "verify/__init__.py": "def run():\n    from curator.store import kernels\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_the_planted_tree_is_clean_and_read_as_written(planted):
    graph = module_graph(planted)
    assert graph["curator.store.kernels"] == {"curator.store.base"}
    assert graph["curator.verify"] == {"curator.store.kernels"}  # a function-level import counts
    assert upward_imports(graph) == [] and cycles(graph) == []


def test_a_planted_upward_import_is_found(planted):
    (planted / "records.py").write_text("def f():\n    from curator.verify import run\n")
    assert upward_imports(module_graph(planted)) == ["curator.records -> curator.verify"]


def test_a_planted_sideways_import_is_found_unless_listed(planted):
    (planted / "scale").mkdir()
    (planted / "scale" / "__init__.py").write_text("import curator.neardup\n")
    (planted / "neardup.py").write_text("")
    graph = module_graph(planted)
    assert upward_imports(graph) == ["curator.scale -> curator.neardup"]
    assert upward_imports(graph, {("curator.scale", "curator.neardup"): "planted"}) == []


def test_a_planted_cycle_is_found(planted):
    (planted / "store" / "base.py").write_text("from curator.store.kernels import y\n")
    assert cycles(module_graph(planted)) == [["curator.store.base", "curator.store.kernels"]]
    (planted / "store" / "base.py").write_text("")
    typing_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import curator.store\n"
    (planted / "records.py").write_text(typing_only)
    assert cycles(package_graph(module_graph(planted))) == [["records", "store"]]


def test_loose_modules_are_counted(planted):
    for name in ("a", "b", "c", "d"):
        (planted / f"{name}.py").write_text("")
    assert len(loose_modules(planted)) == 5
