"""M paths in one stacked tensor ``[M, d]``: the discrete method, and Euler–Maruyama for its SDE.

Both use dt = η and the same step factor s_k (η_k = η·s_k from :class:`~tailtamer.algorithms.server.step_rules.
StepRule`: a schedule, the oracle rule 1/(L0 + L1‖∇f‖) or the practical rule 1/(a + b‖u‖)^α, per path)::

    discrete:  x_{k+1} = x_k − η s_k u_k                    (u_k the method's direction, N workers' draws)
    SDE (EM):  X_{k+1} = X_k + η s_k b(X_k) + η s_k Σ^½(X_k) ξ_k,   ξ_k ~ N(0, I)

(the SDE dX = s b dt + s √η Σ^½ dW with dt = η). In the SDE the practical rule reads ‖b‖, the norm of the
mean direction. A path *blows up* when a coordinate leaves [−1e6, 1e6] or is not finite; it is then frozen
(f = ∞) and counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ..algorithms.server.step_rules import StepRule
from .models import LabMethod

BLOW_UP = 1e6
Fn = Callable[[torch.Tensor], torch.Tensor]
#: Called after each step with the number of steps done (progress).
Tick = Callable[[int], None]


@dataclass
class Paths:
    """f over the paths at the recorded steps: ``f[r, m]`` at step ``steps[r]`` (∞ once blown up)."""

    steps: list[int]
    f: torch.Tensor
    blown: torch.Tensor  # [M] bool, at the end
    x: torch.Tensor  # [M, d] final iterates (NaN when blown up)
    blown_at: list[float] = field(default_factory=list)  # fraction blown up at each recorded step

    def quantiles(self, qs: tuple[float, ...]) -> torch.Tensor:
        """``[len(qs), R]`` quantiles of f over the paths (∞ counts as the largest value)."""
        f = torch.nan_to_num(self.f, nan=torch.inf, posinf=torch.inf)
        return torch.quantile(f, torch.tensor(qs, dtype=f.dtype), dim=1)

    def mean(self) -> torch.Tensor:
        """``[R]`` mean of f over the paths that have not blown up (NaN where every path has)."""
        ok = torch.isfinite(self.f)
        total = torch.where(ok, self.f, torch.zeros_like(self.f)).sum(1)
        return torch.where(ok.any(1), total / ok.sum(1).clamp_min(1), torch.full_like(total, torch.nan))


def _record_steps(steps: int, record: int) -> list[int]:
    return sorted(set(np.linspace(0, steps, min(record, steps) + 1).round().astype(int).tolist()))


def _run(
    update: Callable[[torch.Tensor, int], torch.Tensor],
    f: Fn,
    x0: torch.Tensor,
    steps: int,
    record: int,
    tick: Tick | None = None,
) -> Paths:
    at = _record_steps(steps, record)
    x = x0.clone()
    blown = torch.zeros(x.shape[0], dtype=torch.bool)
    rows, fracs = [], []
    for k in range(steps + 1):
        if k == at[len(rows)]:
            rows.append(torch.where(blown, torch.full_like(x[:, 0], torch.inf), f(x)))
            fracs.append(float(blown.double().mean()))
        if k == steps:
            break
        live = ~blown
        if not bool(live.any()):
            rows += [rows[-1]] * (len(at) - len(rows))
            fracs += [1.0] * (len(at) - len(fracs))
            break
        x_new = update(x, k)
        bad = ~torch.isfinite(x_new).all(1) | (x_new.abs() > BLOW_UP).any(1)
        blown = blown | bad
        x = torch.where(blown.unsqueeze(1), torch.full_like(x, torch.nan), x_new)
        if tick is not None:
            tick(k + 1)
    return Paths(at, torch.stack(rows), blown, x, fracs)


def discrete_paths(
    method: LabMethod,
    grad: Fn,
    f: Fn,
    rule: StepRule,
    eta_scale: float,
    x0: torch.Tensor,
    steps: int,
    seed: int,
    record: int = 100,
    tick: Tick | None = None,
) -> Paths:
    """M paths (the rows of ``x0``) of the discrete method; ``rule`` gives η_k (its ``lr`` is η)."""
    gen = np.random.default_rng(seed)

    def update(x: torch.Tensor, k: int) -> torch.Tensor:
        g = grad(x)
        u = method.direction(g, gen)
        norm = g.norm(dim=1) if rule.needs_exact_gradient else u.norm(dim=1)
        return x - rule.per_path(k, norm).unsqueeze(1) * u

    return _run(update, f, x0, steps, record, tick)


def sde_paths(
    method: LabMethod,
    grad: Fn,
    f: Fn,
    rule: StepRule,
    eta: float,
    x0: torch.Tensor,
    steps: int,
    seed: int,
    record: int = 100,
    tick: Tick | None = None,
) -> Paths:
    """M Euler–Maruyama paths of the method's SDE with dt = η (``rule``'s lr is η: η s_k = rule(k))."""
    gen = torch.Generator().manual_seed(seed)

    def update(x: torch.Tensor, k: int) -> torch.Tensor:
        g = grad(x)
        b, root = method.drift_diffusion(g)
        norm = g.norm(dim=1) if rule.needs_exact_gradient else b.norm(dim=1)
        step = rule.per_path(k, norm).unsqueeze(1)  # η s_k
        xi = torch.randn(x.shape, generator=gen, dtype=x.dtype)
        return x + step * b + step * root * xi

    return _run(update, f, x0, steps, record, tick)
