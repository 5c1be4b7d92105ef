"""An example tailtamer plugin (docs/extending.md): importing it registers

* ``gt-clip``: decentralized gradient tracking of per-node clipped gradients (:mod:`.method`);
* ``contaminated``: Tukey's contaminated Gaussian noise (:mod:`.noise`).

Installed (``pip install examples/plugin``), it is found through its ``tailtamer.plugins`` entry point; else
``tailtamer run CONFIG --plugin tailtamer_example`` with this folder on ``PYTHONPATH``.
"""

from . import method, noise  # noqa: F401  (registers the components)
