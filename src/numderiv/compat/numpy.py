"""NumPy's ``gradient``, computed by :func:`numderiv.grid.gradient`.

>>> import numpy as np
>>> from numderiv.compat.numpy import gradient
>>> gradient(np.array([1, 2, 4, 7, 11, 16]))
array([1. , 1.5, 2.5, 3.5, 4.5, 5. ])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..grid import gradient as _grid_gradient

__all__ = ["gradient"]


def _plain(value: Any) -> bool:
    """Data numderiv.grid takes as NumPy would.

    Not an ndarray subclass (masked arrays, matrices: NumPy keeps the
    subclass) and not datetime, timedelta or object data (NumPy keeps those
    dtypes; timedelta is an integer type to NumPy, so it must be caught here).
    """
    if isinstance(value, np.ndarray):
        return type(value) is np.ndarray and value.dtype.kind not in "mMO"
    return not isinstance(value, (np.datetime64, np.timedelta64))


def gradient(f: ArrayLike, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """:func:`numpy.gradient`, with the same arguments, results and errors.

    Second-order central differences in the interior, first- or
    second-order one-sided differences at the boundaries (`edge_order`),
    on a uniform spacing or on coordinates.

    Parameters
    ----------
    f : array_like
        Samples of a function, any number of dimensions.
    *varargs : scalar or array_like, optional
        Nothing (unit spacing), one scalar for every axis, or one scalar or
        1-D coordinate array per differentiated axis.
    axis : None or int or tuple of ints, optional
        Axes to differentiate along (default: all).
    edge_order : {1, 2}, optional
        Accuracy order of the boundary formulas.

    Returns
    -------
    gradient : ndarray or tuple of ndarray
        One array per axis; a single array when one axis is differentiated.

    Raises
    ------
    ValueError, TypeError, IndexError, numpy.exceptions.AxisError
        Exactly where :func:`numpy.gradient` raises them.

    Notes
    -----
    The work is done by :func:`numderiv.grid.gradient`, which evaluates
    NumPy's formulas bit for bit on uniform grids (and to a few units in the
    last place on non-uniform ones, its weights coming from Fornberg's
    recursion) without array-sized temporaries.  The inputs it refuses
    because they make NumPy produce infinities, NaNs or a silently different
    formula (repeated, unordered or non-finite coordinates, a zero, infinite
    or complex spacing, masked, object, datetime or boolean data, ndarray
    subclasses) are handed to :func:`numpy.gradient` itself, so the result,
    warnings and exceptions are NumPy's.  For higher accuracy orders use
    :func:`numderiv.grid.gradient` with ``accuracy=4, 6, ...``.

    Examples
    --------
    >>> import numpy as np
    >>> from numderiv.compat.numpy import gradient
    >>> f = np.array([1, 2, 4, 7, 11, 16])
    >>> gradient(f, 2.0)
    array([0.5 , 0.75, 1.25, 1.75, 2.25, 2.5 ])
    >>> x = np.array([0.0, 1.0, 1.5, 3.5, 4.0, 6.0])
    >>> gradient(f, x)
    array([1. , 3. , 3.5, 6.7, 6.9, 2.5])
    >>> gradient(np.array([[1, 2, 6], [3, 4, 5]]), axis=0)
    array([[ 2.,  2., -1.],
           [ 2.,  2., -1.]])
    """
    if _plain(f) and all(_plain(v) for v in varargs):
        try:
            return _grid_gradient(f, *varargs, axis=axis, edge_order=edge_order)
        except Exception:  # NumPy decides: its result or its error
            pass
    npgrad: Any = np.gradient
    return npgrad(f, *varargs, axis=axis, edge_order=edge_order)
