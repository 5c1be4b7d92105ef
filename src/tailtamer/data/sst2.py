"""GLUE SST-2 (binary sentiment): ``<data_dir>/sst2/{train,dev}.tsv.gz``, a header line, then
``label<TAB>sentence`` rows (label 0 negative, 1 positive)."""
from __future__ import annotations

import gzip
from pathlib import Path

from .paths import require_file

FILES = {"train": "train.tsv.gz", "dev": "dev.tsv.gz", "val": "dev.tsv.gz"}


def load_sst2(split: str = "train", data_dir: str | Path | None = None) -> tuple[list[str], list[int]]:
    """``(sentences, labels)`` of a split (``train``, or ``dev``/``val``)."""
    if split not in FILES:
        raise ValueError(f"sst2 split must be one of {sorted(FILES)}, got {split!r}")
    path = require_file(data_dir, "sst2", FILES[split])
    texts, labels = [], []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        next(f, None)                                          # header
        for line in f:
            label, _, text = line.rstrip("\n").partition("\t")
            if text:
                texts.append(text)
                labels.append(int(label))
    return texts, labels
