"""Gradient-noise diagnostics: tail-index estimators, a noise-measuring callback, plots."""

from .noise import NOISE_FILE, GradientNoise, measure_noise, read_noise
from .plots import plot_noise
from .tail_index import hill_alpha, mohammadi_alpha

__all__ = ["NOISE_FILE", "GradientNoise", "hill_alpha", "measure_noise", "mohammadi_alpha", "plot_noise", "read_noise"]
