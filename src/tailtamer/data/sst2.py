"""GLUE SST-2 (binary sentiment): ``<data_dir>/sst2/{train,dev}.tsv.gz``, a header line, then
``label<TAB>sentence`` rows (label 0 negative, 1 positive)."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from .paths import read_gz_lines, require_file

FILES = {"train": "train.tsv.gz", "dev": "dev.tsv.gz", "val": "dev.tsv.gz"}


def load_sst2(split: str = "train", data_dir: str | Path | None = None) -> tuple[list[str], list[int]]:
    """``(sentences, labels)`` of a split (``train``, or ``dev``/``val``)."""
    if split not in FILES:
        raise ValueError(f"sst2 split must be one of {sorted(FILES)}, got {split!r}")
    path = require_file(data_dir, "sst2", FILES[split])
    texts, labels = [], []
    for number, line in enumerate(read_gz_lines(path)[1:], start=2):  # after the header
        label, _, text = line.rstrip("\n").partition("\t")
        if text:
            try:
                labels.append(int(label))
            except ValueError:
                raise DataError(
                    f"data file {path}, line {number}: the label {label!r} is not an integer "
                    "(expected label<TAB>sentence)"
                ) from None
            texts.append(text)
    return texts, labels
