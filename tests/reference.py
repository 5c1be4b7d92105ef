"""The per-node reference loop lives in the package (:mod:`tailtamer.testing.reference`); re-exported here for
the tests that import ``reference``."""

from tailtamer.testing.reference import REFERENCES, mix_loop, neighbour_lists, run_reference  # noqa: F401
