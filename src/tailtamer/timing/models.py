"""Compute-time models of the asynchronous engine (async.md §2), registered in :data:`TIMINGS`.

A model maps ``(worker i, job index j)`` to the simulated seconds worker i spends on its j-th job. Every
random draw is a pure function of ``(seed, worker, job index)`` (stream ``"timing"``, see
:mod:`tailtamer.timing.draws`), so two methods run with one seed see the same times job for job (paired
comparisons), and a resumed run the same times as an uninterrupted one.

Models:

* ``fixed`` — τ_i, one time for all or one per worker (the fixed computation model of Mishchenko et al.
  2022, Koloskova et al. 2022, Tyurin & Richtárik 2023, Maranjyan et al. 2025);
* ``sqrt`` — τ_i = 1 + √(i+1) plus half-normal jitter ``|N(0, (jitter·√(i+1))²)|`` per job (the transport of
  ``vectozavr/ringmaster-lmo``, ``asynchronous_transport.py``; the default);
* ``exponential`` — τ_{ij} = Exp(1)/λ_i·mean with per-worker rates λ_i = exp(spread·z_i), z_i ~ N(0, 1)
  (async.md §2.5);
* ``lognormal`` / ``pareto`` — base τ_i plus a heavy-tailed delay Z (async.md §2.6, a reconstruction);
* ``straggler`` — the ``sqrt`` (or constant) times with chosen workers ``factor`` times slower (§2.3);
* ``trace`` — a CSV with one column per worker, row j giving job j's time (rows repeat cyclically; §2.4).
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

from ..errors import ValidationError
from ..registry import Registry
from ..validation import check_nonneg, check_positive
from . import draws

#: Registry of compute-time models; factories receive ``n`` (number of workers) and ``seed`` from the engine.
TIMINGS: Registry[TimingModel] = Registry("timing", context=("n", "seed"))

STREAM = "timing"
#: −log of the smallest uniform draw (2^-54, :func:`tailtamer.timing.draws.uniform`) and log of the largest time
#: a float holds with room to add: a Pareto tail U^(−1/α) stays finite when (−log U_min)/α < LOG_MAX_TIME.
LOG_SMALLEST_UNIFORM = 54 * math.log(2.0)
LOG_MAX_TIME = math.log(sys.float_info.max) - 2.0
#: The largest ``|normal draw|`` (Box–Muller from the smallest uniform): a log-normal tail e^(σ·z) stays finite when
#: σ·LARGEST_NORMAL < LOG_MAX_TIME.
LARGEST_NORMAL = math.sqrt(2.0 * LOG_SMALLEST_UNIFORM)


class TimingModel:
    """Base: ``duration(worker, job)`` seconds (> 0), a pure function of (seed, worker, job)."""

    name = ""

    def __init__(self, n: int, seed: int = 0):
        if n < 1:
            raise ValidationError(f"timing {self.name}: needs n ≥ 1 workers, got {n}")
        self.n, self.seed = int(n), int(seed)

    def duration(self, worker: int, job: int) -> float:
        raise NotImplementedError

    def base(self, worker: int) -> float:
        """The worker's mean-free base time (for reports); models without one return ``nan``."""
        return math.nan

    def slowest(self, jobs: range) -> float:
        """Seconds of a lockstep step in which every worker runs ``jobs``: ``maxᵢ Σ_{j ∈ jobs} τ_i(j)``."""
        return max(sum(self.duration(i, j) for j in jobs) for i in range(self.n))


def _per_worker(name: str, value: float | list[float], n: int, owner: str) -> list[float]:
    vals = [float(value)] * n if isinstance(value, (int, float)) else [float(v) for v in value]
    if len(vals) != n:
        raise ValidationError(
            f"timing {owner}: {name} has {len(vals)} entries for {n} workers; give one number or exactly n"
        )
    for v in vals:
        check_positive(name, v, f"timing {owner}")
    return vals


def sqrt_base(i: int) -> float:
    """τ_i = 1 + √(i+1) (ringmaster-lmo's heterogeneous speeds)."""
    return 1.0 + math.sqrt(i + 1.0)


@TIMINGS.register("fixed")
class Fixed(TimingModel):
    """Fixed times: ``times`` seconds for every job of every worker, or a list with one time per worker."""

    def __init__(self, n: int, seed: int = 0, times: float | list[float] = 1.0):
        super().__init__(n, seed)
        self.times = _per_worker("times", times, self.n, self.name)
        self._slowest = max(self.times)

    def duration(self, worker: int, job: int) -> float:
        return self.times[worker]

    def slowest(self, jobs: range) -> float:
        return self._slowest * len(jobs)

    def base(self, worker: int) -> float:
        return self.times[worker]


@TIMINGS.register("sqrt")
class Sqrt(TimingModel):
    """τ_i = scale·(1 + √(i+1)) plus half-normal jitter ``|N(0, (jitter·√(i+1))²)|`` per job (ringmaster-lmo)."""

    def __init__(self, n: int, seed: int = 0, jitter: float = 0.05, scale: float = 1.0):
        super().__init__(n, seed)
        self.jitter = check_nonneg("jitter", jitter, "timing sqrt")
        self.scale = check_positive("scale", scale, "timing sqrt")

    def base(self, worker: int) -> float:
        return self.scale * sqrt_base(worker)

    def duration(self, worker: int, job: int) -> float:
        t = self.base(worker)
        if self.jitter > 0:
            t += self.scale * abs(draws.normal(self.seed, STREAM, worker, job)) * self.jitter * math.sqrt(worker + 1.0)
        return t


@TIMINGS.register("exponential")
class Exponential(TimingModel):
    """Exponential times with per-worker rates: τ_ij = mean·E_ij/λ_i, E ~ Exp(1), λ_i = exp(spread·z_i)."""

    def __init__(self, n: int, seed: int = 0, mean: float = 1.0, spread: float = 0.0):
        super().__init__(n, seed)
        self.mean = check_positive("mean", mean, "timing exponential")
        self.spread = check_nonneg("spread", spread, "timing exponential")
        self.rates = [math.exp(self.spread * draws.normal(self.seed, "timing-rates", i, 0)) for i in range(self.n)]

    def base(self, worker: int) -> float:
        return self.mean / self.rates[worker]

    def duration(self, worker: int, job: int) -> float:
        return -math.log(draws.uniform(self.seed, STREAM, worker, job)) * self.base(worker)


class _BasePlusTail(TimingModel):
    """τ_ij = base_i + scale·Z_ij with base_i = 1 + √(i+1) (``heterogeneous``) or 1."""

    def __init__(self, n: int, seed: int, scale: float, heterogeneous: bool):
        super().__init__(n, seed)
        self.scale = check_nonneg("scale", scale, f"timing {self.name}")
        self.heterogeneous = bool(heterogeneous)

    def base(self, worker: int) -> float:
        return sqrt_base(worker) if self.heterogeneous else 1.0

    def tail(self, worker: int, job: int) -> float:
        raise NotImplementedError

    def duration(self, worker: int, job: int) -> float:
        return self.base(worker) + self.scale * self.tail(worker, job)


@TIMINGS.register("lognormal")
class LogNormal(_BasePlusTail):
    """τ_ij = base_i + scale·exp(sigma·N(0, 1)) (log-normal extra time; MindFlayer-style, async.md §2.6)."""

    def __init__(self, n: int, seed: int = 0, sigma: float = 1.0, scale: float = 1.0, heterogeneous: bool = True):
        super().__init__(n, seed, scale, heterogeneous)
        self.sigma = check_nonneg("sigma", sigma, "timing lognormal")
        largest = self.sigma * LARGEST_NORMAL + math.log(max(self.scale, 1.0))
        if largest >= LOG_MAX_TIME:
            most = (LOG_MAX_TIME - math.log(max(self.scale, 1.0))) / LARGEST_NORMAL
            raise ValidationError(
                f"timing lognormal: sigma = {self.sigma:g} draws times up to e^{largest:.0f}, beyond "
                f"a float's range; use sigma < {most:.3g}"
            )

    def tail(self, worker: int, job: int) -> float:
        return math.exp(self.sigma * draws.normal(self.seed, STREAM, worker, job))


@TIMINGS.register("pareto")
class Pareto(_BasePlusTail):
    """τ_ij = base_i + scale·(U^(−1/alpha) − 1) (Lomax/Pareto II extra time, infinite variance for α ≤ 2)."""

    def __init__(
        self,
        n: int,
        seed: int = 0,
        alpha: float = 1.5,
        scale: float = 1.0,
        heterogeneous: bool = True,
        allow_no_mean: bool = False,
    ):
        super().__init__(n, seed, scale, heterogeneous)
        self.alpha = check_positive("alpha", alpha, "timing pareto")
        if self.alpha <= 1.0 and not allow_no_mean:
            raise ValidationError(
                f"timing pareto: alpha = {self.alpha:g} ≤ 1 gives compute times with an infinite "
                f"mean (a job may take practically forever); use alpha > 1, or set allow_no_mean "
                f"= true for a stress test"
            )
        largest = LOG_SMALLEST_UNIFORM / self.alpha + math.log(max(self.scale, 1.0))
        if largest >= LOG_MAX_TIME:
            raise ValidationError(
                f"timing pareto: alpha = {self.alpha:g} draws times up to e^{largest:.0f}, beyond a "
                f"float's range; use alpha ≥ {LOG_SMALLEST_UNIFORM / LOG_MAX_TIME:.3g}"
            )

    def tail(self, worker: int, job: int) -> float:
        return draws.uniform(self.seed, STREAM, worker, job) ** (-1.0 / self.alpha) - 1.0


@TIMINGS.register("straggler")
class Straggler(TimingModel):
    """The ``sqrt`` model's times (``base = "sqrt"``) or ``time`` seconds (``base = "fixed"``), with the
    chosen ``workers`` (default: the last one) ``factor`` times slower (async.md §2.3, one slow worker)."""

    def __init__(
        self,
        n: int,
        seed: int = 0,
        factor: float = 10.0,
        workers: list[int] | None = None,
        base: str = "sqrt",
        time: float = 1.0,
        jitter: float = 0.05,
    ):
        super().__init__(n, seed)
        self.factor = check_positive("factor", factor, "timing straggler")
        self.workers = sorted({int(w) for w in (workers if workers is not None else [self.n - 1])})
        bad = [w for w in self.workers if not 0 <= w < self.n]
        if bad:
            raise ValidationError(f"timing straggler: workers {bad} are outside 0..{self.n - 1}")
        bases = {"sqrt": lambda: Sqrt(self.n, seed, jitter=jitter), "fixed": lambda: Fixed(self.n, seed, times=time)}
        if base not in bases:
            from ..registry import suggest

            raise ValidationError(
                f"timing straggler: base must be one of {sorted(bases)}, got {base!r}{suggest(base, bases)}"
            )
        self.base_name = base
        self.inner = bases[base]()
        self._slow = set(self.workers)
        #: fixed base times: the slowest worker's time per job, the same for every job
        self._slowest = max(self.base(i) for i in range(self.n)) if base == "fixed" else None

    def base(self, worker: int) -> float:
        return self.inner.base(worker) * (self.factor if worker in self._slow else 1.0)

    def slowest(self, jobs: range) -> float:
        return super().slowest(jobs) if self._slowest is None else self._slowest * len(jobs)

    def duration(self, worker: int, job: int) -> float:
        t = self.inner.duration(worker, job)
        return t * self.factor if worker in self._slow else t


@TIMINGS.register("trace")
class Trace(TimingModel):
    """Times read from a CSV: one column per worker (a header row is skipped), row j = job j's time; rows are
    reused cyclically (job j uses row j mod rows)."""

    def __init__(self, n: int, seed: int = 0, path: str = ""):
        super().__init__(n, seed)
        file = Path(path)
        if not path or not file.is_file():
            raise ValidationError(f"timing trace: path must name a CSV file, got {path!r}")
        try:
            rows = self._read(file)
        except UnicodeDecodeError:
            raise ValidationError(f"timing trace: {path} is not a text CSV file (it is not UTF-8)") from None
        except OSError as err:
            raise ValidationError(f"timing trace: cannot read {path}: {err.strerror or err}") from None
        if not rows:
            raise ValidationError(f"timing trace: {path} holds no times")
        self.path, self.rows = str(path), rows

    def _read(self, file: Path) -> list[list[float]]:
        """The rows of times of the CSV ``file`` (one column per worker; a header row is skipped)."""
        path = str(file)
        rows: list[list[float]] = []
        with file.open(encoding="utf-8", newline="") as fh:
            for k, row in enumerate(csv.reader(fh)):
                if not row or all(not c.strip() for c in row):
                    continue
                try:
                    vals = [float(c) for c in row]
                except ValueError:
                    if k == 0:
                        continue  # header
                    raise ValidationError(f"timing trace: {path} line {k + 1} is not numeric: {row}") from None
                if len(vals) != self.n:
                    raise ValidationError(
                        f"timing trace: {path} line {k + 1} has {len(vals)} columns for {self.n} workers"
                    )
                if min(vals) <= 0 or not all(math.isfinite(v) for v in vals):
                    raise ValidationError(f"timing trace: {path} line {k + 1} holds a time ≤ 0 or not finite")
                rows.append(vals)
        return rows

    def base(self, worker: int) -> float:
        return sum(r[worker] for r in self.rows) / len(self.rows)

    def duration(self, worker: int, job: int) -> float:
        return self.rows[job % len(self.rows)][worker]
