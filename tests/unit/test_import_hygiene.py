"""The headless modules never import Textual (checked in a fresh interpreter)."""

import importlib.util
import subprocess
import sys

import pytest

HEADLESS = ["curator.store", "curator.dedup", "curator.export", "curator.generate", "curator.cli"]


@pytest.mark.parametrize("module", HEADLESS)
def test_never_imports_textual(module):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} does not exist yet")
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", f"{module} imports {out.stdout.strip()}"


def test_the_check_can_fail():
    code = "import sys, curator.tui.app; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "True"
