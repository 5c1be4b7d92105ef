"""Client sampling: which clients take part in round t, as a pure function of ``(seed, t)``.

Every node id ``0..n−1`` gets a uniform draw from the counter-based generator (stream ``"clients"``, step t);
the ``m`` smallest draws are the sampled clients. Every process of a torch.distributed run evaluates the same
draws for all n ids, so all agree on the sample without communicating, and a resumed run samples what the
uninterrupted run sampled.

``clients`` (the algorithm parameter) is either a **float in (0, 1]** — the fraction of the n clients, rounded
half up, at least one — or an **int ≥ 1** — the count. TOML keeps the distinction: ``clients = 0.5`` is half,
``clients = 1.0`` all of them, ``clients = 1`` a single client.

Example:
    >>> sample_clients(seed=0, t=3, n=10, m=4).tolist() == sample_clients(0, 3, 10, 4).tolist()
    True
    >>> r = rng.Randomness(seed=0, nodes=torch.arange(10), step=3)
    >>> client_mask(r, 10, 4).nonzero()[:, 0].tolist() == sample_clients(0, 3, 10, 4).tolist()
    True
    >>> client_count(0.25, 10), client_count(3, 10), client_count(1.0, 10)
    (3, 3, 10)
"""

from __future__ import annotations

import math

import torch

from ... import rng
from ...comm.base import Comm
from ...errors import ValidationError

STREAM = "clients"


def check_clients(clients: object, owner: str) -> float | int:
    """Validate the ``clients`` parameter (see module docstring); returns it unchanged."""
    if isinstance(clients, bool) or not isinstance(clients, (int, float)) or clients != clients:
        raise ValidationError(
            f"{owner}: clients must be a fraction in (0, 1] (float) or a count ≥ 1 (int), got {clients!r}"
        )
    if isinstance(clients, int):
        if clients < 1:
            raise ValidationError(f"{owner}: clients (a count) must be ≥ 1, got {clients}")
    elif not 0.0 < clients <= 1.0:
        raise ValidationError(
            f"{owner}: clients (a fraction) must be in (0, 1], got {clients:g}; write an integer for a count"
        )
    return clients


def client_count(clients: float | int, n: int, owner: str = "") -> int:
    """The number m of clients sampled per round out of n."""
    if isinstance(clients, int):
        if clients > n:
            raise ValidationError(
                f"{owner + ': ' if owner else ''}clients = {clients} exceeds the number of clients n = {n}"
            )
        return clients
    return max(1, min(n, math.floor(clients * n + 0.5)))


def sample_clients(seed: int, t: int, n: int, m: int) -> torch.Tensor:
    """The sorted global ids of the m clients of round t (all n when m = n)."""
    return sampled_ids(rng.Randomness(seed, torch.arange(n), t), n, m)


def sampled_ids(r: rng.Randomness, n: int, m: int) -> torch.Tensor:
    """The sorted global ids of the m clients sampled with the step's randomness ``r`` (stream ``"clients"``:
    one uniform per id ``0..n−1``, the m smallest win)."""
    if m >= n:
        return torch.arange(n)
    u = r.uniform_per_id(STREAM, n)[0]
    return torch.sort(torch.argsort(u, stable=True)[:m]).values


def client_mask(r: rng.Randomness, n: int, m: int) -> torch.Tensor:
    """Boolean mask over the local rows ``r.nodes`` (global ids): True where the client is sampled this round
    (the m smallest of :meth:`~tailtamer.rng.Randomness.uniform_per_id`, as :func:`sampled_ids`; per member in
    a stacked run)."""
    u = r.uniform_per_id(STREAM, n)  # [runs, n]
    chosen = torch.argsort(u, dim=1, stable=True)[:, :m]
    full = torch.zeros(u.shape, dtype=torch.bool).scatter_(1, chosen, True)
    return r.at_rows(full)


def row_mask(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``mask`` (one entry per row) shaped to broadcast against ``like`` (``[n_local, ...]``)."""
    return mask.reshape((-1,) + (1,) * (like.dim() - 1))


def masked_mean(comm: Comm, z: torch.Tensor, mask: torch.Tensor | None, m: int) -> torch.Tensor:
    """The mean of ``z`` over the m sampled rows of all n (``comm.mean`` of the masked rows, rescaled n/m);
    the plain ``comm.mean`` when every row takes part (``mask`` None)."""
    if mask is None:
        return comm.mean(z)
    return comm.mean(torch.where(row_mask(mask, z), z, torch.zeros_like(z))) * (comm.n / m)
