"""The GPT of E2: causality (and the paper-faithful leak), size at the published configuration, and a
short gpt-multi30k run that learns well below the unigram plateau."""

from __future__ import annotations

import torch

from tailtamer.problems import build_problem
from tailtamer.problems.models import GPT, PaperFaithfulGPT, causal_mask_check, count_parameters

SMALL = {
    "d_model": 64,
    "layers": 1,
    "heads": 2,
    "ffn": 128,
    "context": 32,
    "max_vocab": 2000,
    "batch_size": 8,
    "max_eval_windows": 100,
}


def test_causal_gpt_cannot_see_the_future():
    torch.manual_seed(0)
    model = GPT(vocab=37, d_model=32, layers=2, heads=4, ffn=64, context=16).double()
    for t in (0, 5, 14):
        assert causal_mask_check(model, 37, 16, t=t) == 0.0
    # ... while the logits at t+1 and after do depend on token t+1
    idx = torch.randint(0, 37, (1, 16))
    other = idx.clone()
    other[0, 6] = (idx[0, 6] + 1) % 37
    assert (model(idx)[0, 6:] - model(other)[0, 6:]).abs().max() > 1e-6


def test_paper_faithful_variant_leaks_the_next_token():
    """The published model (TransformerDecoderLayer called as layer(x, x, tgt_mask=causal)) FAILS the
    causality test: its unmasked cross-attention memory lets position t read token t+1 (its target)."""
    torch.manual_seed(0)
    model = PaperFaithfulGPT(vocab=37, d_model=32, layers=2, heads=4, ffn=64, context=16).double().eval()
    assert causal_mask_check(model, 37, 16, t=5) > 1e-4


def test_published_size_is_about_3m_parameters(shared_data):
    p = build_problem("gpt-multi30k", 8, {"data_dir": str(shared_data)})
    assert 2.8e6 < p.dim < 3.2e6, p.dim
    assert 9000 < len(p.vocab) < 11000
    assert 5.3 < p.unigram_loss < 5.7  # the plateau of Table 1's failing runs (≈ 5.6)
    module = p.module(p.x0(torch.float32))
    assert count_parameters(module) == p.dim and isinstance(module, GPT)
    leaky = build_problem("gpt-multi30k", 2, {"data_dir": str(shared_data), "paper_faithful": True, **SMALL})
    assert leaky.paper_faithful and leaky.resolved_backend == "loop"


def test_paper_faithful_shuffles_the_training_stream_word_by_word(shared_data):
    a = build_problem("gpt-multi30k", 2, {"data_dir": str(shared_data), **SMALL})
    b = build_problem("gpt-multi30k", 2, {"data_dir": str(shared_data), "paper_faithful": True, **SMALL})
    ta, tb = a.train.inputs.reshape(-1), b.train.inputs.reshape(-1)
    assert not torch.equal(ta, tb)
    # the same tokens in another order (up to the tail dropped when cutting windows)
    diff = torch.bincount(ta, minlength=2000) - torch.bincount(tb, minlength=2000)
    assert int(diff.abs().sum()) <= 2 * (SMALL["context"] + 1)
    torch.testing.assert_close(a.val.inputs, b.val.inputs)  # held-out data untouched


def test_short_gpt_run_learns_well_below_the_unigram_level(shared_data):
    from tailtamer.api import build
    from tailtamer.engine import History

    h = History()
    cfg = {
        "problem": {"name": "gpt-multi30k", "data_dir": str(shared_data), **SMALL},
        "algorithm": {"name": "gt-nsgdm", "lr": 0.05, "beta": 0.9},
        "topology": {"name": "ring", "n": 4},
        "run": {"steps": 200, "eval_every": 200, "dtype": "float32"},
    }
    loop = build(cfg, [h])
    loop.run()
    unigram = loop.problem.unigram_loss
    assert h.rows[0]["val_loss"] > unigram  # starts near log(vocab)
    assert h.rows[-1]["val_loss"] < unigram - 0.5, (unigram, h.rows)
