"""Model problems: stacked parameter views vs n independent models (float64), loop vs vmap, minibatch
purity, partitions, metrics, and digits-cnn training with DSGD on a ring of 4."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from tailtamer.comm.simulated import SimulatedComm
from tailtamer.errors import ConfigError, ValidationError
from tailtamer.problems import build_problem
from tailtamer.problems.models import (
    GPT,
    DigitsCNN,
    ModelProblem,
    ParamLayout,
    StackedModels,
    TensorData,
    contiguous_shards,
    cross_entropy,
    dirichlet_shards,
    iid_shards,
)

pytest.importorskip("sklearn", reason="digits needs scikit-learn (pip install 'tailtamer[data]')")


def toy_lm(n: int = 3, backend: str = "auto", **kw) -> ModelProblem:
    """A tiny GPT on a synthetic token stream (no data files needed)."""
    g = torch.Generator().manual_seed(0)
    stream = torch.randint(0, 11, (2000,), generator=g)
    w = stream.unfold(0, 9, 8)
    data = TensorData(w[:, :-1].contiguous(), w[:, 1:].contiguous())
    factory = lambda: GPT(11, d_model=8, layers=2, heads=2, ffn=16, context=8)  # noqa: E731
    return ModelProblem(n, factory, data, data, batch_size=4, backend=backend, **kw)


def spread(p: ModelProblem, seed: int = 1) -> torch.Tensor:
    """Distinct float64 parameter rows around x0 (every node at a different point)."""
    g = torch.Generator().manual_seed(seed)
    x0 = p.x0(torch.float64)
    return x0 + 0.05 * torch.randn(p.n, p.dim, generator=g, dtype=torch.float64)


def reference_grads(p: ModelProblem, x: torch.Tensor, seed: int, step: int) -> torch.Tensor:
    """n independent float64 models, one backward each (the naive ladder rung)."""
    ids = p.batch_indices(torch.arange(p.n), seed, step, 0, p.batch_size)
    rows = []
    for i in range(p.n):
        model = p.factory().double()
        vector_to_parameters(x[i].clone(), model.parameters())
        inputs, targets = p.batch(p.train, ids[i], x)
        cross_entropy(model(inputs), targets).backward()
        rows.append(parameters_to_vector(q.grad for q in model.parameters()))
    return torch.stack(rows)


@pytest.mark.parametrize("backend", ["loop", "vmap"])
@pytest.mark.parametrize("kind", ["gpt", "cnn"])
def test_stacked_views_match_independent_models(backend, kind):
    p = toy_lm(3, backend) if kind == "gpt" else build_problem("digits-cnn", 3, {"backend": backend, "batch_size": 5})
    x = spread(p)
    G = p.grad(x, torch.arange(p.n), seed=7, step=3)
    assert G.shape == x.shape and G.dtype == torch.float64
    torch.testing.assert_close(G, reference_grads(p, x, 7, 3), rtol=1e-10, atol=1e-12)
    assert torch.equal(x, spread(p)), "grad must not modify the iterate"


def test_replica_parameters_and_grads_are_views_of_the_stacked_rows():
    X = torch.randn(3, ParamLayout(DigitsCNN(2)).dim, dtype=torch.float64)
    G = torch.zeros_like(X)
    models = StackedModels(lambda: DigitsCNN(2), 3, torch.float64, "cpu")
    models.bind(X, G)
    lo, hi = X.data_ptr(), X.data_ptr() + X.numel() * X.element_size()
    glo, ghi = G.data_ptr(), G.data_ptr() + G.numel() * G.element_size()
    for i, m in enumerate(models.models):
        for q in m.parameters():
            assert lo <= q.data_ptr() < hi and glo <= q.grad.data_ptr() < ghi
        torch.testing.assert_close(parameters_to_vector(m.parameters()), X[i])
    X[1, 0] = 123.0  # writes through: no copy was made
    assert next(models.models[1].parameters()).reshape(-1)[0].item() == 123.0


def test_loop_and_vmap_agree_and_batches_are_pure():
    a, b = toy_lm(4, "loop"), toy_lm(4, "vmap")
    x = spread(a)
    ga, gb = a.grad(x, torch.arange(4), 1, 5, 2), b.grad(x, torch.arange(4), 1, 5, 2)
    torch.testing.assert_close(ga, gb, rtol=1e-9, atol=1e-12)
    # a process hosting rows {1, 3} draws the same minibatches and gradients for those nodes
    part = a.grad(x[[1, 3]], torch.tensor([1, 3]), 1, 5, 2)
    torch.testing.assert_close(part, ga[[1, 3]], rtol=1e-10, atol=1e-12)
    ids = a.batch_indices(torch.arange(4), 1, 5, 2, 6)
    assert torch.equal(ids, a.batch_indices(torch.arange(4), 1, 5, 2, 6))
    assert not torch.equal(ids, a.batch_indices(torch.arange(4), 1, 5, 3, 6))
    for i in range(4):  # each node samples only its own shard
        assert set(ids[i].tolist()) <= set(a.shards[i].tolist())


def test_chunked_large_batch_equals_one_pass():
    p = toy_lm(2, "vmap")
    x = spread(p)
    one = p.batch_grad(x, torch.arange(2), 0, 0, batch_size=12, stream="big")
    torch.testing.assert_close(p.batch_grad(x, torch.arange(2), 0, 0, batch_size=12, stream="big", chunk=5), one)


def test_partitions_cover_the_data():
    gen = np.random.default_rng(0)
    labels = np.repeat(np.arange(5), 40)
    for shards in (contiguous_shards(203, 4), iid_shards(203, 4, gen), dirichlet_shards(labels, 4, 0.1, gen)):
        allids = np.concatenate(shards)
        assert len(allids) == len(set(allids.tolist())) == (203 if len(allids) == 203 else 200)
    skew = dirichlet_shards(labels, 4, 0.05, np.random.default_rng(1))
    classes_per_node = [len(np.unique(labels[s])) for s in skew]
    assert min(classes_per_node) < 5  # label skew: some node misses classes
    assert [len(s) for s in contiguous_shards(10, 4)] == [3, 3, 2, 2]


def test_validation_and_metrics():
    with pytest.raises(ValidationError, match="partition"):
        build_problem("digits-cnn", 2, {"partition": "shuffled"})
    with pytest.raises(ValidationError, match="classification"):
        toy_lm(2, partition="dirichlet")
    with pytest.raises(ConfigError, match="unknown key"):
        build_problem("digits-cnn", 2, {"chanels": 4})
    p = build_problem("digits-cnn", 3, {"per_node_eval": True})
    assert p.metric_names[0] == "val_acc" and "node_val_acc" in p.metric_names
    x = p.x0(torch.float32).expand(3, -1).clone()
    m = p.metrics(x, SimulatedComm(np.full((3, 3), 1 / 3)))
    assert set(m) == set(p.metric_names) and m["consensus"] < 1e-10
    assert abs(m["val_loss"] - m["node_val_loss"]) < 1e-5 and abs(m["val_loss"] - np.log(10)) < 0.3
    lm = toy_lm(2)
    assert lm.metric_names[0] == "val_loss"


def test_digits_cnn_dsgd_ring4_reaches_90_percent():
    from tailtamer.api import build
    from tailtamer.engine import History

    h = History()
    cfg = {
        "problem": {"name": "digits-cnn"},
        "algorithm": {"name": "dsgd", "lr": 0.1},
        "topology": {"name": "ring", "n": 4},
        "run": {"steps": 300, "eval_every": 100, "dtype": "float32"},
    }
    build(cfg, [h]).run()
    assert h.rows[-1]["val_acc"] > 0.9, h.rows


@pytest.mark.parametrize("name,params", [("digits-vit", {}), ("digits-cnn", {"partition": "dirichlet"})])
def test_other_classifiers_learn(name, params):
    from tailtamer.api import build
    from tailtamer.engine import History

    h = History()
    cfg = {
        "problem": {"name": name, **params},
        "algorithm": {"name": "gt-nsgdm", "lr": 0.05},
        "topology": {"name": "ring", "n": 4},
        "run": {"steps": 200, "eval_every": 200, "dtype": "float32"},
    }
    build(cfg, [h]).run()
    assert h.rows[-1]["val_acc"] > 0.6, h.rows


def test_async_train_loss_is_the_latest_jobs_minibatch_loss():
    """On the event engine a gradient call computes one worker's job: train_loss is that job's minibatch loss
    (finite, equal to the loss the problem recorded), not NaN."""
    from tailtamer.api import build
    from tailtamer.engine import History

    hist = History()
    loop = build(
        {
            "problem": {"name": "digits-cnn", "batch_size": 8},
            "algorithm": {"name": "asgd", "lr": 0.05},
            "topology": {"name": "server", "n": 3},
            "run": {"steps": 4, "eval_every": 4},
        },
        callbacks=[hist],
    )
    loop.run()
    last = loop.problem.last_losses
    assert last.shape[0] == 1
    assert hist.rows[-1]["train_loss"] == pytest.approx(float(last.mean()), rel=1e-12)
