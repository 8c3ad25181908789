"""pass@k by the unbiased estimator (Chen et al. 2021): of n samples of which c are correct, the
chance that at least one of k drawn without replacement is correct, 1 - C(n-c, k) / C(n, k)."""

from __future__ import annotations

from math import comb


def pass_at_k(n: int, c: int, k: int) -> float:
    """The estimate for one task; k must not exceed n (a task with no sample scores 0)."""
    if n == 0:
        return 0.0
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@{k} needs 1 <= k <= n and 0 <= c <= n (n={n}, c={c})")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)
