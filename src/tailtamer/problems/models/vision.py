"""Small image classifiers for scikit-learn's 8×8 digits: a CNN and a ViT (both vmap-friendly)."""

from __future__ import annotations

import torch
from torch import nn


class DigitsCNN(nn.Module):
    """conv3×3(1→c) ReLU, conv3×3(c→2c) ReLU, 2×2 max-pool, linear(2c·16 → 10). Input ``[B, 1, 8, 8]``.

    Example:
        >>> DigitsCNN()(torch.zeros(3, 1, 8, 8)).shape
        torch.Size([3, 10])
    """

    vmap_ok = True

    def __init__(self, channels: int = 8, classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, 2 * channels, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Linear(2 * channels * 16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(-3))


class EncoderBlock(nn.Module):
    """Pre-norm transformer encoder block with plain-matmul attention (optional key padding mask)."""

    def __init__(self, d_model: int, heads: int, ffn: int):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv, self.proj = nn.Linear(d_model, 3 * d_model), nn.Linear(d_model, d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, ffn), nn.GELU(), nn.Linear(ffn, d_model))

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        B, T, C = x.shape
        h = self.heads
        q, k, v = (z.reshape(B, T, h, C // h).transpose(1, 2) for z in self.qkv(self.ln1(x)).split(C, dim=-1))
        att = (q @ k.transpose(-2, -1)) * (C // h) ** -0.5
        if keep is not None:  # keep: [B, T] bool, False = padding key
            att = att.masked_fill(~keep[:, None, None, :], float("-inf"))
        x = x + self.proj((att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C))
        return x + self.mlp(self.ln2(x))


class DigitsViT(nn.Module):
    """Vision transformer: 2×2 patches (16 tokens of 4 pixels), learned positions, a class token,
    ``layers`` encoder blocks, LayerNorm, linear head. Input ``[B, 1, 8, 8]``.

    Example:
        >>> DigitsViT()(torch.zeros(3, 1, 8, 8)).shape
        torch.Size([3, 10])
    """

    vmap_ok = True

    def __init__(
        self, d_model: int = 32, layers: int = 2, heads: int = 2, ffn: int = 64, patch: int = 2, classes: int = 10
    ):
        super().__init__()
        self.patch = patch
        tokens = (8 // patch) ** 2
        self.embed = nn.Linear(patch * patch, d_model)
        self.cls = nn.Parameter(torch.zeros(1, 1, d_model))
        self.pos = nn.Parameter(0.02 * torch.randn(1, tokens + 1, d_model))
        self.blocks = nn.ModuleList(EncoderBlock(d_model, heads, ffn) for _ in range(layers))
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, p = x.shape[0], self.patch
        patches = x.reshape(B, 8 // p, p, 8 // p, p).permute(0, 1, 3, 2, 4).reshape(B, -1, p * p)
        z = torch.cat([self.cls.expand(B, -1, -1), self.embed(patches)], dim=1) + self.pos
        for block in self.blocks:
            z = block(z)
        return self.head(self.ln(z[:, 0]))


class TextClassifier(nn.Module):
    """Transformer sentence classifier: token + position embeddings, encoder blocks with padding masks,
    masked mean pooling, LayerNorm, linear head. Input ``[B, T]`` token ids with ``pad`` = 0."""

    vmap_ok = True

    def __init__(
        self,
        vocab: int,
        d_model: int = 64,
        layers: int = 1,
        heads: int = 2,
        ffn: int = 128,
        context: int = 48,
        classes: int = 2,
        pad: int = 0,
    ):
        super().__init__()
        self.pad = pad
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList(EncoderBlock(d_model, heads, ffn) for _ in range(layers))
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, classes)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        keep = idx != self.pad
        z = self.tok(idx) + self.pos.weight[: idx.shape[-1]]
        for block in self.blocks:
            z = block(z, keep)
        w = keep.to(z.dtype)[..., None]
        pooled = (z * w).sum(-2) / w.sum(-2).clamp_min(1.0)
        return self.head(self.ln(pooled))
