"""Exceptions raised by tailtamer.

Every error a user can trigger with bad input derives from :class:`TailtamerError`, so the CLI can print
it as one clear line instead of a traceback.
"""

from __future__ import annotations


class TailtamerError(Exception):
    """Base class of every error tailtamer raises on purpose."""


class ConfigError(TailtamerError, ValueError):
    """An unknown name or key, or a value of the wrong type, in a config or on the command line."""


class ValidationError(TailtamerError, ValueError):
    """A hyperparameter out of range, or a mixing matrix that does not meet a method's requirements."""


class DataNotFoundError(TailtamerError, FileNotFoundError):
    """A data file that is not where it was looked for."""


class DataError(TailtamerError, ValueError):
    """A data file that is there but cannot be read (truncated, corrupt, not what its name says)."""


class StorageError(TailtamerError, OSError):
    """A file or folder that cannot be written: a full disk, no permission, a path that is not a folder."""


class CheckpointError(TailtamerError):
    """A checkpoint that is missing, truncated or corrupt (the message names the file)."""


class ResourceError(TailtamerError, MemoryError):
    """A run that needs more memory than this machine has (refused before allocating)."""


class NonFiniteError(TailtamerError, FloatingPointError):
    """NaN or Inf appeared in a gradient or an iterate.

    Attributes:
        step: the step at which it was detected.
        node: the global id of the first node whose row is not finite.
        what: which quantity (``"gradient"``, ``"x"``, ...).
    """

    def __init__(self, step: int, node: int, what: str):
        self.step, self.node, self.what = step, node, what
        super().__init__(
            f"non-finite {what} at step {step} on node {node} (NaN or Inf); "
            f"lower the step size, clip, or check the problem"
        )


class ContractError(TailtamerError):
    """A component (often a plugin's) that broke its contract at run time; the message names the component and
    the property it broke (docs/extending.md)."""
