"""The Hugging Face dataset card (README.md of an export): YAML ``configs`` with every config
and split so ``datasets.load_dataset(EXPORT_DIR, CONFIG)`` loads each split, the features each
config loads with, and a description built from the manifest alone (no timestamps)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Protocol

from curator.export import records
from curator.export.benchmark import benchmark_section
from curator.records import MIB

TITLE = "NVIDIA Warp kernels with their generated C++ and CUDA"
# The card's features in `datasets`' YAML (``sequence`` is read by datasets 3 and later).
_FEATURE_YAML = {
    "string": ["    dtype: string"],
    "int64": ["    dtype: int64"],
    "bool": ["    dtype: bool"],
    "string_list_list": ["    sequence:", "      sequence: string"],
}


def size_category(n: int) -> str:
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < bound:
            return label
    return "1M<n<10M"


def _front_matter(m: dict, has_real: bool) -> list[str]:
    total = sum(s["records"] for c in m["configs"].values() for s in c["splits"].values())
    lines = [
        "---",
        f"license: {'other' if has_real else 'apache-2.0'}",
        "task_categories:",
        "- text-generation",
        "- translation",
        "language:",
        "- en",
        "tags:",
        "- code",
        "- nvidia-warp",
        "- cuda",
        "- cpp",
        "size_categories:",
        f"- {size_category(total)}",
        f"pretty_name: {TITLE}",
        "configs:",
    ]
    for n, (config, c) in enumerate(m["configs"].items()):
        lines += [f"- config_name: {config}", *(["  default: true"] if n == 0 else []), "  data_files:"]
        for split, s in c["splits"].items():
            lines += [f"  - split: {split}", f"    path: {s['file']}"]
    lines.append("dataset_info:")
    for config, c in m["configs"].items():
        lines += [f"- config_name: {config}", "  features:"]
        for key in c["fields"]:
            lines += [f"  - name: {key}", *_FEATURE_YAML[records.type_of(key)]]
    return [*lines, "---", ""]


class Describe(Protocol):
    """Figures of the store an export is drawn from, kept in its manifest, and their card section."""

    def measures(self, store, source: str) -> dict: ...

    def markdown(self, measures: dict) -> list[str]: ...


def dataset_card(m: dict, measures_markdown: Callable[[dict], list[str]] | None = None) -> str:
    """README.md for the Hugging Face Hub, from the manifest ``m``; ``measures_markdown`` renders its
    ``measures`` (the store's coverage and kernel shape: ``curator.measure.measures.RELEASE``)."""
    has_real = any(s["origins"].get("real") for c in m["configs"].values() for s in c["splits"].values())
    out = _front_matter(m, has_real)
    out += [f"# {TITLE}", ""]
    out += [
        "Each record pairs a `@wp.kernel` written in Python for [NVIDIA Warp](https://github.com/NVIDIA/warp)"
        " with the code Warp's code generator produces for it: C++ for the CPU (`cpu` config), CUDA C++"
        " (`cuda` config), or both in one row (`paired` config), kept piece by piece (structs, functions,"
        " argument struct, forward kernel, backward/adjoint kernel, entry points).",
        "",
        "Synthetic kernels come from a type-directed random generator; every one built with Warp"
        f" {', '.join(m['warp_versions']) or '?'}. Made by curator {m['curator_version']}.",
        "",
    ]
    out += _splits_section(m)
    out += _categories_section(m)
    out += _filtering_section(m, has_real)
    out += _verification_section(m)
    out += coverage_section(m, measures_markdown)
    out += benchmark_section(m)
    out += _fields_section(m)
    out += _loading_section(m)
    out += _reproduce_section(m)
    out += _license_section(has_real)
    return "\n".join(out)


def _splits_section(m: dict) -> list[str]:
    out = [
        "## Configs and splits",
        "",
        "| config | split | records | MiB as JSONL | file | file MiB |",
        "| --- | --- | ---: | ---: | --- | ---: |",
    ]
    for config, c in m["configs"].items():
        for split, s in c["splits"].items():
            out.append(
                f"| {config} | {split} | {s['records']:,} | {s['bytes'] / MIB:,.2f} | `{s['file']}` |"
                f" {s['file_bytes'] / MIB:,.2f} |"
            )
    out += [
        "",
        "Sizes count the records as JSONL (what `--target-mb` measures: `train` lands within +1 %), so"
        " an export in Parquet with the same arguments holds the same records, in smaller files (zstd).",
        "",
    ]
    sp = m.get("splits")
    if sp:
        shares = ", ".join(f"{k} {v:g}" for k, v in sp["shares"])
        out.append(
            f"Splits ({shares}) are cut by group, not by kernel: kernels of one near-duplicate cluster (MinHash"
            f" LSH at Jaccard {sp['threshold']}) or with one normalised skeleton (identifiers and numbers"
            " replaced) form a group, and a group lies in one split only, the same in every config. Each split"
            " holds every category in proportion, and its selection is balanced per category."
        )
        if sp["holdout_categories"]:
            out.append(
                f"The `holdout` split holds the categories {', '.join(sp['holdout_categories'])} (no other"
                " split has them) for compositional evaluation."
            )
        out.append("")
    return out


def _categories_section(m: dict) -> list[str]:
    out = ["Kernels per category (the selection is balanced: equal counts per category):", ""]
    cols = [(config, split) for config, c in m["configs"].items() for split in c["splits"]]
    cats = sorted({k for c in m["configs"].values() for s in c["splits"].values() for k in s["categories"]})
    out.append("| category | " + " | ".join(f"{c} {s}" for c, s in cols) + " |")
    out.append("| --- |" + " ---: |" * len(cols))
    for cat in cats:
        row = [str(m["configs"][c]["splits"][s]["categories"].get(cat, {}).get("records", 0)) for c, s in cols]
        out.append(f"| {cat} | " + " | ".join(row) + " |")
    return [*out, ""]


def _filtering_section(m: dict, has_real: bool) -> list[str]:
    out = ["## Near-duplicates and decontamination", ""]
    dd = m.get("dedup")
    if dd:
        out.append(
            f"Near-duplicates were removed: MinHash ({dd['num_perm']} permutations) over token 5-grams of the"
            f" normalised source, LSH at Jaccard {dd['threshold']}; {dd['kernels']:,} stored kernels formed"
            f" {dd['clusters']:,} clusters and only one kernel per cluster is exported."
        )
    else:
        out.append("No near-duplicate filtering was applied (identical sources are stored once).")
    dc = m.get("decontamination")
    out.append("")
    if dc:
        cats = ", ".join(f"{c} {n}" for c, n in dc["dropped_by_category"].items()) or "none"
        out.append(
            f"Decontaminated against {dc['reference']}: of {dc['synthetic_checked']:,} synthetic kernels,"
            f" {dc['dropped']:,} were within Jaccard {dc['threshold']} of a reference kernel and were dropped"
            f" (per category: {cats})."
        )
    else:
        out.append("Not decontaminated against a reference set (no `--decontaminate`).")
    if has_real:
        out += [
            "",
            "Some records come from real code (`origin` = `real`); their `provenance` gives the source"
            " file and its license, which applies to that record.",
        ]
    return [*out, ""]


def _checks_table(m: dict) -> list[str]:
    """What the records' compiled / ran / grad_check fields say, counted over every record."""
    rows = [
        (f"{c}/{s}", d["checks"])
        for c, cfg in m["configs"].items()
        for s, d in cfg["splits"].items()
        if d.get("checks", {}).get("compiled_true") is not None or d.get("checks", {}).get("compiled_unknown")
    ]
    if not rows:
        return []
    keys = (
        "compiled_true",
        "kernel_ran_on_cpu",
        "ran_not-runnable",
        "grad_pass",
        "grad_fail",
        "grad_not-differentiable",
    )
    out = ["", "Verification of every exported record (the `compiled`, `ran` and `grad_check` fields):", ""]
    out += [
        "| config/split | records | compiled | kernel ran on the CPU | not runnable | adjoint pass | fail"
        " | not differentiable |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, c in rows:
        out.append(f"| {label} | {c['records']:,} | " + " | ".join(f"{c.get(k, 0):,}" for k in keys) + " |")
    return out


def _verification_section(m: dict) -> list[str]:
    out = [
        "## Verification",
        "",
        "Records whose code compiled (`curator verify`: Warp's Clang for CPU, NVRTC for"
        " CUDA; for `paired`, both), and the pass rate of all verified kernels in the store:",
        "",
        "| config | split | verified records | of |",
        "| --- | --- | ---: | ---: |",
    ]
    for config, c in m["configs"].items():
        for split, s in c["splits"].items():
            out.append(f"| {config} | {split} | {s['verified']['records']:,} | {s['records']:,} |")
    out.append("")
    for device, d in m["devices"].items():
        v = d.get("verification_in_store") or {}
        if v.get("verified"):
            out.append(
                f"- {device}: {v['passed']:,} of {v['verified']:,} verified kernels in the store compiled"
                f" ({v['pass_rate']:.1%})."
            )
    out += _checks_table(m)
    return [*out, ""]


def coverage_section(m: dict, measures_markdown: Callable[[dict], list[str]] | None) -> list[str]:
    """Builtin coverage and kernel shape (`curator stats --coverage`, `--profile`) of the store
    the export came from, when the manifest has its ``measures``."""
    measures = m.get("measures")
    if not measures or measures_markdown is None:
        return []
    return measures_markdown(measures)


def _fields_section(m: dict) -> list[str]:
    out = ["## Fields", "", "Every record has every field of its config (null when absent).", ""]
    out += ["`cpu` and `cuda`:", ""] + [f"- `{k}`: {doc}" for k, doc in records.FIELDS]
    if "paired" in m["configs"]:
        out += ["", "`paired` (one row per kernel with code for both devices):", ""]
        out += [f"- `{k}`: {doc}" for k, doc in records.PAIRED_FIELDS]
    return [*out, ""]


def _loading_section(m: dict) -> list[str]:
    first = next(iter(m["configs"]))
    split = next(iter(m["configs"][first]["splits"]))
    path = m["configs"][first]["splits"][split]["file"]
    builder = m.get("builder", "json")
    return [
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'ds = load_dataset("path/to/this/folder", "{first}")  # every split of the config',
        f'one = load_dataset("{builder}", data_files="{path}", split="train")  # one file',
        "```",
        "",
        "`manifest.json` holds sizes, SHA-256 sums, versions, seeds and the export's arguments;"
        " `curator export --check FOLDER` re-verifies every file against it.",
        "",
    ]


def _reproduce_section(m: dict) -> list[str]:
    cmd = reproduce_command(m["arguments"]) + " --out FOLDER"
    return [
        "## Reproduce",
        "",
        "From the store it was made from (`make dataset` builds one):",
        "",
        "```sh",
        cmd,
        "```",
        "",
    ]


def reproduce_command(a: dict) -> str:
    """The `curator export` command line of the manifest's arguments."""
    dev = a["devices"][0] if len(a["devices"]) == 1 else "all"
    parts = [
        "curator export",
        f"--device {dev}",
        f"--target-mb {a['target_mb']:g}",
        f"--seed {a['seed']}",
        f"--status {a['status']}",
        f"--source {a['source']}",
    ]
    parts += [f"--category {c}" for c in a["categories"]]
    parts += ["--dedup"] if a["dedup"] else []
    parts += [f"--threshold {a['threshold']:g}"] if a.get("threshold") is not None else []
    if a.get("splits"):
        parts.append(f"--splits {a['splits']}")
    parts += [f"--holdout-category {c}" for c in a.get("holdout_categories", [])]
    parts += ["--decontaminate"] if a.get("decontaminate") else []
    parts += [f"--reference {shlex.quote(a['reference'])}"] if a.get("reference") else []
    parts += ["--paired"] if a.get("paired") else []
    parts += [f"--format {a['format']}"] if a.get("format", "jsonl") != "jsonl" else []
    parts += ["--verified-only"] if a["verified_only"] else []
    parts += ["--allow-short"] if a["allow_short"] else []
    return " ".join(parts)


def _license_section(has_real: bool) -> list[str]:
    lic = (
        (
            "Apache-2.0 for the synthetic records (curator's generator and Warp's code generator); real records keep"
            " the license in their `provenance`."
        )
        if has_real
        else "Apache-2.0."
    )
    return [
        "## License",
        "",
        lic,
        "",
        "## Citation",
        "",
        "```bibtex",
        "@misc{curator_warp_kernels,",
        f"  title        = {{{{{TITLE}}}}},",
        "  author       = {{curator contributors}},",
        "  howpublished = {Dataset made with curator from NVIDIA Warp's code generator},",
        "  note         = {Python @wp.kernel sources paired with Warp-generated C++ and CUDA}",
        "}",
        "```",
        "",
    ]
