"""Word-level tokenization and vocabularies built from a training split only."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")

PAD, UNK, EOS = "<pad>", "<unk>", "<eos>"


def tokenize(text: str) -> list[str]:
    """Lower-case ``text`` and split it into words and single punctuation marks.

    Example:
        >>> tokenize("Two young, White males.")
        ['two', 'young', ',', 'white', 'males', '.']
    """
    return _WORD.findall(text.lower())


@dataclass
class Vocab:
    """Token ↔ id maps. Ids 0, 1, 2 are ``<pad>``, ``<unk>``, ``<eos>``; then words by decreasing count
    (ties alphabetical), so the vocabulary is a pure function of the training text.

    Attributes:
        itos: id → token.
        counts: training count of each id (the specials count 0, except ``<eos>``: one per sentence).
    """

    itos: list[str]
    counts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def unk(self) -> int:
        return self.stoi[UNK]

    @property
    def eos(self) -> int:
        return self.stoi[EOS]

    @property
    def pad(self) -> int:
        return self.stoi[PAD]

    def encode(self, tokens: Iterable[str]) -> list[int]:
        unk = self.unk
        return [self.stoi.get(t, unk) for t in tokens]

    @classmethod
    def build(cls, sentences: Sequence[Sequence[str]], max_size: int = 0, min_freq: int = 1) -> Vocab:
        """Vocabulary of the tokens of ``sentences`` seen at least ``min_freq`` times, capped at ``max_size``
        entries in all (0: no cap); every other word maps to ``<unk>``."""
        counter = Counter(t for s in sentences for t in s)
        words = sorted((w for w, c in counter.items() if c >= min_freq), key=lambda w: (-counter[w], w))
        if max_size:
            words = words[: max(max_size - 3, 0)]
        counts = [0, 0, len(sentences)] + [counter[w] for w in words]
        return cls([PAD, UNK, EOS, *words], counts)
