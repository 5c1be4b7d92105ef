"""Adaptive transforms: Adam, AdamW, RMSProp, Adagrad, and their server (outer) forms.

The formulas are :mod:`tailtamer.operators.adaptive` (the ``torch.optim`` forms: Kingma & Ba 2015; Loshchilov &
Hutter 2019; Tieleman & Hinton 2012; Duchi, Hazan, Singer 2011). The outer forms are the server optimizers of
adaptive federated optimization (Reddi et al., *Adaptive Federated Optimization*, ICLR 2021, arXiv 2003.00295)
as used by TailOPT (Lee, Zaheer, Li, ICML 2025, arXiv 2502.04164): server defaults — ``eps`` is the adaptivity
τ of Reddi et al., 1e-3, and β₂ = 0.99. The outer Adam is FedAdam as Reddi et al. write it (Alg. 2: no bias
correction, second moment started at τ²), the form the TailOPT framework builds its adaptive outer
optimizers on; ``form = "torch"`` is torch.optim.Adam's bias-corrected form (v₀ = 0), the default before
issue 29.

Example:
    >>> import torch
    >>> T = Adam(eps=1e-12)
    >>> g = torch.tensor([[2.0, -1.0]], dtype=torch.float64)
    >>> d, st = T.update(g, T.init(g), k=1)
    >>> [round(v, 9) for v in d[0].tolist()], sorted(st)     # the first Adam step is (nearly) the sign
    ([1.0, -1.0], ['m', 'v'])
"""

from __future__ import annotations

import torch

from ...validation import check_choice
from ..adaptive import adagrad_moment, adam_direction, adam_moments, rmsprop_moment, scaled_direction
from ..transform import TRANSFORMS, Transform
from .checks import Checks


@TRANSFORMS.register("adam")
class Adam(Transform):
    """Adam (torch.optim.Adam: bias-corrected, eps outside the square root)"""

    buffers = ("m", "v")
    counted = True

    def __init__(
        self, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, *, owner: str = "", prefix: str = ""
    ):
        c = Checks(owner or self.name, prefix)
        self.beta1, self.beta2, self.eps = c.beta("beta1", beta1), c.beta("beta2", beta2), c.positive("eps", eps)

    def update(self, g, state, *, t=0, k=1, x=None):
        m, v = adam_moments(state["m"], state["v"], g, self.beta1, self.beta2)
        return adam_direction(m, v, k, self.beta1, self.beta2, self.eps), {"m": m, "v": v}


@TRANSFORMS.register("adamw")
class AdamW(Adam):
    """AdamW (Adam with decoupled weight decay, torch.optim.AdamW): the Adam direction plus weight_decay·x"""

    def __init__(
        self,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        *,
        owner: str = "",
        prefix: str = "",
    ):
        super().__init__(beta1, beta2, eps, owner=owner, prefix=prefix)
        self.weight_decay = Checks(owner or self.name, prefix).nonneg("weight_decay", weight_decay)

    def update(self, g, state, *, t=0, k=1, x=None):
        d, state = super().update(g, state, t=t, k=k, x=x)
        return d + self.weight_decay * x, state


@TRANSFORMS.register("rmsprop")
class RMSProp(Transform):
    """RMSProp (torch.optim.RMSprop with alpha = beta2)"""

    buffers = ("v",)

    def __init__(self, beta2: float = 0.99, eps: float = 1e-8, *, owner: str = "", prefix: str = ""):
        c = Checks(owner or self.name, prefix)
        self.beta2, self.eps = c.beta("beta2", beta2), c.positive("eps", eps)

    def update(self, g, state, *, t=0, k=1, x=None):
        v = rmsprop_moment(state["v"], g, self.beta2)
        return scaled_direction(g, v, self.eps), {"v": v}


@TRANSFORMS.register("adagrad")
class Adagrad(Transform):
    """Adagrad (torch.optim.Adagrad, zero initial accumulator)"""

    buffers = ("v",)

    def __init__(self, eps: float = 1e-10, *, owner: str = "", prefix: str = ""):
        self.eps = Checks(owner or self.name, prefix).positive("eps", eps)

    def update(self, g, state, *, t=0, k=1, x=None):
        v = adagrad_moment(state["v"], g)
        return scaled_direction(g, v, self.eps), {"v": v}


#: Forms of the outer Adam: Reddi et al.'s FedAdam (the default) and torch.optim.Adam's.
OUTER_ADAM_FORMS = ("fedopt", "torch")


@TRANSFORMS.register("outer-adam")
class OuterAdam(Adam):
    """Adam on the pseudo-gradient (FedAdam, Reddi et al. 2021 Alg. 2; eps = adaptivity τ)

    ``form = "fedopt"`` (default): ``m ← β₁m + (1−β₁)Δ``, ``v ← β₂v + (1−β₂)Δ²`` from ``m₋₁ = 0``,
    ``v₋₁ = τ²``, direction ``m/(√v + τ)``, no bias correction. ``form = "torch"``: torch.optim.Adam
    (bias-corrected, ``v₀ = 0``, ε after the correction).
    """

    def __init__(
        self,
        beta1: float = 0.9,
        beta2: float = 0.99,
        eps: float = 1e-3,
        form: str = "fedopt",
        *,
        owner: str = "",
        prefix: str = "",
    ):
        super().__init__(beta1, beta2, eps, owner=owner, prefix=prefix)
        c = Checks(owner or self.name, prefix)
        self.form = check_choice(c.key("form"), form, OUTER_ADAM_FORMS, c.owner)

    def init(self, like: torch.Tensor) -> dict[str, torch.Tensor]:
        state = super().init(like)
        if self.form == "fedopt":
            state["v"] = torch.zeros_like(like) + self.eps**2  # v₋₁ = τ² (τ may be per-member rows)
        return state

    def update(self, g, state, *, t=0, k=1, x=None):
        if self.form == "torch":
            return super().update(g, state, t=t, k=k, x=x)
        m, v = adam_moments(state["m"], state["v"], g, self.beta1, self.beta2)
        return scaled_direction(m, v, self.eps), {"m": m, "v": v}


@TRANSFORMS.register("outer-rmsprop")
class OuterRMSProp(RMSProp):
    """RMSProp on the pseudo-gradient (FedRMSProp-style; eps = adaptivity)"""

    def __init__(self, beta2: float = 0.99, eps: float = 1e-3, *, owner: str = "", prefix: str = ""):
        super().__init__(beta2, eps, owner=owner, prefix=prefix)


@TRANSFORMS.register("outer-adagrad")
class OuterAdagrad(Adagrad):
    """Adagrad on the pseudo-gradient (FedAdagrad; eps = adaptivity)"""

    def __init__(self, eps: float = 1e-3, *, owner: str = "", prefix: str = ""):
        super().__init__(eps, owner=owner, prefix=prefix)
