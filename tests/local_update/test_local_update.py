"""The local-update (TailOPT) family: equivalences, a per-client reference, convergence, sampling, validation,
accounting (docs/tailopt.md, issue 5)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from tailtamer.algorithms import ALGORITHMS
from tailtamer.algorithms.local_update import (
    INNER,
    INSTANCES,
    METHODS,
    OUTER,
    PAIRS,
    client_count,
    client_mask,
    sample_clients,
)
from tailtamer.api import build, build_components, make_loop
from tailtamer.engine import History
from tailtamer.errors import ConfigError, ValidationError
from tailtamer.rng import Randomness
from tailtamer.schedules import make_lr

LOCAL = PAIRS + list(INSTANCES)


def config(
    alg: str,
    params: dict,
    n: int = 5,
    steps: int = 6,
    noise: dict | None = None,
    problem: dict | None = None,
    seed: int = 3,
) -> dict:
    return {
        "problem": problem or {"name": "quadratic", "dim": 6},
        "algorithm": {"name": alg, **params},
        "topology": {"name": "complete", "n": n},
        "noise": noise or {"name": "student-t", "df": 2.5, "scale": 0.5},
        "run": {"steps": steps, "seed": seed, "eval_every": steps, "dtype": "float64"},
    }


# ------------------------------------------------------------------------------------------- registry
def test_every_pair_and_instance_is_registered():
    assert len(PAIRS) == len(OUTER) * len(INNER) == 56
    assert set(OUTER) == {"avg", "sgd", "adagrad", "rmsprop", "adam", "l2clip", "biclip"}
    assert set(INNER) == {"sgd", "l2clip", "cclip", "biclip", "adam", "adamw", "rmsprop", "adagrad"}
    for name in LOCAL + ["avg-l2clip", "adam-sgd", "biclip-biclip"]:
        assert name in ALGORITHMS
    for name, (outer, inner) in {
        "bi2clip": ("biclip", "biclip"),
        "adam2": ("adam", "adam"),
        "diloco": ("sgd", "adamw"),
        "fedavg": ("avg", "sgd"),
    }.items():
        assert METHODS[name] == (outer, inner)
    p = ALGORITHMS.params("diloco")
    assert p["outer_nesterov"].default is True and p["outer_momentum"].default == 0.9


FROZEN = json.loads((Path(__file__).resolve().parents[1] / "data" / "algorithm_params.json").read_text())


def test_parameters_and_defaults_are_frozen():
    """Every algorithm registered when the schemas were frozen (issue 9: before the local-update operators moved
    onto operators/transforms) still has exactly those keys, in that order, with those defaults and types."""
    assert set(LOCAL) <= set(FROZEN)
    for name, frozen in FROZEN.items():
        now = [[k, repr(p.default), p.type_name()] for k, p in ALGORITHMS.params(name).items()]
        assert now == frozen, name


def test_parameters_belong_to_the_pair():
    """A pair accepts only its own operators' parameters (outer ones prefixed ``outer_``)."""
    assert "u" in ALGORITHMS.params("sgd-biclip") and "outer_u" not in ALGORITHMS.params("sgd-biclip")
    assert "outer_u" in ALGORITHMS.params("biclip-sgd") and "u" not in ALGORITHMS.params("biclip-sgd")
    with pytest.raises(ConfigError, match="did you mean"):
        build(config("adam-sgd", {"outer_beta": 0.9}))
    with pytest.raises(ConfigError):
        build(config("fedavg", {"u": 1.0}))


# ------------------------------------------------------------------------------------------- equivalences
def test_one_local_step_with_averaging_equals_dsgd_on_the_complete_graph():
    """avg-sgd, z = 1, η = 1: x_{t+1} = x_t − mean_i(x_t − (x_t − αg_i)) = mean_i(x_t − αg_i) = DSGD (complete W)."""
    for sched in ("constant", "cosine"):
        common = {"lr": 0.07, "schedule": sched}
        a = build(config("fedavg", {**common, "local_steps": 1, "outer_lr": 1.0}, n=6, steps=40)).run()["x"]
        b = build(config("dsgd", common, n=6, steps=40)).run()["x"]
        assert (a - b).abs().max().item() <= 1e-12
        assert (b - b.mean(0)).abs().max().item() <= 1e-12  # DSGD on K_n stays in consensus


@pytest.mark.parametrize("lr", [1.0, 0.1])
def test_adam_sgd_with_one_local_step_equals_torch_adam_on_the_averaged_gradient(lr):
    """Δ_t = η_ℓ·ḡ_t, so the outer Adam equals torch.optim.Adam on ḡ_t with ε/η_ℓ (ε/η_ℓ = ε when η_ℓ = 1)."""
    hp = {
        "lr": lr,
        "local_steps": 1,
        "outer_lr": 0.05,
        "outer_beta1": 0.8,
        "outer_beta2": 0.95,
        "outer_eps": 1e-3,
        "outer_form": "torch",
    }
    steps = 25
    c = build_components(config("adam-sgd", hp, n=4, steps=steps))
    x_vec = make_loop(c).run()["x"]

    problem, noise, seed = c.problem, c.noise, 3
    nodes = torch.arange(4)
    p = problem.x0(torch.float64).clone().requires_grad_(True)
    opt = torch.optim.Adam([p], lr=0.05, betas=(0.8, 0.95), eps=1e-3 / lr)
    for t in range(steps):
        x = p.detach().expand(4, -1)
        g = problem.grad(x, nodes, seed, t, 0) + noise.sample(seed, nodes, t, x.shape[1], 0)
        p.grad = g.mean(0)
        opt.step()
    assert (x_vec - p.detach()).abs().max().item() <= 1e-12


# ------------------------------------------------------------------------------------------- reference loop
class FedAdam:
    """Reddi et al. 2021 Alg. 2 written out (no bias correction, v₋₁ = τ²), with torch.optim's step interface."""

    def __init__(self, p, lr, beta1, beta2, tau):
        self.p, self.b1, self.b2, self.tau = p, beta1, beta2, tau
        self.param_groups = [{"lr": lr}]
        self.m = torch.zeros_like(p.detach())
        self.v = torch.full_like(p.detach(), tau * tau)

    def step(self):
        g = self.p.grad
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        with torch.no_grad():
            self.p -= self.param_groups[0]["lr"] * self.m / (self.v.sqrt() + self.tau)


OUTER_OPT = {
    "avg": lambda p, h: torch.optim.SGD([p], lr=h["outer_lr"]),
    "l2clip": lambda p, h: torch.optim.SGD([p], lr=h["outer_lr"]),
    "biclip": lambda p, h: torch.optim.SGD([p], lr=h["outer_lr"]),
    "sgd": lambda p, h: torch.optim.SGD(
        [p], lr=h["outer_lr"], momentum=h["outer_momentum"], nesterov=h["outer_nesterov"]
    ),
    "adagrad": lambda p, h: torch.optim.Adagrad([p], lr=h["outer_lr"], eps=h["outer_eps"]),
    "rmsprop": lambda p, h: torch.optim.RMSprop([p], lr=h["outer_lr"], alpha=h["outer_beta2"], eps=h["outer_eps"]),
    "adam": lambda p, h: (
        torch.optim.Adam([p], lr=h["outer_lr"], betas=(h["outer_beta1"], h["outer_beta2"]), eps=h["outer_eps"])
        if h["outer_form"] == "torch"
        else FedAdam(p, h["outer_lr"], h["outer_beta1"], h["outer_beta2"], h["outer_eps"])
    ),
}
INNER_OPT = {
    "sgd": lambda p, h: torch.optim.SGD([p], lr=h["lr"]),
    "l2clip": lambda p, h: torch.optim.SGD([p], lr=h["lr"]),
    "cclip": lambda p, h: torch.optim.SGD([p], lr=h["lr"]),
    "biclip": lambda p, h: torch.optim.SGD([p], lr=h["lr"]),
    "adam": lambda p, h: torch.optim.Adam([p], lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"]),
    "adamw": lambda p, h: torch.optim.AdamW(
        [p], lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"], weight_decay=h["weight_decay"]
    ),
    "rmsprop": lambda p, h: torch.optim.RMSprop([p], lr=h["lr"], alpha=h["beta2"], eps=h["eps"]),
    "adagrad": lambda p, h: torch.optim.Adagrad([p], lr=h["lr"], eps=h["eps"]),
}


def ref_l2clip(v, gamma):
    norm = math.sqrt(float((v * v).sum()))
    return v if norm <= gamma else v * (gamma / norm)


def ref_biclip(v, u, d):
    out = torch.zeros_like(v)
    for j in range(v.numel()):
        a = abs(float(v[j]))
        if a != 0.0:
            out[j] = math.copysign(min(u, max(d, a)), float(v[j]))
    return out


def ref_transform(kind, v, h, prefix, t):
    """The clipping inners/outers written out again (SGD on the transformed vector)."""
    if kind == "l2clip":
        return ref_l2clip(v, h[prefix + "gamma"])
    if kind == "cclip":
        g = h["gamma"]
        return torch.tensor([min(g, max(-g, float(a))) for a in v], dtype=v.dtype)
    if kind == "biclip":
        u = h[prefix + "u"] * (1 + t) ** h[prefix + "u_growth"]
        d = min(h[prefix + "d"] * (1 + t) ** (-h[prefix + "d_decay"]), u)
        return ref_biclip(v, u, d)
    return v


def run_per_client(c, steps: int, seed: int) -> torch.Tensor:
    """Client by client, step by step, with torch.optim optimizers: the independent transcription."""
    alg = c.algorithm
    h = alg.hyperparameters()
    outer, inner = h["outer"], h["inner"]
    problem, noise, n = c.problem, c.noise, c.n
    d = problem.dim
    m = client_count(h["clients"], n)
    lr_at = make_lr(h["lr"], h["schedule"], h["warmup"], steps)
    olr_at = make_lr(h["outer_lr"], h["outer_schedule"], 0, steps)
    server = problem.x0(torch.float64).clone().requires_grad_(True)
    outer_opt = OUTER_OPT[outer](server, h)
    params = [torch.zeros(d, dtype=torch.float64, requires_grad=True) for _ in range(n)]
    kept = [INNER_OPT[inner](params[i], h) for i in range(n)]
    for t in range(steps):
        chosen = sample_clients(seed, t, n, m).tolist()
        deltas = []
        for i in chosen:
            p = params[i]
            with torch.no_grad():
                p.copy_(server)
            opt = INNER_OPT[inner](p, h) if h["reset_inner"] else kept[i]
            for group in opt.param_groups:
                group["lr"] = lr_at(t)
            for r in range(h["local_steps"]):
                nodes = torch.tensor([i])
                g = problem.grad(p.detach()[None], nodes, seed, t, r)[0] + noise.sample(seed, nodes, t, d, r)[0]
                p.grad = ref_transform(inner, g, h, "", t)
                opt.step()
            deltas.append(server.detach() - p.detach())
        delta = sum(deltas) / len(deltas)
        for group in outer_opt.param_groups:
            group["lr"] = olr_at(t)
        server.grad = ref_transform(outer, delta, h, "outer_", t)
        outer_opt.step()
    return server.detach()


# Non-default settings that make every branch act: clipping active, growing/shrinking thresholds, momentum,
# weight decay, sampling (a count and a fraction), kept inner state.
PAIR_SETTINGS = {
    "lr": 0.05,
    "local_steps": 3,
    "schedule": "cosine",
    "outer_schedule": {"name": "poly", "power": 0.5},
    "gamma": 0.8,
    "u": 0.8,
    "d": 0.05,
    "u_growth": 0.3,
    "d_decay": 0.5,
    "beta1": 0.8,
    "beta2": 0.9,
    "weight_decay": 0.05,
    "outer_gamma": 0.3,
    "outer_u": 0.2,
    "outer_d": 0.02,
    "outer_u_growth": 0.2,
    "outer_d_decay": 0.2,
    "outer_momentum": 0.8,
    "outer_nesterov": True,
    "outer_beta1": 0.7,
    "outer_beta2": 0.9,
}


@pytest.mark.parametrize("name", LOCAL)
def test_vectorized_equals_per_client_reference(name):
    """All rows at once (masks, comm.mean) equals a per-client torch.optim loop to 1e-11 in float64."""
    i = LOCAL.index(name)
    known = ALGORITHMS.params(name)
    hp = {k: v for k, v in PAIR_SETTINGS.items() if k in known}
    hp["clients"] = [3, 0.6, 1.0][i % 3]  # a count, a fraction (3 of 5), everyone
    hp["reset_inner"] = bool(i % 2)
    steps, seed = 6, 3
    c = build_components(config(name, hp, steps=steps, seed=seed))
    x = make_loop(c).run()["x"]
    assert (x - x[:1]).abs().max().item() == 0.0  # the server model is replicated on every row
    ref = run_per_client(c, steps, seed)
    assert (x[0] - ref).abs().max().item() <= 1e-11, name
    assert (x[0] - c.problem.x0(torch.float64)).abs().max() > 1e-3  # it moved


def test_kept_inner_state_differs_from_reset():
    a = build(config("adam2", {"reset_inner": True, "lr": 0.05})).run()
    b = build(config("adam2", {"reset_inner": False, "lr": 0.05})).run()
    assert "inner.m" not in a and "inner.m" in b and "inner.k" in b
    assert torch.equal(b["inner.k"], torch.full((5,), 30.0, dtype=torch.float64))  # 6 rounds × 5 local steps
    assert (a["x"] - b["x"]).abs().max() > 1e-6


def test_kept_state_of_non_sampled_clients_is_frozen():
    loop = build(config("adam-adam", {"reset_inner": False, "clients": 2}, steps=1))
    s = loop.run()
    picked = sample_clients(3, 0, 5, 2)
    k = s["inner.k"]
    assert torch.equal(k[picked], torch.full((2,), 5.0, dtype=torch.float64))
    others = torch.ones(5, dtype=torch.bool)
    others[picked] = False
    assert torch.all(k[others] == 0) and torch.all(s["inner.m"][others] == 0)


# ------------------------------------------------------------------------------------------- convergence
CONV_OUTER_LR = {"avg": 1.0, "sgd": 0.5, "adagrad": 0.5, "rmsprop": 0.05, "adam": 0.1, "l2clip": 1.0, "biclip": 1.0}


def conv_settings(name: str) -> dict:
    outer, inner = METHODS[name]
    p = {
        "local_steps": 2,
        "lr": 0.3 if inner == "adagrad" else 0.05,
        "schedule": "cosine",
        "outer_schedule": "cosine",
        "outer_lr": CONV_OUTER_LR[outer],
    }
    p.update({"biclip": {"u": 2.0, "d": 0.01}, "l2clip": {"gamma": 2.0}, "cclip": {"gamma": 2.0}}.get(inner, {}))
    p.update(
        {
            "sgd": {"outer_momentum": 0.5},
            "biclip": {"outer_u": 1.0, "outer_d": 0.001},
            "l2clip": {"outer_gamma": 1.0},
        }.get(outer, {})
    )
    return p


@pytest.mark.parametrize("name", LOCAL)
def test_every_method_converges_on_a_noisy_quadratic(name):
    """Homogeneous quadratic (clipped and adaptive clients are biased under heterogeneity), Student-t noise."""
    hist = History()
    cfg = config(
        name,
        conv_settings(name),
        n=4,
        steps=100,
        problem={"name": "quadratic", "dim": 5, "heterogeneity": 0.0},
        noise={"name": "student-t", "df": 2.5, "scale": 0.3},
        seed=1,
    )
    build(cfg, callbacks=[hist]).run()
    assert hist.rows[-1]["dist_to_opt"] < 0.1 * hist.rows[0]["dist_to_opt"], name


# ------------------------------------------------------------------------------------------- sampling
def test_client_sampling_is_a_pure_function_of_seed_and_round():
    n = 20
    for t in range(5):
        a = sample_clients(7, t, n, 6)
        assert len(a) == 6 and len(set(a.tolist())) == 6 and int(a.max()) < n
        assert torch.equal(a, sample_clients(7, t, n, 6))  # deterministic
        full = client_mask(Randomness(7, torch.arange(n), t), n, 6)
        assert int(full.sum()) == 6 and torch.equal(full.nonzero()[:, 0], a)
        # a process hosting nodes 5..9 sees the same sample restricted to its rows
        assert torch.equal(client_mask(Randomness(7, torch.arange(5, 10), t), n, 6), full[5:10])
    draws = {tuple(sample_clients(7, t, n, 6).tolist()) for t in range(10)}
    assert len(draws) > 5  # rounds differ
    assert not torch.equal(sample_clients(7, 0, n, 6), sample_clients(8, 0, n, 6))
    counts = torch.zeros(n)
    for t in range(400):
        counts[sample_clients(1, t, n, 5)] += 1
    assert counts.min() > 60 and counts.max() < 140  # roughly uniform (mean 100)


def test_client_counts():
    assert client_count(1.0, 10) == 10 and client_count(0.5, 10) == 5 and client_count(0.25, 10) == 3
    assert client_count(0.01, 10) == 1 and client_count(1, 10) == 1 and client_count(7, 10) == 7
    with pytest.raises(ValidationError, match="exceeds"):
        client_count(11, 10)
    with pytest.raises(ValidationError, match="exceeds"):
        build(config("fedavg", {"clients": 9}, n=5)).run()


def test_sampled_rounds_use_only_the_sampled_clients():
    """With one client per round, a round of fedavg equals that client's own local SGD."""
    c = build_components(config("fedavg", {"clients": 1, "local_steps": 2, "lr": 0.1}, steps=1))
    x = make_loop(c).run()["x"][0]
    i = int(sample_clients(3, 0, 5, 1)[0])
    y = c.problem.x0(torch.float64)
    for r in range(2):
        nodes = torch.tensor([i])
        y = y - 0.1 * (c.problem.grad(y[None], nodes, 3, 0, r)[0] + c.noise.sample(3, nodes, 0, 6, r)[0])
    assert (x - y).abs().max().item() <= 1e-14


# ------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "name,params,match",
    [
        ("bi2clip", {"d": 2.0, "u": 1.0}, "d must be ≤ u"),
        ("bi2clip", {"outer_d": 2.0, "outer_u": 1.0}, "outer_d must be ≤ outer_u"),
        ("bi2clip", {"u": 0.0}, "u must be in"),
        ("bi2clip", {"d": -0.1}, "d must be in"),
        ("bi2clip", {"u_growth": -1.0}, "u_growth"),
        ("fedavg", {"lr": 0.0}, "lr"),
        ("fedavg", {"outer_lr": -1.0}, "lr"),
        ("fedavg", {"local_steps": 0}, "local_steps"),
        ("fedavg", {"clients": 0}, "clients"),
        ("fedavg", {"clients": 0.0}, "clients"),
        ("fedavg", {"clients": 1.5}, "clients"),
        ("fedavg", {"clients": True}, "clients"),
        ("fedavg", {"clients": "all"}, "clients"),
        ("adam2", {"beta1": 1.0}, "beta1"),
        ("adam2", {"outer_beta2": -0.1}, "outer_beta2"),
        ("adam2", {"outer_eps": 0.0}, "outer_eps"),
        ("sgd-sgd", {"outer_nesterov": True}, "outer_nesterov needs outer_momentum"),
        ("sgd-sgd", {"outer_momentum": 1.0}, "outer_momentum"),
        ("avg-l2clip", {"gamma": 0.0}, "gamma"),
        ("l2clip-sgd", {"outer_gamma": -1.0}, "outer_gamma"),
        ("diloco", {"weight_decay": -0.1}, "weight_decay"),
    ],
)
def test_invalid_hyperparameters_raise(name, params, match):
    with pytest.raises(ValidationError, match=match):
        ALGORITHMS.build(name, params, steps=10)


# ------------------------------------------------------------------------------------------- accounting
def test_accounting_in_summary(tmp_path):
    from tailtamer.experiments.runner import run_config

    d, n = 6, 5
    out = {}
    for name, extra in (("bi2clip", {}), ("adam2", {"clients": 0.6}), ("diloco", {})):
        cfg = config(name, extra, n=n, steps=4)
        s = run_config(cfg, tmp_path / name, progress=False, plot=False)
        out[name] = s["accounting"]
        assert json.loads((tmp_path / name / "summary.json").read_text())["accounting"] == s["accounting"]
    assert out["bi2clip"]["state_bytes_per_client"] == 0 and out["bi2clip"]["state_bytes_server"] == 0
    assert out["bi2clip"]["comm_bytes_per_round"] == 2 * n * d * 8
    assert out["adam2"]["state_bytes_per_client"] == 2 * d * 8 and out["adam2"]["state_bytes_server"] == 2 * d * 8
    assert out["adam2"]["comm_bytes_per_round"] == 2 * 3 * d * 8 and out["adam2"]["clients_per_round"] == 3
    assert out["diloco"]["state_bytes_per_client"] == 2 * d * 8 and out["diloco"]["state_bytes_server"] == d * 8
    assert out["adam2"]["state_bytes_total"] == n * 2 * d * 8 + 2 * d * 8


def test_decentralized_summary_has_no_accounting(tmp_path):
    from tailtamer.experiments.runner import run_config

    s = run_config(config("dsgd", {}, steps=2), tmp_path / "r", progress=False, plot=False)
    assert "accounting" not in s


def test_state_round_trips_through_a_checkpoint(tmp_path):
    """Stopping after 3 rounds and resuming gives the uninterrupted run (sampling and kept state included)."""
    from tailtamer.rundir.checkpoint import load_checkpoint, save_checkpoint

    cfg = config("adam-biclip", {"reset_inner": False, "clients": 0.6}, steps=6)
    full = build(cfg).run()
    loop = build({**cfg, "run": {**cfg["run"], "steps": 3}})
    half = loop.run()
    save_checkpoint(tmp_path, loop, 3, half)
    loop2 = build(cfg)
    state, step = load_checkpoint(tmp_path, loop2)
    resumed = loop2.run(state, start_step=step)
    assert set(resumed) == set(full)
    for k in full:
        assert torch.equal(resumed[k], full[k]), k


# ------------------------------------------------------------------------------------------- torch.distributed
def _distributed_worker(rank: int, world: int, init_file: str, cfg: dict, out: str) -> None:
    import torch.distributed as dist

    from tailtamer.comm.distributed import DistributedComm

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        c = build_components(cfg)
        comm = DistributedComm(None, n=c.n)
        state = make_loop(c, comm=comm).run()
        full = {k: v if k.startswith("outer.") else comm.gather(v) for k, v in state.items()}  # server: [1, d]
        if rank == 0:
            torch.save(full, out)
    finally:
        dist.destroy_process_group()


@pytest.mark.multiprocess
def test_simulator_equals_torch_distributed(tmp_path):
    """Runs once comm/distributed.py exists: 2 gloo processes hosting 3 + 2 clients give the simulator's state
    (Adam² with the inner state kept across rounds, 3 of 5 clients sampled)."""
    pytest.importorskip("tailtamer.comm.distributed")
    import torch.multiprocessing as mp

    cfg = config("adam2", {"lr": 0.05, "reset_inner": False, "clients": 0.6}, steps=5)
    sim = build(cfg).run()
    out = tmp_path / "dist.pt"
    mp.start_processes(
        _distributed_worker, args=(2, str(tmp_path / "init"), cfg, str(out)), nprocs=2, start_method="spawn"
    )
    got = torch.load(out, weights_only=True)
    for k, v in sim.items():
        assert (got[k] - v).abs().max().item() <= 1e-12, k


# ------------------------------------------------------------------------------------------- the E3 recipe
def test_tailopt_recipe_configs_resolve(tmp_path):
    from tailtamer.config import resolve
    from tailtamer.experiments.studies import tailopt_local_updates as tailopt

    jobs = tailopt.tune_jobs(tmp_path)
    assert len(jobs) == len(tailopt.TASKS) * len(tailopt.NOISES) * len(tailopt.TUNE_SEEDS) * sum(
        len(tailopt.GRID[m]) for m in tailopt.METHODS
    )
    for _, cfg in jobs[::7]:
        resolve(cfg)
    tuned = {
        f"{t}/{n}": {m: tailopt.GRID[m][0] for m in tailopt.METHODS} for t in tailopt.TASKS for n in tailopt.NOISES
    }
    model_tuned = {task: {m: pts[1] for m, pts in tailopt.model_grid(tuned).items()} for task in tailopt.MODEL_TASKS}
    model_jobs = tailopt.model_tune_jobs(tmp_path, tuned) + tailopt.model_jobs(tmp_path, model_tuned)
    k = len(tailopt.MODEL_FACTORS)
    per_task = sum(k * (k if m in tailopt.MODEL_SECOND else 1) for m in tailopt.METHODS)
    assert len(model_jobs) == len(tailopt.MODEL_TASKS) * (per_task + len(tailopt.METHODS) * len(tailopt.SEEDS))
    for _, cfg in tailopt.main_jobs(tmp_path, tuned) + model_jobs:
        resolve(cfg)
