"""The registered transforms (see :mod:`tailtamer.operators.transform` for the contract), by concept:
clipping (``l2clip``, ``cclip``, ``biclip``), normalization (``normalize``), momentum (``momentum``), adaptive
(``adam``, ``adamw``, ``rmsprop``, ``adagrad`` and the server forms ``outer-adam``, ``outer-rmsprop``,
``outer-adagrad``); ``identity`` is registered with the contract."""

from .adaptive import Adagrad, Adam, AdamW, OuterAdagrad, OuterAdam, OuterRMSProp, RMSProp
from .checks import Checks
from .clipping import BiClip, CClip, L2Clip
from .momentum import Momentum
from .normalization import Normalize

__all__ = [
    "Adagrad",
    "Adam",
    "AdamW",
    "BiClip",
    "CClip",
    "Checks",
    "L2Clip",
    "Momentum",
    "Normalize",
    "OuterAdagrad",
    "OuterAdam",
    "OuterRMSProp",
    "RMSProp",
]
