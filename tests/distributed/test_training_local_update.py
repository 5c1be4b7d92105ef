"""The local-update wrapper equals the simulator's TailOPT run with the same data order (float64, 4 gloo
processes): the method's own inner transform (BiClip) as a torch optimizer, a torch SGD inner, outer
Bi²Clip / Nesterov momentum / Adam, and averaging through a top-k codec."""

from __future__ import annotations

import pytest
import torch

from tailtamer.algorithms import ALGORITHMS
from tailtamer.comm import SimulatedComm
from tailtamer.compression import build_compressor
from tailtamer.distributed.launcher import spawn
from tailtamer.rng import Randomness

WORLD, DIM, H, ROUNDS, SEED = 4, 5, 3, 3, 3
CASES = {
    "bi2clip": ("bi2clip", False, None, {"lr": 0.05, "u": 0.5, "d": 0.05, "outer_u": 0.3, "outer_d": 0.01}),
    "sgd-sgd/torch": (
        "sgd-sgd",
        True,
        None,
        {"lr": 0.05, "outer_lr": 0.7, "outer_momentum": 0.9, "outer_nesterov": True},
    ),
    "adam-sgd/torch": ("adam-sgd", True, None, {"lr": 0.05, "outer_lr": 0.05}),
    "fedavg/top-k": ("fedavg", True, {"name": "top-k", "k": 2}, {"lr": 0.05}),
}


def batch(rank: int, j: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Node ``rank``'s minibatch of inner step j (4 of its 16 samples, in a fixed order)."""
    g = torch.Generator().manual_seed(200 + rank)
    x = torch.randn(16, DIM, generator=g, dtype=torch.float64)
    y = x.sum(1) * (rank + 1) + torch.randn(16, generator=g, dtype=torch.float64)
    rows = slice(4 * (j % 4), 4 * (j % 4) + 4)
    return x[rows], y[rows]


def _body(rank: int, world: int) -> dict:
    from tailtamer.distributed.training.local_update import LocalUpdate

    out = {}
    for case, (method, torch_inner, compression, hyper) in CASES.items():
        torch.manual_seed(rank)  # different inits: the wrapper syncs to rank 0's
        model = torch.nn.Linear(DIM, 1).double()
        inner = torch.optim.SGD(model.parameters(), lr=hyper["lr"]) if torch_inner else None
        lu = LocalUpdate(
            model, method, inner, sync_every=H, compression=compression, steps=ROUNDS, seed=SEED, timeout=30, **hyper
        )
        x0 = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
        _steps(model, lu, rank, range(ROUNDS * H))
        out[case] = (x0, torch.cat([p.detach().reshape(-1) for p in model.parameters()]), lu.round, lu.comm.wire.bytes)
    # resume mid-round (round 1, inner step 1) from the three state dicts: bit-identical to the full run
    method, _, _, hyper = CASES["bi2clip"]
    torch.manual_seed(rank)
    model = torch.nn.Linear(DIM, 1).double()
    lu = LocalUpdate(model, method, sync_every=H, steps=ROUNDS, timeout=30, **hyper)
    _steps(model, lu, rank, range(H + 1))
    saved = ({k: v.clone() for k, v in model.state_dict().items()}, lu.state_dict(), lu.inner.state_dict())
    _steps(model, lu, rank, range(H + 1, ROUNDS * H))
    model2 = torch.nn.Linear(DIM, 1).double()
    lu2 = LocalUpdate(model2, method, sync_every=H, steps=ROUNDS, timeout=30, **hyper)
    model2.load_state_dict(saved[0])
    lu2.load_state_dict(saved[1])
    lu2.inner.load_state_dict(saved[2])
    _steps(model2, lu2, rank, range(H + 1, ROUNDS * H))
    out["resume"] = (
        torch.equal(model.weight, model2.weight) and torch.equal(model.bias, model2.bias),
        model.weight.clone(),
    )
    return out


def _steps(model, lu, rank: int, js) -> None:
    for j in js:
        a, y = batch(rank, j)
        lu.inner.zero_grad()
        ((model(a).squeeze(-1) - y) ** 2).mean().backward()
        lu.inner.step()


class Oracle:
    """Node-stacked gradients; the r-th call of round t uses every node's minibatch of inner step t·H + r."""

    def __init__(self, t: int):
        self.t, self.calls, self.rng = t, 0, Randomness(SEED, torch.arange(WORLD), t)

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        j = self.t * H + self.calls
        self.calls += 1
        rows = []
        for i in range(WORLD):
            w = X[i].detach().clone().requires_grad_(True)
            a, y = batch(i, j)
            ((a @ w[:DIM] + w[DIM] - y) ** 2).mean().backward()
            rows.append(w.grad)
        return torch.stack(rows)


class CodecComm(SimulatedComm):
    """The simulator's comm whose ``mean`` sends each row as the compressor's packet (the wrapper's averaging)."""

    def __init__(self, n: int, compressor):
        super().__init__(None, n=n)
        self.compressor, self.t = compressor, 0

    def mean(self, z, codec=None):
        return super().mean(z, codec=self.compressor.codec(Randomness(SEED, torch.arange(WORLD), self.t)))


def simulate(case: str, x0: torch.Tensor) -> tuple[torch.Tensor, int]:
    method, _, compression, hyper = CASES[case]
    alg = ALGORITHMS.build(method, {**hyper, "local_steps": H}, steps=ROUNDS)
    comm = SimulatedComm(None, n=WORLD) if compression is None else CodecComm(WORLD, build_compressor(compression))
    s = alg.init(x0.expand(WORLD, -1).clone(), comm)
    for t in range(ROUNDS):
        comm.t = t
        s = alg.step(s, Oracle(t), comm, t)
    return s["x"], comm.stats.bytes


@pytest.mark.multiprocess
def test_local_update_equals_the_simulators_tailopt():
    res = spawn(_body, WORLD, timeout=60)
    worst = {}
    for case in CASES:
        x0 = res[0][case][0]
        ref, sim_bytes = simulate(case, x0.reshape(1, -1))
        worst[case] = max((r[case][1] - ref[i]).abs().max().item() for i, r in enumerate(res))
        assert worst[case] <= 1e-10, (case, worst)
        assert (ref[0] - x0).abs().max().item() > 1e-3, case
        assert all(r[case][2] == ROUNDS and r[case][3] * WORLD == sim_bytes for r in res), case
    compressed = simulate("fedavg/top-k", res[0]["fedavg/top-k"][0].reshape(1, -1))  # the codec matters
    plain = ALGORITHMS.build("fedavg", {"lr": 0.05, "local_steps": H}, steps=ROUNDS)
    comm = SimulatedComm(None, n=WORLD)
    s = plain.init(res[0]["fedavg/top-k"][0].reshape(1, -1).expand(WORLD, -1).clone(), comm)
    for t in range(ROUNDS):
        s = plain.step(s, Oracle(t), comm, t)
    assert (s["x"] - compressed[0]).abs().max().item() > 1e-3
    assert all(r["resume"][0] for r in res)
    assert torch.equal(res[0]["resume"][1].reshape(-1), res[0]["bi2clip"][1][:DIM])  # the full run, again
    print("max |LocalUpdate - simulator TailOPT|:", worst)
