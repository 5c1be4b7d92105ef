"""A linear bag-of-words sentence classifier on TF-IDF features (``sst2`` with ``model = "tfidf"``).

Each sentence is the TF-IDF vector of its words (Salton & Buckley 1988; idf_w = ln((1 + N)/(1 + df_w)) + 1,
scikit-learn's smoothed form, df_w counted over the training sentences) divided by √(Σ_t idf²(x_t)) over its
token positions (its L2 norm when no word repeats), and the logits are ``scale · Σ_w tfidf_w(x) · E_w`` with
E ∈ R^{V×classes} the trainable word embeddings of size = the number of classes (so it is multinomial
logistic regression on TF-IDF features), started at zero.

Why: the one-layer transformer of E4's SST-2 workload stayed at chance within E4's 300 simulated seconds
under every method (plain SGD on a transformer from scratch needs far more steps); this convex model reaches
≈ 0.80 dev accuracy in about 75 synchronous rounds (docs/async.md, "SST-2 workload"). ``scale`` (a fixed
logit scale, 30) only reparameterizes the step: the normalized sparse features give each word a gradient of
order 1/batch, so SGD's good step on E without it is ~100, outside the 0.03–0.3 grid every E4 method's tuning
starts from; with it (the step scales as scale²) they are ~0.03–0.3.
"""

from __future__ import annotations

import torch
from torch import nn


def inverse_document_frequency(ids: torch.Tensor, vocab: int, pad: int = 0) -> torch.Tensor:
    """idf_w = ln((1 + N)/(1 + df_w)) + 1 over the ``[N, T]`` token rows (df_w: rows holding w; pad gets 0)."""
    s = ids.sort(dim=1).values
    first = torch.ones_like(s, dtype=torch.bool)
    first[:, 1:] = s[:, 1:] != s[:, :-1]  # each id once per row
    df = torch.bincount(s[first], minlength=vocab).to(torch.float64)
    idf = torch.log((1.0 + ids.shape[0]) / (1.0 + df)) + 1.0
    idf[pad] = 0.0
    return idf


class TfidfBag(nn.Module):
    """``scale · Σ_w tfidf_w(x)·E_w`` (module docstring); input ``[B, T]`` token ids with ``pad`` = 0."""

    vmap_ok = True
    idf: torch.Tensor

    def __init__(self, idf: torch.Tensor, classes: int = 2, scale: float = 30.0):
        super().__init__()
        self.scale = float(scale)
        self.emb = nn.Embedding(idf.numel(), classes)
        nn.init.zeros_(self.emb.weight)
        self.register_buffer("idf", idf.clone(), persistent=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        w = self.idf[idx].unsqueeze(-1)  # repeated words add up: tf·idf
        norm = (w * w).sum(-2).clamp_min(torch.finfo(w.dtype).tiny).sqrt()
        return self.scale * (self.emb(idx) * w).sum(-2) / norm


__all__ = ["TfidfBag", "inverse_document_frequency"]
