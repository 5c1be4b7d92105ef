"""Decentralized (gossip) methods of the GT-NSGDm paper's experiments (algorithms.md §1)."""
from . import choco, dsgd, gt_adam, gt_dsgd, gt_nsgdm, gt_nsgdm_choco, qg_dsgdm, sclip_ef  # noqa: F401  (registration)
