"""Naive per-node reference implementations of every decentralized algorithm.

Each node is a separate 1-D tensor, mixing is an explicit loop over a node's in-neighbours, and every
formula is written out again from algorithms.md §1 (no tailtamer operator is used), so that the vectorized
recipes can be checked against an independent transcription. Also used by benchmarks/engine.py as the
"per-node loop" baseline.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

Vec = torch.Tensor
NodeGrad = Callable[[int, Vec, int], Vec]  # (node, x_i, step) -> g_i


Neighbours = list[list[tuple[int, float]]]


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


def run_reference(name: str, hp: dict, W: list[list[float]], x0: list[Vec], grad: NodeGrad, steps: int,
                  lr_at: Callable[[int], float]) -> list[Vec]:
    """Run algorithm ``name`` for ``steps`` steps node by node; returns the final per-node iterates."""
    n = len(x0)
    W = neighbour_lists(W)
    x = [v.clone() for v in x0]
    zero = [torch.zeros_like(v) for v in x0]
    v_, y_, g_prev, m, q, s_ = (list(zero) for _ in range(6))
    for t in range(steps):
        a = lr_at(t)
        g = [grad(i, x[i], t) for i in range(n)]
        if name == "dsgd":
            x = mix_loop(W, [x[i] - a * g[i] for i in range(n)])
        elif name == "dsgd-n":
            x = mix_loop(W, [x[i] - a * normalize(g[i]) for i in range(n)])
        elif name == "dsgd-gclip":
            x = mix_loop(W, [x[i] - a * gclip(g[i], hp["gamma"]) for i in range(n)])
        elif name == "dsgd-cclip":
            x = mix_loop(W, [x[i] - a * cclip(g[i], hp["gamma"]) for i in range(n)])
        elif name == "dsgd-clip":
            a_t = hp["lr"] / (t + 1)
            gam = hp["gamma"] * (t + 1) ** hp["kappa"]
            x = mix_loop(W, [x[i] - a_t * gclip(g[i], gam) for i in range(n)])
        elif name == "gt-nsgdm":
            b = hp["beta"]
            v_new = [b * v_[i] + (1 - b) * g[i] for i in range(n)]
            y_ = mix_loop(W, [y_[i] + v_new[i] - v_[i] for i in range(n)])
            v_ = v_new
            x = mix_loop(W, [x[i] - a * normalize(y_[i]) for i in range(n)])
        elif name == "gt-dsgd":
            y_ = mix_loop(W, [y_[i] + g[i] - g_prev[i] for i in range(n)])
            g_prev = g
            x = mix_loop(W, [x[i] - a * y_[i] for i in range(n)])
        elif name == "gt-adam":
            b1, b2 = hp["beta"], hp["beta2"]
            ws = mix_loop(W, s_)
            s_ = [ws[i] + g[i] - g_prev[i] for i in range(n)]
            g_prev = g
            m = [b1 * m[i] + (1 - b1) * s_[i] for i in range(n)]
            q = [torch.minimum(b2 * q[i] + (1 - b2) * s_[i] ** 2, torch.full_like(q[i], hp["q_max"]))
                 for i in range(n)]
            wx = mix_loop(W, x)
            x = [wx[i] - a * m[i] / (q[i].sqrt() + hp["eps"]) for i in range(n)]
        elif name == "qg-dsgdm":
            mu = hp["beta"]
            mm = [mu * m[i] + g[i] for i in range(n)]
            d = [g[i] + mu * mm[i] for i in range(n)] if hp.get("nesterov") else mm
            x_new = mix_loop(W, [x[i] - a * d[i] for i in range(n)])
            m = [mu * m[i] + (1 - mu) * (x[i] - x_new[i]) / a for i in range(n)]
            x = x_new
        elif name == "sclip-ef":
            k = t + 1.0
            a_t = hp["lr"] / k ** 0.2
            b_t = hp["beta"] / k ** 0.5
            phi = hp["phi"] / k ** 0.5
            eps = hp["eps"] * k ** 0.6
            m = [b_t * m[i] + (1 - b_t) * phi * (g[i] - m[i]) / torch.sqrt((g[i] - m[i]) ** 2 + eps)
                 for i in range(n)]
            x = mix_loop(W, [x[i] - a_t * m[i] for i in range(n)])
        else:
            raise KeyError(name)
    return x
