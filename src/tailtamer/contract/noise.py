"""The contract of a noise model (docs/extending.md §noise): pure in (seed, stream, node, step, call), draw-ahead
equal to one step at a time (for a model that declares ``draws_from_row_keys``), the dtype honoured, and its
stated law checked by Monte Carlo."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..engine.noise_ahead import NoiseAhead, row_keyed
from ..engine.stacked.oracle import StackedSeeds
from ..noise import NOISES
from .result import Property, Skip
from .subject import Subject

N, D, DRAWS = 6, 5, 40_000


def subject(name: str, params: dict[str, Any]) -> Subject:
    """The noise component ``name`` with ``params``."""
    return Subject(NOISES, name, params, "noise", {})


def _draw(
    s: Subject, seed: int = 3, nodes: Any = None, step: int = 2, call: int = 0, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    nodes = torch.arange(N) if nodes is None else nodes
    return s.build().sample(seed, nodes, step, D, call, dtype=dtype)


def purity(s: Subject) -> str:
    base = _draw(s)
    assert tuple(base.shape) == (N, D), f"sample returned shape {tuple(base.shape)} for {N} nodes, d = {D}"
    assert torch.equal(base, _draw(s)), "two fresh instances drew different numbers for the same arguments"
    model = s.build()
    first = model.sample(3, torch.arange(N), 2, D, 0)
    model.sample(3, torch.arange(N), 9, D, 1)
    assert torch.equal(first, model.sample(3, torch.arange(N), 2, D, 0)), (
        "a repeated draw changed after other draws (the model keeps state)"
    )
    sub = torch.tensor([4, 1])
    assert torch.equal(_draw(s, nodes=sub), base[sub]), "draws for nodes [4, 1] differ from those rows of all nodes"
    if torch.count_nonzero(base) == 0:
        return "deterministic (zero) draws"
    for what, other in (("seed", _draw(s, seed=4)), ("step", _draw(s, step=3)), ("call", _draw(s, call=1))):
        assert not torch.equal(other, base), f"changing the {what} did not change the draws"
    return "same numbers for the same (seed, node, step, call), rows independent of the others"


def draw_ahead(s: Subject) -> str:
    noise = s.build()
    if not row_keyed(noise):
        raise Skip("does not declare draws_from_row_keys: the engine calls it one step at a time")
    seeds, steps = [5, 9], 5
    stacked = StackedSeeds(seeds, N)
    ahead = NoiseAhead(noise, stacked, torch.arange(len(seeds) * N), stacked)
    for t in [*range(steps), 1]:
        for call in (0, 1):
            got = ahead.draw(t, call, D, torch.float64)
            for r, seed in enumerate(seeds):
                want = s.build().sample(seed, torch.arange(N), t, D, call)
                assert torch.equal(got[r * N : (r + 1) * N], want), (
                    f"member {r} at step {t}, call {call}: a multi-step draw differs from its one-step draw"
                )
    return f"{steps} steps × {len(seeds)} members drawn at once equal one step at a time, bit for bit"


def dtype(s: Subject) -> str:
    for dt in (torch.float32, torch.float64):
        xi = _draw(s, dtype=dt)
        assert xi.dtype == dt, f"asked for {dt}, sample returned {xi.dtype}"
        assert bool(torch.isfinite(xi).all()), f"non-finite draws in {dt}"
    return "float32 and float64 returned as asked, finite"


def moments(s: Subject) -> str:
    noise = s.build()
    xi = noise.sample(11, torch.arange(DRAWS // 10), 0, 10).reshape(-1).numpy()
    try:
        law = noise.scipy()
    except NotImplementedError:
        law = None
    if law is not None:
        probs = np.linspace(0.1, 0.9, 9)
        emp = np.quantile(xi, probs)
        cdf = np.asarray(law.cdf(emp), dtype=np.float64)
        se = np.sqrt(probs * (1 - probs) / xi.size)
        worst = int(np.argmax(np.abs(cdf - probs) / se))
        assert np.all(np.abs(cdf - probs) <= 6 * se + 1e-3), (
            f"the draws do not follow the stated law: its CDF at the empirical {probs[worst]:.1f}-quantile "
            f"is {cdf[worst]:.4f}"
        )
        return f"{xi.size} draws: the stated law's CDF at the empirical deciles within 6 standard errors"
    try:
        stated = noise.moments()
    except NotImplementedError:
        raise Skip("states neither a scipy law nor its moments") from None
    if not stated.get("mean"):
        raise Skip("states no mean: nothing to check by Monte Carlo")
    if not np.any(xi):
        return "zero draws: mean 0"
    se = float(np.std(xi)) / math.sqrt(xi.size)
    if stated.get("variance"):
        assert abs(float(np.mean(xi))) < 6 * se, f"mean {np.mean(xi):.3g} is not 0 (standard error {se:.2g})"
        return f"mean 0 within 6 standard errors over {DRAWS} draws"
    med = float(np.median(xi))
    assert abs(med) < 0.05 * float(np.quantile(np.abs(xi), 0.9)), f"median {med:.3g} is far from 0"
    return f"median ≈ 0 over {DRAWS} draws (no variance stated: mean not tested)"


PROPERTIES: dict[str, Property] = {"purity": purity, "draw-ahead": draw_ahead, "dtype": dtype, "moments": moments}
