"""Helpers shared by the test folders (this folder is on ``sys.path``, see conftest.py)."""

from __future__ import annotations

#: A small engine config (GT-NSGDm on a ring of 6, Student-t noise, 60 steps).
SMALL = """
[problem]
name = "quadratic"
dim = 6
condition = 10.0
[algorithm]
name = "gt-nsgdm"
lr = 0.02
beta = 0.8
[topology]
name = "ring"
n = 6
[noise]
name = "student-t"
df = 2.5
scale = 0.3
[run]
steps = 60
eval_every = 10
seed = 3
"""

#: A small SDE-lab config (quartic, DSGD on 2 workers, Student-t noise, 10 paths).
LAB = """
[problem]
name = "quartic"
dim = 2
[method]
name = "dsgd"
workers = 2
lr = 0.05
[noise]
name = "student-t"
df = 3.0
[sde]
paths = 10
horizon = 1.0
"""


def one_line_error(capsys, code: int) -> str:
    """Assert the outcome every bad input must have, and return the line."""
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code not in (0, None), err
    assert "Traceback" not in err
    assert len(lines) == 1, err
    return lines[0]
