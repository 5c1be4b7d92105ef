"""scikit-learn's bundled digits (1,797 8×8 grey images, 10 classes); needs the optional extra ``data``."""

from __future__ import annotations

import numpy as np

from ..errors import DataNotFoundError


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """``(images [1797, 8, 8] float in [0, 1], labels [1797] int)``."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - depends on the environment
        raise DataNotFoundError(
            "the digits data set ships with scikit-learn, which is not installed; "
            "pip install 'tailtamer[data]' (or scikit-learn)"
        ) from None
    d = load_digits()
    return (d.images / 16.0).astype(np.float64), d.target.astype(np.int64)


def split_holdout(samples: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded ``(train_ids, held_out_ids)`` split with ``round(fraction·samples)`` held out."""
    perm = np.random.Generator(np.random.PCG64(seed)).permutation(samples)
    k = round(fraction * samples)
    return np.sort(perm[k:]), np.sort(perm[:k])
