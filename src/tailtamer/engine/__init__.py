"""The loops that run an algorithm (lockstep :class:`Loop`; the event engine in :mod:`~tailtamer.engine.events`;
stacked runs in :mod:`~tailtamer.engine.stacked`), the gradient oracle and the callback protocol. Run folders,
checkpoints and progress are one layer up, in :mod:`tailtamer.rundir`."""

from .callbacks import Callback, History
from .loop import Loop
from .oracle import GradientOracle

__all__ = ["Callback", "GradientOracle", "History", "Loop"]
