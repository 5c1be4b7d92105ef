"""Student-t noise by Bailey's polar method (Bailey 1994, *Polar generation of random variates with the
t-distribution*, Math. Comp. 62(206):779–781).

With U, V uniform on (−1, 1) and W = U² + V² accepted when W < 1, T = U·sqrt(ν(W^(−2/ν) − 1)/W) is
t-distributed with ν degrees of freedom, exactly. The rejection step (acceptance π/4) is vectorised:
round r draws from sub-streams 2r and 2r + 1 and only the entries rejected so far are redrawn (with
:func:`~tailtamer.noise._draws.uniform_at_rounds`, :data:`ROUNDS_AT_ONCE` rounds in one pass; each entry
takes its first accepted round), so each entry's value depends on its own (seed, node, step, call,
coordinate) alone.
"""

from __future__ import annotations

from typing import Any

import scipy.stats
import torch

from . import _draws
from .base import NOISES, NoiseModel, check_finite_positive, check_has_mean, moments_from_tail

#: Rounds after which the rejection loop gives up (each entry survives a round with probability 1 − π/4,
#: so 200 rounds are never needed: (0.215)^200 ≈ 1e-133).
MAX_ROUNDS = 200

#: Rounds of proposals drawn at once for the entries still rejected (one vectorised draw: an entry still
#: rejected after all of them has probability (1 − π/4)^6 ≈ 1e-4, and takes the next batch of rounds).
ROUNDS_AT_ONCE = 6


def bailey(u: torch.Tensor, w: torch.Tensor, df: float) -> torch.Tensor:
    """Bailey's transform of an accepted polar pair: ``u·sqrt(ν(w^(−2/ν) − 1)/w)`` (expm1 for accuracy)."""
    return u * torch.sqrt(df * torch.expm1(torch.log(w) * (-2.0 / df)) / w)


@NOISES.register("student-t")
class StudentTNoise(NoiseModel):
    """Student-t noise ξ = scale · T_ν (``E|ξ|^q < ∞`` iff q < ν; infinite variance for ν ≤ 2).

    Args:
        df: degrees of freedom ν > 1 (ν ≤ 1 has no mean and is refused unless ``allow_no_mean``). Very
            small ν (≲ 0.05) overflows float64 to ±inf in a visible fraction of draws, as the true values
            exceed 1e308.
        scale: scale > 0.
        allow_no_mean: accept 0 < ν ≤ 1 (a law without a mean, for stress tests, like ``cauchy``).
    """

    name = "student-t"
    draws_from_row_keys = True

    def __init__(self, df: float = 1.5, scale: float = 1.0, allow_no_mean: bool = False) -> None:
        self.df = check_has_mean("df", check_finite_positive("df", df, owner=self.name), self.name, allow_no_mean)
        self.scale = check_finite_positive("scale", scale, owner=self.name)
        self.allow_no_mean = bool(allow_no_mean)

    def standard(self, seed: int, nodes: torch.Tensor, step: int, d: int, call: int = 0) -> torch.Tensor:
        u = _draws.uniform(seed, 0, nodes, step, d, call).mul_(2.0).sub_(1.0)
        v = _draws.uniform(seed, 1, nodes, step, d, call).mul_(2.0).sub_(1.0)
        w = u * u + v * v
        ok = w < 1.0
        out = torch.where(ok, bailey(u, torch.where(ok, w, 0.5), self.df), 0.0)
        rows, cols = torch.nonzero(~ok, as_tuple=True)
        r = 1
        while rows.numel():
            if r >= MAX_ROUNDS:
                raise RuntimeError("student-t: polar rejection did not terminate")  # pragma: no cover
            k = min(ROUNDS_AT_ONCE, MAX_ROUNDS - r)
            uv = _draws.uniform_at_rounds(seed, range(2 * r, 2 * (r + k)), nodes[rows], cols, step, call)
            u, v = uv[0::2].mul_(2.0).sub_(1.0), uv[1::2].mul_(2.0).sub_(1.0)  # [k, m]: rounds r … r+k−1
            ok = (u * u + v * v) < 1.0
            hit = ok.any(0)
            first = _draws.first_accepted(ok)[hit]  # each entry's first accepted round
            at = torch.nonzero(hit).reshape(-1)
            uu, vv = u[first, at], v[first, at]
            out[rows[hit], cols[hit]] = bailey(uu, uu * uu + vv * vv, self.df)
            rows, cols = rows[~hit], cols[~hit]
            r += k
        return out

    def moments(self) -> dict[str, Any]:
        return moments_from_tail(self.df)

    def scipy(self) -> Any:
        return scipy.stats.t(df=self.df, loc=0.0, scale=self.scale)
