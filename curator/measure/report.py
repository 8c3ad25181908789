"""`curator report`: REPORT.md for the chief scientist, written from the store and the export
manifest, so every figure in it is one the data itself gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curator.measure import stats as stats_mod
from curator.measure.report_proof import execution_section, grad_findings_section, verification_section
from curator.records import MIB

if TYPE_CHECKING:
    from curator.store import Store

BAR_WIDTH = 40

# Figures the team measured on the earlier attempts' datasets (DEVELOPERS.md; ../shared/seeds):
# share of kernels distinct once identifiers and numbers are normalised, and wp.<name> used.
EARLIER: dict[str, Any] = {
    "distinct_share": (0.14, 0.23),
    "wp_names": (11, 25),
    "categories": 10,
    "worst_repeat": "one '200 MB' set was 1,000 kernels repeated 69 times",
}

INTRO = """\
## JIT, IR and Warp, briefly

**JIT compilation.** A just-in-time compiler turns code into machine code while the program
runs, the first time it is needed, instead of ahead of time. It can specialise on what is known
only then: the argument types, the target device, the options of this launch.

**IR.** An intermediate representation is what a compiler works on between the source it reads
and the machine code it writes. In this dataset the IR is the C++ (for CPUs) and CUDA C++ (for
NVIDIA GPUs) that Warp generates from a Python kernel: a plain-text, typed, SSA-style program
with every Python statement lowered to calls into Warp's native library, plus the adjoint
(reverse-mode gradient) code Warp derives automatically. Clang/LLVM or NVRTC then compile it to
machine code or PTX; that last step is not in the pairs.

**NVIDIA Warp** is a Python framework for simulation and graphics kernels. A function decorated
with `@wp.kernel` is parsed from its Python AST, type-checked against its annotations, and
lowered to that C++/CUDA at first launch, then compiled and cached. Its code generation is
deterministic: the same kernel gives the same text (up to a content hash in names and
source-line comments, which curator normalises), and it needs no GPU, so one CPU machine can
make both halves of every pair. That is what makes Python → C++/CUDA pairs cheap to produce
at scale and exactly reproducible.
"""


def _bar(value: float, top: float) -> str:
    n = round(BAR_WIDTH * value / top) if top else 0
    return "█" * n


def _mib(b: int) -> str:
    return f"{b / MIB:,.2f} MiB"


def load_manifest(exports: Path) -> dict | None:
    """The manifest of the export in ``exports``, or None when it holds none (`curator report`
    checks an explicit --exports first)."""
    from curator.export.release import NotAnExport
    from curator.export.release import load_manifest as load

    try:
        return load(exports)
    except NotAnExport:
        return None


def example_pair(store: Store, manifest: dict | None, exports: Path) -> dict | None:
    """The exported kernel with the shortest Python + CPU forward (ties: smallest id)."""
    best = None
    if manifest and str(manifest.get("devices", {}).get("cpu", {}).get("file", "")).endswith(".jsonl"):
        with (exports / manifest["devices"]["cpu"]["file"]).open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                key = (len(rec["source"]) + len(rec["forward"]), rec["id"])
                if best is None or key < best[0]:
                    best = (key, rec["id"])
        kid = best[1] if best else None
    else:
        kid = store.shortest_paired_kernel()
    if kid is None:
        return None
    kernel = store.get_kernel(kid)
    cpu, cuda = store.get_artifact(kid, "cpu"), store.get_artifact(kid, "cuda")
    if not (kernel and cpu and cuda):
        return None
    return {"kernel": kernel, "cpu": cpu["forward"].strip("\n"), "cuda": cuda["forward"].strip("\n")}


def generation_figures(store: Store) -> dict:
    """Wall time and throughput of the finished/interrupted `curator generate` runs."""
    secs = made = 0.0
    for run in store.runs("generate"):
        counts = json.loads(run["counts"] or "{}")
        secs += counts.get("seconds", 0.0)
        made += counts.get("new_kernels", 0) + counts.get("failures", 0)
    return {"seconds": secs, "kernels": int(made), "kernels_per_s": made / secs if secs else 0.0}


def build(store: Store, exports: Path, db_name: str = "curator.db") -> str:
    """The report's Markdown: one function per section, each reading what it shows."""
    s = stats_mod.collect(store)
    manifest = load_manifest(exports)
    out = ["# curator: Warp kernels paired with their generated C++ and CUDA", ""]
    out.append(
        "This report is written by `curator report` from the store and the export manifest; "
        "every figure below is read from them."
    )
    out += ["", INTRO]
    out += _pair_section(example_pair(store, manifest, exports))
    out += _dataset_section(manifest, exports)
    out += _store_section(store, s)
    out += verification_section(store.verification_summary())
    out += execution_section(store.execution_stats("cpu"), manifest)
    out += grad_findings_section(store.grad_failure_sources("cpu"))
    out += _category_section(s)
    out += _benchmark_section(manifest)
    out += _measures_section(store)
    out += _earlier_section(s)
    out += _reproduce_section(store, manifest, db_name)
    out += _load_section()
    return "\n".join(out)


def _benchmark_section(manifest: dict | None) -> list[str]:
    """The translation benchmark's baselines (`curator eval figures`, in the manifest through
    `curator export --benchmark`); nothing without them."""
    from curator.export.benchmark import benchmark_markdown

    if not manifest or not manifest.get("benchmark"):
        return []
    out = ["## The benchmark: baselines", ""]
    out += [
        "Scored by execution (`curator eval score --baseline NAME`): each prediction compiled, launched on"
        " seeded inputs in its own worker, every array compared with the stored code's launch.",
        "",
    ]
    return out + benchmark_markdown(manifest["benchmark"])


def _pair_section(ex: dict | None) -> list[str]:
    if not ex:
        return []
    k = ex["kernel"]
    out = ["## One pair from the dataset", ""]
    out.append(f"Kernel `{k['name']}` (category `{k['category']}`, id `{k['id']}`): the Python, then the")
    out.append("forward function Warp generated for the CPU, then for CUDA. (The records also hold")
    out.append("the backward/adjoint code, the args struct, helper functions and entry points.)")
    out += ["", "```python", k["source"].strip("\n"), "```", "", "```cpp", ex["cpu"], "```", ""]
    return [*out, "```cuda", ex["cuda"], "```", ""]


def _dataset_section(manifest: dict | None, exports: Path) -> list[str]:
    out = ["## The dataset", ""]
    if manifest:
        return out + _export_section(manifest, exports)
    return [*out, "No export yet: run `curator export --dedup --target-mb 200`.", ""]


def _store_section(store: Store, s: dict) -> list[str]:
    gen = generation_figures(store)
    warp_versions = store.warp_versions() or ["(none)"]
    out = ["### The store", "", "| figure | value |", "| --- | --- |"]
    out.append(f"| kernels | {s['kernels']:,} ({', '.join(f'{o} {n:,}' for o, n in s['origins'].items())}) |")
    out.append(f"| distinct normalised skeletons | {s['skeletons']:,} ({100 * s['distinct_share']:.2f} %) |")
    out.append(f"| codegen failures | {s['failures']:,} ({100 * s['failure_share']:.2f} %) |")
    out.append(f"| distinct `wp.<name>` builtins and types in the Python | {len(s['wp_names'])} |")
    for dev, d in s["devices"].items():
        out.append(f"| stored {dev} code | {d['kernels']:,} kernels, {_mib(d['bytes'])} ({d['bytes']:,} bytes) |")
    out.append(
        f"| generation | {gen['kernels']:,} kernels in {gen['seconds']:,.0f} s "
        f"({gen['kernels_per_s']:.1f} kernels/s, both devices, this machine) |"
    )
    out.append(f"| Warp version | {', '.join(warp_versions)} |")
    return [*out, ""]


def _category_section(s: dict) -> list[str]:
    out = ["### Per category in the store", ""]
    out += [
        "| category | kernels | synthetic | real | distinct skeletons | codegen failures |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for cat, c in s["categories"].items():
        out.append(
            f"| {cat} | {c['kernels']:,} | {c['synthetic']:,} | {c['real']:,} | {c['skeletons']:,}"
            f" ({100 * c['distinct_share']:.1f} %) | {c['failures']:,} |"
        )
    out += ["", "### Warp builtins and types used", ""]
    out.append(", ".join(f"`{n}`" for n in s["wp_names"]))
    return [*out, ""]


def _earlier_section(s: dict) -> list[str]:
    out = ["## Against the earlier datasets", ""]
    lo, hi = EARLIER["distinct_share"]
    wlo, whi = EARLIER["wp_names"]
    out += ["| | earlier attempts (measured) | curator (this store) |", "| --- | --- | --- |"]
    out.append(
        f"| distinct after normalising names and numbers | {100 * lo:.0f}-{100 * hi:.0f} % | "
        f"{100 * s['distinct_share']:.2f} % |"
    )
    out.append(f"| distinct `wp.<name>` referenced | {wlo}-{whi} | {len(s['wp_names'])} |")
    out.append(f"| categories | {EARLIER['categories']} fixed templates | {len(s['categories'])} generator themes |")
    out.append("| compiled what they shipped | no | see Verification |")
    out.append("")
    out.append(f"The earlier sets' worst case: {EARLIER['worst_repeat']}. Their redundancy was measured")
    out.append("the way `curator stats` measures ours: identifiers and numeric literals replaced, Warp API")
    out.append("names, types and operators kept, then distinct token sequences counted.")
    return [*out, ""]


def _reproduce_section(store: Store, manifest: dict | None, db_name: str) -> list[str]:
    args = (manifest or {}).get("arguments", {})
    out = ["## Reproduce", "", "```sh", "make dataset     # the steps below, from a fresh clone", ""]
    for run in store.runs("generate")[-3:]:
        a = json.loads(run["arguments"])
        size = f"--count {a['count']}" if a.get("count") else f"--target-mb {a.get('target_mb'):g}"
        out.append(f"curator generate --device {a.get('device', 'all')} {size} --seed {a.get('seed')} --db {db_name}")
    from curator.export.card import reproduce_command

    for run in store.runs("ingest")[-1:]:
        a = json.loads(run["arguments"])
        packages = " ".join(f"--package {p}" for p in a.get("packages") or [])
        if packages:
            out.append(f"curator ingest {packages} --db {db_name}")
    for run in store.runs("verify")[-1:]:
        a = json.loads(run["arguments"])
        if a.get("ids_from") and manifest:  # make dataset: the release's plan, proven, then exported
            plan = dict(args, verified_only=False)
            out.append(f"{reproduce_command(plan)} --db {db_name} --plan {Path(a['ids_from']).name}")
        share = (
            f"--ids-from {Path(a['ids_from']).name}"
            if a.get("ids_from")
            else (f"--sample {a['sample']:g}" if a.get("sample") else "--all")
        )
        mode = f" --mode {a['mode']}" if a.get("mode") else ""
        execute = " --execute" if a.get("execute") else ""
        out.append(
            f"curator verify --device {a.get('device', 'all')}{mode}{execute} {share} --seed {a.get('seed', 0)}"
            f" --db {db_name}"
        )
    if manifest:
        out.append(f"{reproduce_command(args)} --db {db_name}")
    return [*out, "curator report", "```", ""]


def _load_section() -> list[str]:
    out = ["## Load it", "", "```python", "from datasets import load_dataset", ""]
    out.append('cpu = load_dataset("exports", "cpu")  # every split; "cuda", "paired" alike')
    out.append('one = load_dataset("json", data_files="exports/cpu/warp_kernels_cpu_train.jsonl", split="train")')
    out += ["```", ""]
    out.append("Each line: ids, kernel name, category, device, the Python `source`, and the generated `structs`,")
    out.append("`functions`, `args`, `forward`, `backward` and `entry` code as separate fields, with provenance")
    out.append("(Warp version, generator version, seeds; file and package for real kernels).")
    return [*out, ""]


def _measures_section(store: Store) -> list[str]:
    """Builtin coverage (synthetic kernels) and kernel shape (synthetic and real), as `curator stats` shows."""
    from curator.measure import measures

    out = ["### Warp's builtin surface covered (`curator stats --coverage`)", ""]
    out += measures.coverage_markdown(measures.coverage_of(store, "synthetic"))
    out += ["### Shape of the kernels (`curator stats --profile`)", ""]
    return out + measures.profile_markdown(measures.profiles_of(store))


def _export_section(m: dict, exports: Path) -> list[str]:
    out = []
    d = m.get("dedup")
    out += [
        "| device | file | bytes | MiB | records | categories (min-max per category) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for dev, s in m["devices"].items():
        b = s["balance"]
        out.append(
            f"| {dev} | `{exports / s['file']}` | {s['bytes']:,} | {s['bytes'] / MIB:.2f} | "
            f"{s['records']:,} | {len(s['categories'])} ({b['min']}-{b['max']}) |"
        )
    out.append("")
    if d:
        out.append(f"Near-dedup at Jaccard {d['threshold']} (MinHash, {d['num_perm']} permutations, token 5-grams of")
        out.append(
            f"the normalised source): {d['kernels']:,} kernels in {d['clusters']:,} clusters, so "
            f"{d['removed']:,} near-duplicates were left out."
        )
    else:
        out.append("Exported without near-dedup.")
    out += ["", *_release_lines(m)]
    for dev, s in m["devices"].items():
        cats = s["categories"]
        top = max((c["bytes"] for c in cats.values()), default=0)
        mean = s["bytes"] / s["records"] if s["records"] else 0
        out += [
            f"**{dev}**: records and bytes per category (bars: bytes; balance is by record count;",
            f"a record averages {mean / 1024:,.1f} KiB):",
            "",
            "```",
        ]
        for cat, c in cats.items():
            out.append(f"{cat:<18} {c['records']:>6,}  {_mib(c['bytes']):>11}  {_bar(c['bytes'], top)}")
        out += ["```", ""]
    return out


SPLIT_ORDER = {"train": 0, "validation": 1, "test": 2, "holdout": 3}  # manifests store keys sorted


def _release_lines(m: dict) -> list[str]:
    """Splits and decontamination of a release (exports made with --splits/--decontaminate)."""
    out = []
    if m.get("splits"):
        out += ["| config | split | records | MiB | file |", "| --- | --- | ---: | ---: | --- |"]
        for config, c in m["configs"].items():
            for split in sorted(c["splits"], key=lambda x: (SPLIT_ORDER.get(x, len(SPLIT_ORDER)), x)):
                s = c["splits"][split]
                out.append(f"| {config} | {split} | {s['records']:,} | {s['bytes'] / MIB:.2f} | `{s['file']}` |")
        out += ["", "No near-duplicate cluster and no normalised skeleton lies in two splits.", ""]
    dc = m.get("decontamination")
    if dc:
        out += [
            f"Decontaminated against {dc['reference']}: {dc['dropped']:,} of {dc['synthetic_checked']:,}"
            f" synthetic kernels within Jaccard {dc['threshold']} of one were dropped.",
            "",
        ]
    return out


def write(store: Store, exports: Path, out: Path, db_name: str) -> Path:
    text = build(store, exports, db_name)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out
