"""Decentralized (gossip) methods of the GT-NSGDm paper's experiments
(Yu, Jakovetić, Kar, ICLR 2026, arXiv 2505.03736)."""

from . import choco, dsgd, gt_adam, gt_dsgd, gt_nsgdm, gt_nsgdm_choco, qg_dsgdm, sclip_ef  # noqa: F401  (registration)
