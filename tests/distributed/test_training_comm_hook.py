"""The compressed DDP communication hook equals the simulator's server method (float64, 4 gloo processes, one
bucket), sends the packets' bytes, and its checkpointed memories resume bit-identically."""

from __future__ import annotations

import io

import pytest
import torch
from torch.func import functional_call

from tailtamer.algorithms import ALGORITHMS
from tailtamer.comm import SimulatedComm
from tailtamer.compression import build_compressor
from tailtamer.distributed.launcher import spawn
from tailtamer.distributed.training.comm_hook import BucketLayout
from tailtamer.rng import Randomness

WORLD, STEPS, SEED = 4, 6, 7
CASES = {
    "ef/top-k": ("ef", {"name": "top-k", "k": 5}, {"lr": 0.1}),
    "ef/rand-k": ("ef", {"name": "rand-k", "k": 8}, {"lr": 0.1, "scaled": True}),
    "ef21/qsgd": ("ef21", {"name": "qsgd", "levels": 3}, {"lr": 0.1, "scaled": True}),
    "dcsgd/scaled-sign": ("dcsgd", {"name": "scaled-sign"}, {"lr": 0.1, "rule": "practical", "b": 1.0}),
    "dsignsgd": ("dsignsgd", None, {"lr": 0.02}),
    "ef/powersgd": ("ef", {"name": "powersgd", "rank": 1}, {"lr": 0.1}),
    "powersgd": ("powersgd", None, {"lr": 0.1, "rank": 1, "start_iter": 2}),
    # one bucket per parameter after DDP's rebuild (a coordinate-wise compressor, a decaying schedule)
    "ef21/sign/buckets": ("ef21", "sign", {"lr": 0.05, "schedule": {"name": "poly", "power": 1.0}}),
}
BUCKET_MB = {"ef21/sign/buckets": 1e-5}


def make_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()


def data(rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(50 + rank)
    x = torch.randn(12, 6, generator=g, dtype=torch.float64)
    return x, torch.sin(x.sum(1)) * (rank + 1)


def _train(ddp, opt, rank, steps):
    x, y = data(rank)
    for _ in range(steps):
        opt.zero_grad()
        ((ddp(x).squeeze(-1) - y) ** 2).mean().backward()
        opt.step()


def _ddp(case, rank):
    from torch.nn.parallel import DistributedDataParallel

    from tailtamer.distributed.training.comm_hook import compressed_hook

    method, compressor, hyper = CASES[case]
    model = make_model()
    ddp = DistributedDataParallel(model, **({"bucket_cap_mb": BUCKET_MB[case]} if case in BUCKET_MB else {}))
    state, hook = compressed_hook(model, method, compressor, steps=STEPS, seed=SEED, timeout=30, **hyper)
    ddp.register_comm_hook(state, hook)
    return model, ddp, torch.optim.SGD(ddp.parameters(), lr=1.0), state


def flat(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def _body(rank: int, world: int) -> dict:
    out = {}
    for case in CASES:
        model, ddp, opt, state = _ddp(case, rank)
        x0 = flat(model)
        _train(ddp, opt, rank, STEPS)
        out[case] = (x0, flat(model), state.comm.wire.bytes, dict(state.steps))
    # checkpoint mid-run: the hook's memories (e, and the error feedback of ef/top-k) resume bit-identically
    model, ddp, opt, state = _ddp("ef/top-k", rank)
    _train(ddp, opt, rank, STEPS // 2)
    buf = io.BytesIO()
    torch.save({"model": model.state_dict(), "hook": state.state_dict()}, buf)
    _train(ddp, opt, rank, STEPS - STEPS // 2)
    buf.seek(0)
    saved = torch.load(buf, weights_only=True)
    model2, ddp2, opt2, state2 = _ddp("ef/top-k", rank)
    model2.load_state_dict(saved["model"])
    state2.load_state_dict(saved["hook"])
    _train(ddp2, opt2, rank, STEPS - STEPS // 2)
    out["resume"] = (flat(model), flat(model2), bool(saved["hook"]["buckets"]))
    return out


class Oracle:
    """Node-stacked gradients of each node's loss, the step's randomness and the model's layout."""

    def __init__(self, t: int, layout: BucketLayout, seed: int = SEED):
        self.rng = Randomness(seed, torch.arange(WORLD), t)
        self.layout = layout

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        model = make_model()
        names = [n for n, _ in model.named_parameters()]
        rows = []
        for i in range(WORLD):
            xi = X[i].detach().clone().requires_grad_(True)
            params, at = {}, 0
            for name, p in model.named_parameters():
                params[name] = xi[at : at + p.numel()].view_as(p)
                at += p.numel()
            a, y = data(i)
            ((functional_call(model, params, (a,)).squeeze(-1) - y) ** 2).mean().backward()
            rows.append(xi.grad)
        assert len(names) == 4
        return torch.stack(rows)


def simulate(case: str, x0: torch.Tensor, seed: int = SEED) -> tuple[torch.Tensor, int]:
    method, compressor, hyper = CASES[case]
    compressor = {"name": compressor} if isinstance(compressor, str) else compressor
    extra = {"compressor": build_compressor(compressor)} if ALGORITHMS.get(method).compresses else {}
    alg = ALGORITHMS.build(method, dict(hyper), steps=STEPS, **extra)
    comm = SimulatedComm(None, n=WORLD)
    layout = BucketLayout(list(make_model().parameters()))
    s = alg.init(x0.expand(WORLD, -1).clone(), comm)
    for t in range(STEPS):
        s = alg.step(s, Oracle(t, layout, seed), comm, t)
    return s["x"], comm.stats.bytes


@pytest.mark.multiprocess
def test_hook_equals_the_simulators_server_method():
    res = spawn(_body, WORLD, timeout=60)
    worst = {}
    for case in CASES:
        x0 = res[0][case][0]
        assert all(torch.equal(r[case][0], x0) for r in res)
        for r in res:  # one bucket of all 4, or several
            held = sorted(p for key in r[case][3] for p in key)
            assert held == [0, 1, 2, 3] and set(r[case][3].values()) == {STEPS}, (case, r[case][3])
            assert (len(r[case][3]) > 1) == (case in BUCKET_MB), (case, r[case][3])
        ref, sim_bytes = simulate(case, x0)
        worst[case] = max((r[case][1] - ref[i]).abs().max().item() for i, r in enumerate(res))
        assert worst[case] <= 1e-10, (case, worst)
        assert (ref[0] - x0).abs().max().item() > 1e-3, case  # it moved
        if CASES[case][0] != "ef21":  # ef21's simulator sends one packet ahead
            assert all(r[case][2] * WORLD == sim_bytes for r in res), case
    x0 = res[0]["ef/rand-k"][0]  # the draws matter
    assert (simulate("ef/rand-k", x0)[0] - simulate("ef/rand-k", x0, SEED + 1)[0]).abs().max().item() > 1e-4
    full, resumed, has_memory = res[0]["resume"]
    assert has_memory and torch.equal(full, resumed)
    print("max |DDP hook - simulator|:", worst)
