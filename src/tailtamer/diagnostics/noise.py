"""Per-node gradient noise of a model problem: minibatch gradient minus a large-batch gradient at the same
point, with tail-index estimates and norms; :class:`GradientNoise` records it into a run folder.

Every draw is counter-based (streams ``"diag"`` and ``"diag-large"``; the step and draw index as counters), so
measuring does not change the training run's own minibatches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from ..engine.callbacks import Callback
from ..errors import ValidationError
from ..rundir.folder import atomic_write_text
from .tail_index import hill_alpha, mohammadi_alpha

NOISE_FILE = "noise.jsonl"


@torch.no_grad()
def _cpu(z: torch.Tensor) -> torch.Tensor:
    return z.detach().to("cpu", torch.float64)


def measure_noise(
    problem: Any,
    x: torch.Tensor,
    nodes: torch.Tensor,
    seed: int,
    step: int,
    draws: int = 4,
    large_batch: int | None = None,
    chunk: int | None = None,
) -> dict[str, Any]:
    """Noise ``ξ = g_B(x_i) − g_L(x_i)`` for each local row: ``draws`` minibatch gradients (the problem's
    batch size B) against one gradient on ``large_batch`` samples (default 16·B) of the node's shard.

    Returns per-node lists: ``alpha_mohammadi`` and ``alpha_hill`` (coordinates of all draws pooled),
    ``noise_norms`` (‖ξ‖ of each draw), ``large_grad_norm`` (‖g_L‖); and their means over nodes.
    """
    if not hasattr(problem, "batch_grad"):
        raise ValidationError(
            f"gradient-noise diagnostics need a model problem (with batch_grad); {type(problem).__name__} has none"
        )
    B = problem.batch_size
    L = int(large_batch or 16 * B)
    saved = problem.last_losses
    big = problem.batch_grad(x, nodes, seed, step, 0, batch_size=L, stream="diag-large", chunk=chunk or 4 * B)
    noise = torch.stack([problem.batch_grad(x, nodes, seed, step, k, stream="diag") - big for k in range(draws)], 1)
    problem.last_losses = saved
    noise, big = _cpu(noise), _cpu(big)  # [n_local, draws, d], [n_local, d]
    am = [mohammadi_alpha(noise[i]) for i in range(noise.shape[0])]
    ah = [hill_alpha(noise[i]) for i in range(noise.shape[0])]
    norms = torch.linalg.vector_norm(noise, dim=2)
    mean = lambda v: float(sum(v) / len(v))  # noqa: E731
    return {
        "step": step,
        "nodes": [int(v) for v in nodes],
        "batch_size": B,
        "large_batch": L,
        "draws": draws,
        "alpha_mohammadi": am,
        "alpha_hill": ah,
        "alpha_mohammadi_mean": mean(am),
        "alpha_hill_mean": mean(ah),
        "noise_norms": norms.tolist(),
        "noise_norm_mean": float(norms.mean()),
        "large_grad_norm": torch.linalg.vector_norm(big, dim=1).tolist(),
    }


class GradientNoise(Callback):
    """Measures gradient noise (:func:`measure_noise`) after chosen steps, appending one JSON line per
    measurement to ``folder/noise.jsonl``.

    Args:
        folder: the run folder.
        every: measure after every ``every``-th step (0: only at ``steps``).
        steps: explicit steps to measure after (step t = after t updates; 1 is the earliest).
        draws, large_batch: see :func:`measure_noise`.
    """

    def __init__(
        self,
        folder: str | Path,
        every: int = 0,
        steps: Iterable[int] = (),
        draws: int = 4,
        large_batch: int | None = None,
    ):
        if every < 0 or draws < 1:
            raise ValidationError(f"GradientNoise: every must be ≥ 0 and draws ≥ 1, got {every}, {draws}")
        self.folder, self.every, self.steps = Path(folder), int(every), {int(s) for s in steps}
        self.draws, self.large_batch = int(draws), large_batch

    def due(self, step: int) -> bool:
        return step in self.steps or bool(self.every and step % self.every == 0)

    def on_start(self, loop: Any) -> None:
        path = self.folder / NOISE_FILE
        if path.exists():  # resumed run: drop lines past the restart
            keep = [
                ln for ln in path.read_text().splitlines() if ln.strip() and json.loads(ln)["step"] <= loop.start_step
            ]
            atomic_write_text(path, "".join(ln + "\n" for ln in keep))

    def on_step(self, loop: Any, step: int, state: dict[str, torch.Tensor]) -> None:
        if not self.due(step):
            return
        row = measure_noise(loop.problem, state["x"], loop.comm.nodes, loop.seed, step, self.draws, self.large_batch)
        with open(self.folder / NOISE_FILE, "a") as f:
            f.write(json.dumps(row) + "\n")


def read_noise(folder: str | Path) -> list[dict[str, Any]]:
    """The measurements in ``folder/noise.jsonl`` (empty when absent)."""
    path = Path(folder) / NOISE_FILE
    if not path.exists():
        return []
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]
