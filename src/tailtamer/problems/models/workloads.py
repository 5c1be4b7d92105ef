"""Registered model problems: ``gpt-multi30k``, ``digits-cnn``, ``digits-vit``, ``sst2``.

Each factory loads (and caches) its data, builds a module factory and returns a
:class:`~.problem.ModelProblem`. Common parameters: ``batch_size`` (per node), ``partition``
(``iid`` / ``contiguous`` / ``dirichlet`` for classifiers, with ``dirichlet_alpha``), ``data_seed``
(partition and held-out split), ``init_seed`` (x0), ``backend`` (``auto`` / ``loop`` / ``vmap``),
``per_node_eval``. Use ``dtype = "float32"`` in ``[run]`` for these problems.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from typing import Any

import numpy as np
import torch

from ...data import load_digits_arrays, load_sst2, multi30k_lm, split_holdout, tokenize
from ...data.text import Vocab
from ...errors import ValidationError
from ...validation import check_choice
from ..base import PROBLEMS
from ..synthetic import check_int, data_rng
from .bag import TfidfBag, inverse_document_frequency
from .gpt import GPT, PaperFaithfulGPT
from .problem import ModelProblem, TensorData
from .vision import DigitsCNN, DigitsViT, TextClassifier


# ---- language modelling on Multi30k -------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _multi30k(data_dir: str, max_vocab: int, min_freq: int) -> tuple[Vocab, list[int], list[int]]:
    return multi30k_lm(data_dir or None, max_vocab=max_vocab, min_freq=min_freq)


def lm_windows(ids: list[int] | torch.Tensor, context: int, max_windows: int = 0) -> TensorData:
    """Non-overlapping next-token windows of a token stream: inputs ``s[k·c : k·c + c]``, targets shifted
    by one (a tail shorter than a full window is dropped); at most ``max_windows`` (0: all)."""
    t = torch.as_tensor(ids, dtype=torch.int64)
    w = t.unfold(0, context + 1, context)
    if max_windows:
        w = w[:max_windows]
    return TensorData(w[:, :-1].contiguous(), w[:, 1:].contiguous())


def unigram_loss(train_ids: list[int], eval_ids: list[int]) -> float:
    """Cross-entropy (nats) of ``eval_ids`` under the training unigram distribution (the plateau a model
    that ignores context reaches; unseen ids get count 0.5)."""
    counts, total = Counter(train_ids), len(train_ids)
    return -sum(math.log(counts.get(t, 0.5) / total) for t in eval_ids) / max(len(eval_ids), 1)


@PROBLEMS.register("gpt-multi30k")
def gpt_multi30k(
    n: int,
    data_dir: str = "",
    d_model: int = 128,
    layers: int = 2,
    heads: int = 4,
    ffn: int = 512,
    context: int = 64,
    max_vocab: int = 0,
    min_freq: int = 1,
    batch_size: int = 16,
    partition: str = "iid",
    paper_faithful: bool = False,
    data_seed: int = 0,
    init_seed: int = 0,
    backend: str = "auto",
    per_node_eval: bool = False,
    eval_batch_size: int = 64,
    max_eval_windows: int = 0,
) -> ModelProblem:
    """Decoder-only causal GPT on Multi30k (English, lower-cased words); metric val_loss (nats/token).

    The published size is the default (d_model 128, 2 layers, 4 heads, FFN 512, context 64; ≈ 3.0M
    parameters with the full ≈ 9.9k-word vocabulary); ``max_vocab`` caps the vocabulary (rarer words →
    ``<unk>``). Training windows are the sentence stream (each sentence followed by ``<eos>``) cut into
    non-overlapping windows of ``context`` tokens; evaluation on the official ``val`` split (1,014 sentences).

    ``paper_faithful = true`` — **LEAKY, for comparison with Table 1 only**: the model becomes
    :class:`~.gpt.PaperFaithfulGPT` (``TransformerDecoderLayer`` called as ``layer(x, x, tgt_mask=causal)``,
    whose unmasked cross-attention reads the next token) and the training token stream is shuffled word by
    word, as in the publicly circulated code.
    """
    owner = "gpt-multi30k"
    for name, value in (("d_model", d_model), ("layers", layers), ("heads", heads), ("ffn", ffn), ("context", context)):
        check_int(name, value, 1, owner)
    if d_model % heads:
        raise ValidationError(f"{owner}: d_model ({d_model}) must be divisible by heads ({heads})")
    check_int("max_vocab", max_vocab, 0, owner)
    if 0 < max_vocab < 4:
        raise ValidationError(f"{owner}: max_vocab must be 0 (no cap) or ≥ 4, got {max_vocab}")
    vocab, train_ids, val_ids = _multi30k(str(data_dir), max_vocab, check_int("min_freq", min_freq, 1, owner))
    if paper_faithful:
        perm = data_rng(data_seed, "paper-faithful-shuffle").permutation(len(train_ids))
        train_ids = [train_ids[i] for i in perm]
    cls = PaperFaithfulGPT if paper_faithful else GPT
    V = len(vocab)

    def factory() -> torch.nn.Module:
        return cls(V, d_model=d_model, layers=layers, heads=heads, ffn=ffn, context=context)

    problem = ModelProblem(
        n,
        factory,
        lm_windows(train_ids, context),
        lm_windows(val_ids, context, max_eval_windows),
        batch_size=batch_size,
        partition=partition,
        data_seed=data_seed,
        init_seed=init_seed,
        backend=backend,
        per_node_eval=per_node_eval,
        eval_batch_size=eval_batch_size,
        owner=owner,
    )
    problem.vocab = vocab  # type: ignore[attr-defined]
    problem.paper_faithful = bool(paper_faithful)  # type: ignore[attr-defined]
    problem.unigram_loss = unigram_loss(train_ids, val_ids)  # type: ignore[attr-defined]
    return problem


# ---- digits -------------------------------------------------------------------------------------------
def _digits(holdout: float, data_seed: int) -> tuple[TensorData, TensorData]:
    if not 0.0 < holdout < 1.0:
        raise ValidationError(f"holdout must be in (0, 1), got {holdout}")
    images, labels = load_digits_arrays()
    train_ids, val_ids = split_holdout(len(labels), holdout, data_seed)
    x = torch.from_numpy(images[:, None]).to(torch.float32)
    y = torch.from_numpy(labels)
    return (
        TensorData(x[train_ids], y[train_ids], labels[train_ids]),
        TensorData(x[val_ids], y[val_ids], labels[val_ids]),
    )


def _classifier(n: int, factory: Any, train: TensorData, val: TensorData, owner: str, **kw: Any) -> ModelProblem:
    return ModelProblem(n, factory, train, val, classifier=True, owner=owner, **kw)


@PROBLEMS.register("digits-cnn")
def digits_cnn(
    n: int,
    channels: int = 8,
    holdout: float = 0.2,
    batch_size: int = 32,
    partition: str = "iid",
    dirichlet_alpha: float = 0.5,
    data_seed: int = 0,
    init_seed: int = 0,
    backend: str = "auto",
    per_node_eval: bool = False,
) -> ModelProblem:
    """Small CNN on scikit-learn's 8×8 digits (held-out fraction ``holdout``); metric val_acc."""
    check_int("channels", channels, 1, "digits-cnn")
    train, val = _digits(holdout, data_seed)
    return _classifier(
        n,
        lambda: DigitsCNN(channels),
        train,
        val,
        "digits-cnn",
        batch_size=batch_size,
        partition=partition,
        dirichlet_alpha=dirichlet_alpha,
        data_seed=data_seed,
        init_seed=init_seed,
        backend=backend,
        per_node_eval=per_node_eval,
    )


@PROBLEMS.register("digits-vit")
def digits_vit(
    n: int,
    d_model: int = 32,
    layers: int = 2,
    heads: int = 2,
    ffn: int = 64,
    patch: int = 2,
    holdout: float = 0.2,
    batch_size: int = 32,
    partition: str = "iid",
    dirichlet_alpha: float = 0.5,
    data_seed: int = 0,
    init_seed: int = 0,
    backend: str = "auto",
    per_node_eval: bool = False,
) -> ModelProblem:
    """Small ViT (2×2 patches, class token) on scikit-learn's 8×8 digits; metric val_acc."""
    if patch not in (1, 2, 4, 8):
        raise ValidationError(f"digits-vit: patch must divide 8 (1, 2, 4 or 8), got {patch}")
    if d_model % heads:
        raise ValidationError(f"digits-vit: d_model ({d_model}) must be divisible by heads ({heads})")
    train, val = _digits(holdout, data_seed)
    return _classifier(
        n,
        lambda: DigitsViT(d_model, layers, heads, ffn, patch),
        train,
        val,
        "digits-vit",
        batch_size=batch_size,
        partition=partition,
        dirichlet_alpha=dirichlet_alpha,
        data_seed=data_seed,
        init_seed=init_seed,
        backend=backend,
        per_node_eval=per_node_eval,
    )


# ---- SST-2 --------------------------------------------------------------------------------------------
def encode_padded(texts: list[str], vocab: Vocab, context: int) -> torch.Tensor:
    """Token ids ``[N, context]``: truncated, padded with ``<pad>`` (id 0) at the end."""
    out = torch.zeros(len(texts), context, dtype=torch.int64)
    for i, text in enumerate(texts):
        ids = vocab.encode(tokenize(text))[:context] or [vocab.unk]
        out[i, : len(ids)] = torch.tensor(ids)
    return out


@functools.lru_cache(maxsize=2)
def _sst2_idf(data_dir: str, max_vocab: int, context: int) -> torch.Tensor:
    train, _, V = _sst2(data_dir, max_vocab, context)
    return inverse_document_frequency(train.inputs, V)


@functools.lru_cache(maxsize=2)
def _sst2(data_dir: str, max_vocab: int, context: int) -> tuple[TensorData, TensorData, int]:
    texts, labels = load_sst2("train", data_dir or None)
    dev_texts, dev_labels = load_sst2("dev", data_dir or None)
    vocab = Vocab.build([tokenize(t) for t in texts], max_size=max_vocab)
    y, dy = np.asarray(labels), np.asarray(dev_labels)
    train = TensorData(encode_padded(texts, vocab, context), torch.from_numpy(y), y)
    val = TensorData(encode_padded(dev_texts, vocab, context), torch.from_numpy(dy), dy)
    return train, val, len(vocab)


#: SST-2 classifiers (``model``): the one-layer transformer, or the linear TF-IDF bag of words (models/bag.py).
SST2_MODELS = ("transformer", "tfidf")


@PROBLEMS.register("sst2")
def sst2(
    n: int,
    data_dir: str = "",
    max_vocab: int = 8000,
    context: int = 48,
    d_model: int = 64,
    layers: int = 1,
    heads: int = 2,
    ffn: int = 128,
    batch_size: int = 32,
    partition: str = "iid",
    dirichlet_alpha: float = 0.5,
    data_seed: int = 0,
    init_seed: int = 0,
    backend: str = "auto",
    per_node_eval: bool = False,
    model: str = "transformer",
    scale: float = 30.0,
) -> ModelProblem:
    """Sentence classifier on GLUE SST-2 (train split for training, dev for evaluation; word vocabulary of the
    ``max_vocab`` most frequent training words); metric val_acc. ``model``: ``transformer`` (token and
    position embeddings, ``layers`` encoder blocks, masked mean pooling) or ``tfidf`` (linear on TF-IDF
    features with logit ``scale``; d_model, layers, heads, ffn unused), the E4 workload that learns."""
    owner = "sst2"
    for name, value in (("max_vocab", max_vocab), ("context", context), ("d_model", d_model), ("layers", layers)):
        check_int(name, value, 4 if name == "max_vocab" else 1, owner)
    check_choice("model", model, SST2_MODELS, owner)
    if d_model % heads:
        raise ValidationError(f"{owner}: d_model ({d_model}) must be divisible by heads ({heads})")
    if not (isinstance(scale, (int, float)) and not isinstance(scale, bool) and scale > 0):
        raise ValidationError(f"{owner}: scale must be a number > 0, got {scale!r}")
    train, val, V = _sst2(str(data_dir), max_vocab, context)
    factory: Any = (
        functools.partial(TfidfBag, _sst2_idf(str(data_dir), max_vocab, context), 2, scale)
        if model == "tfidf"
        else functools.partial(TextClassifier, V, d_model, layers, heads, ffn, context)
    )
    return _classifier(
        n,
        factory,
        train,
        val,
        owner,
        batch_size=batch_size,
        partition=partition,
        dirichlet_alpha=dirichlet_alpha,
        data_seed=data_seed,
        init_seed=init_seed,
        backend=backend,
        per_node_eval=per_node_eval,
    )
