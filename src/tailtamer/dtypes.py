"""The floating-point precisions a config may name (``[run] dtype``) and the torch dtype of each."""

from __future__ import annotations

import torch

DTYPES: dict[str, torch.dtype] = {"float64": torch.float64, "float32": torch.float32}
