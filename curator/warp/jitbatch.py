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

The batch object is linked into Warp's JIT once, under a handle of its own, the first time a
module of the batch loads it; each later module of the batch is an alias of that handle (Warp's
symbol lookups and unloads go through ``_JitAliases``).  Linking the whole object for every
module cost about 15 ms a kernel, a tenth of a run.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from typing import ClassVar

from curator.warp import warp_runtime
from curator.warp.build import module_source, normalize_line_comments
from curator.warp.compile import Compiler, batch_source


class _JitAliases:
    """Module handles Warp made (bytes) -> the batch handle they stand for.  Installed once per
    process around Warp's ``wp_lookup`` and ``wp_unload_obj``: a lookup in an alias looks in the
    batch's code; unloading an alias only forgets it (the batch is unloaded by ``close``)."""

    table: ClassVar[dict[bytes, bytes]] = {}
    installed = False

    @classmethod
    def install(cls) -> None:
        if cls.installed:
            return
        llvm, table = warp_runtime().llvm, cls.table
        real_lookup, real_unload = llvm.wp_lookup, llvm.wp_unload_obj

        def wp_lookup(dll_name, function_name):
            return real_lookup(table.get(dll_name, dll_name), function_name)

        def wp_unload_obj(module_name):
            return 0 if table.pop(module_name, None) is not None else real_unload(module_name)

        llvm.wp_lookup, llvm.wp_unload_obj = wp_lookup, wp_unload_obj
        cls.installed = True


_handles = itertools.count()


class BatchObject:
    """The stored CPU code of ``pieces_list`` compiled into one object file under ``workdir``;
    ``ok`` is False (and every kernel falls back to Warp's own compile) when it did not compile."""

    def __init__(self, compiler: Compiler, pieces_list: list[dict[str, str]], workdir: str):
        self.path = os.path.join(workdir, "batch.o")
        source, _ = batch_source("cpu", pieces_list)
        result = compiler.compile(source, output=self.path)
        self.ok = result.ok and os.path.exists(self.path)
        self.served = 0  # modules Warp loaded from this object
        self.handle = f"curator_batch_{os.getpid()}_{next(_handles)}".encode()
        self.linked = False  # the object is in Warp's JIT under self.handle
        self._copies: set[tuple[int, int]] = set()  # (device, inode) of the copies Warp was handed

    @contextlib.contextmanager
    def serving(self, stored_cpu: dict[str, str]):
        """While Warp loads one kernel's module: use the batch object if Warp generated the
        stored code (``stored_cpu`` is one of the batch's kernels)."""
        from warp._src import build

        runtime = warp_runtime()
        _JitAliases.install()
        real, real_load = build.build_cpu, runtime.llvm.wp_load_obj
        want = normalize_line_comments(module_source("cpu", stored_cpu)).replace("#define WP_NO_BFLOAT16\n", "")

        def build_cpu(obj_path, cpp_path, *args, **kwargs):
            with open(cpp_path, encoding="utf-8") as fh:
                generated = normalize_line_comments(fh.read()).replace("#define WP_NO_BFLOAT16\n", "")
            if self.ok and generated == want:
                shutil.copyfile(self.path, obj_path)
                st = os.stat(obj_path)  # Warp moves the file into its cache: the inode stays
                self._copies.add((st.st_dev, st.st_ino))
                self.served += 1
                return None
            return real(obj_path, cpp_path, *args, **kwargs)

        def wp_load_obj(object_file, module_name, use_legacy_linker):
            try:
                st = os.stat(object_file)
            except OSError:
                st = None
            if st is None or (st.st_dev, st.st_ino) not in self._copies:
                return real_load(object_file, module_name, use_legacy_linker)
            self._copies.discard((st.st_dev, st.st_ino))  # inodes are reused once a file is deleted
            if not self.linked:
                err = real_load(os.fsencode(self.path), self.handle, use_legacy_linker)
                if err != 0:
                    return err
                self.linked = True
            _JitAliases.table[module_name] = self.handle
            return 0

        self._copies.clear()
        build.build_cpu, runtime.llvm.wp_load_obj = build_cpu, wp_load_obj
        try:
            yield
        finally:
            build.build_cpu, runtime.llvm.wp_load_obj = real, real_load

    def close(self) -> None:
        """Unload the batch's code (its modules are released by then) and remove the object."""
        if self.linked:
            runtime = warp_runtime()
            for alias in [a for a, h in _JitAliases.table.items() if h == self.handle]:
                del _JitAliases.table[alias]
            runtime.llvm.wp_unload_obj(self.handle)
            self.linked = False
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
