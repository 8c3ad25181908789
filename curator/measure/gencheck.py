"""Quality report for the generator: run kernels through Warp codegen and print coverage and shape figures.

python -m curator.measure.gencheck --count 2000 --seed 1 [--style realistic|stress]

It lives outside ``curator/kernels`` because it runs Warp; the generator itself never does.
Kernel i of a check is kernel i of ``curator generate --seed SEED`` (same seeds, categories round-robin).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from collections import Counter, defaultdict

from curator.kernels import STYLES, categories_for, generate_kernel
from curator.kernels.quality import KINDS, findings
from curator.records import kernel_seed


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


def _codegen(specs, seed: int) -> tuple[list[tuple[str, str]], list[str], dict[int, list[str]]]:
    """(category, message) per codegen failure, Warp's warnings, and the builtin signatures each
    built kernel resolved (by index into ``specs``)."""
    from curator.warp import CodegenError, init_warp
    from curator.warp.build import generate
    from curator.warp.calls import recording_builtin_calls, signatures_of_calls

    wp = init_warp()
    logger = _RecordingLogger()
    wp.set_logger(logger)
    failures, signatures = [], {}
    sink = io.StringIO()
    for n, spec in enumerate(specs):
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), recording_builtin_calls() as calls:
                generate(spec.source, spec.name, f"cur_check_{seed}_{n}_{spec.category}")
            signatures[n] = signatures_of_calls(calls, spec.source)
        except CodegenError as exc:
            failures.append((spec.category, f"{spec.name} (seed {spec.seed}): {exc}"))
    if sink.getvalue().strip():
        logger.warnings.append("output: " + sink.getvalue().strip()[:500])
    return failures, logger.warnings, signatures


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
    from curator.neardup import skeleton

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


def _print_coverage(specs, signatures: dict[int, list[str]] | None) -> None:
    """Names (from the sources) and, after codegen, signatures (resolved by Warp) per family."""
    from curator.kernels.surface import load_surface
    from curator.measure.coverage import measure

    kernels = [(s.source, signatures.get(n) if signatures is not None else None) for n, s in enumerate(specs)]
    report = measure(load_surface(), kernels)
    r = report
    line = f"visible builtin names covered: {r['names_covered']} / {r['names']} ({r['names_share']:.1%})"
    if signatures is not None:
        line += f"; signatures: {r['signatures_covered']} / {r['signatures']} ({r['signatures_share']:.1%})"
    print(line)
    for family, f in r["families"].items():
        names = f"names {f['names_covered']:3d} / {f['names']:3d} ({f['names_share']:6.1%})"
        sigs = f"  signatures {f['signatures_covered']:3d} / {f['signatures']:3d}" if signatures is not None else ""
        missing = f"  missing: {', '.join(f['uncovered_names'])}" if f["uncovered_names"] else ""
        print(f"  {family:16s} {names}{sigs}{missing}")


def _print_shape(specs) -> None:
    from curator.measure.profile import kernel_shape, summarize

    f = summarize(kernel_shape(spec.source, spec.name) for spec in specs)
    print(
        f"shape: mean expression depth {f['mean_expression_depth']:.2f}, numeric literals per statement "
        f"{f['literals_per_statement']:.2f}, lines over 100 chars {f['long_line_share']:.2%}, statements per "
        f"kernel median {f['statements_median']:g} p90 {f['statements_p90']:g}; wp.static in "
        f"{f['static_share']:.1%}, tiles in {f['tile_share']:.1%} of kernels"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--style", choices=STYLES, default="realistic")
    parser.add_argument("--no-codegen", action="store_true", help="only generate (timing, names and shape)")
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
    signatures = None
    if not args.no_codegen:
        failures, warnings, signatures = _codegen(specs, args.seed)
        _print_failures(failures, warnings, len(specs), args.show_errors)
    _print_distinct(specs, categories, Counter(cat for cat, _ in failures))
    _print_coverage(specs, signatures)
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
