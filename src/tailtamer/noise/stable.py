"""α-stable noise by the Chambers–Mallows–Stuck method.

Chambers, Mallows, Stuck 1976, *A method for simulating stable random variables*, JASA 71:340–344;
the α ≠ 1 form below is Weron 1996, *On the Chambers–Mallows–Stuck method for simulating skewed stable
random variables*, Stat. Probab. Lett. 28:165–171. With V ~ U(−π/2, π/2), W ~ Exp(1), t = β·tan(πα/2),
B = arctan(t)/α and S = (1 + t²)^(1/(2α)),

    X = S · sin(α(V + B)) / cos(V)^(1/α) · (cos(V − α(V + B)) / W)^((1 − α)/α)

is S_α(1, β, 0) in the S1 parametrisation (Samorodnitsky & Taqqu 1994), the default of
``scipy.stats.levy_stable`` (``levy_stable.parameterization == "S1"``). For α > 1 the mean of an S1 law is
its location, so ξ = scale·X has mean exactly 0 for every skew β (in S0 the mean would be
−β·scale·tan(πα/2), e.g. +0.5·scale for α = 1.5, β = 0.5). α = 2 gives N(0, 2·scale²) for any β.

Precision and speed. Every dtype gets the float64 draw rounded once: a float32 run's draws are exactly the
float64 run's draws rounded to float32, as before, so no guarantee of
:meth:`NoiseModel.sample <tailtamer.noise.base.NoiseModel.sample>` changes (same 53-bit uniforms, same law,
layout- and process-independent values, and a float32 value within ½ ulp of the float64 one). A float32
transform was measured and not adopted: on CPU the sampler is bound by the number of element-wise passes over
each cache-sized block (about 45: 24 for the two counter-based uniform streams, 21 for the transform), not by
the transcendentals, and keeping the float32 transform accurate near the tails (cos V → 0, W → 0, the zero of
sin(α(V + B))) needs float64 argument reductions that cost as many passes as they save (measured no faster at
n = 32 × 1,000, while losing the ½-ulp guarantee). The speed comes instead from the blocks being filled by the
intra-op threads the run was given when the machine has idle cores for them
(:func:`tailtamer.noise._draws.fill_rows`: the same values bit for bit, whatever the thread count), from the
last multiplication writing the output block directly, from one pass fewer per uniform stream
(:mod:`tailtamer.rng`), and, for draws of at least :data:`tailtamer.noise.fused.MIN_ENTRIES` entries (2²², e.g.
n = 10⁴ nodes × d = 10³), from :mod:`tailtamer.noise.fused`: the uniform streams and the transform's
arithmetic run as four compiled loops (torch.compile's C++ backend) around torch's own transcendentals, the
same numbers bit for bit in every dtype, so every guarantee above holds unchanged (about 13 ns per draw
instead of 24 at n = 10⁴, d = 10³ on one thread, 6.5–9 ns on two, where the blocks are 2¹⁸ entries filled one
after another with each loop split over both threads; compiled once per process, block shape and thread
count, about 5–15 s;
``TAILTAMER_FUSED=0`` turns it off; without a working compiler the eager path runs, logged once). A
distributed process hosting fewer rows may take the eager path where the simulator takes the compiled one:
both give the same bits, so the simulator and distributed runs still draw identical numbers.
"""

from __future__ import annotations

import math
from typing import Any

import scipy.stats
import torch

from ..errors import ValidationError
from ..validation import check_range
from . import _draws, fused
from .base import BLOCK, NOISES, NoiseModel, check_finite_positive, moments_from_tail


@NOISES.register("alpha-stable")
class AlphaStableNoise(NoiseModel):
    """Zero-mean α-stable noise ξ = scale · S_α(1, β, 0) (S1), by Chambers–Mallows–Stuck.

    Args:
        alpha: stability index in (1, 2]; α ≤ 1 is rejected because the law then has no mean, so
            "zero-mean noise" is meaningless (use ``cauchy`` for an α = 1 stress test).
        skew: skewness β in [−1, 1] (β = 0.5 with α = 1.5 in the GT-NSGDm experiments).
        scale: scale σ > 0 (α = 2: variance 2σ²).
    """

    name = "alpha-stable"
    draws_from_row_keys = True

    def __init__(self, alpha: float = 1.5, skew: float = 0.0, scale: float = 1.0) -> None:
        try:
            self.alpha = check_range("alpha", alpha, 1.0, 2.0, lo_open=True, owner=self.name)
        except ValidationError as err:
            raise ValidationError(f"{err} (α ≤ 1 has no mean, so the noise cannot be zero-mean)") from None
        self.skew = check_range("skew", skew, -1.0, 1.0, owner=self.name)
        self.scale = check_finite_positive("scale", scale, owner=self.name)

    def standard(self, seed: int, nodes: torch.Tensor, step: int, d: int, call: int = 0) -> torch.Tensor:
        return self._cms(seed, nodes, step, d, call, scale=1.0)

    def _constants(self) -> tuple[float, float, float]:
        """(α, B, S) of the transform."""
        a = self.alpha
        t = 0.0 if a == 2.0 else self.skew * math.tan(math.pi * a / 2.0)
        return a, math.atan(t) / a, (1.0 + t * t) ** (1.0 / (2.0 * a))

    def _cms(
        self,
        seed: int,
        nodes: torch.Tensor,
        step: int,
        d: int,
        call: int,
        scale: float,
        out: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``scale`` · the standard draws; with ``out`` (any float dtype) the last multiplication writes there,
        rounding the float64 product once: the same numbers as ``standard(...) * scale`` cast afterwards,
        without a float64 block to copy."""
        a, b, s = self._constants()
        v = _draws.uniform(seed, 0, nodes, step, d, call).sub_(0.5).mul_(math.pi)  # V ~ U(−π/2, π/2)
        log_u = _draws.uniform(seed, 1, nodes, step, d, call).log_()  # W = −log U ~ Exp(1)
        avb = (v + b).mul_(a)  # α(V + B)
        # log of cos(V − α(V+B))^((1−α)/α) / W^((1−α)/α) / cos(V)^(1/α): the two powers as one exp of logs,
        # because torch's vectorised pow differs from its scalar tail loop in the last bit, which would
        # make a node's draws depend on its position in the tensor. cos(V − α(V+B)) > 0 in exact
        # arithmetic; abs() also guards rounding at the edge when |β| = 1. In place to save allocations.
        log_term = (v - avb).cos_().div_(log_u).abs_().log_().mul_((1.0 - a) / a)
        log_term.sub_(v.cos_().log_().div_(a))
        e: torch.Tensor | float
        z, e = avb.sin_().mul_(s), log_term.exp_()
        if scale != 1.0:
            z, e = z.mul_(e), scale
        return z.mul_(e) if out is None else torch.mul(z, e, out=out)

    def sample(
        self, seed: int, nodes: torch.Tensor, step: int, d: int, call: int = 0, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        """Draws ``[len(nodes), d]`` in ``dtype``, in row blocks of at most :data:`~tailtamer.noise.base.BLOCK`
        entries filled by the run's threads (:func:`tailtamer.noise._draws.fill_rows`); the values are those of
        :meth:`NoiseModel.sample <tailtamer.noise.base.NoiseModel.sample>` bit for bit."""
        nodes = torch.as_tensor(nodes, dtype=torch.int64).reshape(-1)
        plan, block, inner = None, BLOCK, 1
        if d <= BLOCK and fused.enabled(len(nodes) * d) and nodes.device.type == "cpu":
            inner = _draws.spare_threads()  # T > 1: one block at a time, each compiled loop split T ways
            block = BLOCK if inner == 1 else fused.PARALLEL_BLOCK
            plan = fused.Plan(
                seed,
                (_draws.sub_stream(0), _draws.sub_stream(1)),
                nodes,
                step,
                d,
                call,
                self._constants() + (self.scale,),
                max(1, block // d),
                inner,
            )

        def fill(ids: torch.Tensor, out: torch.Tensor) -> None:
            # ids is the view nodes[r0 : r0 + len(ids)] that fill_rows hands out
            r0 = (ids.data_ptr() - nodes.data_ptr()) // nodes.element_size()
            if plan is None or not plan.block(r0, ids, out):
                self._cms(seed, ids, step, d, call, self.scale, out=out)

        return _draws.fill_rows(nodes, d, dtype, block, fill, inner_threads=inner)

    def moments(self) -> dict[str, Any]:
        if self.alpha == 2.0:
            return {"mean": True, "variance": True, "max_moment": math.inf}
        return moments_from_tail(self.alpha)

    def scipy(self) -> Any:
        """``scipy.stats.levy_stable`` with the same law.

        Uses location 0 under scipy's default S1 parametrisation. If ``levy_stable.parameterization`` is
        ``"S0"`` when this is called, the location is shifted to β·scale·tan(πα/2) so the law is still the
        zero-mean one sampled here; scipy reads the setting when the frozen object is *evaluated*, so keep
        it unchanged in between. (Under S0 scipy's ``mean()`` reports ``loc``; its ``cdf``/``pdf`` are right.)
        """
        loc = 0.0
        if scipy.stats.levy_stable.parameterization == "S0" and self.alpha != 2.0:
            loc = self.skew * self.scale * math.tan(math.pi * self.alpha / 2.0)
        return scipy.stats.levy_stable(self.alpha, self.skew, loc=loc, scale=self.scale)
