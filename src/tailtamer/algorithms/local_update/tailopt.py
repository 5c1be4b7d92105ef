"""Local-update training: the TailOPT family (Lee, Zaheer, Li, ICML 2025, arXiv 2502.04164; algorithms.md §2).

One engine step is one round t. The server model ``x_t`` is replicated on every row of ``state["x"]``; the
server's optimizer state (``outer.*``, shape ``[1, ...]``) is replicated on every process. A round::

    x_{i,0} = x_t                                   for every sampled client i
    x_{i,r+1} = x_{i,r} − η_ℓ · Inner(g_{i,r})      r = 0 … z−1, g_{i,r} = grad(x_{i,r}) (fresh noise per call)
    Δ_t = mean_{i sampled} (x_t − x_{i,z})          one comm.mean (non-sampled rows masked to 0, rescaled n/m)
    x_{t+1} = x_t − η · Outer(Δ_t)                  every row becomes x_{t+1}

Every ``{outer}-{inner}`` pair is registered (outer ∈ avg, sgd, adagrad, rmsprop, adam, l2clip, biclip; inner ∈
sgd, l2clip, cclip, biclip, adam, adamw, rmsprop, adagrad) together with the instances ``bi2clip``
(biclip-biclip), ``adam2`` (adam-adam), ``diloco`` (Nesterov-SGD outer, AdamW inner) and ``fedavg`` (avg-sgd).

Parameters common to all: ``lr`` (η_ℓ; ``schedule``/``warmup`` over rounds), ``outer_lr`` (η;
``outer_schedule``), ``local_steps`` (z), ``clients`` (see :mod:`.sampling`), ``reset_inner`` (true: the inner
optimizer starts from zero state every round; false: each client keeps its state, and its own update count,
across the rounds it takes part in). Operator parameters are listed in :mod:`.ops`; outer ones carry the
prefix ``outer_``.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import torch

from ...schedules import make_lr
from ...errors import ValidationError
from ..base import ALGORITHMS, Algorithm, Oracle, State
from .ops import INNER, OUTER, OUTER_LR, Operator
from .sampling import check_clients, client_count, client_mask


class LocalUpdate(Algorithm):
    """A TailOPT method: an inner optimizer on each client, an outer optimizer on the server."""

    family = "local-update"
    requires = "none"

    def __init__(self, steps: int, *, name: str, outer: str, inner: str, lr: float = 0.01, outer_lr: float = 1.0,
                 local_steps: int = 5, clients: float | int = 1.0, reset_inner: bool = True,
                 schedule: str | dict[str, Any] = "constant", warmup: int = 0,
                 outer_schedule: str | dict[str, Any] = "constant", **op_params: Any):
        owner = name
        self._name = name
        self._outer_key, self._inner_key = outer, inner
        if isinstance(local_steps, bool) or not isinstance(local_steps, int) or local_steps < 1:
            raise ValidationError(f"{owner}: local_steps must be an integer ≥ 1, got {local_steps!r}")
        if not isinstance(reset_inner, bool):
            raise ValidationError(f"{owner}: reset_inner must be true or false, got {reset_inner!r}")
        self._lr = make_lr(lr, schedule, warmup, steps, owner)
        self._outer_lr = make_lr(outer_lr, outer_schedule, 0, steps, owner)
        self.local_steps, self.reset_inner = local_steps, reset_inner
        self.clients = check_clients(clients, owner)
        inner_vals = {k: v for k, v in op_params.items() if not k.startswith("outer_")}
        outer_vals = {k[len("outer_"):]: v for k, v in op_params.items() if k.startswith("outer_")}
        self._inner: Operator = INNER[inner](owner, "", **inner_vals)
        self._outer: Operator = OUTER[outer](owner, "outer_", **outer_vals)
        self._hp = {"lr": lr, "outer_lr": outer_lr, "local_steps": local_steps, "clients": clients,
                    "reset_inner": reset_inner, "schedule": schedule, "warmup": warmup,
                    "outer_schedule": outer_schedule, **op_params}

    @property
    def name(self) -> str:  # type: ignore[override]
        return self._name

    def hyperparameters(self) -> dict[str, object]:
        return {"outer": self._outer_key, "inner": self._inner_key, **self._hp}

    # ------------------------------------------------------------------ state
    def init(self, x0: torch.Tensor, comm) -> State:
        client_count(self.clients, comm.n, self._name)        # a count larger than n fails before compute
        s: State = {"x": x0.clone()}
        for b, z in self._outer.init(x0[:1]).items():
            s[f"outer.{b}"] = z
        if not self.reset_inner:
            for b, z in self._inner.init(x0).items():
                s[f"inner.{b}"] = z
            if self._inner.counted:
                s["inner.k"] = torch.zeros(x0.shape[0], dtype=x0.dtype, device=x0.device)
        return s

    def _counts(self, s: State, x: torch.Tensor) -> torch.Tensor | None:
        if self.reset_inner or not self._inner.counted:
            return None
        return s["inner.k"].reshape((-1,) + (1,) * (x.dim() - 1))

    # ------------------------------------------------------------------ one round
    def step(self, s: State, grad: Oracle, comm, t: int) -> State:
        x = s["x"]
        x_srv = x[:1]
        m = client_count(self.clients, comm.n, self._name)
        mask = None
        if m < comm.n:
            mask = client_mask(grad.rng, comm.n, m).to(x.device)
        lr = self._lr(t)
        inner = ({b: s[f"inner.{b}"] for b in self._inner.buffers} if not self.reset_inner
                 else self._inner.init(x))
        k0 = self._counts(s, x)
        xl = x
        for r in range(self.local_steps):
            g = grad(xl)
            k = r + 1 if k0 is None else k0 + (r + 1)
            direction, inner = self._inner.direction(g, xl, inner, k, t)
            xl = xl - lr * direction
        delta = x - xl
        if mask is not None:
            rows = mask.reshape((-1,) + (1,) * (x.dim() - 1))
            delta = torch.where(rows, delta, torch.zeros_like(delta))
            pseudo = comm.mean(delta) * (comm.n / m)
        else:
            pseudo = comm.mean(delta)
        outer = {b: s[f"outer.{b}"] for b in self._outer.buffers}
        direction, outer = self._outer.direction(pseudo, x_srv, outer, t + 1, t)
        x_new = x_srv - self._outer_lr(t) * direction
        out: State = {"x": x_new.expand_as(x).clone()}
        out.update({f"outer.{b}": v for b, v in outer.items()})
        if not self.reset_inner:
            rows = None if mask is None else mask.reshape((-1,) + (1,) * (x.dim() - 1))
            for b in self._inner.buffers:
                out[f"inner.{b}"] = inner[b] if rows is None else torch.where(rows, inner[b], s[f"inner.{b}"])
            if self._inner.counted:
                took = self.local_steps if mask is None else mask.to(x.dtype) * self.local_steps
                out["inner.k"] = s["inner.k"] + took
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
        m = client_count(self.clients, n, self._name)
        per_client = len(self._inner.buffers) * d * size
        server = len(self._outer.buffers) * d * size
        up = m * d * size
        return {"model_bytes": d * size, "state_bytes_per_client": per_client, "state_bytes_server": server,
                "state_bytes_total": n * per_client + server, "comm_bytes_upload_per_round": up,
                "comm_bytes_download_per_round": up, "comm_bytes_per_round": 2 * up,
                "clients_per_round": m}


# ---------------------------------------------------------------------- registration
COMMON = (("lr", 0.01, float), ("outer_lr", 1.0, float), ("local_steps", 5, int), ("clients", 1.0, Any),
          ("reset_inner", True, bool), ("schedule", "constant", str | dict[str, Any]), ("warmup", 0, int),
          ("outer_schedule", "constant", str | dict[str, Any]))


def _factory(name: str, outer: str, inner: str, summary: str, **defaults: Any) -> Callable[..., LocalUpdate]:
    """A registry factory whose signature lists exactly the parameters of this outer/inner pair."""
    spec = [(p, defaults.get(p, d), a) for p, d, a in COMMON]
    spec = [(p, OUTER_LR[outer] if p == "outer_lr" and p not in defaults else d, a) for p, d, a in spec]
    spec += [(p, defaults.get(p, d), a) for p, d, a, _ in INNER[inner].params]
    spec += [("outer_" + p, defaults.get("outer_" + p, d), a) for p, d, a, _ in OUTER[outer].params]
    unknown = set(defaults) - {p for p, _, _ in spec}
    if unknown:  # pragma: no cover - programming error
        raise ValueError(f"{name}: defaults for unknown parameters {sorted(unknown)}")
    params = [inspect.Parameter("steps", inspect.Parameter.KEYWORD_ONLY, annotation=int)]
    params += [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a) for p, d, a in spec]
    keys = [p for p, _, _ in spec]

    def factory(steps: int, **kw: Any) -> LocalUpdate:
        values = {p: kw.get(p, d) for p, d, _ in spec}
        extra = set(kw) - set(keys)
        if extra:
            raise ValidationError(f"{name}: unknown parameters {sorted(extra)}")
        return LocalUpdate(steps, name=name, outer=outer, inner=inner, **values)

    factory.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    factory.__annotations__ = {"steps": int, **{p: a for p, _, a in spec}, "return": LocalUpdate}
    factory.__name__ = factory.__qualname__ = name.replace("-", "_")
    factory.__doc__ = summary
    factory.outer, factory.inner = outer, inner  # type: ignore[attr-defined]
    return factory


def _register(name: str, outer: str, inner: str, summary: str, **defaults: Any) -> None:
    ALGORITHMS.register(name, summary)(_factory(name, outer, inner, summary, **defaults))


#: The registered pair names, ``{outer}-{inner}``.
PAIRS: list[str] = []
for _outer in OUTER:
    for _inner in INNER:
        _name = f"{_outer}-{_inner}"
        _register(_name, _outer, _inner, f"TailOPT: outer {_outer}, inner {_inner} (local-update, "
                                         f"{OUTER[_outer].summary.split(' (')[0]} / {INNER[_inner].summary.split(' (')[0]})")
        PAIRS.append(_name)

#: Named instances: name → (outer, inner, default overrides).
INSTANCES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "bi2clip": ("biclip", "biclip", {}),
    "adam2": ("adam", "adam", {}),
    "diloco": ("sgd", "adamw", {"outer_lr": 0.7, "outer_momentum": 0.9, "outer_nesterov": True,
                                "weight_decay": 0.1, "lr": 0.001}),
    "fedavg": ("avg", "sgd", {}),
}
_SUMMARIES = {"bi2clip": "Bi²Clip: BiClip on the clients and at the server (no optimizer state)",
              "adam2": "Adam²: Adam on the clients and at the server",
              "diloco": "DiLoCo: Nesterov-momentum SGD outer (η = 0.7, μ = 0.9), AdamW inner",
              "fedavg": "FedAvg: local SGD, averaged (η = 1)"}
for _name, (_outer, _inner, _defaults) in INSTANCES.items():
    _register(_name, _outer, _inner, _SUMMARIES[_name], **_defaults)
