"""CHOCO-SGD: decentralized SGD with compressed gossip (Koloskova, Stich, Jaggi, ICML 2019, arXiv 1902.00340;
docs/compression.md §4 [V decentralizepy sharing/Choco.py, epfml/ChocoSGD parallel_choco.py]).

Every node keeps a public copy x̂_i (known to its neighbours) and ``s_i = Σ_j w_ij x̂_j``; x̂ = s = 0 at the
start. One step::

    x½_i = x_i − η_t g_i
    q_i  = C(x½_i − x̂_i)                         only q_i's packet travels (comm.mix(·, codec))
    x̂_i ← x̂_i + q_i
    s_i ← s_i + Σ_j w_ij q_j
    x_i ← x½_i + γ (s_i − x̂_i)

With the identity compressor and γ = 1 this is DSGD in ATC form, x⁺ = W(x − ηg). The consensus step
:func:`choco_gossip` preserves the node average when W is doubly stochastic (Σ_i (s_i − x̂_i) = 0), which
is why the compressed GT-NSGDm (:mod:`.gt_nsgdm_choco`) can use it for its tracker. γ is tuned in practice;
the theory value is γ = ρ²δ/(16ρ + ρ² + 4β² + 2ρβ² − 8ρδ) (ρ spectral gap, β = ‖I − W‖₂, δ the compressor's
contraction) [R].
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from ...compression import Compressor
from ...compression.sparse import Identity
from ...schedules import make_lr
from ...validation import check_range
from ..base import ALGORITHMS, Algorithm, Oracle, State


def choco_gossip(
    comm, codec: Any, z_half: torch.Tensor, zhat: torch.Tensor, s: torch.Tensor, gamma: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One CHOCO consensus round: ``(z, ẑ, s)`` after publishing ``q = C(z½ − ẑ)``."""
    diff = z_half - zhat
    flat = diff.reshape(diff.shape[0], -1)
    q = codec.decode(codec.encode(flat), flat).reshape(diff.shape)
    zhat = zhat + q
    s = s + comm.mix(diff, codec=codec)
    return z_half + gamma * (s - zhat), zhat, s


class _Choco(Algorithm):
    compresses: ClassVar[bool] = True

    def __init__(self, gamma: float, compressor: Compressor | None):
        self.gamma = check_range("gamma", gamma, 0.0, 1.0, lo_open=True, owner=self.name)
        self._compressor: Compressor = compressor if compressor is not None else Identity()

    @property
    def compressor(self) -> Compressor:
        return self._compressor


@ALGORITHMS.register("choco-sgd")
class ChocoSGD(_Choco):
    """CHOCO-SGD (Koloskova et al. 2019): SGD step, then compressed gossip of public copies x̂ with step γ."""

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        gamma: float = 1.0,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
        compressor: Compressor | None = None,
    ):
        super().__init__(gamma, compressor)
        self.lr = lr
        self._lr = make_lr(lr, schedule, warmup, steps, self.name)

    def init(self, x0: torch.Tensor, comm) -> State:
        return {"x": x0.clone(), "xhat": torch.zeros_like(x0), "s": torch.zeros_like(x0)}

    def step(self, s: State, grad: Oracle, comm, t: int) -> State:
        x_half = s["x"] - self._lr(t) * grad(s["x"])
        codec = self.compressor.codec(grad.rng, call=0)
        x, xhat, sx = choco_gossip(comm, codec, x_half, s["xhat"], s["s"], self.gamma)
        return {"x": x, "xhat": xhat, "s": sx}
