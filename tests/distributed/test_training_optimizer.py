"""DecentralizedOptimizer as a torch optimizer: torch lr schedulers equal the simulator's schedules, param
groups with different lr equal a hand-written per-coordinate reference, state dicts are torch's layout and
resume bit-identically through torch.save and torch.distributed.checkpoint, and bad setups fail in one line."""

from __future__ import annotations

import io
import math
import tempfile

import pytest
import torch
import torch.distributed as dist

from tailtamer.algorithms import ALGORITHMS
from tailtamer.comm import SimulatedComm
from tailtamer.compression import build_compressor
from tailtamer.distributed.launcher import DistributedRunError, spawn
from tailtamer.rng import Randomness
from tailtamer.topology import TOPOLOGIES

WORLD, STEPS, DIM = 4, 6, 5
HYPER = {"lr": 0.05, "beta": 0.8}
CHOCO = {"compression": {"name": "rand-k", "k": 2}, "seed": 5, "hyper": {"lr": 0.05, "gamma": 0.5}}
SCHEDULES = {"poly": {"name": "poly", "power": 1.0, "t0": 2.0}, "cosine": "cosine"}


def data(rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(100 + rank)
    x = torch.randn(16, DIM, generator=g, dtype=torch.float64)
    return x, x.sum(1) * (rank + 1) + torch.randn(16, generator=g, dtype=torch.float64)


def grad_rows(x: torch.Tensor) -> torch.Tensor:
    """Node-stacked gradients of each node's least-squares loss at rows [weight (DIM), bias]."""
    rows = []
    for i in range(x.shape[0]):
        xi = x[i].detach().clone().requires_grad_(True)
        a, y = data(i)
        ((a @ xi[:DIM] + xi[DIM] - y) ** 2).mean().backward()
        rows.append(xi.grad)
    return torch.stack(rows)


def scheduler(name: str, opt: torch.optim.Optimizer):
    if name == "poly":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda t: (1.0 + t / 2.0) ** -1.0)
    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=STEPS)


def _train(model, opt, sched, rank, steps):
    x, y = data(rank)
    for _ in range(steps):
        opt.zero_grad()
        ((model(x).squeeze(-1) - y) ** 2).mean().backward()
        opt.step()
        if sched is not None:
            sched.step()


def _make(rank, groups=None, sync_init=True):

    torch.manual_seed(rank)
    from tailtamer.distributed import DecentralizedOptimizer

    model = torch.nn.Linear(DIM, 1).double()
    params = groups(model) if groups else model.parameters()
    return model, DecentralizedOptimizer(
        params, algorithm="gt-nsgdm", topology="ring", steps=STEPS, timeout=30, sync_init=sync_init, **HYPER
    )


def _body(rank: int, world: int, ckpt_dir: str) -> dict:
    import torch.distributed.checkpoint as dcp

    from tailtamer.distributed import DecentralizedOptimizer

    out = {}
    for name in SCHEDULES:
        model, opt = _make(rank)
        x0 = opt.flat_params()
        _train(model, opt, scheduler(name, opt), rank, STEPS)
        out[name] = (x0, opt.flat_params())
    # a compressing algorithm with a random compressor draws what the simulator draws
    torch.manual_seed(rank)
    model = torch.nn.Linear(DIM, 1).double()
    opt = DecentralizedOptimizer(
        model.parameters(),
        algorithm="choco-sgd",
        topology="ring",
        steps=STEPS,
        timeout=30,
        compression=CHOCO["compression"],
        seed=CHOCO["seed"],
        **CHOCO["hyper"],
    )
    x0 = opt.flat_params()
    _train(model, opt, None, rank, STEPS)
    out["choco"] = (x0, opt.flat_params())
    # two param groups: weight at lr 0.05, bias at lr 0.2
    model, opt = _make(rank, lambda m: [{"params": [m.weight]}, {"params": [m.bias], "lr": 0.2}])
    x0 = opt.flat_params()
    _train(model, opt, None, rank, STEPS)
    out["groups"] = (x0, opt.flat_params())
    # resume through torch.save and through torch.distributed.checkpoint, mid-schedule
    model, opt = _make(rank)
    sched = scheduler("cosine", opt)
    _train(model, opt, sched, rank, STEPS // 2)
    sd = opt.state_dict()
    out["layout"] = (
        sorted(sd),
        sorted(sd["state"][0]),
        tuple(sd["state"][0]["v"].shape),
        sd["param_groups"][0]["lr"],
        sd["param_groups"][0]["beta"],
    )
    buf = io.BytesIO()
    torch.save({"model": model.state_dict(), "opt": sd, "sched": sched.state_dict()}, buf)
    dcp.save({f"rank{rank}": {"model": model.state_dict(), "opt": opt.state_dict()}}, checkpoint_id=ckpt_dir)
    _train(model, opt, sched, rank, STEPS - STEPS // 2)
    out["full"] = opt.flat_params()
    buf.seek(0)
    saved = torch.load(buf, weights_only=True)
    model2, opt2 = _make(rank, sync_init=False)
    model2.load_state_dict(saved["model"])
    opt2.load_state_dict(saved["opt"])
    sched2 = scheduler("cosine", opt2)
    sched2.load_state_dict(saved["sched"])
    _train(model2, opt2, sched2, rank, STEPS - STEPS // 2)
    out["torch.save"] = opt2.flat_params()
    model3, opt3 = _make(rank, sync_init=False)  # a fresh pair whose state is allocated, then loaded
    _train(model3, opt3, None, rank, 1)
    target = {f"rank{rank}": {"model": model3.state_dict(), "opt": opt3.state_dict()}}
    dcp.load(target, checkpoint_id=ckpt_dir)
    model3.load_state_dict(target[f"rank{rank}"]["model"])
    opt3.load_state_dict(target[f"rank{rank}"]["opt"])
    sched3 = scheduler("cosine", opt3)
    sched3.load_state_dict(saved["sched"])
    _train(model3, opt3, sched3, rank, STEPS - STEPS // 2)
    out["dcp"] = opt3.flat_params()
    return out


class Oracle:
    """grad_rows with the step's randomness (what the engine's oracle hands a compressing algorithm)."""

    def __init__(self, seed: int, t: int):
        self.rng = Randomness(seed, torch.arange(WORLD), t)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return grad_rows(x)


def simulate_choco(x0: torch.Tensor, seed: int) -> torch.Tensor:
    W = TOPOLOGIES.build("ring", {}, n=WORLD).W
    comm = SimulatedComm(W)
    alg = ALGORITHMS.build(
        "choco-sgd", dict(CHOCO["hyper"]), steps=STEPS, compressor=build_compressor(CHOCO["compression"])
    )
    s = alg.init(x0.expand(WORLD, -1).clone(), comm)
    for t in range(STEPS):
        s = alg.step(s, Oracle(seed, t), comm, t)
    return s["x"]


def simulate(x0: torch.Tensor, schedule) -> torch.Tensor:
    W = TOPOLOGIES.build("ring", {}, n=WORLD).W
    comm = SimulatedComm(W)
    alg = ALGORITHMS.build("gt-nsgdm", {**HYPER, "schedule": schedule}, steps=STEPS)
    s = alg.init(x0.expand(WORLD, -1).clone(), comm)
    for t in range(STEPS):
        s = alg.step(s, grad_rows, comm, t)
    return s["x"]


def per_coordinate_reference(x0: torch.Tensor, lr_row: torch.Tensor) -> torch.Tensor:
    """GT-NSGDm written out with a per-coordinate step size: V = βV + (1−β)G, Y = W(Y + V − V₋), X = W(X − α⊙Y/‖Y‖)."""
    W = torch.as_tensor(TOPOLOGIES.build("ring", {}, n=WORLD).W, dtype=torch.float64)
    beta = HYPER["beta"]
    x = x0.expand(WORLD, -1).clone()
    v = torch.zeros_like(x)
    y = torch.zeros_like(x)
    for _ in range(STEPS):
        v_new = beta * v + (1 - beta) * grad_rows(x)
        y = W @ (y + v_new - v)
        v = v_new
        x = W @ (x - lr_row * y / y.norm(dim=1, keepdim=True))
    return x


@pytest.mark.multiprocess
def test_schedulers_groups_and_checkpoints_equal_the_simulator():
    with tempfile.TemporaryDirectory() as ckpt:
        res = spawn(_body, WORLD, (ckpt,), timeout=60)
    worst = {}
    for name, schedule in SCHEDULES.items():
        x0 = res[0][name][0]
        ref = simulate(x0, schedule)
        worst[name] = max((r[name][1][0] - ref[i]).abs().max().item() for i, r in enumerate(res))
        assert worst[name] <= 1e-10, (name, worst)
        assert (ref - x0).abs().max().item() > 1e-3  # it moved
    other = simulate(res[0]["poly"][0], "constant")
    assert (other - simulate(res[0]["poly"][0], SCHEDULES["poly"])).abs().max().item() > 1e-4  # schedules matter
    x0 = res[0]["choco"][0]
    ref = simulate_choco(x0, CHOCO["seed"])
    worst["choco-sgd/rand-k"] = max((r["choco"][1][0] - ref[i]).abs().max().item() for i, r in enumerate(res))
    assert worst["choco-sgd/rand-k"] <= 1e-10, worst
    assert (simulate_choco(x0, CHOCO["seed"] + 1) - ref).abs().max().item() > 1e-4  # the draws matter
    x0 = res[0]["groups"][0]
    lr_row = torch.tensor([0.05] * DIM + [0.2], dtype=torch.float64)
    ref = per_coordinate_reference(x0, lr_row)
    worst["groups"] = max((r["groups"][1][0] - ref[i]).abs().max().item() for i, r in enumerate(res))
    assert worst["groups"] <= 1e-10, worst
    assert (per_coordinate_reference(x0, torch.full_like(lr_row, 0.05)) - ref).abs().max().item() > 1e-4
    for r in res:
        assert r["layout"] == (["param_groups", "state"], ["step", "v", "y"], (1, DIM), r["layout"][3], HYPER["beta"])
        assert math.isclose(r["layout"][3], HYPER["lr"] * 0.5 * (1 + math.cos(math.pi * (STEPS // 2) / STEPS)))
        assert torch.equal(r["torch.save"], r["full"]) and torch.equal(r["dcp"], r["full"])
    print("max |torch optimizer - simulator|:", worst)


def _no_group(rank: int, world: int) -> str:
    import os

    from tailtamer.distributed import DecentralizedOptimizer

    dist.destroy_process_group()
    for key in ("RANK", "WORLD_SIZE", "MASTER_ADDR"):
        os.environ.pop(key)

    try:
        DecentralizedOptimizer(torch.nn.Linear(2, 1).parameters())
    except Exception as err:  # noqa: BLE001 - the message is the fact
        return f"{type(err).__name__}: {err}"
    return "no error"


def _shapes(rank: int, world: int) -> None:
    from tailtamer.distributed import DecentralizedOptimizer

    DecentralizedOptimizer(torch.nn.Linear(3 + rank, 1).parameters(), timeout=10)


@pytest.mark.multiprocess
def test_bad_setups_fail_in_one_line():
    msg = spawn(_no_group, 1, timeout=20)[0]
    assert msg.startswith("SetupError: no torch.distributed process group: start the script with `torchrun")
    assert "\n" not in msg
    with pytest.raises(
        DistributedRunError,
        match=r"parameter 'group 0 parameter 0' has shape \[1, 4\] on rank 1 "
        r"but \[1, 3\] on rank 0",
    ):
        spawn(_shapes, 2, timeout=20)


def _every_scheduler(rank: int, world: int) -> dict:
    from torch.optim import lr_scheduler as S

    from tailtamer.distributed import DecentralizedOptimizer

    def make(opt):
        return {
            "StepLR": S.StepLR(opt, 2),
            "MultiStepLR": S.MultiStepLR(opt, [1, 3]),
            "ExponentialLR": S.ExponentialLR(opt, 0.9),
            "LinearLR": S.LinearLR(opt),
            "ConstantLR": S.ConstantLR(opt),
            "PolynomialLR": S.PolynomialLR(opt, 4),
            "CosineAnnealingLR": S.CosineAnnealingLR(opt, 4),
            "CosineAnnealingWarmRestarts": S.CosineAnnealingWarmRestarts(opt, 2),
            "CyclicLR": S.CyclicLR(opt, 0.01, 0.1, 2, cycle_momentum=False),
            "OneCycleLR": S.OneCycleLR(opt, 0.1, total_steps=10, cycle_momentum=False),
            "LambdaLR": S.LambdaLR(opt, lambda t: 0.5**t),
            "MultiplicativeLR": S.MultiplicativeLR(opt, lambda t: 0.9),
            "SequentialLR": S.SequentialLR(opt, [S.ConstantLR(opt), S.ExponentialLR(opt, 0.9)], [2]),
            "ReduceLROnPlateau": S.ReduceLROnPlateau(opt, patience=0),
        }

    out = {}
    for name in make(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.05)):
        model = torch.nn.Linear(2, 1).double()
        opt = DecentralizedOptimizer(model.parameters(), "dsgd", "complete", lr=0.05, timeout=10)
        ref_p = torch.zeros(1, requires_grad=True)
        ref = torch.optim.SGD([ref_p], lr=0.05)  # the same scheduler on a torch optimizer
        sched, ref_sched = make(opt)[name], make(ref)[name]
        lrs = []
        for _ in range(4):
            opt.zero_grad()
            model(torch.ones(1, 2, dtype=torch.float64)).sum().backward()
            opt.step()
            ref.step()
            args = (1.0,) if name == "ReduceLROnPlateau" else ()
            sched.step(*args)
            ref_sched.step(*args)
            lrs.append((opt.param_groups[0]["lr"], ref.param_groups[0]["lr"]))
        out[name] = lrs
    return out


@pytest.mark.multiprocess
def test_every_torch_scheduler_drives_it_like_a_torch_optimizer():
    res = spawn(_every_scheduler, 1, timeout=30)[0]
    assert len(res) == 14
    for name, lrs in res.items():
        assert all(a == b for a, b in lrs), (name, lrs)
        assert len({a for a, _ in lrs}) > 1 or name == "ConstantLR", (name, lrs)
