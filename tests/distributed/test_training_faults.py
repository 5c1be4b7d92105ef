"""A rank that dies during a sync is named on the surviving rank within the timeout, for the decentralized
optimizer (a gossip), the compressed DDP hook (a collective inside backward) and the local-update wrapper."""

from __future__ import annotations

import time

import pytest
import torch

from tailtamer.distributed.faults import FaultInjector
from tailtamer.distributed.launcher import spawn

TIMEOUT = 5.0


def _make(kind: str):
    from torch.nn.parallel import DistributedDataParallel

    from tailtamer.distributed import DecentralizedOptimizer
    from tailtamer.distributed.training.comm_hook import compressed_hook
    from tailtamer.distributed.training.local_update import LocalUpdate

    model = torch.nn.Linear(4, 1)
    if kind == "decentralized":
        return model, DecentralizedOptimizer(model.parameters(), "dsgd", "ring", lr=0.1, timeout=TIMEOUT)
    if kind == "hook":
        ddp = DistributedDataParallel(model)
        ddp.register_comm_hook(*compressed_hook(model, "ef", "top-k", lr=0.1, timeout=TIMEOUT))
        return ddp, torch.optim.SGD(ddp.parameters(), lr=1.0)
    return model, LocalUpdate(model, "fedavg", sync_every=2, lr=0.1, timeout=TIMEOUT).inner


def _body(rank: int, world: int, kind: str) -> tuple[str, float]:
    model, opt = _make(kind)
    fault = FaultInjector(1, 3, "exit")
    start = time.monotonic()
    try:
        for step in range(1, 10):
            opt.zero_grad()
            model(torch.ones(2, 4)).sum().backward()
            opt.step()
            fault.fire(rank, step)  # rank 1 dies after step 3
            start = time.monotonic()
    except Exception as err:  # noqa: BLE001 - the message is the fact under test
        return f"{type(err).__name__}: {err}", time.monotonic() - start
    return "no error", 0.0


@pytest.mark.multiprocess
@pytest.mark.parametrize("kind", ["decentralized", "hook", "local-update"])
def test_a_dead_rank_is_named_within_the_timeout(kind):
    message, waited = spawn(_body, 2, (kind,), timeout=TIMEOUT, expendable=(1,))[0]
    assert "rank 1" in message and ("did not answer" in message or "failed receiving from rank 1" in message), message
    assert waited < TIMEOUT + 3.0, waited
    print(kind, f"{waited:.2f} s:", message.splitlines()[0][:200])
