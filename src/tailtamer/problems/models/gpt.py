"""A decoder-only causal transformer language model (GPT), and the leaky "paper-faithful" variant.

:class:`GPT` (the default, correct): token + learned position embeddings, pre-norm blocks of causal
multi-head self-attention and a GELU MLP, final LayerNorm, untied output head. At the published size
(vocabulary ≈ 9.9k words of Multi30k, d_model 128, 2 layers, 4 heads, FFN 512, context 64) it has ≈ 3.0M
parameters. Attention is written with plain matrix products so that ``torch.func.vmap`` batches it over
nodes.

:class:`PaperFaithfulGPT` — **LEAKS THE TARGET; for comparison with Table 1 of arXiv 2505.03736 only.**
It reproduces the publicly circulated experiment code: each layer is ``nn.TransformerDecoderLayer`` called
as ``layer(x, x, tgt_mask=causal)``, so the cross-attention memory is the *unmasked* input and position t
reads token t+1, its own target. A model trained this way reaches a log-perplexity near 0.25 by copying.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t attends to positions ≤ t only."""

    def __init__(self, d_model: int, heads: int, context: int):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by heads ({heads})")
        self.heads = heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.register_buffer("mask", torch.ones(context, context, dtype=torch.bool).tril(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=-1)
        q, k, v = (z.reshape(B, T, self.heads, C // self.heads).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // self.heads))
        att = att.masked_fill(~self.mask[:T, :T], float("-inf")).softmax(dim=-1)
        return self.proj((att @ v).transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, d_model: int, heads: int, ffn: int, context: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, heads, context)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, ffn), nn.GELU(), nn.Linear(ffn, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class _TokenLM(nn.Module):
    """Token + learned position embeddings → a stack of layers → final LayerNorm → untied output head.

    The stack is built by ``make_stack`` between the embeddings and the head, so parameters are registered
    (and randomly initialised) in the order tok, pos, stack, ln_f, head.
    """

    def __init__(
        self, vocab: int, d_model: int, context: int, stack_name: str, make_stack: Callable[[], nn.ModuleList]
    ):
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(context, d_model)
        setattr(self, stack_name, make_stack())
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        return self.tok(idx) + self.pos.weight[: idx.shape[-1]]

    def readout(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.ln_f(x))


class GPT(_TokenLM):
    """Decoder-only causal LM: ``[B, T]`` token ids → ``[B, T, vocab]`` next-token logits.

    Example:
        >>> m = GPT(vocab=50, d_model=16, layers=1, heads=2, ffn=32, context=8)
        >>> m(torch.zeros(2, 8, dtype=torch.long)).shape
        torch.Size([2, 8, 50])
    """

    vmap_ok = True

    def __init__(
        self, vocab: int, d_model: int = 128, layers: int = 2, heads: int = 4, ffn: int = 512, context: int = 64
    ):
        super().__init__(
            vocab,
            d_model,
            context,
            "blocks",
            lambda: nn.ModuleList(Block(d_model, heads, ffn, context) for _ in range(layers)),
        )
        for name, p in self.named_parameters():  # GPT-2 style initialization
            if p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.embed(idx)
        for block in self.blocks:
            x = block(x)
        return self.readout(x)


class PaperFaithfulGPT(_TokenLM):
    """**LEAKY — paper-faithful reproduction for Table 1 comparisons only** (see module docstring).

    ``nn.TransformerDecoderLayer`` (post-norm, ReLU, no dropout) called as ``layer(x, x, tgt_mask=causal)``:
    self-attention is causal but the cross-attention memory (the layer input itself) is not masked.
    """

    vmap_ok = False  # nn.MultiheadAttention's fused paths do not batch under torch.func.vmap

    def __init__(
        self, vocab: int, d_model: int = 128, layers: int = 2, heads: int = 4, ffn: int = 512, context: int = 64
    ):
        super().__init__(
            vocab,
            d_model,
            context,
            "layers",
            lambda: nn.ModuleList(
                nn.TransformerDecoderLayer(d_model, heads, ffn, dropout=0.0, batch_first=True) for _ in range(layers)
            ),
        )
        self.register_buffer("causal", nn.Transformer.generate_square_subsequent_mask(context), persistent=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.shape[-1]
        x = self.embed(idx)
        mask = self.causal[:T, :T].to(x.dtype)
        for layer in self.layers:
            x = layer(x, x, tgt_mask=mask)  # THE LEAK: memory = x, unmasked
        return self.readout(x)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def causal_mask_check(model: nn.Module, vocab: int, context: int, t: int = 3, seed: int = 0) -> float:
    """Largest change of the logits at positions ≤ t when the token at t+1 is changed (0 for a causal model)."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, vocab, (2, context), generator=g)
    other = idx.clone()
    other[:, t + 1] = (idx[:, t + 1] + 1) % vocab
    with torch.no_grad():
        a, b = model(idx), model(other)
    return float((a[:, : t + 1] - b[:, : t + 1]).abs().max())


__all__ = ["GPT", "PaperFaithfulGPT", "causal_mask_check", "count_parameters"]
