"""Derivatives of data sampled on grids.

NumPy-compatible :func:`gradient` at any even accuracy, n-th derivatives
along an axis (:func:`derivative`), vector-calculus operators
(:func:`laplacian`, :func:`divergence`, :func:`curl`), derivatives of noisy
data (:func:`smooth_derivative`) and :func:`turning_points`.  All weights come
from Fornberg's algorithm in :mod:`numderiv._stencil`.  Arrays of other
array-API libraries (PyTorch, CuPy, JAX, array-api-strict) are differentiated
in their own namespace and on their own device (:mod:`._xp`).
"""

from ._derivative import derivative
from ._gradient import gradient
from ._operators import curl, divergence, laplacian
from ._smooth import smooth_derivative
from ._turning import turning_points

__all__ = [
    "curl",
    "derivative",
    "divergence",
    "gradient",
    "laplacian",
    "smooth_derivative",
    "turning_points",
]
