"""Optional TensorBoard event files in a run folder (``pip install 'tailtamer[tensorboard]'``).

``tailtamer run CONFIG --tensorboard`` (and ``tailtamer study NAME --tensorboard``) add a
:class:`TensorBoardWriter` to each run: every evaluation's metrics become scalars at their step, written
into the run folder itself, so ``tensorboard --logdir runs/e1`` shows every run of a study by its folder.
It only observes the loop: the run's numbers are the same with or without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..algorithms.base import State
from ..engine.callbacks import Callback
from ..errors import ConfigError

INSTALL_HINT = "pip install 'tailtamer[tensorboard]'"


def require_tensorboard() -> None:
    """ConfigError (one line, with the install command) when the tensorboard package is missing."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise ConfigError(f"--tensorboard needs the tensorboard package: {INSTALL_HINT}") from None


class TensorBoardWriter(Callback):
    """Writes every evaluated metric as a TensorBoard scalar (tag = metric name) into ``folder``.

    On a resumed run the events after the resumed step are purged, so the curves have no doubled segment.
    """

    def __init__(self, folder: str | Path):
        require_tensorboard()
        self.folder = Path(folder)
        self.writer: Any = None

    def on_start(self, loop: Any) -> None:
        from torch.utils.tensorboard import SummaryWriter

        start = getattr(loop, "start_step", 0)
        self.writer = SummaryWriter(log_dir=str(self.folder), purge_step=start or None)

    def on_eval(self, loop: Any, step: int, metrics: dict[str, float]) -> None:
        if self.writer is None:
            return
        for name, value in metrics.items():
            if isinstance(value, (int, float)):
                self.writer.add_scalar(name, float(value), step)
        self.writer.flush()  # a run that diverges later keeps its curves

    def on_end(self, loop: Any, state: State) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
