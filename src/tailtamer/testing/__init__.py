"""Reference implementations that tests and benchmarks compare the vectorized code against, and test helpers."""

from .reference import REFERENCES, run_reference

__all__ = ["REFERENCES", "run_reference"]
