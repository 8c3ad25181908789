"""The report's sections on what verification proved: compiles per device, the CPU runs and the
adjoint check, and what the adjoint check's failures are."""

from __future__ import annotations


def verification_section(ver: dict) -> list[str]:
    if not ver:
        return ["Verification: none recorded yet (`curator verify`).", ""]
    out = ["### Verification (the generated code compiled)", ""]
    out += ["| device | kernels compiled | passed | pass rate | compiler |", "| --- | --- | --- | --- | --- |"]
    for dev, v in ver.items():
        rate = 100 * v["ok"] / v["checked"] if v["checked"] else 0.0
        out.append(f"| {dev} | {v['checked']:,} | {v['ok']:,} | {rate:.2f} % | {v['compilers']} |")
    return [*out, ""]


def grad_findings_section(failures: list[tuple[str, str, str]]) -> list[str]:
    """The adjoint check's failures sorted by the construct in the kernel (curator.verify.gradfindings)."""
    if not failures:
        return []
    from curator.verify import gradfindings

    out = [
        "#### What the adjoint failures are",
        "",
        f"The {len(failures):,} kernels that failed the adjoint check, each counted under the first construct of"
        " this list its source holds (read from the AST by `curator/verify/gradfindings.py`):",
        "",
        "| construct | kernels | most in | what goes wrong |",
        "| --- | ---: | --- | --- |",
    ]
    for f in gradfindings.summarize(failures):
        cats = ", ".join(f"{c} {n}" for c, n in f.categories)
        out.append(f"| {f.construct} | {f.kernels:,} | {cats} | {f.why} |")
    return [*out, ""]


def execution_section(rows: list[dict], manifest: dict | None) -> list[str]:
    """CPU runs, pair check and adjoint check per category (`curator verify --execute`)."""
    if not rows:
        return ["CPU runs: none recorded yet (`curator verify --execute`).", ""]
    out = ["### CPU runs, pair check and adjoint check", ""]
    for dev, d in (manifest or {}).get("devices", {}).items():
        c, n = d.get("checks", {}), d["records"]
        pct = 100 * c.get("compiled_true", 0) / n if n else 0.0
        ran = c.get("kernel_ran_on_cpu", 0)
        out.append(
            f"- exported {dev} records: {pct:.2f} % compiled for {dev}; the kernels of {ran:,} of {n:,}"
            f" ({100 * ran / n if n else 0:.2f} %) ran on the CPU or are marked not-runnable"
            f" ({c.get('ran_not-runnable', 0):,} not-runnable)"
        )
    out += [
        "",
        "| category | launched | ran | not runnable | failed | NaN/Inf | pair mismatch | adjoint pass "
        "| fail | not differentiable | pass rate (of checked) |",
        "| --- |" + " ---: |" * 10,
    ]
    for r in rows:
        checked = r["grad_pass"] + r["grad_fail"]
        rate = f"{100 * r['grad_pass'] / checked:.1f} %" if checked else "-"
        out.append(
            f"| {r['category']} | {r['executed']:,} | {r['ran']:,} | {r['not_runnable']:,} | {r['failed']:,} |"
            f" {r['nonfinite']:,} | {r['pair_failed']:,} | {r['grad_pass']:,} | {r['grad_fail']:,} |"
            f" {r['grad_nd']:,} | {rate} |"
        )
    out += [
        "",
        "The adjoint check compares `wp.Tape` gradients with central finite differences (float32"
        " kernels in float32); see docs/verification.md for what each outcome means.",
        "",
    ]
    return out
