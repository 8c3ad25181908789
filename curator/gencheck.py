"""Quality report for the generator: run kernels through Warp codegen and print coverage figures.

python -m curator.gencheck --count 2000 --seed 1

It lives outside ``curator/kernels`` because it runs Warp; the generator itself never does.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import re
import statistics
import sys
import time
from collections import Counter, defaultdict

from curator.kernels import CATEGORIES, generate_kernel
from curator.kernels.quality import KINDS, findings
from curator.records import kernel_seed

WP_NAME = re.compile(r"wp\.([A-Za-z_][A-Za-z0-9_]*)")


def statement_count(source: str) -> int:
    """Statements inside function bodies (kernel and helpers), not counting the defs themselves."""
    tree = ast.parse(source)
    count = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            count += sum(1 for sub in ast.walk(node) if isinstance(sub, ast.stmt) and sub is not node)
    return count


class _RecordingLogger:
    """A Warp logger that keeps warnings instead of printing them."""

    def __init__(self):
        self.warnings: list[str] = []

    def debug(self, message: str) -> None:
        pass

    def info(self, message: str) -> None:
        pass

    def warning(self, message: str, category=None, stacklevel: int = 1) -> None:
        self.warnings.append(str(message))

    def error(self, message: str) -> None:
        self.warnings.append("error: " + str(message))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-codegen", action="store_true", help="only generate (timing and coverage)")
    parser.add_argument("--show-errors", type=int, default=5)
    args = parser.parse_args(argv)

    specs = []
    t0 = time.perf_counter()
    for index in range(args.count):
        specs.append(generate_kernel(kernel_seed(args.seed, index), CATEGORIES[index % len(CATEGORIES)]))
    gen_ms = (time.perf_counter() - t0) * 1000 / max(args.count, 1)

    from curator.neardup import skeleton

    failures: list[tuple[str, str]] = []
    fail_by_cat: Counter = Counter()
    logger = _RecordingLogger()
    if not args.no_codegen:
        from curator.warp import CodegenError, init_warp
        from curator.warp.build import generate

        wp = init_warp()
        wp.set_logger(logger)
        sink = io.StringIO()
        for n, spec in enumerate(specs):
            try:
                with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                    generate(spec.source, spec.name, f"cur_check_{args.seed}_{n}_{spec.category}")
            except CodegenError as exc:
                failures.append((spec.category, f"{spec.name} (seed {spec.seed}): {exc}"))
                fail_by_cat[spec.category] += 1
        if sink.getvalue().strip():
            logger.warnings.append("output: " + sink.getvalue().strip()[:500])

    by_cat = defaultdict(list)
    for spec in specs:
        by_cat[spec.category].append(spec.source)
    names = Counter(m for spec in specs for m in set(WP_NAME.findall(spec.source)))
    sizes = sorted(statement_count(spec.source) for spec in specs)
    quality: Counter = Counter()
    flagged: Counter = Counter()
    for spec in specs:
        found = findings(spec.source)
        quality.update(found)
        flagged.update(kind for kind, n in found.items() if n)

    print(f"kernels: {len(specs)}  seed: {args.seed}  generator: {gen_ms:.3f} ms/kernel")
    if not args.no_codegen:
        rate = 100.0 * len(failures) / max(len(specs), 1)
        print(f"codegen failures: {len(failures)} ({rate:.2f} %)")
        kinds = Counter(message.rsplit(";", 1)[-1][:120] for _, message in failures)
        for kind, count in kinds.most_common(args.show_errors):
            example = next(m for _, m in failures if m.rsplit(";", 1)[-1][:120] == kind)
            print(f"  [{count}x] " + example.replace("\n", " | ")[-700:])
        print(f"warp warnings: {len(logger.warnings)}")
        for message in logger.warnings[: args.show_errors]:
            print("  " + message.replace("\n", " | ")[:300])
    print("distinct skeletons per category:")
    worst = 1.0
    for cat in CATEGORIES:
        sources = by_cat.get(cat, [])
        share = len({skeleton(s) for s in sources}) / max(len(sources), 1)
        worst = min(worst, share)
        print(f"  {cat:18s} n={len(sources):4d}  distinct={share * 100:6.2f} %  failures={fail_by_cat[cat]}")
    print(f"lowest distinct share: {worst * 100:.2f} %")
    print(f"distinct wp.<name> references: {len(names)}")
    print(f"statements per kernel: min {sizes[0]}  median {statistics.median(sizes)}  max {sizes[-1]}")
    print("quality findings (total / kernels affected):")
    for kind in KINDS:
        print(f"  {kind:20s} {quality[kind]:6d} / {flagged[kind]}")
    missing = [c for c in CATEGORIES if c not in by_cat]
    print(f"categories missing: {missing or 'none'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
