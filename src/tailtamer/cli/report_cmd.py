"""``tailtamer report RUN_DIR [RUN_DIR ...] [--metric M] [--e2] [--plot PNG --x KEY]`` — a Table-1 style markdown
table (mean ± std over seeds) from run folders, and with ``--plot`` the metric's curves against the step, the
simulated time (``--x sim_time``: runs of every family on one clock) or the bytes sent; reports only read run
folders. On a terminal the table is drawn with rich."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError
from ..experiments.report import load_runs, pivot_table
from ..experiments.studies.decentralized_gpt import table1
from ..registry import suggest
from ..rundir.plots import AXES, plot_bands
from ..validation import check_int
from .render import print_markdown


def headline(runs) -> str:
    for run in runs:
        metrics = run.summary.get("metrics") or run.summary.get("last_metrics") or {}
        if metrics:
            return next(iter(metrics))
    return "val_loss"


def known_metrics(runs) -> list[str]:
    """Every metric name in the runs' summaries (final or, for diverged runs, last evaluated)."""
    names: dict[str, None] = {}
    for r in runs:
        for key in ("metrics", "last_metrics"):
            names.update(dict.fromkeys(r.summary.get(key) or {}))
    return list(names)


def known_fields(runs) -> list[str]:
    """Every summary field a table can group by: scalars, and ``section.key`` for scalars one level down."""
    fields: dict[str, None] = {}
    for r in runs:
        for k, v in r.summary.items():
            if k in ("metrics", "last_metrics"):
                continue
            if isinstance(v, dict):
                fields.update(dict.fromkeys(f"{k}.{kk}" for kk, vv in v.items() if not isinstance(vv, (dict, list))))
            elif not isinstance(v, list):
                fields[k] = None
    return list(fields)


def _check(option: str, value: str, known: list[str]) -> None:
    if value not in known:
        raise ConfigError(
            f"{option} '{value}' is not in these runs' summaries{suggest(value, known)}; known: {', '.join(known)}"
        )


def curves(runs, rows: str, cols: str) -> dict[str, list[list[dict]]]:
    """The runs' metric rows by label (the ``rows`` field, and the ``cols`` field where it takes several values)."""
    several = len({str(r.get(cols)) for r in runs}) > 1
    out: dict[str, list[list[dict]]] = {}
    for r in runs:
        label = f"{r.get(rows)} / {r.get(cols)}" if several else str(r.get(rows))
        out.setdefault(label, []).append(r.rows)
    return out


def main(args: argparse.Namespace) -> int:
    check_int("--digits", args.digits, 0)
    if args.x not in AXES:
        raise ConfigError(
            f"--x {args.x!r} is not an axis of metrics.jsonl{suggest(args.x, AXES)}; axes: {', '.join(AXES)}"
        )
    if args.plot and not args.plot.endswith(".png"):
        raise ConfigError(f"--plot {args.plot!r}: give a .png file")
    runs = load_runs(args.runs, with_rows=bool(args.plot))
    if args.metric:
        _check("--metric", args.metric, known_metrics(runs))
    fields = known_fields(runs)
    _check("--rows", args.rows, fields)
    _check("--cols", args.cols, fields)
    metric = args.metric or headline(runs)
    seeds = len({r.summary.get("seed") for r in runs})
    head = f"{metric}: mean ± std over seeds ({len(runs)} runs, {seeds} seed(s))\n\n"
    if args.e2:
        body = table1(runs, metric, args.rows, args.cols, args.digits)
    else:
        body = pivot_table(runs, metric, args.rows, args.cols, args.digits)
    drawable = [r for r in runs if r.rows]
    lacking = [str(r.folder) for r in drawable if any(args.x not in row for row in r.rows)]
    if lacking:
        raise ConfigError(
            f"--x {args.x}: {len(lacking)} run(s) have no {args.x} in metrics.jsonl (written before the "
            f"simulated clock?), e.g. {lacking[0]}"
        )
    print_markdown(head + body)
    if args.plot:
        plot_bands(curves(drawable, args.rows, args.cols), metric, Path(args.plot), log=False, x=args.x)
        print(f"wrote {args.plot}")
    return 0
