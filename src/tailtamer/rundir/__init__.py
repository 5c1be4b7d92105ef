"""What a run leaves on disk and shows while it runs: the run folder (:mod:`~tailtamer.rundir.folder`), resume rules
(:mod:`~tailtamer.rundir.resume`), checkpoints, atomic writes, progress, TensorBoard and the memory estimate made
before a run allocates anything (:mod:`~tailtamer.rundir.footprint`)."""

from .checkpoint import Checkpointer, load_checkpoint, save_checkpoint
from .folder import RunWriter, read_metrics
from .progress import ProgressBar

__all__ = ["Checkpointer", "ProgressBar", "RunWriter", "load_checkpoint", "read_metrics", "save_checkpoint"]
