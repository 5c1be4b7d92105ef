"""Local data sets for the model problems (nothing is downloaded): Multi30k, SST-2, scikit-learn digits.

Every loader takes ``data_dir`` (default: ``$TAILTAMER_DATA``, else ``../shared/data`` beside the repository)
and raises :class:`~tailtamer.errors.DataNotFoundError` naming the missing path and the expected layout.
"""

from .digits import load_digits_arrays, split_holdout
from .multi30k import load_multi30k, multi30k_lm, token_stream
from .paths import LAYOUT, default_data_dir, require_file, resolve_data_dir
from .sst2 import load_sst2
from .text import Vocab, tokenize

__all__ = [
    "LAYOUT",
    "Vocab",
    "default_data_dir",
    "load_digits_arrays",
    "load_multi30k",
    "load_sst2",
    "multi30k_lm",
    "require_file",
    "resolve_data_dir",
    "split_holdout",
    "token_stream",
    "tokenize",
]
