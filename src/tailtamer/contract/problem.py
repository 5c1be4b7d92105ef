"""The contract of a problem (docs/extending.md): gradients equal autograd of its ``local_loss``,
are pure in (seed, node, step, call) and follow the dtype, and vanish on average at its stated optimum."""

from __future__ import annotations

from typing import Any

import torch

from ..problems import PROBLEMS
from ..problems.base import Problem
from .result import Property, Skip
from .subject import Subject

N = 4


def subject(name: str, params: dict[str, Any]) -> Subject:
    """The problem component ``name`` with ``params``."""
    return Subject(PROBLEMS, name, params, "problem", {"n": N})


def _point(p: Problem, seed: int = 0) -> torch.Tensor:
    x0 = p.x0(torch.float64)
    gen = torch.Generator().manual_seed(seed)
    return x0 + 0.5 * torch.randn(N, *x0.shape, generator=gen, dtype=torch.float64)


def _exact(p: Problem):
    """The problem's exact local gradient map ``(x, nodes) → [n, d]`` (``local_grad``), else its ``grad``."""
    return getattr(p, "local_grad", None) or (lambda x, nodes: p.grad(x, nodes, 0, 0, 0))


def gradient(s: Subject) -> str:
    p = s.build()
    x, nodes = _point(p), torch.arange(N)
    g = _exact(p)(x, nodes)
    assert g.shape == x.shape, f"gradient of shape {tuple(g.shape)} for x of shape {tuple(x.shape)}"
    loss = getattr(p, "local_loss", None)
    if loss is None:
        raise Skip("no local_loss(x, nodes): nothing to differentiate against")
    xr = x.clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(loss(xr, nodes).sum(), xr)
    err = float((g - auto).abs().max())
    scale = max(1.0, float(auto.abs().max()))
    assert err <= 1e-8 * scale, f"local gradient differs from autograd of local_loss by {err:.3g}"
    return f"equals autograd of local_loss (max difference {err:.1e})"


def purity(s: Subject) -> str:
    p, q = s.build(), s.build()
    x, nodes = _point(p, 1), torch.arange(N)
    g = p.grad(x, nodes, 5, 3, 1)
    assert torch.equal(g, q.grad(x, nodes, 5, 3, 1)), "two instances gave different gradients for the same arguments"
    sub = torch.tensor([N - 1, 0])
    err = float((p.grad(x[sub], sub, 5, 3, 1) - g[sub]).abs().max())
    assert err <= 1e-12 * max(1.0, float(g.abs().max())), (
        f"a subset of nodes differs from those rows of all nodes by {err:.3g}"
    )
    return "same gradients for the same (seed, node, step, call); a subset of nodes gets its rows (within 1e-12)"


def dtype(s: Subject) -> str:
    p = s.build()
    x = _point(p, 2).float()
    g = p.grad(x, torch.arange(N), 0, 0, 0)
    assert g.dtype == torch.float32 and g.shape == x.shape, f"float32 x gave {g.dtype} {tuple(g.shape)}"
    assert p.x0(torch.float32).dtype == torch.float32, "x0 ignores the dtype"
    return "float32 in, float32 out"


def optimum(s: Subject) -> str:
    p = s.build()
    x_star = getattr(p, "x_star", None)
    if x_star is None:
        raise Skip("states no optimum (x_star)")
    g = _exact(p)(x_star.expand(N, *x_star.shape).clone(), torch.arange(N)).mean(0)
    err = float(g.abs().max())
    assert err < 1e-8, f"the mean gradient at x_star is {err:.3g}, not 0"
    return f"mean gradient at x_star {err:.1e}"


PROPERTIES: dict[str, Property] = {"gradient": gradient, "purity": purity, "dtype": dtype, "optimum": optimum}
