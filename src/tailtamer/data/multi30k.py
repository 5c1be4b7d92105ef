"""Multi30k (task 1, raw English side): sentences and a next-token stream for language modelling.

Files: ``<data_dir>/multi30k/{train,val,test_2016_flickr}.en.gz``, one sentence per line (the official
``multi30k/dataset`` repository, ``data/task1/raw``). Splits: ``train`` (29,000), ``val`` (1,014),
``test`` (1,000).
"""

from __future__ import annotations

from pathlib import Path

from .paths import read_gz_lines, require_file
from .text import Vocab, tokenize

FILES = {"train": "train", "val": "val", "test": "test_2016_flickr"}


def load_multi30k(split: str = "train", data_dir: str | Path | None = None, lang: str = "en") -> list[str]:
    """The raw sentences of a split (stripped; empty lines dropped)."""
    if split not in FILES:
        raise ValueError(f"multi30k split must be one of {sorted(FILES)}, got {split!r}")
    path = require_file(data_dir, "multi30k", f"{FILES[split]}.{lang}.gz")
    return [line.strip() for line in read_gz_lines(path) if line.strip()]


def token_stream(sentences: list[list[str]], vocab: Vocab) -> list[int]:
    """The ids of all sentences, each followed by ``<eos>``, concatenated in order."""
    out: list[int] = []
    for s in sentences:
        out += vocab.encode(s)
        out.append(vocab.eos)
    return out


def multi30k_lm(
    data_dir: str | Path | None = None, max_vocab: int = 0, min_freq: int = 1, eval_split: str = "val"
) -> tuple[Vocab, list[int], list[int]]:
    """``(vocab, train_ids, eval_ids)``: lower-cased word-level tokens, vocabulary from the training split."""
    train = [tokenize(s) for s in load_multi30k("train", data_dir)]
    held = [tokenize(s) for s in load_multi30k(eval_split, data_dir)]
    vocab = Vocab.build(train, max_size=max_vocab, min_freq=min_freq)
    return vocab, token_stream(train, vocab), token_stream(held, vocab)
