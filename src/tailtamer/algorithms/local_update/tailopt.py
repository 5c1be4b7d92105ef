"""Local-update training: the TailOPT family (Lee, Zaheer, Li, ICML 2025, arXiv 2502.04164; docs/tailopt.md).

One engine step is one round t. The server model ``x_t`` is replicated on every row of ``state["x"]``; the
server's optimizer state (``outer.*``, shape ``[1, ...]``) is replicated on every process. The server's row is
:func:`~tailtamer.comm.server.server_rows` (row 0 of a run; one per member in a stacked run of a stacked sweep,
whose outer hyperparameters are then one row per member, :attr:`LocalUpdate.server_attributes`). A round::

    x_{i,0} = x_t                                   for every sampled client i
    x_{i,r+1} = x_{i,r} − η_ℓ · Inner(g_{i,r})      r = 0 … z−1, g_{i,r} = grad(x_{i,r}) (fresh noise per call)
    Δ_t = mean_{i sampled} (x_t − x_{i,z})          one comm.mean (non-sampled rows masked to 0, rescaled n/m)
    x_{t+1} = x_t − η · Outer(Δ_t)                  every row becomes x_{t+1}

Inner and Outer are registered transforms (:mod:`tailtamer.operators.transforms`). Every ``{outer}-{inner}``
pair of :data:`OUTER` × :data:`INNER` is registered as a :class:`~tailtamer.registry.Composite` of
:class:`LocalUpdate` with the two transforms (outer keys prefixed ``outer_``), together with the instances
``bi2clip`` (biclip-biclip), ``adam2`` (adam-adam), ``diloco`` (Nesterov-SGD outer, AdamW inner) and ``fedavg``
(avg-sgd).

Parameters common to all: ``lr`` (η_ℓ; ``schedule``/``warmup`` over rounds), ``outer_lr`` (η;
``outer_schedule``), ``local_steps`` (z), ``clients`` (see :mod:`.sampling`), ``reset_inner`` (true: the inner
optimizer starts from zero state every round; false: each client keeps its state, and its own update count,
across the rounds it takes part in).
"""

from __future__ import annotations

from typing import Any

import torch

from ...comm.server import replicate, server_rows
from ...errors import ValidationError
from ...operators import TRANSFORMS, Transform
from ...registry import Composite, Part
from ...schedules import make_lr
from ...validation import check_int
from ..base import ALGORITHMS, Algorithm, Oracle, State
from .sampling import check_clients, client_count, client_mask, masked_mean, row_mask

#: Inner (client) optimizers in the order of docs/tailopt.md: TailOPT key → registered transform.
INNER: dict[str, str] = {
    "sgd": "identity",
    "l2clip": "l2clip",
    "cclip": "cclip",
    "biclip": "biclip",
    "adam": "adam",
    "adamw": "adamw",
    "rmsprop": "rmsprop",
    "adagrad": "adagrad",
}
#: Outer (server) optimizers: TailOPT key → registered transform (the adaptive ones in their server forms).
OUTER: dict[str, str] = {
    "avg": "identity",
    "sgd": "momentum",
    "adagrad": "outer-adagrad",
    "rmsprop": "outer-rmsprop",
    "adam": "outer-adam",
    "l2clip": "l2clip",
    "biclip": "biclip",
}
#: Default outer step size η per outer optimizer.
OUTER_LR = {"avg": 1.0, "sgd": 1.0, "adagrad": 0.01, "rmsprop": 0.01, "adam": 0.01, "l2clip": 1.0, "biclip": 1.0}
#: Short descriptions of the TailOPT operators (for the registry summaries).
LABELS = {
    "inner": {"sgd": "plain gradient step"},
    "outer": {"avg": "averaging: x ← x − η·Δ", "sgd": "SGD with (Nesterov) momentum"},
}


class LocalUpdate(Algorithm):
    """A TailOPT method: an inner transform on each client, an outer transform on the server."""

    family = "local-update"
    requires = "none"
    #: attributes acting on the server's row (:func:`~tailtamer.comm.server.server_rows`): in a stacked run of a
    #: stacked sweep their per-member values are one row per member, not one per client row
    #: (:func:`tailtamer.engine.stacked.rows.stack_objects`)
    server_attributes = ("outer", "_outer_lr")

    def __init__(
        self,
        steps: int,
        *,
        name: str,
        inner: Transform,
        outer: Transform,
        lr: float = 0.01,
        outer_lr: float = 1.0,
        local_steps: int = 5,
        clients: Any = 1.0,
        reset_inner: bool = True,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
        outer_schedule: str | dict[str, Any] = "constant",
    ):
        self.name = name  # type: ignore[misc]  # one class, many registered names
        check_int("local_steps", local_steps, 1, name)
        if not isinstance(reset_inner, bool):
            raise ValidationError(f"{name}: reset_inner must be true or false, got {reset_inner!r}")
        self._lr = make_lr(lr, schedule, warmup, steps, name)
        self._outer_lr = make_lr(outer_lr, outer_schedule, 0, steps, name)
        self.local_steps, self.reset_inner = local_steps, reset_inner
        self.clients = check_clients(clients, name)
        self.inner, self.outer = inner, outer
        self._hp = {
            "lr": lr,
            "outer_lr": outer_lr,
            "local_steps": local_steps,
            "clients": clients,
            "reset_inner": reset_inner,
            "schedule": schedule,
            "warmup": warmup,
            "outer_schedule": outer_schedule,
        }

    def hyperparameters(self) -> dict[str, object]:
        outer = {f"outer_{k}": v for k, v in self.outer.hyperparameters().items()}
        return {
            "outer": _key(OUTER, self.outer),
            "inner": _key(INNER, self.inner),
            **self._hp,
            **self.inner.hyperparameters(),
            **outer,
        }

    # ------------------------------------------------------------------ state
    def init(self, x0: torch.Tensor, comm) -> State:
        client_count(self.clients, comm.n, self.name)  # a count larger than n fails before compute
        s: State = {"x": x0.clone()}
        s.update({f"outer.{b}": z for b, z in self.outer.init(server_rows(comm, x0)).items()})
        if not self.reset_inner:
            s.update({f"inner.{b}": z for b, z in self.inner.init(x0).items()})
            if self.inner.counted:
                s["inner.k"] = torch.zeros(x0.shape[0], dtype=x0.dtype, device=x0.device)
        return s

    # ------------------------------------------------------------------ one round
    @property
    def computations_per_step(self) -> int:
        """A round is H = ``local_steps`` local steps on every (sampled) client."""
        return self.local_steps

    def step(self, s: State, grad: Oracle, comm, t: int) -> State:
        x, lr = s["x"], self._lr(t)
        m, mask = self._sampled(grad, comm.n, x)  # mask None: all n take part
        xl, inner = x, self._inner_state(s, x)  # x_{i,0} = x_t
        for r in range(self.local_steps):  # x_{i,r+1} = x_{i,r} − η_ℓ·Inner(g_{i,r})
            direction, inner = self.inner.update(grad(xl), inner, t=t, k=self._inner_count(s, x, r), x=xl)
            xl = xl - lr * direction
        delta = server_rows(comm, masked_mean(comm, x - xl, mask, m))  # Δ_t = mean_i (x_t − x_{i,z})
        xs = server_rows(comm, x)
        direction, outer = self.outer.update(delta, self._outer_state(s), t=t, k=t + 1, x=xs)
        x_new = xs - self._outer_lr(t) * direction  # x_{t+1} = x_t − η·Outer(Δ_t)
        return {
            "x": replicate(comm, x_new, x),
            **{f"outer.{b}": v for b, v in outer.items()},
            **self._kept_inner(s, inner, mask),
        }

    # ------------------------------------------------------------------ helpers of a round
    def _sampled(self, grad: Oracle, n: int, x: torch.Tensor) -> tuple[int, torch.Tensor | None]:
        """``(m, mask)``: this round's number of clients and their mask over the local rows (None when m = n)."""
        m = client_count(self.clients, n, self.name)
        return m, (client_mask(grad.rng, n, m).to(x.device) if m < n else None)

    def _outer_state(self, s: State) -> State:
        """The server's outer buffers."""
        return {b: s[f"outer.{b}"] for b in self.outer.buffers}

    def _inner_state(self, s: State, x: torch.Tensor) -> State:
        """The clients' inner buffers at the start of the round: kept ones, or fresh zeros."""
        if self.reset_inner:
            return self.inner.init(x)
        return {b: s[f"inner.{b}"] for b in self.inner.buffers}

    def _inner_count(self, s: State, x: torch.Tensor, r: int) -> int | torch.Tensor:
        """k of local step r: r + 1 this round, plus each client's earlier updates when its state is kept."""
        if self.reset_inner or not self.inner.counted:
            return r + 1
        return s["inner.k"].reshape((-1,) + (1,) * (x.dim() - 1)) + (r + 1)

    def _kept_inner(self, s: State, inner: State, mask: torch.Tensor | None) -> State:
        """The inner buffers (and counts) kept to the next round; clients not sampled keep their old ones."""
        if self.reset_inner:
            return {}
        out: State = {}
        for b in self.inner.buffers:
            out[f"inner.{b}"] = (
                inner[b] if mask is None else torch.where(row_mask(mask, inner[b]), inner[b], s[f"inner.{b}"])
            )
        if self.inner.counted:
            k = s["inner.k"]
            out["inner.k"] = k + (self.local_steps if mask is None else mask.to(k.dtype) * self.local_steps)
        return out

    # ------------------------------------------------------------------ accounting
    def accounting(self, d: int, dtype: torch.dtype, n: int) -> dict[str, float]:
        """Memory and traffic of this method for a model of ``d`` numbers of ``dtype`` and ``n`` clients.

        * ``state_bytes_per_client``: the inner optimizer's buffers on one client (the model itself and the
          integer update counter are not counted); held across rounds only when ``reset_inner`` is false;
        * ``state_bytes_server``: the outer optimizer's buffers at the server;
        * ``state_bytes_total``: n clients plus the server;
        * ``comm_bytes_per_round``: what actually has to travel in a round — each of the m sampled clients
          uploads its pseudo-gradient and downloads the new model (``comm_bytes_upload_per_round`` +
          ``comm_bytes_download_per_round``). The simulator's ``comm`` counters instead count one upload per
          node per round (``comm.mean`` over all rows), i.e. they over-count uploads when clients are sampled.
        """
        size = torch.empty((), dtype=dtype).element_size()
        m = client_count(self.clients, n, self.name)
        per_client = len(self.inner.buffers) * d * size
        server = len(self.outer.buffers) * d * size
        up = m * d * size
        return {
            "model_bytes": d * size,
            "state_bytes_per_client": per_client,
            "state_bytes_server": server,
            "state_bytes_total": n * per_client + server,
            "comm_bytes_upload_per_round": up,
            "comm_bytes_download_per_round": up,
            "comm_bytes_per_round": 2 * up,
            "clients_per_round": m,
        }


def _key(table: dict[str, str], transform: Transform) -> str:
    """The TailOPT key of a built transform (``momentum`` at the server is ``sgd``)."""
    return next(k for k, v in table.items() if v == transform.name)


def _label(side: str, key: str) -> str:
    table = INNER if side == "inner" else OUTER
    return LABELS[side].get(key) or TRANSFORMS.summary(table[key]).split(" (")[0]


# ---------------------------------------------------------------------- registration
#: Every registered local-update method: name → (outer key, inner key).
METHODS: dict[str, tuple[str, str]] = {}


def _register(name: str, outer: str, inner: str, summary: str, **defaults: Any) -> None:
    parts = {"inner": Part(TRANSFORMS, INNER[inner]), "outer": Part(TRANSFORMS, OUTER[outer], prefix="outer_")}
    ALGORITHMS.register(name, summary)(Composite(LocalUpdate, parts, {"outer_lr": OUTER_LR[outer], **defaults}))  # type: ignore[arg-type]  # the registry builds a Composite from its parts
    METHODS[name] = (outer, inner)


#: The registered pair names, ``{outer}-{inner}``.
PAIRS: list[str] = [f"{o}-{i}" for o in OUTER for i in INNER]
for _outer in OUTER:
    for _inner in INNER:
        _register(
            f"{_outer}-{_inner}",
            _outer,
            _inner,
            f"TailOPT: outer {_outer}, inner {_inner} (local-update, "
            f"{_label('outer', _outer)} / {_label('inner', _inner)})",
        )

#: Named instances: name → (outer, inner, default overrides).
INSTANCES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "bi2clip": ("biclip", "biclip", {}),
    "adam2": ("adam", "adam", {}),
    "diloco": (
        "sgd",
        "adamw",
        {"outer_lr": 0.7, "outer_momentum": 0.9, "outer_nesterov": True, "weight_decay": 0.1, "lr": 0.001},
    ),
    "fedavg": ("avg", "sgd", {}),
}
_SUMMARIES = {
    "bi2clip": "Bi²Clip: BiClip on the clients and at the server (no optimizer state)",
    "adam2": "Adam²: Adam on the clients and at the server",
    "diloco": "DiLoCo: Nesterov-momentum SGD outer (η = 0.7, μ = 0.9), AdamW inner",
    "fedavg": "FedAvg: local SGD, averaged (η = 1)",
}
for _name, (_outer, _inner, _defaults) in INSTANCES.items():
    _register(_name, _outer, _inner, _SUMMARIES[_name], **_defaults)
