"""Heavy-tail operators applied on arrival: the shared transforms of :data:`tailtamer.operators.TRANSFORMS`.

An asynchronous scheme names its operator in the config, ``operator = "l2clip"`` or
``operator = {name = "biclip", u = 1.0, d = 0.1}``: any registered transform composes with any scheme
(``identity``, ``l2clip``, ``cclip``, ``biclip``, ``normalize``, ``momentum``, ``adam``, ...; ``tailtamer list
transform``). :class:`Applied` keeps a transform's buffers and update count in the scheme's state.
"""

from __future__ import annotations

from typing import Any

import torch

from ...operators import TRANSFORMS, Transform


def make_transform(value: str | dict[str, Any], owner: str, key: str = "operator") -> Transform:
    """``"name"`` or ``{name = ..., ...}`` → a built transform (``"none"`` is ``identity``)."""
    params = {} if isinstance(value, str) else dict(value)
    name = value if isinstance(value, str) else str(params.pop("name", ""))
    name = "identity" if name == "none" else name
    return TRANSFORMS.build(name, params, section=f"algorithm.{key} ({owner})")


class Applied:
    """A transform with its buffers and update count kept in a scheme's state under ``prefix``."""

    def __init__(self, transform: Transform, prefix: str):
        self.T, self.prefix = transform, prefix

    def init(self, like: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {self.prefix + b: v for b, v in self.T.init(like).items()}
        if self.T.counted:
            out[self.prefix + "k"] = torch.zeros(1, dtype=torch.int64, device=like.device)
        return out

    def __call__(
        self, g: torch.Tensor, s: dict[str, torch.Tensor], t: int, x: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        mine = {b: s[self.prefix + b] for b in self.T.buffers}
        k = int(s[self.prefix + "k"][0]) + 1 if self.T.counted else 1
        d, mine = self.T.update(g, mine, t=t, k=k, x=x)
        out = {self.prefix + b: v for b, v in mine.items()}
        if self.T.counted:
            out[self.prefix + "k"] = s[self.prefix + "k"] + 1
        return d, out
