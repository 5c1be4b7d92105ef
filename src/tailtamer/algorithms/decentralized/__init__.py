"""Decentralized (gossip) methods of the GT-NSGDm paper's experiments (algorithms.md §1)."""
from . import dsgd, gt_adam, gt_dsgd, gt_nsgdm, qg_dsgdm, sclip_ef  # noqa: F401  (registration)
