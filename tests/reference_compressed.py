"""Naive per-node reference loops of the compressed, sign and compressed-gossip methods (docs/compression.md §4).

Each node is its own 1-D tensor; the server average and gossip are explicit loops; step rules and the sign
are written out again. A compressor is applied to one node's row at a time with that node's own randomness
handle (``Randomness(seed, [i], t)``), which is what counter-based draws promise the vectorized code sees.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from tailtamer.rng import Randomness

Vec = torch.Tensor
NodeGrad = Callable[[int, Vec, int, int], Vec]  # (node, x_i, step, call) -> g_i


def compress(comp, v: Vec, seed: int, node: int, t: int, call: int = 0) -> Vec:
    return comp(v[None], Randomness(seed, torch.tensor([node]), t), call)[0]


def norm(v: Vec) -> float:
    return math.sqrt(float((v * v).sum()))


def server_mean(vecs: list[Vec]) -> Vec:
    acc = torch.zeros_like(vecs[0])
    for v in vecs:
        acc = acc + v
    return acc / len(vecs)


def sign(v: Vec) -> Vec:
    return torch.where(v < 0, -1.0, 1.0).to(v.dtype)


def step_size(hp: dict, base: float, grad_norm: float, ghat_norm: float) -> float:
    rule = hp.get("rule", "schedule")
    if rule == "oracle":
        return base / (hp["L0"] + hp["L1"] * grad_norm)
    if rule == "practical":
        return base / (hp["a"] + hp["b"] * ghat_norm) ** hp["alpha"]
    return base


def run_server_reference(
    name: str,
    hp: dict,
    comp,
    x0: Vec,
    n: int,
    grad: NodeGrad,
    exact: Callable[[Vec], Vec],
    steps: int,
    base_lr: Callable[[int], float],
    seed: int,
) -> Vec:
    """The server model after ``steps`` steps of ``name`` ∈ dsgd-server, dcsgd, dsignsgd, ef, ef21."""
    x = x0.clone()
    e = [torch.zeros_like(x) for _ in range(n)]
    gi: list[Vec] = []
    g_srv = torch.zeros_like(x)
    for t in range(steps):
        gnorm = norm(exact(x)) if hp.get("rule") == "oracle" else 0.0
        if name in ("dsgd-server", "dcsgd", "dsignsgd"):
            gs = [grad(i, x, t, 0) for i in range(n)]
            if name == "dcsgd":
                gs = [compress(comp, gs[i], seed, i, t) for i in range(n)]
            if name == "dsignsgd":
                gs = [sign(g) for g in gs]
            ghat = server_mean(gs)
            if hp.get("vote"):
                ghat = torch.sign(ghat)
            x = x - step_size(hp, base_lr(t), gnorm, norm(ghat)) * ghat
        elif name == "ef":
            eta = step_size(hp, base_lr(t), gnorm, 0.0)
            p = [eta * grad(i, x, t, 0) + e[i] for i in range(n)]
            d = [compress(comp, p[i], seed, i, t) for i in range(n)]
            e = [p[i] - d[i] for i in range(n)]
            x = x - server_mean(d)
        elif name == "ef21":
            if t == 0:
                gi = [grad(i, x, t, 0) for i in range(n)]
                g_srv = server_mean(gi)
            x = x - step_size(hp, base_lr(t), gnorm, norm(g_srv)) * g_srv
            c = [compress(comp, grad(i, x, t, 1 if t == 0 else 0) - gi[i], seed, i, t) for i in range(n)]
            gi = [gi[i] + c[i] for i in range(n)]
            g_srv = g_srv + server_mean(c)
        else:
            raise KeyError(name)
    return x


def choco_round(
    W: list[list[float]],
    comp,
    z_half: list[Vec],
    zhat: list[Vec],
    s: list[Vec],
    gamma: float,
    seed: int,
    t: int,
    call: int,
) -> tuple[list[Vec], list[Vec], list[Vec]]:
    """One CHOCO consensus round: q_i = C(z½_i − ẑ_i); ẑ_i += q_i; s_i += Σ_j w_ij q_j; z_i = z½_i + γ(s_i − ẑ_i)."""
    n = len(z_half)
    q = [compress(comp, z_half[i] - zhat[i], seed, i, t, call) for i in range(n)]
    zhat = [zhat[i] + q[i] for i in range(n)]
    new_s = []
    for i in range(n):
        acc = torch.zeros_like(q[0])
        for j in range(n):
            if W[i][j] != 0.0:
                acc = acc + W[i][j] * q[j]
        new_s.append(s[i] + acc)
    z = [z_half[i] + gamma * (new_s[i] - zhat[i]) for i in range(n)]
    return z, zhat, new_s
