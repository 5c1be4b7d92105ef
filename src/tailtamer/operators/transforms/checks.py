"""Construction-time checks of transform hyperparameters, naming each key as the config writes it."""

from __future__ import annotations

from ...errors import ValidationError
from ...validation import check_nonneg, check_positive, check_range


class Checks:
    """Checks for one transform built for ``owner`` (the algorithm or transform name) with key ``prefix``.

    Each check returns the value unchanged or raises :class:`ValidationError` naming ``prefix + key``.

    Example:
        >>> Checks("bi2clip", "outer_").positive("u", 0.5)
        0.5
        >>> Checks("bi2clip", "outer_").positive("u", 0.0)
        Traceback (most recent call last):
        tailtamer.errors.ValidationError: bi2clip: outer_u must be in (0, inf], got 0
    """

    def __init__(self, owner: str, prefix: str = ""):
        self.owner, self.prefix = owner, prefix

    def key(self, name: str) -> str:
        """``name`` as the config writes it."""
        return self.prefix + name

    def positive(self, name: str, value: float) -> float:
        return check_positive(self.key(name), value, self.owner)

    def nonneg(self, name: str, value: float) -> float:
        return check_nonneg(self.key(name), value, self.owner)

    def beta(self, name: str, value: float) -> float:
        """A decay or momentum factor in [0, 1)."""
        return check_range(self.key(name), value, 0.0, 1.0, hi_open=True, owner=self.owner)

    def flag(self, name: str, value: bool) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(f"{self.owner}: {self.key(name)} must be true or false, got {value!r}")
        return value

    def require(self, ok: bool, message: str) -> None:
        """A cross-parameter condition; ``message`` names the keys (use :meth:`key`)."""
        if not ok:
            raise ValidationError(f"{self.owner}: {message}")
