"""Audit sampling (ISO 19011:2018 A.6): sample size by attribute sampling, reproducible draws.

The sample size is the smallest n for which finding at most `expected_deviations` deviations
in the sample would happen with probability at most 1 - confidence if the population's true
deviation rate were the tolerable rate (the binomial attribute-sampling plan auditors use).
With no expected deviation this is n = ceil(ln(1 - confidence) / ln(1 - tolerable_error)):
59 items at 95% confidence and a 5% tolerable error. A population smaller than n is examined
in full.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

MAX_SAMPLE = 10_000


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def sample_size(confidence: float, tolerable_error: float, expected_deviations: int = 0) -> int:
    """The attribute-sampling size for the given confidence and tolerable deviation rate."""
    if not 0 < confidence < 1 or not 0 < tolerable_error < 1:
        raise ValueError("confidence and tolerable error must lie strictly between 0 and 1")
    if expected_deviations < 0:
        raise ValueError("expected deviations cannot be negative")
    if expected_deviations == 0:
        return math.ceil(math.log(1 - confidence) / math.log(1 - tolerable_error))
    for n in range(expected_deviations + 1, MAX_SAMPLE + 1):
        if binomial_cdf(expected_deviations, n, tolerable_error) <= 1 - confidence:
            return n
    raise ValueError(f"the plan needs more than {MAX_SAMPLE} items: raise the tolerable error")


def draw(population: Sequence[str], size: int, seed: int) -> list[str]:
    """A reproducible simple random sample, in the population's sorted order."""
    ordered = sorted(population)
    if size >= len(ordered):
        return ordered
    chosen = set(random.Random(seed).sample(ordered, size))  # noqa: S311 - audit sample, not crypto
    return [item for item in ordered if item in chosen]
