"""What a property tests: a registered component by name and parameters, built fresh whenever asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..registry import Registry


@dataclass
class Subject:
    """Entry ``name`` of ``registry`` with ``params`` (``[section]`` keys) and the engine's ``context``."""

    registry: Registry[Any]
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    section: str = ""
    context: dict[str, Any] = field(default_factory=dict)

    def build(self, **context: Any) -> Any:
        """A fresh instance (``context`` overrides the subject's, e.g. another seed)."""
        return self.registry.build(self.name, self.params, section=self.section, **{**self.context, **context})
