"""Compressed gossip: CHOCO-SGD and the CHOCO-compressed GT-NSGDm against per-node reference loops (1e-12,
float64), their reductions to DSGD / GT-NSGDm, the tracking invariant, and the bytes of their packets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reference import run_reference
from reference_compressed import choco_round
from tailtamer.api import build, build_components
from tailtamer.compression import build_compressor
from tailtamer.schedules import make_lr

N, D, STEPS, SEED = 6, 5, 25, 4


def config(alg: str, compression: dict | None = None, **hp) -> dict:
    cfg = {
        "problem": {"name": "quadratic", "dim": D},
        "algorithm": {"name": alg, "lr": 0.05, **hp},
        "topology": {"name": "ring", "n": N},
        "noise": {"name": "student-t", "df": 2.5, "scale": 0.3},
        "run": {"steps": STEPS, "seed": SEED, "eval_every": STEPS},
    }
    if compression is not None:
        cfg["compression"] = compression
    return cfg


def _setup(cfg):
    c = build_components(cfg)
    problem, noise = c.problem, c.noise

    def grad(i, x, t):
        nodes = torch.tensor([i])
        return problem.grad(x[None], nodes, SEED, t, 0)[0] + noise.sample(SEED, nodes, t, D, 0)[0]

    return c, grad, [problem.x0() for _ in range(N)], c.topology.W.tolist()


def reference(cfg: dict) -> torch.Tensor:
    c, grad, x, W = _setup(cfg)
    hp = c.algorithm.hyperparameters()
    comp = build_compressor(cfg.get("compression"))
    lr = make_lr(hp["lr"], "constant", 0, STEPS)
    zero = [torch.zeros_like(x[0]) for _ in range(N)]
    xhat, sx, yhat, sy, v, y = (list(zero) for _ in range(6))
    for t in range(STEPS):
        g = [grad(i, x[i], t) for i in range(N)]
        if cfg["algorithm"]["name"] == "choco-sgd":
            x, xhat, sx = choco_round(
                W, comp, [x[i] - lr(t) * g[i] for i in range(N)], xhat, sx, hp["gamma"], SEED, t, 0
            )
        else:
            b = hp["beta"]
            v_new = [b * v[i] + (1 - b) * g[i] for i in range(N)]
            y, yhat, sy = choco_round(
                W, comp, [y[i] + v_new[i] - v[i] for i in range(N)], yhat, sy, hp["gamma"], SEED, t, 0
            )
            v = v_new
            x_half = [x[i] - lr(t) * y[i] / max(float(y[i].norm()), 1e-30) for i in range(N)]
            x, xhat, sx = choco_round(W, comp, x_half, xhat, sx, hp["gamma"], SEED, t, 1)
    return torch.stack(x)


CASES = [
    ("choco-sgd", {"name": "top-k", "k": 2}, 0.4),
    ("choco-sgd", {"name": "qsgd", "levels": 2}, 0.6),
    ("choco-sgd", {"name": "scaled-sign"}, 0.3),
    ("gt-nsgdm-choco", {"name": "top-k", "k": 2}, 0.4),
    ("gt-nsgdm-choco", {"name": "rand-k", "k": 3}, 0.2),
    ("gt-nsgdm-choco", {"name": "sign"}, 0.1),
]


@pytest.mark.parametrize("alg,compression,gamma", CASES)
def test_compressed_gossip_equals_the_per_node_reference(alg, compression, gamma):
    cfg = config(alg, compression, gamma=gamma)
    x = build(cfg).run()["x"]
    assert (x - reference(cfg)).abs().max().item() <= 1e-12


def test_identity_and_gamma_one_reduce_to_dsgd_and_gt_nsgdm():
    for alg, base, hp in (("choco-sgd", "dsgd", {}), ("gt-nsgdm-choco", "gt-nsgdm", {"beta": 0.8})):
        x = build(config(alg, {"name": "identity"}, gamma=1.0, **hp)).run()["x"]
        cfg = config(base, **hp)
        _c, grad, x0, W = _setup(cfg)
        ref = torch.stack(run_reference(base, {"beta": 0.8}, W, x0, grad, STEPS, lambda t: 0.05))
        assert (x - ref).abs().max().item() <= 1e-12
        assert (x - build(cfg).run()["x"]).abs().max().item() <= 1e-12


@pytest.mark.parametrize("compression", [{"name": "top-k", "k": 1}, {"name": "sign"}, {"name": "qsgd", "levels": 1}])
def test_tracking_and_average_are_preserved_by_compressed_gossip(compression):
    """mean_i Y_t = mean_i V_t (tracking) and x̄ moves only by the mean step, for any compressor."""
    loop = build(config("gt-nsgdm-choco", compression, gamma=0.3))
    s = loop.initial_state()
    for t in range(STEPS):
        loop.oracle.begin(t)
        x_bar = s["x"].mean(0)
        new = loop.algorithm.step(s, loop.oracle, loop.comm, t)
        assert (new["y"].mean(0) - new["v"].mean(0)).abs().max() <= 1e-12
        step = 0.05 * (new["y"] / new["y"].norm(dim=1, keepdim=True)).mean(0)
        assert (new["x"].mean(0) - (x_bar - step)).abs().max() <= 1e-12
        s = new


def test_only_packets_travel():
    loop = build(config("gt-nsgdm-choco", {"name": "sign"}, gamma=0.2))
    loop.run()
    edges = int(np.count_nonzero(loop.comm._W) - N)
    assert loop.comm.stats.as_dict() == {
        "messages": 2 * STEPS * edges,
        "bytes": 2 * STEPS * edges * 1,
        "mixes": 2 * STEPS,
        "means": 0,
    }
