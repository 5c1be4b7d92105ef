"""Stacked runs: R runs of one method as one ``[R·n, ...]`` tensor (:mod:`.loop`), their per-member oracle and
randomness (:mod:`.oracle`) and per-row hyperparameters (:mod:`.rows`)."""
