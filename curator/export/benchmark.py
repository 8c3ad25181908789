"""The benchmark section of a release's card and REPORT.md: informative records and the three
baselines' pass@1 per category, from the ``benchmark`` figures `curator eval figures` measured
(`curator export --benchmark FILE` puts them in the manifest)."""

from __future__ import annotations

BENCHMARK_BASELINES = ("reference", "shuffled", "retrieval")


def benchmark_section(m: dict) -> list[str]:
    """The translation benchmark (`curator eval`), when the manifest has its ``benchmark``."""
    if not m.get("benchmark"):
        return []
    out = [
        "## Benchmark",
        "",
        "The `test` split is an execution-checked translation benchmark: `curator eval prompts` writes the"
        " tasks (Python source in, the target piece out), `curator eval score` compiles each prediction,"
        " launches it on seeded inputs and compares every array it writes with the stored code's launch."
        " A record counts only when its reference is informative: a no-op body, an all-zero output and"
        " another kernel's code of the category all fail it.",
        "",
    ]
    return out + benchmark_markdown(m["benchmark"])


def benchmark_markdown(benchmark: dict) -> list[str]:
    """Markdown lines: per config/split/target, informative records and each baseline's pass@1 per
    category (a card section and a REPORT.md section)."""
    out = []
    for key, fig in benchmark.items():  # in the order measured: forward, then backward
        config, split, target = key.split("/")
        base = fig["baselines"]
        total = sum(fig["informative"].values())
        out += [
            f"### `{config}` / `{split}`, target `{target}`",
            "",
            f"{total} informative records ({fig['excluded']} left out: {_why(fig.get('excluded_why', {}))}).",
            "pass@1 of each baseline: the stored code (`reference`), another train record's code of the"
            " category with names rewritten (`shuffled`), the nearest train record by MinHash (`retrieval`).",
            "",
            "| category | informative | reference | shuffled | retrieval |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for cat in sorted(fig["informative"]):
            cells = [_pct(base[n]["categories"].get(cat, {}).get("pass@1")) for n in BENCHMARK_BASELINES]
            out.append(f"| {cat} | {fig['informative'][cat]} | " + " | ".join(cells) + " |")
        cells = [_pct(base[n]["overall"].get("pass@1")) for n in BENCHMARK_BASELINES]
        out += [f"| **overall** | {total} | " + " | ".join(cells) + " |", ""]
    return out


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _why(why: dict) -> str:
    from collections import Counter

    return ", ".join(f"{n} {w}" for w, n in Counter(why).most_common()) if why else "none"
