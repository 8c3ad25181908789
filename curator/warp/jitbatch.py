"""Batched CPU compiles for `verify --execute`: one object file for many kernels, which Warp's
own JIT loads in place of compiling each kernel's module alone.

A CPU run launches a kernel through Warp (``curator.warp.execute``): Warp generates the module's
C++ and writes it to its kernel cache, compiles it with its Clang, loads the object and
launches.  Compiling one module costs about twice its share of a batch (precompiled-header load
and driver per call), so a run worker first compiles the stored CPU code of a whole batch of
kernels into one object (``curator.warp.compile.batch_source``: each kernel in a namespace of
its own, ``extern "C"`` entry points unchanged; Warp's Clang, Warp's flags, the run's -O level).
Then, for each kernel, Warp's build step is replaced while it loads that kernel's module: if the
C++ Warp has just generated is, up to line comments, exactly the stored translation unit, Warp
is handed the batch object (it looks its entry points up by name); otherwise Warp compiles its
own source as usual, and the pair check (``execute.pair_check``) reports the difference.
"""

from __future__ import annotations

import contextlib
import os
import shutil

from curator.warp.build import module_source, normalize_line_comments
from curator.warp.compile import Compiler, batch_source


class BatchObject:
    """The stored CPU code of ``pieces_list`` compiled into one object file under ``workdir``;
    ``ok`` is False (and every kernel falls back to Warp's own compile) when it did not compile."""

    def __init__(self, compiler: Compiler, pieces_list: list[dict[str, str]], workdir: str):
        self.path = os.path.join(workdir, "batch.o")
        source, _ = batch_source("cpu", pieces_list)
        result = compiler.compile(source, output=self.path)
        self.ok = result.ok and os.path.exists(self.path)
        self.served = 0  # modules Warp loaded from this object

    @contextlib.contextmanager
    def serving(self, stored_cpu: dict[str, str]):
        """While Warp loads one kernel's module: use the batch object if Warp generated the
        stored code (``stored_cpu`` is one of the batch's kernels)."""
        from warp._src import build

        real = build.build_cpu
        want = normalize_line_comments(module_source("cpu", stored_cpu)).replace("#define WP_NO_BFLOAT16\n", "")

        def build_cpu(obj_path, cpp_path, *args, **kwargs):
            with open(cpp_path, encoding="utf-8") as fh:
                generated = normalize_line_comments(fh.read()).replace("#define WP_NO_BFLOAT16\n", "")
            if self.ok and generated == want:
                shutil.copyfile(self.path, obj_path)
                self.served += 1
                return None
            return real(obj_path, cpp_path, *args, **kwargs)

        build.build_cpu = build_cpu
        try:
            yield
        finally:
            build.build_cpu = real

    def close(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
