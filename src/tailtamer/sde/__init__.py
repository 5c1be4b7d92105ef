"""The SDE lab (docs/compression.md §4–5): DSGD, DCSGD and DSignSGD as discrete methods and as SDEs,
integrated by Euler–Maruyama over M paths in one stacked tensor; ``tailtamer sde CONFIG``."""

from .lab import build_lab, gap, run_lab, write
from .laws import NoiseLaw, law_from
from .models import LAB_METHODS, LabMethod
from .simulate import Paths, discrete_paths, sde_paths

__all__ = [
    "LAB_METHODS",
    "LabMethod",
    "NoiseLaw",
    "Paths",
    "build_lab",
    "discrete_paths",
    "gap",
    "law_from",
    "run_lab",
    "sde_paths",
    "write",
]
