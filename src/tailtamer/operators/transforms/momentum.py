"""SGD momentum (heavy ball or Nesterov) as a transform, in the ``torch.optim.SGD`` form (dampening 0).

``m ← μm + g`` (m starts at 0, so the first buffer is g, as in torch); direction ``m`` (heavy ball,
Polyak 1964) or ``g + μm`` (Nesterov, in Sutskever et al. 2013's form). ``momentum = 0`` keeps no buffer and
is the identity. As an outer optimizer of the local-update family this is FedAvgM / DiLoCo's outer step.

Example:
    >>> import torch
    >>> T = Momentum(momentum=0.5, nesterov=True)
    >>> g, st = torch.ones(1, 1), T.init(torch.ones(1, 1))
    >>> d, st = T.update(g, st); d.item(), st["m"].item()
    (1.5, 1.0)
"""

from __future__ import annotations

from ..transform import TRANSFORMS, Transform
from .checks import Checks


@TRANSFORMS.register("momentum")
class Momentum(Transform):
    """SGD with (Nesterov) momentum (torch.optim.SGD, dampening 0)"""

    def __init__(self, momentum: float = 0.0, nesterov: bool = False, *, owner: str = "", prefix: str = ""):
        c = Checks(owner or self.name, prefix)
        self.momentum, self.nesterov = c.beta("momentum", momentum), c.flag("nesterov", nesterov)
        c.require(not (self.nesterov and self.momentum == 0), f"{c.key('nesterov')} needs {c.key('momentum')} > 0")
        self.buffers = ("m",) if self.momentum > 0 else ()

    def update(self, g, state, *, t=0, k=1, x=None):
        if not self.buffers:  # momentum 0 (asked of the buffers: the same for members stacked with rows)
            return g, state
        m = self.momentum * state["m"] + g
        return (g + self.momentum * m if self.nesterov else m), {"m": m}
