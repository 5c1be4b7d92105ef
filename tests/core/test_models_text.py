"""The SST-2 transformer classifier learns above chance with decentralized GT-Adam on a ring of 4."""

from __future__ import annotations


def test_sst2_classifier_learns(shared_data):
    from tailtamer.api import build
    from tailtamer.engine import History

    h = History()
    cfg = {
        "problem": {
            "name": "sst2",
            "data_dir": str(shared_data),
            "d_model": 32,
            "ffn": 64,
            "context": 32,
            "max_vocab": 4000,
        },
        "algorithm": {"name": "gt-adam", "lr": 0.003},
        "topology": {"name": "ring", "n": 4},
        "run": {"steps": 150, "eval_every": 150, "dtype": "float32"},
    }
    loop = build(cfg, [h])
    assert loop.problem.metric_names[0] == "val_acc" and len(loop.problem.val) == 872
    loop.run()
    assert h.rows[-1]["val_acc"] > 0.65, h.rows
