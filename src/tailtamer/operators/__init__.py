"""Shared, tested-once building blocks: normalization, clipping, momentum, tracking."""
from .clip import biclip, clip_coords, clip_rows, smoothed_clip
from .momentum import ema, track
from .normalize import TINY, row_norms, rownorm

__all__ = ["TINY", "biclip", "clip_coords", "clip_rows", "ema", "row_norms", "rownorm", "smoothed_clip",
           "track"]
