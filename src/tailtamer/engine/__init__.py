"""The round loop, its callbacks, checkpoints and run folders."""
from .callbacks import Callback, History
from .checkpoint import Checkpointer, load_checkpoint, save_checkpoint
from .loop import Loop
from .oracle import GradientOracle
from .progress import ProgressBar
from .run_dir import RunWriter, read_metrics

__all__ = ["Callback", "Checkpointer", "History", "Loop", "GradientOracle", "ProgressBar", "RunWriter",
           "load_checkpoint", "read_metrics", "save_checkpoint"]
