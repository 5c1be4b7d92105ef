"""Error feedback with a server (docs/compression.md §4, "Gossip and error-feedback methods").

``ef`` — classic error feedback (Seide et al. 2014; Karimireddy et al. 2019, EF-SGD) [R]; per worker i, with
e_i = 0 at the start::

    p_i = η_k g_i + e_i;   Δ_i = C(p_i);   e_i ← p_i − Δ_i;   x ← x − (1/N) Σ_i Δ_i

``ef21`` — EF21 (Richtárik, Sokolov, Fatkhullin, NeurIPS 2021) [V EF21+ code, plain EF21 R]; g_i⁰ = ∇f_i(x⁰)
(sent dense once, at the first step), g = mean_i g_i::

    x ← x − η_k g;   c_i = C(∇f_i(x) − g_i);   g_i ← g_i + c_i;   g ← g + (1/N) Σ_i c_i

Only C's packets travel after the first step. ``rule = "practical"`` uses ‖g‖ (ef21); ef takes the
``schedule`` and ``oracle`` rules (its step multiplies the gradient before compression).

Both papers assume a contracting compressor, E‖C(x) − x‖² ≤ (1 − δ)‖x‖². An unbiased compressor with
variance factor ω ≥ 1 at the problem's dimension (rand-k with k ≤ d/2, Bernoulli with q ≤ ½, unscaled QSGD
at large d) does not contract, and EF/EF21 with it diverge (``|x|`` ~ 1e15 within 60 steps on a quadratic): such a
pair is refused before the run. ``scaled = true`` sends it in the contracting form C/(1+ω) (δ = 1/(1+ω);
:class:`~tailtamer.compression.scaled.Scaled`, the same scaling as QSGD's ``biased`` option).
"""

from __future__ import annotations

from typing import Any

import torch

from ...compression import Compressor
from ...compression.scaled import Scaled
from ...errors import ValidationError
from ..base import ALGORITHMS, Oracle, State
from .base import ServerMethod, roundtrip


class ErrorFeedback(ServerMethod):
    """Base of ``ef`` and ``ef21``: a contracting compressor, or an unbiased one scaled by 1/(1+ω) on request."""

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
        rule: str = "schedule",
        L0: float = 0.0,
        L1: float = 0.0,
        a: float = 1.0,
        b: float = 0.0,
        alpha: float = 1.0,
        scaled: bool = False,
        compressor: Compressor | None = None,
    ):
        if not isinstance(scaled, bool):
            raise ValidationError(f"{self.name}: scaled must be true or false, got {scaled!r}")
        self.scaled = scaled
        if scaled and compressor is not None:
            compressor = Scaled(compressor)
        super().__init__(steps, lr, schedule, warmup, rule, L0, L1, a, b, alpha, compressor)

    def check_dim(self, d: int) -> None:
        c = self._compressor
        omega = c.omega(d) if c.unbiased else None
        if omega is not None and omega >= 1.0:
            raise ValidationError(
                f"{self.name}: compressor '{c.name}' is unbiased with ω = {omega:.4g} ≥ 1 at d = {d}, so it does not "
                f"contract as error feedback needs; set [algorithm] scaled = true to send C/(1+ω) (δ = "
                f"{1 / (1 + omega):.4g}), or use a contracting compressor (top-k, qsgd with biased = true)"
            )


@ALGORITHMS.register("ef")
class EF(ErrorFeedback):
    """Classic error feedback: compress η·g + e, keep the residual e, the server averages the packets."""

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
        rule: str = "schedule",
        L0: float = 0.0,
        L1: float = 0.0,
        scaled: bool = False,
        compressor: Compressor | None = None,
    ):
        if rule == "practical":
            raise ValidationError(
                "ef: the practical rule needs ĝ before the step, and ef compresses η·g; "
                "use rule = 'schedule' or 'oracle'"
            )
        super().__init__(steps, lr, schedule, warmup, rule, L0, L1, scaled=scaled, compressor=compressor)

    def init_server(self, x0: torch.Tensor, comm) -> State:
        return {"x": x0.clone(), "e": torch.zeros_like(x0)}

    def update(self, s: State, grad: Oracle, comm, t: int, compressor: Any) -> State:
        g = grad(s["x"])
        p = self.step_size(t, s["x"], None, grad, comm) * g + s["e"]
        codec = compressor.codec(grad.rng, call=0)
        delta = roundtrip(codec, p)
        return {"x": s["x"] - comm.mean(p, codec=codec), "e": p - delta}


@ALGORITHMS.register("ef21")
class EF21(ErrorFeedback):
    """EF21: each worker tracks its gradient by compressed differences; the server steps along their mean."""

    def init_server(self, x0: torch.Tensor, comm) -> State:
        return {"x": x0.clone(), "gi": torch.zeros_like(x0), "g": torch.zeros_like(x0)}

    def update(self, s: State, grad: Oracle, comm, t: int, compressor: Any) -> State:
        gi, g = s["gi"], s["g"][:1]  # g: the server's estimate, replicated on every row
        if t == 0:  # g_i⁰ = ∇f_i(x⁰), sent dense once
            gi = grad(s["x"])
            g = comm.mean(gi)
        x = s["x"] - self.step_size(t, s["x"], g, grad, comm) * g
        codec = compressor.codec(grad.rng, call=0)
        diff = grad(x) - gi
        c = roundtrip(codec, diff)
        g = g + comm.mean(diff, codec=codec)
        return {"x": x, "gi": gi + c, "g": g.expand_as(x).clone()}
