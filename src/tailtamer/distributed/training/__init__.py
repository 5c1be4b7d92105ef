"""Pieces for training your own model under ``torchrun``: process-group checks, flat parameter rows, the
compressed DDP communication hook and the local-update (DiLoCo-style) wrapper. See docs/distributed.md."""
