"""Row normalization: each node divides its vector by its own (whole-vector) L2 norm."""

from __future__ import annotations

import torch

#: Floor of the norm in :func:`rownorm` (divide by max(‖y‖, tiny): a zero row stays zero, never NaN).
TINY = 1e-30


def row_norms(z: torch.Tensor) -> torch.Tensor:
    """L2 norm of each row over all trailing axes, shape ``[n_local, 1, ...]`` (broadcasts against z)."""
    flat = z.reshape(z.shape[0], -1)
    return torch.linalg.vector_norm(flat, dim=1).reshape((-1,) + (1,) * (z.dim() - 1))


def rownorm(z: torch.Tensor, tiny: float = TINY) -> torch.Tensor:
    """``z_i / max(‖z_i‖, tiny)`` per row: a zero row stays zero instead of becoming NaN.

    Example:
        >>> rownorm(torch.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=torch.float64)).tolist()
        [[0.6, 0.8], [0.0, 0.0]]
    """
    return z / row_norms(z).clamp_min(tiny)
