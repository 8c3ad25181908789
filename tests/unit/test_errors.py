"""Errors reach the user in one place: a CuratorError raised anywhere under a command is one line
and exit code 1, Warp drift is named as curator's fault, and every exception class curator
defines is either a CuratorError or listed here as internal, with the reason."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import curator
from curator.cli import CuratorGroup
from curator.errors import CuratorError, WarpDriftError, describe

ROOT = Path(curator.__file__).parent

# Exceptions that never reach the user as such: each is caught and turned into a record or
# another error where it is raised.
INTERNAL = {
    "WarpDriftError": "Warp's internals changed: curator's fault, named as such by the command line",
    "Interrupted": "click's own exception for Ctrl-C and SIGTERM (exit code 130)",
    "CodegenError": "a kernel's code generation failed: recorded as the kernel's failure",
    "NotRunnable": "a kernel cannot be launched on the CPU: recorded as its run's status",
    "PTXInlineAssembly": "a real kernel targets CUDA only: recorded as the reason its CPU code is missing",
    "WorkerDied": "a supervised worker died: the task it died under is recorded as crashed",
    "WorkerHung": "a supervised worker hung: the task is recorded as a timeout",
    "WorkerStartError": "a supervised worker could not start: the stage raises its own CuratorError",
    "PoolWorkerDied": "a pool's worker died under a batch: the batch is bisected",
    "TaskFailed": "an eval prediction's worker failed: recorded as the prediction's result",
    "StoreClosed": "the TUI is closing: a store read still running in a worker thread ends quietly",
}


def _exception_classes() -> dict[str, list[str]]:
    """Class name -> its base names, for every class curator defines that derives from an exception."""
    classes: dict[str, list[str]] = {}
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                classes[node.name] = [ast.unparse(b) for b in node.bases]
    errors: dict[str, list[str]] = {}

    def is_error(name: str, seen=()) -> bool:
        if name.split(".")[-1] in ("Exception", "BaseException", "RuntimeError", "ValueError", "ClickException"):
            return True
        return name in classes and name not in seen and any(is_error(b, (*seen, name)) for b in classes[name])

    for name, bases in classes.items():
        if any(is_error(b) for b in bases):
            errors[name] = bases
    return errors


def _derives_from_curator_error(name: str, classes: dict[str, list[str]]) -> bool:
    return name == "CuratorError" or any(
        b == "CuratorError" or (b in classes and _derives_from_curator_error(b, classes)) for b in classes.get(name, [])
    )


def test_every_exception_is_a_curator_error_or_listed_as_internal():
    classes = _exception_classes()
    assert "VerifyError" in classes and "WorkerDied" in classes  # the scan sees both kinds
    loose = sorted(n for n in classes if not _derives_from_curator_error(n, classes) and n not in INTERNAL)
    assert loose == []
    assert sorted(n for n in INTERNAL if n not in classes) == []  # no stale entry


def _group_raising(exc: BaseException) -> click.Group:
    @click.group(cls=CuratorGroup)
    def group() -> None:
        pass

    @group.command()
    def boom() -> None:
        raise exc

    return group


def test_a_curator_error_is_one_line_and_exit_code_1():
    res = CliRunner().invoke(_group_raising(CuratorError("the store is busy")), ["boom"])
    assert res.exit_code == 1
    assert res.output.strip().splitlines() == ["Error: the store is busy"]


def test_warp_drift_is_named_as_curators_fault():
    res = CliRunner().invoke(_group_raising(WarpDriftError("Warp's module source no longer splits")), ["boom"])
    assert res.exit_code == 1 and "internal error, please report it" in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_any_other_exception_is_not_dressed_as_a_user_message():
    res = CliRunner().invoke(_group_raising(KeyError("bug")), ["boom"])
    assert res.exit_code == 1 and isinstance(res.exception, KeyError)


@pytest.mark.parametrize(
    ("exc", "limit", "text"),
    [
        (ValueError("bad"), None, "ValueError: bad"),
        (RuntimeError(), None, "RuntimeError: "),
        (OSError("x" * 9), 12, "OSError: xxx"),
    ],
)
def test_describe(exc, limit, text):
    assert describe(exc, limit) == text
