"""The drop-in DecentralizedOptimizer: 4 processes equal the simulator, state dicts round-trip, and the
example script trains."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from tailtamer.algorithms import ALGORITHMS
from tailtamer.comm import SimulatedComm
from tailtamer.distributed.launcher import spawn
from tailtamer.topology import TOPOLOGIES

ROOT = Path(__file__).resolve().parents[2]
WORLD, STEPS, DIM = 4, 6, 5
CASES = {"gt-nsgdm": {"lr": 0.05, "beta": 0.8}, "gt-adam": {"lr": 0.01}}


def data(rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(100 + rank)
    x = torch.randn(16, DIM, generator=g, dtype=torch.float64)
    return x, x.sum(1) * (rank + 1) + torch.randn(16, generator=g, dtype=torch.float64)


def loss_of(flat: torch.Tensor, rank: int) -> torch.Tensor:
    """The same loss as the model below, from the flat parameter row [weight (DIM), bias (1)]."""
    x, y = data(rank)
    return ((x @ flat[:DIM] + flat[DIM] - y) ** 2).mean()


def _train(model, opt, rank, steps):
    x, y = data(rank)
    for _ in range(steps):
        opt.zero_grad()
        ((model(x).squeeze(-1) - y) ** 2).mean().backward()
        opt.step()


def _body(rank: int, world: int) -> dict:
    from tailtamer.distributed import DecentralizedOptimizer

    out = {}
    for alg, hyper in CASES.items():
        torch.manual_seed(rank)  # different inits: sync_init makes them equal
        model = torch.nn.Linear(DIM, 1).double()
        opt = DecentralizedOptimizer(model.parameters(), algorithm=alg, topology="ring", steps=100, timeout=30, **hyper)
        x0 = opt.flat_params()
        _train(model, opt, rank, STEPS // 2)
        saved_model = {k: v.clone() for k, v in model.state_dict().items()}
        saved_opt = opt.state_dict()
        _train(model, opt, rank, STEPS - STEPS // 2)
        x_full = opt.flat_params()
        # a fresh model and optimizer restored from the state dicts continue identically
        model2 = torch.nn.Linear(DIM, 1).double()
        model2.load_state_dict(saved_model)
        opt2 = DecentralizedOptimizer(
            model2.parameters(), algorithm=alg, topology="ring", steps=100, timeout=30, sync_init=False, **hyper
        )
        opt2.load_state_dict(saved_opt)
        _train(model2, opt2, rank, STEPS - STEPS // 2)
        out[alg] = (x0, x_full, opt2.flat_params(), opt.comm.stats.as_dict())
    spec = importlib.util.spec_from_file_location("train_ring", ROOT / "examples" / "train_ring.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    out["example"] = example.main(["--steps", "60"])
    return out


@pytest.mark.multiprocess
def test_optimizer_matches_simulator_and_round_trips():
    res = spawn(_body, WORLD, timeout=60)
    W = TOPOLOGIES.build("ring", {}, n=WORLD).W
    for alg, hyper in CASES.items():
        x0 = res[0][alg][0]
        assert all(torch.equal(r[alg][0], x0) for r in res)  # common start (rank 0's)
        comm = SimulatedComm(W)
        algorithm = ALGORITHMS.build(alg, hyper, steps=100)
        s = algorithm.init(x0.expand(WORLD, -1).clone(), comm)

        def grad(x):
            rows = []
            for i in range(WORLD):
                xi = x[i].detach().clone().requires_grad_(True)
                loss_of(xi, i).backward()
                rows.append(xi.grad)
            return torch.stack(rows)

        for t in range(STEPS):
            s = algorithm.step(s, grad, comm, t)
        for i, r in enumerate(res):
            _, x_full, x_resumed, stats = r[alg]
            assert (x_full[0] - s["x"][i]).abs().max().item() <= 1e-10, alg
            assert torch.equal(x_resumed, x_full), alg  # state_dict round trip: bit-identical
            assert stats == comm.stats.as_dict()
    first = res[0]["example"]
    assert all(r["example"] == first for r in res) and first < 0.5  # the example trains (from ~0.8)
