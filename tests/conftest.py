"""Shared fixtures: the repository root and the shared data folder (skipped with a clear message if absent).

Tests live in one folder per family (decentralized/, local_update/, asynchronous/, compressed/, core/, engine/,
cli/, studies/, distributed/); the reference helpers and data/ stay here, and this folder is put on sys.path so
that ``from reference import ...`` works from every subfolder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(Path(__file__).parent))

torch.set_num_threads(1)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA} (expected ../shared/data beside the repo)")
    return SHARED_DATA
