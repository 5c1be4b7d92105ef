"""Stacked runs: R runs of one method as one ``[R·n, ...]`` tensor (:mod:`~tailtamer.engine.stacked.loop`), their
per-member oracle and randomness (:mod:`~tailtamer.engine.stacked.oracle`) and per-row hyperparameters
(:mod:`~tailtamer.engine.stacked.rows`)."""
