"""Shared, tested-once building blocks: normalization, clipping, momentum, tracking, adaptive moments (pure functions),
and the stateful transforms built on them (:mod:`~tailtamer.operators.transform`: the ``init``/``update`` contract
and the ``TRANSFORMS`` registry; :mod:`~tailtamer.operators.transforms`: the registered ones)."""

from . import transforms  # noqa: F401  (registration of the transforms)
from .adaptive import adagrad_moment, adam_direction, adam_moments, rmsprop_moment, scaled_direction
from .clip import biclip, clip_coords, clip_rows, smoothed_clip
from .momentum import ema, track
from .normalize import TINY, row_norms, rownorm
from .thresholds import biclip_thresholds
from .transform import TRANSFORMS, Buffers, Chain, Identity, Scale, Transform, chain

__all__ = [
    "TINY",
    "TRANSFORMS",
    "Buffers",
    "Chain",
    "Identity",
    "Scale",
    "Transform",
    "adagrad_moment",
    "adam_direction",
    "adam_moments",
    "biclip",
    "biclip_thresholds",
    "chain",
    "clip_coords",
    "clip_rows",
    "ema",
    "rmsprop_moment",
    "row_norms",
    "rownorm",
    "scaled_direction",
    "smoothed_clip",
    "track",
]
