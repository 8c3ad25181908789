"""Quality report for the generator: run kernels through Warp codegen and print coverage and shape figures.

python -m curator.kernels.check --count 2000 --seed 1 [--style realistic|stress]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import sys
import time
from collections import Counter, defaultdict

from . import STYLES, categories_for, generate_kernel
from .coverage import family_coverage, load_families, referenced_names
from .quality import KINDS, findings
from .shape import Profile


def kernel_seed(seed: int, index: int) -> int:
    """The per-kernel seed for kernel ``index`` of a run seeded with ``seed``."""
    digest = hashlib.sha256(f"check:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


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


def _codegen(specs, seed: int) -> tuple[list[tuple[str, str]], list[str]]:
    """(category, message) per codegen failure, and Warp's warnings, over ``specs``."""
    from curator.codegen import CodegenError, generate, init_warp

    wp = init_warp()
    logger = _RecordingLogger()
    wp.set_logger(logger)
    failures = []
    sink = io.StringIO()
    for n, spec in enumerate(specs):
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                generate(spec.source, spec.name, f"cur_check_{seed}_{n}_{spec.category}")
        except CodegenError as exc:
            failures.append((spec.category, f"{spec.name} (seed {spec.seed}): {exc}"))
    if sink.getvalue().strip():
        logger.warnings.append("output: " + sink.getvalue().strip()[:500])
    return failures, logger.warnings


def _print_failures(failures, warnings, total: int, show: int) -> None:
    print(f"codegen failures: {len(failures)} ({100.0 * len(failures) / max(total, 1):.2f} %)")
    kinds = Counter(message.rsplit(";", 1)[-1][:120] for _, message in failures)
    for kind, count in kinds.most_common(show):
        example = next(m for _, m in failures if m.rsplit(";", 1)[-1][:120] == kind)
        print(f"  [{count}x] " + example.replace("\n", " | ")[-700:])
    print(f"warp warnings: {len(warnings)}")
    for message in warnings[:show]:
        print("  " + message.replace("\n", " | ")[:300])


def _print_distinct(specs, categories, fail_by_cat: Counter) -> float:
    from curator.dedup import skeleton

    by_cat = defaultdict(list)
    for spec in specs:
        by_cat[spec.category].append(spec.source)
    print("distinct skeletons per category:")
    worst = 1.0
    for cat in categories:
        sources = by_cat.get(cat, [])
        share = len({skeleton(s) for s in sources}) / max(len(sources), 1)
        worst = min(worst, share)
        print(f"  {cat:18s} n={len(sources):5d}  distinct={share * 100:6.2f} %  failures={fail_by_cat[cat]}")
    print(f"lowest distinct share: {worst * 100:.2f} %")
    return worst


def _print_coverage(specs) -> None:
    used: set[str] = set()
    for spec in specs:
        used |= referenced_names(spec.source)
    print(f"distinct builtin names referenced: {len(used)}")
    families = load_families()
    if families is None:
        print("builtin table not found (curator/kernels/data/warp_builtins.json): no per-family coverage")
        return
    all_names = set().union(*families.values())
    print(f"visible builtin names covered: {len(all_names & used)} / {len(all_names)}"
          f" ({100.0 * len(all_names & used) / len(all_names):.1f} %)")  # fmt: skip
    for family, covered, total, missing in family_coverage(families, used):
        tail = f"  missing: {', '.join(missing)}" if missing else ""
        print(f"  {family:16s} {covered:3d} / {total:3d} ({100.0 * covered / total:5.1f} %){tail}")


def _print_shape(specs) -> None:
    profile = Profile()
    for spec in specs:
        profile.add_source(spec.source)
    f = profile.figures()
    print(f"shape: mean expression depth {f['mean_expression_depth']:.2f}, numeric literals per statement "
          f"{f['literals_per_statement']:.2f}, lines over 100 chars {100 * f['long_line_share']:.2f} %, "
          f"statements per kernel median {f['statements_median']} p90 {f['statements_p90']}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--style", choices=STYLES, default="realistic")
    parser.add_argument("--no-codegen", action="store_true", help="only generate (timing, coverage and shape)")
    parser.add_argument("--show-errors", type=int, default=5)
    args = parser.parse_args(argv)

    categories = categories_for(args.style)
    t0 = time.perf_counter()
    specs = [
        generate_kernel(kernel_seed(args.seed, n), categories[n % len(categories)], args.style)
        for n in range(args.count)
    ]
    gen_ms = (time.perf_counter() - t0) * 1000 / max(args.count, 1)
    print(f"kernels: {len(specs)}  seed: {args.seed}  style: {args.style}  generator: {gen_ms:.3f} ms/kernel")
    failures: list[tuple[str, str]] = []
    if not args.no_codegen:
        failures, warnings = _codegen(specs, args.seed)
        _print_failures(failures, warnings, len(specs), args.show_errors)
    _print_distinct(specs, categories, Counter(cat for cat, _ in failures))
    _print_coverage(specs)
    _print_shape(specs)
    quality: Counter = Counter()
    flagged: Counter = Counter()
    for spec in specs:
        found = findings(spec.source)
        quality.update(found)
        flagged.update(kind for kind, n in found.items() if n)
    print("quality findings (total / kernels affected):")
    for kind in KINDS:
        print(f"  {kind:20s} {quality[kind]:6d} / {flagged[kind]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
