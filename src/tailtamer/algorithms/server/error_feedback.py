"""Error feedback with a server (docs/compression.md §4, "Gossip and error-feedback methods").

``ef`` — classic error feedback (Seide et al. 2014; Karimireddy et al. 2019, EF-SGD) [R]; per worker i, with
e_i = 0 at the start::

    p_i = η_k g_i + e_i;   Δ_i = C(p_i);   e_i ← p_i − Δ_i;   x ← x − (1/N) Σ_i Δ_i

``ef21`` — EF21 (Richtárik, Sokolov, Fatkhullin, NeurIPS 2021) [V EF21+ code, plain EF21 R]; g_i⁰ = ∇f_i(x⁰)
(sent dense once, at the first step), g = mean_i g_i::

    x ← x − η_k g;   c_i = C(∇f_i(x) − g_i);   g_i ← g_i + c_i;   g ← g + (1/N) Σ_i c_i

Only C's packets travel after the first step. ``rule = "practical"`` uses ‖g‖ (ef21); ef takes the
``schedule`` and ``oracle`` rules (its step multiplies the gradient before compression).
"""
from __future__ import annotations

from typing import Any

import torch

from ...compression import Compressor
from ...errors import ValidationError
from ..base import ALGORITHMS, Oracle, State
from .base import ServerMethod, roundtrip


@ALGORITHMS.register("ef")
class EF(ServerMethod):
    """Classic error feedback: compress η·g + e, keep the residual e, the server averages the packets."""

    def __init__(self, steps: int, lr: float = 0.01, schedule: str | dict[str, Any] = "constant", warmup: int = 0,
                 rule: str = "schedule", L0: float = 0.0, L1: float = 0.0, compressor: Compressor | None = None):
        if rule == "practical":
            raise ValidationError("ef: the practical rule needs ĝ before the step, and ef compresses η·g; "
                                  "use rule = 'schedule' or 'oracle'")
        super().__init__(steps, lr, schedule, warmup, rule, L0, L1, 1.0, 0.0, 1.0, compressor)

    def init_server(self, x0: torch.Tensor, comm) -> State:
        return {"x": x0.clone(), "e": torch.zeros_like(x0)}

    def update(self, s: State, grad: Oracle, comm, t: int, compressor: Any) -> State:
        g = grad(s["x"])
        p = self.step_size(t, s["x"], None, grad, comm) * g + s["e"]
        codec = compressor.codec(grad.rng, call=0)
        delta = roundtrip(codec, p)
        return {"x": s["x"] - comm.mean(p, codec=codec), "e": p - delta}


@ALGORITHMS.register("ef21")
class EF21(ServerMethod):
    """EF21: each worker tracks its gradient by compressed differences; the server steps along their mean."""

    def init_server(self, x0: torch.Tensor, comm) -> State:
        return {"x": x0.clone(), "gi": torch.zeros_like(x0), "g": torch.zeros_like(x0)}

    def update(self, s: State, grad: Oracle, comm, t: int, compressor: Any) -> State:
        gi, g = s["gi"], s["g"][:1]                  # g: the server's estimate, replicated on every row
        if t == 0:                                   # g_i⁰ = ∇f_i(x⁰), sent dense once
            gi = grad(s["x"])
            g = comm.mean(gi)
        x = s["x"] - self.step_size(t, s["x"], g, grad, comm) * g
        codec = compressor.codec(grad.rng, call=0)
        diff = grad(x) - gi
        c = roundtrip(codec, diff)
        g = g + comm.mean(diff, codec=codec)
        return {"x": x, "gi": gi + c, "g": g.expand_as(x).clone()}
