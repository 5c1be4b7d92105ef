"""Any ``nn.Module`` factory + a data set split over n nodes, as a problem of the engine.

The iterate row x_i is node i's flat parameter vector (:class:`~.stacked.ParamLayout`). ``grad`` draws
each node's minibatch from its own shard with indices that are a pure function of
``(seed, node, step, call)`` (:func:`tailtamer.rng.uniform`, stream ``"batch"``; sampling with replacement),
and computes all n local gradients into one fresh ``[n_local, d]`` tensor, either by n module replicas
whose parameters and gradients are views of the stacked tensors (``backend = "loop"``) or by one
``torch.func.vmap`` over the node axis (``backend = "vmap"``). Local objective:
f_i(x) = mean loss over node i's shard; global f = (1/n) Σ f_i.

Metrics (all reductions over nodes through ``comm.mean``): held-out ``val_loss`` (and ``val_acc`` for
classifiers) at the node-average model x̄; ``train_loss``, the mean minibatch loss of the latest gradient
call (on the asynchronous engine, where a call computes one worker's job, that job's loss); ``consensus`` =
(1/n) Σ ‖x_i − x̄‖²; with ``per_node_eval``, also ``node_val_loss`` (and ``node_val_acc``), the mean over nodes
of each node's own held-out metric.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from ...comm.base import Comm
from ...errors import ValidationError
from ...rng import uniform
from ...validation import check_choice
from ..base import Problem
from ..synthetic import check_int, data_rng
from .partition import PARTITIONS
from .partition import partition as split_samples
from .stacked import LossFn, ParamLayout, StackedModels, vmap_backward

BACKENDS = ("auto", "loop", "vmap")


@dataclass
class TensorData:
    """Samples of a split: ``inputs [N, ...]`` (float features or int64 token ids), ``targets [N, ...]``
    (int64 class ids, one per output position), and per-sample class ``labels`` for label-skew partitions."""

    inputs: torch.Tensor
    targets: torch.Tensor
    labels: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.inputs.shape[0])


def cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over every output position (``outputs [..., C]``, ``targets [...]``)."""
    return F.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1))


class ModelProblem(Problem):
    """A model problem (see module docstring).

    Args:
        n: number of nodes.
        factory: builds the ``nn.Module`` (float32 by default; cast to the run's dtype).
        train, val: the training set (split over nodes) and the held-out set (for evaluation).
        classifier: also report ``val_acc`` (then the headline metric).
        batch_size: minibatch size per node and gradient call.
        partition: ``"iid"``, ``"contiguous"`` or ``"dirichlet"`` (label skew, ``dirichlet_alpha``).
        data_seed: seeds the partition (never the run seed).
        init_seed: seeds the initial parameters x0 (the same on every node).
        backend: ``"loop"``, ``"vmap"`` or ``"auto"`` (see :attr:`resolved_backend`).
        per_node_eval: also evaluate every node's own model.
        eval_batch_size: held-out samples per forward pass.
    """

    def __init__(
        self,
        n: int,
        factory: Callable[[], nn.Module],
        train: TensorData,
        val: TensorData,
        *,
        classifier: bool = False,
        batch_size: int = 32,
        partition: str = "iid",
        dirichlet_alpha: float = 0.5,
        data_seed: int = 0,
        init_seed: int = 0,
        backend: str = "auto",
        per_node_eval: bool = False,
        eval_batch_size: int = 256,
        loss_fn: LossFn = cross_entropy,
        owner: str = "model problem",
    ):
        self.n = check_int("n", n, 1, owner)
        self.batch_size = check_int("batch_size", batch_size, 1, owner)
        self.eval_batch_size = check_int("eval_batch_size", eval_batch_size, 1, owner)
        self.data_seed = check_int("data_seed", data_seed, 0, owner)
        self.init_seed = check_int("init_seed", init_seed, 0, owner)
        self.partition = check_choice("partition", partition, PARTITIONS, owner)
        self.backend = check_choice("backend", backend, BACKENDS, owner)
        if partition == "dirichlet" and not classifier:
            raise ValidationError(f"{owner}: partition 'dirichlet' (label skew) needs a classification problem")
        self.factory, self.train, self.val = factory, train, val
        self.classifier, self.per_node_eval, self.loss_fn = bool(classifier), bool(per_node_eval), loss_fn
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.init_seed)
            module = factory()
        self.layout = ParamLayout(module)
        self.dim = self.layout.dim
        self._x0 = self.layout.flatten(module).to(torch.float64)
        self.vmap_ok = bool(getattr(module, "vmap_ok", True))
        self.has_embedding = any(isinstance(m, nn.Embedding) for m in module.modules())
        if self.backend == "vmap" and not self.vmap_ok:
            raise ValidationError(
                f"{owner}: backend 'vmap' is not supported by {type(module).__name__}; use 'loop' or 'auto'"
            )
        shards = split_samples(
            self.partition, len(train), self.n, data_rng(self.data_seed, "partition"), train.labels, dirichlet_alpha
        )
        self.shards = shards
        self._sizes = torch.tensor([len(s) for s in shards], dtype=torch.float64)
        width = max(len(s) for s in shards)
        self._padded = torch.tensor(np.stack([np.resize(s, width) for s in shards]), dtype=torch.int64)
        self._cache: dict[tuple, object] = {}
        self.last_losses: torch.Tensor | None = None

    # ---- contract -------------------------------------------------------------------------------
    @property
    def metric_names(self) -> tuple[str, ...]:  # type: ignore[override]
        head = ("val_acc", "val_loss") if self.classifier else ("val_loss",)
        nodes: tuple[str, ...] = ()
        if self.per_node_eval:
            nodes = (("node_val_acc",) if self.classifier else ()) + ("node_val_loss",)
        return head + ("train_loss", "consensus") + nodes

    def x0(self, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu") -> torch.Tensor:
        return self._x0.to(dtype=dtype, device=device).clone()

    def grad(self, x: torch.Tensor, nodes: torch.Tensor, seed: int, step: int, call: int = 0) -> torch.Tensor:
        return self.batch_grad(x, nodes, seed, step, call)

    # ---- gradients --------------------------------------------------------------------------------
    @property
    def resolved_backend(self) -> str:
        """The backend ``auto`` stands for: ``loop`` for modules with an ``nn.Embedding`` (its backward under
        vmap is slow: measured 2.5–3.2× slower for the 3M GPT and 1.2× for the SST-2 model on one CPU
        thread) or that cannot be vmapped, else ``vmap`` (1.0–2.1× faster for the digits CNN / ViT)."""
        if self.backend != "auto":
            return self.backend
        return "vmap" if self.vmap_ok and not self.has_embedding else "loop"

    def batch_indices(
        self, nodes: torch.Tensor, seed: int, step: int, call: int, batch_size: int, stream: str = "batch"
    ) -> torch.Tensor:
        """Training-sample ids ``[n_local, batch_size]``: uniform with replacement from each node's shard,
        a pure function of ``(seed, stream, node, step, call)``."""
        nodes = torch.as_tensor(nodes, dtype=torch.int64).reshape(-1).cpu()
        u = uniform(seed, stream, nodes, step, batch_size, call)
        local = torch.floor(u * self._sizes[nodes, None]).to(torch.int64)
        return torch.gather(self._padded[nodes], 1, local)

    def batch_grad(
        self,
        x: torch.Tensor,
        nodes: torch.Tensor,
        seed: int,
        step: int,
        call: int = 0,
        batch_size: int | None = None,
        stream: str = "batch",
        chunk: int = 0,
    ) -> torch.Tensor:
        """Minibatch gradients ``[n_local, d]`` at ``x`` (``batch_size`` per node, default the problem's).

        ``chunk > 0`` splits the batch into passes of at most ``chunk`` samples (for large batches); the
        result is the same mean gradient.
        """
        B = batch_size or self.batch_size
        ids = self.batch_indices(nodes, seed, step, call, B, stream)
        G = torch.zeros_like(x)
        losses = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        step_size = chunk or B
        for start in range(0, B, step_size):
            part = ids[:, start : start + step_size]
            inputs, targets = self.batch(self.train, part, x)
            w = part.shape[1] / B
            loss_fn = self.loss_fn if w == 1.0 else (lambda o, t, w=w: w * self.loss_fn(o, t))
            if self.resolved_backend == "vmap":
                losses += vmap_backward(self.module(x), self.layout, x, inputs, targets, loss_fn, G)
            else:
                losses += self.replicas(x).backward(x, inputs, targets, loss_fn, G)
        self.last_losses = losses
        return G

    def batch(self, data: TensorData, ids: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(inputs, targets)`` of sample ids (any shape), floats cast to ``like``'s dtype, on its device."""
        inputs = self.cast(data, "inputs", like)[ids.to(like.device)]
        targets = self.cast(data, "targets", like)[ids.to(like.device)]
        return inputs, targets

    def cast(self, data: TensorData, field: str, like: torch.Tensor) -> torch.Tensor:
        key = (id(data), field, like.dtype, like.device)
        if key not in self._cache:
            t = getattr(data, field)
            self._cache[key] = t.to(device=like.device, dtype=like.dtype if t.is_floating_point() else t.dtype)
        return self._cache[key]  # type: ignore[return-value]

    def module(self, like: torch.Tensor) -> nn.Module:
        """One module in ``like``'s dtype and device (architecture and buffers for ``functional_call``)."""
        key = ("module", like.dtype, like.device)
        if key not in self._cache:
            self._cache[key] = self.factory().to(dtype=like.dtype, device=like.device)
        return self._cache[key]  # type: ignore[return-value]

    def replicas(self, like: torch.Tensor) -> StackedModels:
        """The ``n_local`` module replicas of the loop backend (built once per dtype, device and size)."""
        key = ("replicas", like.dtype, like.device, like.shape[0])
        if key not in self._cache:
            self._cache[key] = StackedModels(self.factory, like.shape[0], like.dtype, like.device)
        return self._cache[key]  # type: ignore[return-value]

    # ---- evaluation -----------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, theta: torch.Tensor, data: TensorData | None = None) -> dict[str, float]:
        """Held-out mean loss (over every target position) and, for classifiers, accuracy of one flat
        parameter vector ``theta [d]``."""
        data = data or self.val
        module, params = self.module(theta), self.layout.params(theta)
        total, correct, count = 0.0, 0.0, 0
        for start in range(0, len(data), self.eval_batch_size):
            ids = torch.arange(start, min(start + self.eval_batch_size, len(data)))
            inputs, targets = self.batch(data, ids, theta)
            out = functional_call(module, params, (inputs,))
            flat, tgt = out.reshape(-1, out.shape[-1]), targets.reshape(-1)
            total += float(F.cross_entropy(flat, tgt, reduction="sum"))
            correct += float((flat.argmax(-1) == tgt).sum())
            count += tgt.numel()
        out = {"val_loss": total / max(count, 1)}
        if self.classifier:
            out["val_acc"] = correct / max(count, 1)
        return out

    def _train_losses(self, x: torch.Tensor) -> torch.Tensor:
        """One loss per row of ``x``: the latest gradient call's per-row losses; where that call had other rows
        (one async job's worker), their mean on every row; NaN before any call."""
        last = self.last_losses
        if last is None:
            return torch.full((x.shape[0],), math.nan, dtype=x.dtype, device=x.device)
        if last.shape[0] == x.shape[0]:
            return last
        return last.mean().expand(x.shape[0]).to(x.dtype)

    @torch.no_grad()
    def metrics(self, x: torch.Tensor, comm: Comm) -> dict[str, float]:
        with comm.stats.paused():
            xbar = comm.mean(x)
            out = self.evaluate(xbar[0])
            cols = [((x - xbar) ** 2).sum(1, keepdim=True), self._train_losses(x)[:, None]]
            if self.per_node_eval:
                node = [self.evaluate(row) for row in x]
                cols.append(
                    torch.tensor(
                        [[m["val_loss"], m.get("val_acc", math.nan)] for m in node], dtype=x.dtype, device=x.device
                    )
                )
            avg = comm.mean(torch.cat(cols, dim=1))[0].tolist()
        out.update(consensus=avg[0], train_loss=avg[1])
        if self.per_node_eval:
            out["node_val_loss"] = avg[2]
            if self.classifier:
                out["node_val_acc"] = avg[3]
        return {k: float(out[k]) for k in self.metric_names}
