"""Sphinx configuration: the Markdown docs of this folder (MyST) and the API from the docstrings.

Build (as .ci/run does): ``sphinx-build -W --keep-going -b html docs docs/_build/html``. Nothing is fetched at
build time (no intersphinx), so the build works offline.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

project = "tailtamer"
author = "the tailtamer authors"
copyright = "the tailtamer authors, MIT license"  # noqa: A001 - the name Sphinx reads

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_autosummary/*.tmp"]

# The API: one page per module, generated from the package tree (autosummary_generate), so a module that moves
# is documented where it lands. The generated pages live in docs/_autosummary (ignored by git).
autosummary_generate = True
autosummary_imported_members = False
# "ignore-module-all": a module's page documents what the module defines, not what its __all__ re-exports (the
# package's public names are documented where they are defined, once).
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "member-order": "bysource",
    "ignore-module-all": True,
}
autodoc_typehints = "description"
autodoc_class_signature = "separated"
# Optional extras: documented without being installed.
autodoc_mock_imports = ["ray", "sklearn", "tensorboard", "torch.utils.tensorboard"]

napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Cross-references that do not resolve are not errors (nitpicky off): the docstrings name many torch, numpy and
# scipy types, and no inventory of those projects is fetched. Every other warning fails the build (-W).
nitpicky = False

myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

html_theme = "alabaster"
html_title = "tailtamer"
templates_path = ["_templates"]
html_static_path: list[str] = []
