"""Data loaders: files in ../shared/data, the data folder resolution, and the missing-file error."""

from __future__ import annotations

import pytest

from tailtamer.data import (
    Vocab,
    default_data_dir,
    load_digits_arrays,
    load_multi30k,
    load_sst2,
    multi30k_lm,
    require_file,
    tokenize,
)
from tailtamer.errors import DataNotFoundError


def test_tokenize_and_vocab_are_deterministic():
    assert tokenize("A man's DOG, running.") == ["a", "man's", "dog", ",", "running", "."]
    v = Vocab.build([["b", "a", "b"], ["c", "a", "b"]], max_size=5)
    assert v.itos == ["<pad>", "<unk>", "<eos>", "b", "a"]
    assert v.encode(["a", "c"]) == [4, v.unk]
    assert Vocab.build([["x", "y", "y"]], min_freq=2).itos[3:] == ["y"]


def test_multi30k_splits(shared_data):
    assert len(load_multi30k("train", shared_data)) == 29000
    assert len(load_multi30k("val", shared_data)) == 1014
    assert len(load_multi30k("test", shared_data)) == 1000
    vocab, train, val = multi30k_lm(shared_data, max_vocab=500)
    assert len(vocab) == 500 and max(train) < 500 and train.count(vocab.eos) == 29000
    assert val.count(vocab.eos) == 1014


def test_sst2_splits(shared_data):
    texts, labels = load_sst2("train", shared_data)
    assert len(texts) == len(labels) == 67349 and set(labels) == {0, 1}
    dev, _dev_labels = load_sst2("dev", shared_data)
    assert len(dev) == 872 and dev[0].startswith("one long string")


def test_missing_file_names_the_path_and_the_layout(tmp_path):
    with pytest.raises(DataNotFoundError) as err:
        load_multi30k("train", tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "multi30k" / "train.en.gz") in msg and "expected layout" in msg and "sst2/" in msg
    with pytest.raises(DataNotFoundError, match="dev.tsv.gz"):
        load_sst2("dev", tmp_path)


def test_missing_file_is_a_clean_cli_error(tmp_path, capsys):
    from tailtamer.cli.main import main

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[problem]\nname = "sst2"\ndata_dir = "{tmp_path}"\n[algorithm]\nname = "dsgd"\n'
        '[topology]\nname = "ring"\nn = 4\n'
    )
    assert main(["run", str(cfg), "--out", str(tmp_path / "run")]) == 2
    assert "data file not found" in capsys.readouterr().err


def test_data_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("TAILTAMER_DATA", str(tmp_path))
    assert default_data_dir() == tmp_path
    (tmp_path / "sst2").mkdir()
    (tmp_path / "sst2" / "dev.tsv.gz").write_bytes(b"")
    assert require_file(None, "sst2", "dev.tsv.gz") == tmp_path / "sst2" / "dev.tsv.gz"
    monkeypatch.delenv("TAILTAMER_DATA")
    assert default_data_dir().parts[-2:] == ("shared", "data")


def test_digits():
    pytest.importorskip("sklearn", reason="digits needs scikit-learn (pip install 'tailtamer[data]')")
    images, labels = load_digits_arrays()
    assert images.shape == (1797, 8, 8) and images.min() >= 0.0 and images.max() <= 1.0
    assert sorted(set(labels.tolist())) == list(range(10))
