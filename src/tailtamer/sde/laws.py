"""Noise laws of the SDE lab: g_i = ∇f(x) + σ z_i with z_i i.i.d. per coordinate, symmetric CDF F
(docs/compression.md §4): Gaussian (F = Φ), Student-t (F = F_ν), Cauchy (ν = 1).

A law gives standard draws (numpy's generator: fast Student-t and Cauchy for millions of draws per step),
the CDF F of the standard law (for the DSignSGD drift 2F(∂f/σ) − 1) and s² = Var z (∞ for ν ≤ 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.special
import torch

from ..errors import ValidationError
from ..noise.base import check_finite_positive, check_has_mean
from ..registry import suggest

KINDS = ("gaussian", "student-t", "cauchy")


@dataclass(frozen=True)
class NoiseLaw:
    """``σ·z`` with z standard Gaussian, Student-t(ν) or Cauchy.

    Example:
        >>> law = NoiseLaw("student-t", sigma=1.0, nu=3.0)
        >>> law.variance, round(float(law.cdf(torch.tensor(0.0))), 6)
        (3.0, 0.5)
    """

    kind: str
    sigma: float = 1.0
    nu: float = math.inf

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValidationError(
                f"unknown noise law '{self.kind}'{suggest(self.kind, KINDS)}; known: {', '.join(KINDS)}"
            )
        if not (self.sigma > 0 and math.isfinite(self.sigma)):
            raise ValidationError(f"noise law: sigma must be a finite number > 0, got {self.sigma!r}")
        if self.kind == "student-t" and not self.nu > 0:
            raise ValidationError(f"noise law student-t: nu must be > 0, got {self.nu!r}")

    @property
    def label(self) -> str:
        return {"gaussian": "Gaussian", "cauchy": "Cauchy"}.get(self.kind, f"t(ν={self.nu:g})")

    @property
    def variance(self) -> float:
        """s² = Var z of the standard law (∞ when it does not exist)."""
        if self.kind == "gaussian":
            return 1.0
        if self.kind == "student-t" and self.nu > 2:
            return self.nu / (self.nu - 2.0)
        return math.inf

    def cdf(self, u: torch.Tensor) -> torch.Tensor:
        """F(u) of the standard law, elementwise."""
        if self.kind == "gaussian":
            return 0.5 * (1.0 + torch.erf(u / math.sqrt(2.0)))
        if self.kind == "cauchy":
            return 0.5 + torch.atan(u) / math.pi
        return torch.from_numpy(np.asarray(scipy.special.stdtr(self.nu, u.detach().cpu().numpy()))).to(u)

    def sign_mean(self, grad: torch.Tensor) -> torch.Tensor:
        """m = E sign(∂f + σz) = 2F(∂f/σ) − 1 (Gaussian: erf(∂f/(√2σ)); Cauchy: (2/π)arctan(∂f/σ))."""
        return 2.0 * self.cdf(grad / self.sigma) - 1.0

    def sample(self, gen: np.random.Generator, shape: tuple[int, ...]) -> torch.Tensor:
        """σ·z, float64, of the given shape."""
        if self.kind == "gaussian":
            z = gen.standard_normal(shape)
        elif self.kind == "cauchy":
            z = gen.standard_cauchy(shape)
        else:
            z = gen.standard_t(self.nu, shape)
        return torch.from_numpy(z).mul_(self.sigma)


#: Student-t's ``df`` when not given (``tailtamer run``'s default).
DEFAULT_DF = 1.5
#: The [noise] keys of each law (besides ``name``), as ``tailtamer run`` spells them.
KEYS = {"gaussian": ("scale",), "student-t": ("scale", "df", "allow_no_mean"), "cauchy": ("scale",)}


def law_from(spec: dict) -> NoiseLaw:
    """``{"name": "student-t", "df": 2.5, "scale": 1.0}`` (the [noise] vocabulary) → a law.

    As in ``tailtamer run``, Student-t with ``df ≤ 1`` (no mean) is refused unless ``allow_no_mean = true``.
    """
    spec = dict(spec)
    name = spec.pop("name", "gaussian")
    if name not in KEYS:
        from ..registry import suggest

        raise ValidationError(
            f"[noise] the SDE lab has no law '{name}'{suggest(str(name), KEYS)}: its laws are "
            f"{', '.join(KEYS)} (the SDE needs noise for its diffusion)"
        )
    extra = sorted(set(spec) - set(KEYS[name]))
    if extra:
        raise ValidationError(
            f"[noise] {name} takes no key(s) {extra} in the SDE lab; its keys: name, {', '.join(KEYS[name])}"
        )
    sigma = check_finite_positive("scale", float(spec.get("scale", 1.0)), f"[noise] {name}")
    nu = 1.0 if name == "cauchy" else math.inf
    if name == "student-t":
        nu = check_finite_positive("df", float(spec.get("df", DEFAULT_DF)), "[noise] student-t")
        check_has_mean("df", nu, "[noise] student-t", bool(spec.get("allow_no_mean", False)))
    return NoiseLaw(name, sigma, nu)
