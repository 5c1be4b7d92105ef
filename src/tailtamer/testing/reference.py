"""Naive per-node reference implementations of every decentralized algorithm (Yu, Jakovetić, Kar, ICLR 2026,
arXiv 2505.03736).

Each node is a separate 1-D tensor, mixing is an explicit loop over a node's in-neighbours, and every formula
is written out again from the papers (no tailtamer operator is used), so that the vectorized recipes can be
checked against an independent transcription (tests/decentralized/test_algorithms.py, to 1e-12 in float64). It is
also the "per-node loop" baseline of benchmarks/engine.py.

:data:`REFERENCES` maps an algorithm name to its step ``(S, g, a, t, hp, W) -> S``: ``S`` holds per-node lists
(``x`` and the method's buffers), ``g`` the nodes' gradients at ``S["x"]``, ``a`` the step size of step t.

Example:
    >>> import torch
    >>> W = [[0.5, 0.5], [0.5, 0.5]]
    >>> x = run_reference("dsgd", {}, W, [torch.tensor([1.0]), torch.tensor([3.0])],
    ...                   lambda i, xi, t: xi, steps=1, lr_at=lambda t: 0.5)
    >>> [v.item() for v in x]          # W (x − ½x) = mean(x)/2 on every node
    [1.0, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Vec = torch.Tensor
NodeGrad = Callable[[int, Vec, int], Vec]  # (node, x_i, step) -> g_i
Neighbours = list[list[tuple[int, float]]]
Nodes = dict[str, list[Vec]]
Step = Callable[[Nodes, list[Vec], float, int, dict, Neighbours], Nodes]


def neighbour_lists(W: list[list[float]]) -> Neighbours:
    """Row i → the (r, w_ir) pairs with w_ir ≠ 0: what node i receives."""
    return [[(r, w) for r, w in enumerate(row) if w != 0.0] for row in W]


def mix_loop(W: Neighbours, vecs: list[Vec]) -> list[Vec]:
    """out_i = Σ_r w_ir v_r over node i's in-neighbours (and itself)."""
    out = []
    for row in W:
        acc = torch.zeros_like(vecs[0])
        for r, w in row:
            acc = acc + w * vecs[r]
        out.append(acc)
    return out


def node_norm(v: Vec) -> float:
    return math.sqrt(float((v * v).sum()))


def normalize(v: Vec) -> Vec:
    return v / max(node_norm(v), 1e-30)


def gclip(v: Vec, gamma: float) -> Vec:
    nv = node_norm(v)
    return v if nv <= gamma else v * (gamma / nv)


def cclip(v: Vec, gamma: float) -> Vec:
    return torch.where(v > gamma, torch.full_like(v, gamma), torch.where(v < -gamma, torch.full_like(v, -gamma), v))


def _mapped(T: Callable[[Vec, dict], Vec]) -> Step:
    """DSGD with a per-node map T: x_i ← Σ_r w_ir (x_r − a·T(g_r))."""

    def step(S: Nodes, g: list[Vec], a: float, t: int, hp: dict, W: Neighbours) -> Nodes:
        return {**S, "x": mix_loop(W, [xi - a * T(gi, hp) for xi, gi in zip(S["x"], g)])}

    return step


def _dsgd_clip(S, g, a, t, hp, W):
    a_t, gam = hp["lr"] / (t + 1), hp["gamma"] * (t + 1) ** hp["kappa"]
    return {**S, "x": mix_loop(W, [xi - a_t * gclip(gi, gam) for xi, gi in zip(S["x"], g)])}


def _gt_nsgdm(S, g, a, t, hp, W):
    n, b, x, v, y = len(g), hp["beta"], S["x"], S["v"], S["y"]
    v_new = [b * v[i] + (1 - b) * g[i] for i in range(n)]
    y = mix_loop(W, [y[i] + v_new[i] - v[i] for i in range(n)])
    return {**S, "v": v_new, "y": y, "x": mix_loop(W, [x[i] - a * normalize(y[i]) for i in range(n)])}


def _gt_dsgd(S, g, a, t, hp, W):
    n, x, y, g_prev = len(g), S["x"], S["y"], S["g"]
    y = mix_loop(W, [y[i] + g[i] - g_prev[i] for i in range(n)])
    return {**S, "y": y, "g": g, "x": mix_loop(W, [x[i] - a * y[i] for i in range(n)])}


def _gt_adam(S, g, a, t, hp, W):
    n, b1, b2, g_prev, m, q = len(g), hp["beta"], hp["beta2"], S["g"], S["m"], S["q"]
    ws = mix_loop(W, S["s"])
    s = [ws[i] + g[i] - g_prev[i] for i in range(n)]
    m = [b1 * m[i] + (1 - b1) * s[i] for i in range(n)]
    q = [torch.minimum(b2 * q[i] + (1 - b2) * s[i] ** 2, torch.full_like(s[i], hp["q_max"])) for i in range(n)]
    wx = mix_loop(W, S["x"])
    return {**S, "s": s, "g": g, "m": m, "q": q, "x": [wx[i] - a * m[i] / (q[i].sqrt() + hp["eps"]) for i in range(n)]}


def _qg_dsgdm(S, g, a, t, hp, W):
    n, mu, x, m = len(g), hp["beta"], S["x"], S["m"]
    mm = [mu * m[i] + g[i] for i in range(n)]
    d = [g[i] + mu * mm[i] for i in range(n)] if hp.get("nesterov") else mm
    x_new = mix_loop(W, [x[i] - a * d[i] for i in range(n)])
    m = [mu * m[i] + (1 - mu) * (x[i] - x_new[i]) / a for i in range(n)]
    return {**S, "m": m, "x": x_new}


def _sclip_ef(S, g, a, t, hp, W):
    n, k, x, m = len(g), t + 1.0, S["x"], S["m"]
    a_t, b_t = hp["lr"] / k**0.2, hp["beta"] / k**0.5
    phi, eps = hp["phi"] / k**0.5, hp["eps"] * k**0.6
    m = [b_t * m[i] + (1 - b_t) * phi * (g[i] - m[i]) / torch.sqrt((g[i] - m[i]) ** 2 + eps) for i in range(n)]
    return {**S, "m": m, "x": mix_loop(W, [x[i] - a_t * m[i] for i in range(n)])}


#: Per-node reference step of every decentralized algorithm, by registered name.
REFERENCES: dict[str, Step] = {
    "dsgd": _mapped(lambda v, hp: v),
    "dsgd-n": _mapped(lambda v, hp: normalize(v)),
    "dsgd-gclip": _mapped(lambda v, hp: gclip(v, hp["gamma"])),
    "dsgd-cclip": _mapped(lambda v, hp: cclip(v, hp["gamma"])),
    "dsgd-clip": _dsgd_clip,
    "gt-nsgdm": _gt_nsgdm,
    "gt-dsgd": _gt_dsgd,
    "gt-adam": _gt_adam,
    "qg-dsgdm": _qg_dsgdm,
    "sclip-ef": _sclip_ef,
}


def run_reference(
    name: str, hp: dict, W: list[list[float]], x0: list[Vec], grad: NodeGrad, steps: int, lr_at: Callable[[int], float]
) -> list[Vec]:
    """Run algorithm ``name`` for ``steps`` steps node by node; returns the final per-node iterates.

    Every buffer (momentum, tracker, previous gradient, second moment) starts at zero.
    """
    step = REFERENCES[name]
    zero = [torch.zeros_like(v) for v in x0]
    S: Nodes = {"x": [v.clone() for v in x0], **{b: list(zero) for b in ("v", "y", "g", "m", "q", "s")}}
    neighbours = neighbour_lists(W)
    for t in range(steps):
        g = [grad(i, S["x"][i], t) for i in range(len(x0))]
        S = step(S, g, lr_at(t), t, hp, neighbours)
    return S["x"]
