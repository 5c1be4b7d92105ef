"""Registered builders of undirected topologies: ring, complete, torus, star, hypercube, erdos-renyi.

Each builds the graph's adjacency (:mod:`.graphs`) and weights it (:mod:`.weights`; ``"metropolis"`` by
default, which gives a symmetric doubly stochastic W with a positive diagonal). ``n = 1`` gives
``W = [[1.0]]`` for every builder.
"""

from __future__ import annotations

from ..errors import ValidationError
from .base import TOPOLOGIES, Topology
from .graphs import (
    check_nodes,
    complete_adjacency,
    erdos_renyi_adjacency,
    hypercube_adjacency,
    most_square_rows,
    ring_adjacency,
    star_adjacency,
    torus_adjacency,
)
from .spectral import hypercube_rho, torus_rho
from .weights import apply_weighting


@TOPOLOGIES.register("ring")
def ring(n: int, k: int = 1, weights: str = "metropolis") -> Topology:
    """Ring (cycle): node i linked to i ± 1, …, i ± k (mod n).

    ``k`` must satisfy ``1 ≤ k ≤ (n − 1) // 2`` so that all 2k neighbours are distinct; ``k = (n−1)/2``
    (odd n) is the complete graph. Small sizes degrade gracefully: ``n = 1`` gives ``[[1.0]]`` and
    ``n = 2`` gives the single edge (the complete graph on 2 nodes); both accept only ``k = 1``.
    With Metropolis weights each weight is ``1/(2k + 1)``, and ρ = (1 + 2 Σ_{s≤k} cos(2πs/n)) / (2k + 1).
    """
    owner = "topology 'ring'"
    n = check_nodes(n, owner)
    kmax = max(1, (n - 1) // 2)
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= kmax:
        raise ValidationError(
            f"{owner}: k (neighbours on each side) must be an integer in "
            f"[1, {kmax}] for n={n} (1 ≤ k ≤ (n-1)//2 keeps the 2k neighbours "
            f"distinct), got {k!r}"
        )
    W = apply_weighting(ring_adjacency(n, k), weights, owner=owner)
    return Topology("ring", W, directed=False, params={"k": k, "weights": weights})


@TOPOLOGIES.register("complete")
def complete(n: int, weights: str = "metropolis") -> Topology:
    """Complete graph. Both weightings give ``W = 11ᵀ/n`` (exact averaging in one step, ρ = 0)."""
    owner = "topology 'complete'"
    n = check_nodes(n, owner)
    W = apply_weighting(complete_adjacency(n), weights, owner=owner)
    return Topology("complete", W, directed=False, params={"weights": weights}, spectrum=lambda: 0.0)


@TOPOLOGIES.register("torus")
def torus(n: int, rows: int = 0, weights: str = "metropolis") -> Topology:
    """2-D torus ``rows × (n / rows)``, each node linked to its 4 grid neighbours with wraparound.

    ``rows = 0`` picks the most square factorization (largest divisor of n that is ≤ √n; for prime n
    that is 1, i.e. the ring). A side of 2 gives 3 distinct neighbours instead of 4, a side of 1 gives 2.
    """
    owner = "topology 'torus'"
    n = check_nodes(n, owner)
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise ValidationError(f"{owner}: rows must be an integer ≥ 0 (0 = most square), got {rows!r}")
    r = rows or most_square_rows(n)
    if n % r:
        divisors = [d for d in range(1, n + 1) if n % d == 0]
        raise ValidationError(
            f"{owner}: rows={rows} does not divide n={n}; "
            f"valid rows: {', '.join(map(str, divisors))} (or 0 for the most square)"
        )
    W = apply_weighting(torus_adjacency(r, n // r), weights, owner=owner)
    return Topology(
        "torus", W, directed=False, params={"rows": rows, "weights": weights}, spectrum=lambda: torus_rho(r, n // r)
    )


@TOPOLOGIES.register("star")
def star(n: int, weights: str = "metropolis") -> Topology:
    """Star: hub node 0 linked to every other node (Metropolis: hub–leaf weight 1/n)."""
    owner = "topology 'star'"
    n = check_nodes(n, owner)
    W = apply_weighting(star_adjacency(n), weights, owner=owner)
    return Topology("star", W, directed=False, params={"weights": weights})


@TOPOLOGIES.register("hypercube")
def hypercube(n: int, weights: str = "metropolis") -> Topology:
    """Hypercube of dimension ``log2 n`` (n must be a power of 2): links between labels one bit apart."""
    owner = "topology 'hypercube'"
    n = check_nodes(n, owner)
    W = apply_weighting(hypercube_adjacency(n), weights, owner=owner)
    return Topology("hypercube", W, directed=False, params={"weights": weights}, spectrum=lambda: hypercube_rho(n))


@TOPOLOGIES.register("erdos-renyi")
def erdos_renyi(n: int, p: float = 0.3, seed: int = 0, weights: str = "metropolis") -> Topology:
    """Connected Erdős–Rényi graph G(n, p), seeded; redrawn with seed+1, seed+2, … until connected."""
    owner = "topology 'erdos-renyi'"
    n = check_nodes(n, owner)
    A, _ = erdos_renyi_adjacency(n, p, seed)
    W = apply_weighting(A, weights, owner=owner)
    return Topology("erdos-renyi", W, directed=False, params={"p": p, "seed": seed, "weights": weights})
