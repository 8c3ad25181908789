"""Generate workers end without tearing the interpreter down (generate._leave_without_teardown):
what they printed still comes out, and the process that calls _init_worker itself is not affected."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    from curator import generate
    from curator.scale import local_pool

    def speak():
        sys.stdout.write("printed by the worker, never flushed\\n")  # a pipe: block-buffered
        return "result"

    if __name__ == "__main__":
        pool = local_pool(1, generate._init_worker, ({}, frozenset(), ("cpu",)))
        print(pool.submit(speak).result(), flush=True)
        pool.shutdown(wait=True)
        generate._init_worker({}, frozenset(), ("cpu",))  # here: not a pool worker
        sys.stdout.write("main ends normally\\n")
        sys.exit(3)
    """
)


def test_worker_output_survives_and_main_exits_normally(tmp_path):
    script = tmp_path / "pool_script.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr  # the main's own exit status: no os._exit(0) there
    lines = done.stdout.splitlines()
    assert "printed by the worker, never flushed" in lines
    assert "result" in lines
    assert lines[-1] == "main ends normally"
