"""The raw anchor of bench_generate.py: Warp's own code generation of given kernel sources,
nothing of curator's.  For each source: import it as a module, one ``ModuleBuilder`` and
``codegen("cuda")``, then ``codegen("cpu")`` with the CPU launch's options (``block_dim=1``),
from a second build where the kernel holds tiles (their types follow ``block_dim``).

    python bench/raw_codegen.py SOURCES.json     # [[kernel name, module source], ...]

Prints the number of kernels and bytes generated; the caller times the whole process.
"""

from __future__ import annotations

import json
import linecache
import sys
import types
from pathlib import Path

import warp as wp
from warp._src import context
from warp._src.types import is_tile


def main(path: str) -> None:
    wp.config.quiet = True
    wp.init()
    items = json.loads(Path(path).read_text())
    total = 0
    for i, (name, source) in enumerate(items):
        module_name = f"raw_{i}"
        filename = f"<raw:{module_name}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        module = types.ModuleType(module_name)
        sys.modules[module_name] = module
        # dont_inherit: this file's `from __future__ import annotations` would turn the kernels' annotations
        # into strings, which a kernel factory's closure (dtype=dtype) cannot resolve
        exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
        kernel = getattr(module, name)
        wmodule = kernel.module
        cuda = wmodule.resolve_options(wp.config) | {"output_arch": None}
        cpu = wmodule.resolve_options(wp.config, block_dim=1) | {"output_arch": None}
        builder = context.ModuleBuilder(wmodule, cuda, hasher=context.ModuleHasher([kernel], cuda))
        total += len(builder.codegen("cuda"))
        if any(is_tile(v.type) for v in kernel.adj.variables):
            builder = context.ModuleBuilder(wmodule, cpu, hasher=context.ModuleHasher([kernel], cpu))
        builder.options = cpu
        total += len(builder.codegen("cpu"))
        context.user_modules.pop(module_name, None)
        sys.modules.pop(module_name, None)
        linecache.cache.pop(filename, None)
    print(len(items), total)


if __name__ == "__main__":
    main(sys.argv[1])
