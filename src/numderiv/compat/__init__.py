"""Drop-in layers for the tools numderiv users come from.

* :mod:`numderiv.compat.numpy` -- NumPy's ``gradient``;
* :mod:`numderiv.compat.scipy` -- SciPy's ``approx_derivative``,
  ``approx_fprime``, ``check_grad`` and ``group_columns``;
* :mod:`numderiv.compat.scilab` -- Scilab's ``numderivative``.

Each takes the original's arguments and gives its numbers, shapes and
errors, computed by numderiv's engine.
"""

from __future__ import annotations

from . import numpy, scilab, scipy

__all__ = ["numpy", "scilab", "scipy"]
