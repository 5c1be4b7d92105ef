"""Model problems: any ``nn.Module`` factory + data split over n nodes (see :mod:`~tailtamer.problems.models.problem`).

Importing this package registers ``gpt-multi30k``, ``digits-cnn``, ``digits-vit`` and ``sst2``.
"""

from . import workloads  # noqa: F401  (registration)
from .gpt import GPT, PaperFaithfulGPT, causal_mask_check, count_parameters
from .partition import PARTITIONS, contiguous_shards, dirichlet_shards, iid_shards
from .problem import ModelProblem, TensorData, cross_entropy
from .stacked import ParamLayout, StackedModels, vmap_backward
from .vision import DigitsCNN, DigitsViT, TextClassifier

__all__ = [
    "DigitsCNN",
    "DigitsViT",
    "GPT",
    "ModelProblem",
    "PARTITIONS",
    "PaperFaithfulGPT",
    "ParamLayout",
    "StackedModels",
    "TensorData",
    "TextClassifier",
    "causal_mask_check",
    "contiguous_shards",
    "count_parameters",
    "cross_entropy",
    "dirichlet_shards",
    "iid_shards",
    "vmap_backward",
]
