"""Spectral quantities of a mixing matrix: the contraction factor ρ and the spectral gap 1 − ρ."""
from __future__ import annotations

import numpy as np


def spectral_gap(W: np.ndarray) -> float:
    """Consensus contraction factor ``ρ = ‖W − 11ᵀ/n‖₂`` (largest singular value).

    This is the quantity the decentralized heavy-tail analyses (e.g. GT-NSGDm) call the mixing rate:
    for doubly stochastic W, ``‖W x − x̄ 1‖ ≤ ρ ‖x − x̄ 1‖`` for every x, and gossip converges
    geometrically iff ``ρ < 1``. For symmetric W it equals the second-largest eigenvalue modulus
    (Xiao & Boyd 2004); for directed doubly stochastic W it is the second singular value. The
    spectral gap in the strict sense is ``1 − ρ``; the library reports ρ under this name because that is
    what the step-size conditions of the papers use. The complete graph with ``W = 11ᵀ/n`` gives 0.
    Cost: an SVD, O(n³).
    """
    A = np.asarray(W, dtype=np.float64)
    n = A.shape[0]
    return float(np.linalg.norm(A - np.full((n, n), 1.0 / n), 2))


def second_eigenvalue_modulus(W: np.ndarray) -> float:
    """Second-largest eigenvalue modulus ``|λ₂|`` of W (equals :func:`spectral_gap` for symmetric W)."""
    A = np.asarray(W, dtype=np.float64)
    if A.shape[0] == 1:
        return 0.0
    mods = np.sort(np.abs(np.linalg.eigvals(A)))[::-1]
    return float(mods[1])
