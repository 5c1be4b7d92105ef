"""Tail-index estimators for observed gradient noise (sources below). Both return α̂ (smaller = heavier).

* :func:`mohammadi_alpha` — Mohammadi, Mohammadpour, Ogata (2015), the estimator Simsekli, Sagun,
  Gürbüzbalaban (ICML 2019, Cor. 2.4) apply to SGD noise: for K = K₁K₂ samples of a symmetric α-stable law
  and block sums ``Y_i = Σ_{j=1..K₁} X_{(i−1)K₁+j}``,
  ``1/α̂ = (1/log K₁)·[(1/K₂) Σ_i log|Y_i| − (1/K) Σ_k log|X_k|]``. Valid for α ∈ (0, 2]; finite-variance
  noise gives α̂ ≈ 2 (values a little above 2 are sampling error and are reported as computed).
  Exact zeros and non-finite values are dropped first (both estimators).
* :func:`hill_alpha` — Hill (1975) on the k largest of ``|X|``:
  ``1/α̂ = (1/k) Σ_{i=1..k} log(|X|_(i) / |X|_(k+1))`` (descending order statistics).

Example:
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_cauchy(100_000)
    >>> round(mohammadi_alpha(x), 1), round(hill_alpha(x), 1)
    (1.0, 1.0)
"""

from __future__ import annotations

import math

import numpy as np

_EPS = np.finfo(np.float64).tiny


def _samples(x) -> np.ndarray:
    """Finite, non-zero samples, flattened in order. Exact zeros are dropped: in gradient noise they are
    structural (parameters a minibatch cannot move, e.g. weights of always-zero pixels or absent tokens),
    not draws of the noise law, and log 0 would dominate both estimators."""
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    return a[np.isfinite(a) & (a != 0)]


def mohammadi_alpha(x, k1: int | None = None) -> float:
    """Mohammadi et al. (2015) estimate from the samples ``x`` (any shape, flattened, in order).

    ``k1`` is the block length K₁ (default ⌊√K⌋, as in Simsekli et al.'s code); the last ``K mod K₁``
    samples are dropped. Returns NaN with fewer than 4 samples.
    """
    a = _samples(x)
    k1 = int(k1 or math.isqrt(len(a)))
    if len(a) < 4 or k1 < 2:
        return math.nan
    k2 = len(a) // k1
    a = a[: k1 * k2]
    y = a.reshape(k2, k1).sum(1)
    inv = (np.log(np.abs(y) + _EPS).mean() - np.log(np.abs(a) + _EPS).mean()) / math.log(k1)
    return float(1.0 / inv) if inv > 0 else math.inf


def hill_alpha(x, k: int | None = None) -> float:
    """Hill estimate from the ``k`` largest ``|x|`` (default ⌈√K⌉). Returns NaN with fewer than 3 samples."""
    a = np.abs(_samples(x))
    if len(a) < 3:
        return math.nan
    k = int(k or math.ceil(math.sqrt(len(a))))
    k = max(1, min(k, len(a) - 1))
    top = -np.partition(-a, k)[: k + 1]  # the k+1 largest, unordered
    top.sort()
    top = top[::-1]
    if top[k] <= 0:
        return math.nan
    inv = float(np.mean(np.log(top[:k] / top[k])))
    return 1.0 / inv if inv > 0 else math.inf
