"""The README is exactly true: every ```bash command and ```python block runs, at reduced step counts.

Commands run in order, in a scratch folder that sees the repository's ``configs/`` and ``examples/``, so a
command that reads a folder finds it only if an earlier command made it. ``tailtamer run``/``diagnose --run``
get ``--set run.steps=STEPS`` (and ``diagnose`` measures twice). Setup, studies and multi-process commands
are skipped, each for a stated reason (``SKIP``), and so is any later command that reads what a skipped
command would have written. A command that matches neither ``SKIP`` nor a runner fails the test: add it to
one of them.
"""

from __future__ import annotations

import re
import shlex
import sys
import time
from pathlib import Path

import pytest

from tailtamer.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
STEPS = 12

#: Command prefixes not run here, and why.
SKIP = {
    "python3 -m venv": "setup: creates .venv and installs (what .ci/run does)",
    "pip": "setup: installs the package",
    "python -m pytest": "the test suite itself",
    "tailtamer demo": "a 15-run study; tests/cli/test_cli.py::test_demo_prints_the_table_and_writes_the_plot runs it",
    "tailtamer e1": "the full E1 study (minutes)",
    "tailtamer tailopt": "the E3 study (minutes)",
    "tailtamer study": "a whole study (minutes)",
    "python -m tailtamer.experiments": "a whole study (minutes)",
    "tailtamer launch": "several processes; tests/distributed/test_distributed.py runs launch against run",
    "torchrun": "several processes; tests/distributed/test_distributed_torchrun.py runs torchrun",
    "python benchmarks/": "benchmarks (minutes)",
    "tensorboard": "a server",
    "ray": "a Ray cluster (several machines); tests/studies/test_executors.py runs a study on a local Ray instance",
}
#: Commands that need the shared data folder (skipped with the fixture's message when it is absent).
NEEDS_DATA = ("configs/e2/",)


def blocks(text: str) -> list[tuple[str, str]]:
    """``(language, body)`` of every fenced code block."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, flags=re.M | re.S)]


def commands(body: str) -> list[list[str]]:
    """The commands of a bash block: comments dropped, ``\\`` continuations joined, split at ``&&``."""
    out: list[list[str]] = []
    for line in body.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        while words:
            cut = words.index("&&") if "&&" in words else len(words)
            out.append(words[:cut])
            words = words[cut + 1 :]
    return out


def skip_reason(words: list[str], skipped_outputs: set[str]) -> str | None:
    text = " ".join([Path(words[0]).name if words[0].startswith(".venv/bin/") else words[0], *words[1:]])
    for prefix, why in SKIP.items():
        if text.startswith(prefix):
            return why
    for folder in skipped_outputs:
        if any(w == folder or w.startswith(folder.rstrip("/") + "/") for w in words):
            return f"reads {folder}, which a skipped command writes"
    return None


def reduced(words: list[str]) -> list[str]:
    """The argv for :func:`tailtamer.cli.main.main` at ``STEPS`` steps."""
    argv = words[1:]
    if argv[:1] == ["run"] and argv[1:2] == ["--resume"]:
        return argv + ["--no-plot"]  # the folder holds its (reduced) config: nothing to set
    if argv[:1] == ["run"]:
        return argv + ["--set", f"run.steps={STEPS}", "--no-plot"]
    if argv[:1] == ["diagnose"] and "--run" in argv:
        return argv + ["--set", f"run.steps={STEPS}"] + ([] if "--every" in argv else ["--every", str(STEPS)])
    return argv


def out_of(words: list[str]) -> str | None:
    return words[words.index("--out") + 1] if "--out" in words[:-1] else None


def test_readme_blocks_are_parsed():
    langs = [lang for lang, _ in blocks(README.read_text())]
    assert "bash" in langs and "python" in langs
    assert commands("a b # c\nd \\\n e && f\n") == [["a", "b"], ["d", "e"], ["f"]]


@pytest.mark.slow
def test_readme_commands_run(tmp_path, monkeypatch, capsys, request):
    for name in ("configs", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    skipped_outputs: set[str] = set()
    ran, skipped, timings = [], [], []
    for lang, body in blocks(README.read_text()):
        if lang != "bash":
            continue
        for words in commands(body):
            reason = skip_reason(words, skipped_outputs)
            if reason is None and any(w.startswith(NEEDS_DATA) for w in words):
                request.getfixturevalue("shared_data")  # skips with the path when absent
            if reason is not None:
                skipped.append((" ".join(words), reason))
                if out_of(words):
                    skipped_outputs.add(out_of(words))
                continue
            name = Path(words[0]).name
            assert name == "tailtamer", (
                f"README command {' '.join(words)!r} is neither run nor skipped by "
                "tests/cli/test_readme.py: add a runner or a SKIP entry with its reason"
            )
            t0 = time.perf_counter()
            code = main(reduced(words))
            captured = capsys.readouterr()
            timings.append(f"{time.perf_counter() - t0:.1f} s  {' '.join(words)}")
            assert code == 0, f"README command {' '.join(words)!r} failed ({code}): {captured.err[-2000:]}"
            ran.append(" ".join(words))
    assert ran, "no README command ran"
    sys.stderr.write("".join(f"\nskipped: {c}  ({why})" for c, why in skipped) + "\n" + "\n".join(timings))


def test_readme_python_blocks_run(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    codes = [body for lang, body in blocks(README.read_text()) if lang == "python"]
    assert codes
    for code in codes:
        code = re.sub(r'"steps": \d+', f'"steps": {STEPS}', code)
        exec(compile(code, str(README), "exec"), {"__name__": "readme"})


def test_readme_toml_configs_resolve():
    from tailtamer.config import resolve, tomllib

    tomls = [body for lang, body in blocks(README.read_text()) if lang == "toml"]
    assert tomls
    for body in tomls:
        resolve(tomllib.loads(body))
