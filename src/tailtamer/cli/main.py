"""``tailtamer`` command line. :data:`COMMANDS` is the table of subcommands: each names the module of its
argument spec (``tailtamer/cli/arguments/NAME.py``: ``add_arguments(parser)``, argparse and the standard
library only) and the module doing its work (``main(args) -> int``, importing torch and the rest at its top),
which is imported only when that command runs. So ``tailtamer --help`` and ``tailtamer COMMAND --help``
answer without loading torch, and ``tailtamer list`` reads the registry index instead of the registries."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NamedTuple

from ..errors import TailtamerError
from . import plugin_option


class Command(NamedTuple):
    """One subcommand: its argument spec module, the module doing its work, and its help line."""

    arguments: str
    work: str
    help: str


#: Subcommand name → :class:`Command`, in help order (core commands first, then alphabetical).
COMMANDS: dict[str, Command] = {
    "demo": Command(
        "tailtamer.cli.arguments.demo",
        "tailtamer.cli.demo_cmd",
        "E1 with alpha-stable noise (alpha 1.5, skew 0.5) on a 2-nearest ring of 20 nodes: GT-NSGDm vs "
        "DSGD, DSGD-Clip, GT-DSGD and SClip-EF (tuned), 3 seeds; prints a table and writes a comparison "
        "plot",
    ),
    "run": Command(
        "tailtamer.cli.arguments.run",
        "tailtamer.cli.run_cmd",
        "run one config in the simulator and write its run folder",
    ),
    "list": Command(
        "tailtamer.cli.arguments.list",
        "tailtamer.cli.list_cmd",
        "list algorithms, problems, topologies, noise models and schedules with their parameters",
    ),
    "topology": Command(
        "tailtamer.cli.arguments.topology",
        "tailtamer.cli.topology_cmd",
        "build a topology and print its mixing-matrix summary and spectral gap rho = ||W - 11^T/n||_2",
    ),
    "diagnose": Command(
        "tailtamer.cli.arguments.diagnose",
        "tailtamer.cli.diagnose_cmd",
        "gradient-noise diagnostics: tail-index estimates and noise-norm histograms of a run folder",
    ),
    "e1": Command(
        "tailtamer.cli.arguments.e1",
        "tailtamer.cli.e1_cmd",
        "reproduce E1 (alias of 'tailtamer study e1'): 5 seeds x 3 noises x 5 methods on the ring of 20, "
        "the complete graph, the node-scaling sweep n in {2,5,10,20,40} and a noise-scale sweep; writes "
        "tables (e1-report.md) and plots",
    ),
    "launch": Command(
        "tailtamer.cli.arguments.launch",
        "tailtamer.cli.launch_cmd",
        "run one config as N processes over torch.distributed (same run folder as `run`)",
    ),
    "report": Command(
        "tailtamer.cli.arguments.report",
        "tailtamer.cli.report_cmd",
        "markdown table (mean ± std over seeds) of a metric across run folders, e.g. E2's Table 1",
    ),
    "sde": Command(
        "tailtamer.cli.arguments.sde",
        "tailtamer.cli.sde_cmd",
        "run DSGD / DCSGD / DSignSGD and their SDE (Euler-Maruyama) on M paths; write mean and quantiles "
        "of f against t = k*eta, a plot and the gap",
    ),
    "study": Command(
        "tailtamer.cli.arguments.study",
        "tailtamer.cli.study_cmd",
        "run a declared study (E1, E2, TailOPT, ...): tuning grid, runs, tables and plots; --list lists them",
    ),
    "advise": Command(
        "tailtamer.cli.arguments.advise",
        "tailtamer.cli.advise_cmd",
        "which method of the four families reaches the target first on your problem and cluster: a short "
        "cross-family study (cost stated up front, resumable), methods ranked by simulated time to target",
    ),
    "check": Command(
        "tailtamer.cli.arguments.check",
        "tailtamer.cli.check_cmd",
        "run the contract suite on one component (yours from --plugin, or a built-in): PASS/FAIL per property",
    ),
    "tailopt": Command(
        "tailtamer.cli.arguments.tailopt",
        "tailtamer.cli.tailopt_cmd",
        "E3 at CPU scale (alias of 'tailtamer study tailopt --tune'): Bi2Clip vs Adam2, DiLoCo, "
        "FedAvg, Avg-L2Clip, Adam-SGD under injected Student-t and alpha-stable noise (tuning grid + "
        "3 seeds); table of final quality, state bytes and comm bytes",
    ),
}


def parser() -> argparse.ArgumentParser:
    """The parser of every subcommand, built from the argument spec modules alone (no torch)."""
    p = argparse.ArgumentParser(
        prog="tailtamer",
        description="Distributed optimization under heavy-tailed "
        "gradient noise: simulate n nodes in one process, or run them for real.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        sp = sub.add_parser(name, help=command.help, description=command.help)
        importlib.import_module(command.arguments).add_arguments(sp)
    return p


def _silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand. Errors a user can cause (bad input, OS faults: a full disk, a closed pipe, too
    little memory) end with one line on stderr and a non-zero exit code, never a traceback."""
    args = parser().parse_args(argv)
    try:
        plugin_option.load(args)
        code = importlib.import_module(COMMANDS[args.command].work).main(args) or 0
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except TailtamerError as err:
        print(f"tailtamer {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `tailtamer list | head`: the reader stopped reading
        _silence_stdout()
        print(f"tailtamer {args.command}: output closed early (broken pipe)", file=sys.stderr)
        return 141  # 128 + SIGPIPE, as a shell reports a killed writer
    except KeyboardInterrupt:
        print(f"\ntailtamer {args.command}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(
            f"tailtamer {args.command}: error: out of memory; reduce [topology] n or the problem's size",
            file=sys.stderr,
        )
        return 2
    except OSError as err:  # a file that cannot be read or written
        name = f" {err.filename}" if getattr(err, "filename", None) else ""
        print(f"tailtamer {args.command}: error: {err.strerror or err}{':' + name if name else ''}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
