"""The paper studies, one package each (and one script), named by what they study; each declares its
:class:`~tailtamer.experiments.study.Study` values in ``STUDIES``, and its recorded tuned values are JSON files
inside it (what ``--tune`` writes as ``tuned.json``), read by the study.

- ``gt_nsgdm_heavy_tails``: E1, GT-NSGDm and four baselines under heavy-tailed noise, Tukey regression on
  tokenized data, 20 nodes (studies ``e1``, ``demo``);
- ``decentralized_gpt``: E2, 10 decentralized methods × 3 topologies on a GPT (Multi30k) (``e2``,
  ``e2-tuned``, ``e2-leaky``, ``e2-smoke``);
- ``tailopt_local_updates``: E3, TailOPT local-update methods under injected heavy-tailed noise (``tailopt``,
  ``tailopt-models``);
- ``asynchronous_methods``: E4, asynchronous methods with stragglers under heavy tails (``e4``, ``e4-cpu``,
  ``e4-sst2``, ``e4-smoke``);
- ``compressed_sign_sde``: E5, compressed and sign methods and their SDEs under heavy tails (``e5``,
  ``e5-smoke``);
- ``crossfamily``: issue 28, 13 methods of the four families on one simulated clock (datacenter, cross-region,
  edge clusters), time to target (``crossfamily``, ``crossfamily-smoke``);
- ``compressed_gossip``: GT-NSGDm with compressed gossip (a script, not a declared study).

This package is the registry of studies: :data:`STUDIES` by name, :func:`get`. It sits above the study
platform (:mod:`tailtamer.experiments.study`, which never imports it); ``tailtamer study`` imports it.
"""

from __future__ import annotations

from ...errors import ConfigError
from ...registry import suggest
from ..study import Study
from . import (
    asynchronous_methods,
    compressed_sign_sde,
    crossfamily,
    decentralized_gpt,
    gt_nsgdm_heavy_tails,
    tailopt_local_updates,
)

#: Every declared study by name (``tailtamer study --list`` lists them in this order).
STUDIES: dict[str, Study] = {
    s.name: s
    for module in (
        gt_nsgdm_heavy_tails,
        decentralized_gpt,
        asynchronous_methods,
        tailopt_local_updates,
        compressed_sign_sde,
        crossfamily,
    )
    for s in module.STUDIES
}


def studies() -> dict[str, Study]:
    """Every declared study by name."""
    return dict(STUDIES)


def get(name: str) -> Study:
    """The study ``name`` (a ConfigError naming the closest one otherwise)."""
    if name not in STUDIES:
        raise ConfigError(f"unknown study '{name}'{suggest(name, STUDIES)}; studies: {', '.join(STUDIES)}")
    return STUDIES[name]
