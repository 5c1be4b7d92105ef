"""Row normalization as a transform: ``g / max(‖g‖, tiny)`` per row (:func:`tailtamer.operators.rownorm`).

The heavy-tail defence of normalized SGD; the asynchronous family applies it on arrival (Wu & Luo 2026,
arXiv 2601.19379, normalize the momentum; docs/async.md).

Example:
    >>> import torch
    >>> Normalize().update(torch.tensor([[3.0, 4.0]], dtype=torch.float64), {})[0].tolist()
    [[0.6, 0.8]]
"""

from __future__ import annotations

from ..normalize import rownorm
from ..transform import TRANSFORMS, Transform


@TRANSFORMS.register("normalize")
class Normalize(Transform):
    """row normalization g/‖g‖ (a zero row stays zero)"""

    def update(self, g, state, *, t=0, k=1, x=None):
        return rownorm(g), state
