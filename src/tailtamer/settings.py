"""``[run]``: the settings of a run that are not a component (horizon, seed, precision, device, ...).

A module of its own, importing nothing heavy, so that ``tailtamer list run`` describes it without loading torch;
:mod:`tailtamer.config` validates it like a component section.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class RunSettings:
    """``[run]``: horizon, seed, evaluation period, precision, device, checkpoints and mixing kernel.

    Args:
        steps: number of steps T.
        seed: run seed (noise and minibatches; data sets use the problem's own ``data_seed``).
        eval_every: evaluate metrics every this many steps (and at step 0 and T).
        dtype: ``"float64"`` or ``"float32"``.
        device: torch device, e.g. ``"cpu"`` or ``"cuda"``.
        checkpoint_every: save a checkpoint every this many steps, and always at the end; 0 (default): every
            ``ceil(steps / 20)`` steps, so an interrupted run resumes losing at most 5 % of it
            (:mod:`tailtamer.rundir.checkpoint`). Checkpoints never change a result.
        mixing: how the simulator multiplies by W: ``"auto"``, ``"dense"``, ``"sparse"`` (CSR) or
            ``"diagonals"`` (wrapped diagonals, for ring/torus/exponential-like graphs); see comm/kernels.py.
        check_finite: stop at the first NaN/Inf in a gradient or iterate.
        time: asynchronous methods only: stop at this simulated time (0: no limit; ``steps`` counts
            server updates).
        plugins: plugins to load before the components are looked up (``PATH.py`` relative to the config
            file's folder, or ``MODULE``; :mod:`tailtamer.plugins`).
    """

    steps: int = 1000
    seed: int = 0
    eval_every: int = 100
    dtype: str = "float64"
    device: str = "cpu"
    checkpoint_every: int = 0
    mixing: str = "auto"
    check_finite: bool = True
    time: float = 0.0
    plugins: tuple[str, ...] = ()
