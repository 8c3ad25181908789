"""Builtin coverage and kernel shape of a store: the figures `curator stats`, the report and the card show."""

from __future__ import annotations

ORIGINS = {"synthetic": "synthetic", "real": "real", "all": None}
_LABEL = {"synthetic": "synthetic", "real": "real (ingested)", "all": "synthetic and real"}


def coverage_of(store, source: str = "synthetic") -> dict:
    """curator.coverage.measure over the store's kernels of ``source`` (synthetic, real or all)."""
    from curator import coverage
    from curator.kernels.surface import load_surface

    surface = load_surface()
    rows = store.kernels_with_builtin_signatures(ORIGINS[source], surface.warp_version)
    return coverage.measure(surface, ((src, sigs) for _kid, src, sigs in rows)) | {"source": source}


def profiles_of(store) -> dict[str, dict]:
    """curator.profile figures of the synthetic and of the real (ingested) kernels."""
    from curator import profile
    from curator.kernels.surface import load_surface

    surface = load_surface()
    geometry = frozenset(b.name for f in ("geometry", "volume", "texture") for b in surface.family(f))
    return {
        origin: profile.summarize(
            profile.kernel_shape(src, name, geometry) for name, src in store.kernel_names_and_sources(origin)
        )
        for origin in ("synthetic", "real")
    }


def coverage_markdown(report: dict) -> list[str]:
    """A Markdown table of names and signatures covered per family, then the uncovered names."""
    out = [
        f"Warp {report['warp_version']} has {report['names']} visible builtin names with {report['signatures']}"
        f" visible signatures; the {report['kernels']:,} {_LABEL[report['source']]} kernels reference"
        f" {report['names_covered']} names ({100 * report['names_share']:.1f} %) and"
        f" {report['signatures_covered']} signatures ({100 * report['signatures_share']:.1f} %)."
        " Names: `wp.<name>(...)` calls and the operators Warp maps to builtins, read from the Python;"
        " signatures: the overloads Warp resolved when it built each kernel.",
        "",
        "| family | names | covered | % | signatures | covered | % |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for family, f in [*report["families"].items(), ("**all**", report)]:
        out.append(f"| {family} | {f['names']} | {f['names_covered']} | {100 * f['names_share']:.0f} |"
                   f" {f['signatures']} | {f['signatures_covered']} | {100 * f['signatures_share']:.0f} |")  # fmt: skip
    if report["kernels_with_signatures"] < report["kernels"]:
        out += ["", f"Signatures were recorded for {report['kernels_with_signatures']:,} of the"
                f" {report['kernels']:,} kernels (the rest were stored before curator recorded them)."]  # fmt: skip
    uncovered = [(fam, f["uncovered_names"]) for fam, f in report["families"].items() if f["uncovered_names"]]
    if uncovered:
        out += ["", "Names no kernel references:", ""]
        out += [f"- {fam}: {', '.join(f'`{n}`' for n in names)}" for fam, names in uncovered]
    return [*out, ""]


def profile_markdown(profiles: dict[str, dict]) -> list[str]:
    """A Markdown table of the shape figures, one column per kernel origin that has kernels."""
    from curator.profile import ROWS

    shown = {origin: p for origin, p in profiles.items() if p.get("measured")}
    if not shown:
        return ["No kernels to measure.", ""]
    out = ["| figure | " + " | ".join(shown) + " |", "| --- |" + " ---: |" * len(shown)]
    for label, key, fmt in ROWS:
        out.append(f"| {label} | " + " | ".join(fmt.format(p[key]) for p in shown.values()) + " |")
    out += ["", "Measured on the Python AST of each `@wp.kernel` body; the definitions are in `curator/profile.py`."]
    return [*out, ""]
