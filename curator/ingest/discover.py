"""Finding ``@wp.kernel`` definitions in Python files, folders and installed packages by reading
their AST (nothing is imported here), and working out how each module is imported."""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import importlib.util
import os
import re
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from curator.errors import CuratorError, describe

# Folders never worth walking into.
SKIP_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn", ".venv", "venv", "node_modules", ".tox", "build"})


class DiscoverError(CuratorError):
    """A path or package that cannot be ingested; the message is one sentence for the user."""


@dataclass(frozen=True)
class KernelDef:
    """One ``@wp.kernel`` function definition as written in a file."""

    qualname: str  # e.g. "make_kernel.<locals>.k" for a kernel defined inside a function
    line: int  # first line of the definition (its first decorator), as co_firstlineno
    nested: bool  # defined inside a function: only exists once the function is called
    source: str  # the definition's text (for the failure record when it is skipped)


@dataclass
class ModuleJob:
    """One Python file to import in the worker, with where it came from."""

    path: str  # absolute path of the file
    root: str  # the folder put on sys.path to import it (site-packages for installed packages)
    module: str  # dotted module name relative to root
    rel: str  # path relative to root (POSIX), what provenance records
    package: dict = field(default_factory=dict)  # name, version, license when known
    defs: list[KernelDef] = field(default_factory=list)
    error: str | None = None  # set when the file cannot even be parsed


@functools.cache
def site_dirs() -> tuple[Path, ...]:
    """The folders installed packages live in."""
    paths = sysconfig.get_paths()
    return tuple(sorted({Path(paths["purelib"]).resolve(), Path(paths["platlib"]).resolve()}))


def installed_root(path: Path) -> Path | None:
    """The site-packages folder ``path`` lies in, or None for a path outside installed packages."""
    for site in site_dirs():
        if path == site or site in path.parents:
            return site
    return None


@functools.cache
def package_info(top: str) -> dict:
    """Name, version and declared license of the distribution providing import name ``top``."""
    dists = importlib.metadata.packages_distributions().get(top)
    if not dists:
        return {"name": top}
    dist = importlib.metadata.distribution(dists[0])
    meta = dist.metadata
    info = {"name": meta["Name"] or dists[0], "version": dist.version}
    # the email.message.Message behind PackageMetadata has get(); typeshed's protocol does not say so
    lic = meta.get("License-Expression") or meta.get("License")  # type: ignore[attr-defined]
    if lic and len(lic) > 100:  # some put the whole license text here
        lic = None
    if not lic:
        classifiers = [c.rsplit(" :: ", 1)[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
        lic = "; ".join(classifiers) or None
    if lic:
        info["license"] = lic
    return info


def package_dir(name: str) -> Path:
    """The folder of an installed package (``warp``, ``warp.tests``), found without importing it."""
    top, *rest = name.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError) as exc:
        raise DiscoverError(f"cannot find package {name!r}: {exc}") from None
    if spec is None or not spec.submodule_search_locations:
        raise DiscoverError(f"no installed package named {name!r}")
    folder = Path(next(iter(spec.submodule_search_locations))).resolve()
    for part in rest:
        folder = folder / part
    if not folder.is_dir():
        raise DiscoverError(f"package {top!r} has no subpackage folder {'/'.join(rest)!r}")
    return folder


def _is_kernel_decorator(node: ast.expr) -> bool:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id == "kernel"
    return isinstance(node, ast.Attribute) and node.attr == "kernel"


def kernel_defs(text: str) -> list[KernelDef]:
    """Every function decorated with ``@wp.kernel`` / ``@warp.kernel`` / ``@kernel`` (with or
    without arguments) in the module text, with its qualified name as Python would give it."""
    tree = ast.parse(text)
    lines = text.splitlines()
    out: list[KernelDef] = []

    def visit(node: ast.AST, prefix: str, in_function: bool) -> None:
        # Only statements can hold a def: walk statement bodies, never into expressions.
        children = [c for f in ("body", "orelse", "finalbody", "handlers", "cases") for c in getattr(node, f, ())]
        for child in children:
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                qual = prefix + child.name
                if any(_is_kernel_decorator(d) for d in child.decorator_list):
                    line = min([d.lineno for d in child.decorator_list] + [child.lineno])
                    out.append(KernelDef(qual, line, in_function, "\n".join(lines[line - 1 : child.end_lineno])))
                visit(child, qual + ".<locals>.", True)
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".", in_function)
            elif isinstance(child, ast.stmt | ast.excepthandler | ast.match_case):
                visit(child, prefix, in_function)

    visit(tree, "", False)
    return out


_KERNEL_HINT = re.compile(r"@\s*[\w.]*kernel\b")


def _mentions_kernel(text: str) -> bool:
    return _KERNEL_HINT.search(text) is not None


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_root(path: Path) -> Path:
    """The folder above the outermost package (folder with ``__init__.py``) holding ``path``."""
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        folder = folder.parent
    return folder


def _python_files(target: Path) -> list[Path]:
    if target.is_file():
        return [target]
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(target):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        files.extend(Path(dirpath) / f for f in sorted(filenames) if f.endswith(".py"))
    return files


def make_job(path: Path) -> ModuleJob | None:
    """A job for one file, or None when it defines no kernel.  Files that do not parse get a
    job with ``error`` set (recorded, never imported)."""
    path = path.resolve()
    site = installed_root(path)
    root = site if site is not None else _package_root(path)
    rel = path.relative_to(root).as_posix()
    job = ModuleJob(str(path), str(root), _module_name(path, root), rel)
    top = rel.split("/", 1)[0].removesuffix(".py")
    if site is not None:
        job.package = package_info(top)
    elif "/" in rel:
        job.package = {"name": top}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        job.error = describe(exc)
        return job
    if not _mentions_kernel(text):
        return None
    try:
        job.defs = kernel_defs(text)
    except (SyntaxError, ValueError) as exc:
        job.error = describe(exc)
        return job
    return job if job.defs else None


def find_jobs(paths: list[Path], packages: list[str], *, trust: bool) -> list[ModuleJob]:
    """Jobs for every file under ``paths`` and installed ``packages`` that defines a kernel.

    Importing a module runs its top-level code, so paths outside installed packages need
    ``trust``; raises DiscoverError otherwise, and for missing paths or packages.
    """
    targets: list[Path] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise DiscoverError(f"{p} does not exist")
        resolved = p.resolve()
        if installed_root(resolved) is None and not trust:
            raise DiscoverError(
                f"{p} is not inside an installed package; importing it runs its top-level code, "
                "pass --trust if you trust it"
            )
        targets.append(resolved)
    targets.extend(package_dir(name) for name in packages)
    jobs: dict[str, ModuleJob] = {}
    for target in targets:
        for f in _python_files(target):
            if str(f.resolve()) in jobs:
                continue
            job = make_job(f)
            if job is not None:
                jobs[job.path] = job
    return list(jobs.values())
