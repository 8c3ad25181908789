"""Discovery of @wp.kernel definitions by reading files (nothing is imported)."""

import shutil
import sys
from pathlib import Path

import pytest

from curator.ingest import discover

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
BROKEN = "import warp as wp\n\n\n@wp.kernel\ndef half(a: wp.array(dtype=float):\n    pass\n"


def kernel_folder(dest: Path) -> Path:
    """A copy of the fixture kernel files plus one that does not parse (kept out of the repo so
    ruff can check every file there)."""
    folder = dest / "kernels"
    shutil.copytree(FIXTURES / "kernels", folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "broken_syntax.py").write_text(BROKEN)
    return folder


TEXT = """
import warp as wp
from warp import kernel


@wp.kernel
def top(a: wp.array(dtype=float)):
    pass


@wp.kernel(enable_backward=False)
def with_options(a: wp.array(dtype=float)):
    pass


@kernel
def bare(a: wp.array(dtype=float)):
    pass


@wp.func
def not_a_kernel(x: float) -> float:
    return x


def factory(dtype):
    @wp.kernel
    def made(a: wp.array(dtype=dtype)):
        pass

    return made


class Tests:
    @wp.kernel
    def in_class(a: wp.array(dtype=float)):
        pass
"""


def test_kernel_defs_finds_every_decorator_form_with_python_qualnames():
    defs = {d.qualname: d for d in discover.kernel_defs(TEXT)}
    assert set(defs) == {"top", "with_options", "bare", "factory.<locals>.made", "Tests.in_class"}
    assert defs["factory.<locals>.made"].nested
    assert not defs["top"].nested and not defs["Tests.in_class"].nested
    # the line is the first decorator's, as Python's co_firstlineno gives it
    assert TEXT.splitlines()[defs["with_options"].line - 1].startswith("@wp.kernel(")
    assert defs["top"].source.startswith("@wp.kernel\ndef top(")


def test_discover_folder_lists_kernel_files_only_and_records_unparsable_ones(tmp_path):
    jobs = {Path(j.path).name: j for j in discover.find_jobs([kernel_folder(tmp_path)], [], trust=True)}
    assert set(jobs) == {
        "basic.py",
        "factory.py",
        "needs_missing_dep.py",
        "broken_syntax.py",
        "cuda_only.py",
        "ptx_native.py",
    }
    assert jobs["broken_syntax.py"].error.startswith("SyntaxError")
    assert jobs["basic.py"].error is None
    assert jobs["basic.py"].module == "basic" and jobs["basic.py"].rel == "basic.py"
    assert {d.qualname for d in jobs["factory.py"].defs} == {
        "make_scale.<locals>.scale",
        "make_unused.<locals>.never_made",
        "generic_sum",
        "generic_unused",
    }


def test_paths_outside_installed_packages_need_trust():
    with pytest.raises(discover.DiscoverError, match="--trust"):
        discover.find_jobs([FIXTURES / "kernels"], [], trust=False)


def test_missing_path_and_unknown_package_are_errors():
    with pytest.raises(discover.DiscoverError, match="does not exist"):
        discover.find_jobs([FIXTURES / "nope"], [], trust=True)
    with pytest.raises(discover.DiscoverError, match="no installed package"):
        discover.find_jobs([], ["curator_no_such_package"], trust=True)


def test_installed_package_gives_dotted_modules_version_and_license_without_importing():
    before = set(sys.modules)
    jobs = discover.find_jobs([], ["warp.examples.core"], trust=False)
    assert "warp.examples" not in set(sys.modules) - before
    assert jobs and all(j.module.startswith("warp.examples.core.example_") for j in jobs)
    job = jobs[0]
    assert job.rel == job.module.replace(".", "/") + ".py"
    assert job.package["name"] == "warp-lang" and job.package["version"].startswith("1.19")
    assert job.package.get("license")


def test_files_inside_site_packages_need_no_trust():
    folder = discover.package_dir("warp.examples.core")
    jobs = discover.find_jobs([folder], [], trust=False)
    assert jobs and jobs[0].module.startswith("warp.examples.core.")
