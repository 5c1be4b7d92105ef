"""Spectral quantities of a mixing matrix: the contraction factor ρ and the spectral gap 1 − ρ.

A dense W (n ≤ :data:`~.sparse.DENSE_MAX_N`) gets the SVD it always got. A sparse W is never densified:
circulant graphs (ring, exponential) by the FFT of one row, torus and hypercube by their closed forms (the
builders attach them), anything else by Lanczos (ARPACK ``svds``) on the operator ``x ↦ W x − mean(x)·1``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .sparse import Matrix, circulant_row


def circulant_rho(c: np.ndarray) -> float:
    """ρ of the circulant doubly stochastic W with first row ``c`` (``W[i, j] = c[(j − i) mod n]``).

    A circulant matrix is normal with eigenvalues ``λ_m = Σ_k c_k e^{−2πikm/n}`` (the DFT of c) and the
    eigenvector 1 for ``λ_0 = 1``, so ``‖W − 11ᵀ/n‖₂ = max_{m ≠ 0} |λ_m|`` (Gray, *Toeplitz and Circulant
    Matrices*, 2006, §3.1)."""
    if len(c) == 1:
        return 0.0
    return float(np.abs(np.fft.fft(c)[1:]).max())


def _cycle_eigs(m: int) -> tuple[np.ndarray, int]:
    """Adjacency eigenvalues of the cycle on m nodes with distinct neighbours, and its degree."""
    a = np.arange(m)
    if m >= 3:
        return 2.0 * np.cos(2.0 * math.pi * a / m), 2
    if m == 2:
        return np.array([1.0, -1.0]), 1
    return np.zeros(1), 0


def torus_rho(rows: int, cols: int) -> float:
    """ρ of the ``rows × cols`` torus with Metropolis (= equal-neighbour: the graph is regular) weights.

    W = (I + A_r ⊗ I + I ⊗ A_c)/(1 + deg) with A_m the cycle adjacency, so its eigenvalues are
    (1 + λ_a + μ_b)/(1 + deg) over the cycles' eigenvalues λ_a, μ_b; ρ is the largest modulus but the
    (a, b) = (0, 0) one (Horn & Johnson, *Topics in Matrix Analysis*, Thm 4.4.5, Kronecker sums)."""
    lr, dr = _cycle_eigs(rows)
    lc, dc = _cycle_eigs(cols)
    lam = np.abs(1.0 + lr[:, None] + lc[None, :]) / (1.0 + dr + dc)
    lam[0, 0] = 0.0
    return float(lam.max())


def hypercube_rho(n: int) -> float:
    """ρ of the log2(n)-cube with Metropolis weights 1/(k + 1): eigenvalues (1 + k − 2j)/(k + 1), j = 0..k
    (the cube's adjacency spectrum is k − 2j), so ρ = (k − 1)/(k + 1)."""
    k = n.bit_length() - 1
    return 0.0 if k <= 1 else (k - 1) / (k + 1)


def lanczos_rho(W: Matrix, tol: float = 1e-12) -> float:
    """``‖W − 11ᵀ/n‖₂`` by ARPACK's Lanczos bidiagonalisation on the operator (no n × n array)."""
    A = sp.csr_array(W, dtype=np.float64)
    n = A.shape[0]
    if n <= 2:
        return spectral_gap(A.toarray())
    At = A.T.tocsr()
    op = spla.LinearOperator(
        (n, n), dtype=np.float64, matvec=lambda x: A @ x.ravel() - x.mean(), rmatvec=lambda x: At @ x.ravel() - x.mean()
    )
    probe = np.random.default_rng(0).standard_normal(n)
    if np.linalg.norm(op.matvec(probe)) <= 1e-14 * np.linalg.norm(probe):
        return 0.0  # W = 11ᵀ/n (exact averaging): ARPACK cannot start from a zero image
    s = spla.svds(op, k=1, tol=tol, return_singular_vectors=False, random_state=0)
    return float(s[0])


def sparse_rho(W: Matrix) -> float:
    """ρ of a sparse W without densifying: the circulant FFT when W is circulant, else Lanczos."""
    c = circulant_row(W)
    return circulant_rho(c) if c is not None else lanczos_rho(W)


def spectral_gap(W: np.ndarray) -> float:
    """Consensus contraction factor ``ρ = ‖W − 11ᵀ/n‖₂`` (largest singular value).

    This is the quantity the decentralized heavy-tail analyses (e.g. GT-NSGDm) call the mixing rate:
    for doubly stochastic W, ``‖W x − x̄ 1‖ ≤ ρ ‖x − x̄ 1‖`` for every x, and gossip converges
    geometrically iff ``ρ < 1``. For symmetric W it equals the second-largest eigenvalue modulus
    (Xiao & Boyd 2004); for directed doubly stochastic W it is the second singular value. The
    spectral gap in the strict sense is ``1 − ρ``; the library reports ρ under this name because that is
    what the step-size conditions of the papers use. The complete graph with ``W = 11ᵀ/n`` gives 0.
    Cost: an SVD, O(n³), for a dense W; a sparse W goes to :func:`sparse_rho`.
    """
    if sp.issparse(W):
        return sparse_rho(W)
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
