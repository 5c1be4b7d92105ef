"""tailtamer's inner transforms as a torch optimizer: Adam equals ``torch.optim.Adam`` in float64, and two
param groups with different lr equal two separate optimizers; the state is torch's layout."""

from __future__ import annotations

import torch

from tailtamer.distributed import TransformOptimizer


def _run(model: torch.nn.Module, opt: torch.optim.Optimizer, steps: int = 5) -> None:
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for _ in range(steps):
        opt.zero_grad()
        (model(x) ** 3).sum().backward()
        opt.step()


def _pair() -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    a = torch.nn.Linear(3, 2).double()
    b = torch.nn.Linear(3, 2).double()
    b.load_state_dict(a.state_dict())
    return a, b


def test_adam_transform_equals_torch_adam():
    a, b = _pair()
    ours = TransformOptimizer(a.parameters(), "adam", lr=0.01)
    _run(a, ours)
    _run(b, torch.optim.Adam(b.parameters(), lr=0.01))
    assert max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters())) <= 1e-12
    assert (a.weight - _pair()[0].weight).abs().max().item() > 1e-3  # it moved
    state = ours.state_dict()["state"]
    assert sorted(state[0]) == ["m", "step", "v"] and state[0]["m"].shape == a.weight.shape
    assert float(state[0]["step"]) == 5


def test_param_groups_with_different_lr():
    a, b = _pair()
    ours = TransformOptimizer([{"params": [a.weight]}, {"params": [a.bias], "lr": 0.1}], "biclip", lr=0.01, u=0.5)
    _run(a, ours)
    torch.manual_seed(0)
    w_only = TransformOptimizer([b.weight], "biclip", lr=0.01, u=0.5)
    bias_only = TransformOptimizer([b.bias], "biclip", lr=0.1, u=0.5)
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for _ in range(5):
        w_only.zero_grad()
        bias_only.zero_grad()
        (b(x) ** 3).sum().backward()
        w_only.step()
        bias_only.step()
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
