"""NumPy's ``gradient``, computed by :func:`numderiv.grid.gradient`.

>>> import numpy as np
>>> from numderiv.compat.numpy import gradient
>>> gradient(np.array([1, 2, 4, 7, 11, 16]))
array([1. , 1.5, 2.5, 3.5, 4.5, 5. ])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validate import _is_int as _int
from ..grid import gradient as _grid_gradient

__all__ = ["gradient"]


def _plain(value: Any) -> bool:
    """Not an ndarray subclass (masked arrays, matrices: NumPy keeps the subclass)."""
    return not isinstance(value, np.ndarray) or type(value) is np.ndarray


def _as_array(value: Any) -> NDArray[Any] | None:
    """``value`` as an ndarray, or None where NumPy itself cannot make one."""
    if not _plain(value) or isinstance(value, (np.datetime64, np.timedelta64)):
        return None
    try:
        return np.asarray(value)
    except (ValueError, TypeError):  # ragged nested sequences and the like
        return None


def _computed_here(
    f: Any, varargs: tuple[Any, ...], axis: Any, edge_order: Any
) -> bool:
    """Whether numderiv computes this call itself (else NumPy does).

    numderiv computes exactly the inputs on which NumPy's formulas are
    well defined and :func:`numderiv.grid.gradient` evaluates them as NumPy
    does: a plain ndarray (or array_like) of integer, floating or complex
    data with at least one dimension; `edge_order` 1 or 2; `axis` None, an
    int or a tuple of distinct ints in range; no spacing, one scalar, or one
    scalar or coordinate array per axis, every scalar a finite non-zero real
    number and every coordinate array real, finite, strictly monotonic and
    as long as its axis; at least ``edge_order + 1`` points along every
    differentiated axis.  Everything else (subclasses, boolean, object,
    string, datetime or timedelta data, zero/complex/non-finite spacings,
    repeated or unordered coordinates, bad arguments) goes to
    :func:`numpy.gradient`, for NumPy's own result, warnings or error.
    """
    arr = _as_array(f)
    if arr is None or arr.ndim == 0 or arr.dtype.kind not in "iufc":
        return False
    if not (_int(edge_order) and edge_order in (1, 2)):
        return False
    if axis is None:
        axes = tuple(range(arr.ndim))
    else:
        given = axis if isinstance(axis, tuple) else (axis,)
        if not all(_int(a) and -arr.ndim <= a < arr.ndim for a in given):
            return False
        axes = tuple(int(a) % arr.ndim for a in given)
        if len(set(axes)) != len(axes):
            return False
    if any(arr.shape[ax] < edge_order + 1 for ax in axes):
        return False
    if len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings: tuple[Any, ...] = varargs * len(axes)
    elif len(varargs) in (0, len(axes)):
        spacings = varargs
    else:
        return False
    for ax, d in zip(axes, spacings, strict=False):
        if np.ndim(d) == 0:
            if not _good_step(d):
                return False
        elif not _good_coordinates(_as_array(d), arr.shape[ax]):
            return False
    return True


def _good_step(d: Any) -> bool:
    """A finite non-zero real Python or NumPy scalar (or 0-d array)."""
    a = _as_array(d)
    return (
        a is not None
        and a.dtype.kind in "iuf"
        and bool(np.isfinite(a))
        and bool(a != 0)
    )


def _good_coordinates(x: NDArray[Any] | None, npts: int) -> bool:
    """Real, finite, strictly monotonic coordinates, one per point."""
    if x is None or x.ndim != 1 or x.shape[0] != npts or x.dtype.kind not in "iuf":
        return False
    x = x.astype(np.float64) if x.dtype.kind in "iu" else x
    if not np.all(np.isfinite(x)):
        return False
    d = np.diff(x)
    return bool(np.all(d > 0) or np.all(d < 0))


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
    recursion) without array-sized temporaries.  Which inputs it computes is
    decided up front by one explicit predicate: numeric data, ``edge_order``
    1 or 2, valid axes, finite non-zero real spacings and finite strictly
    monotonic coordinates.  The others, those that make NumPy produce
    infinities, NaNs or a silently different formula (repeated, unordered
    or non-finite coordinates, a zero, infinite or complex spacing, masked,
    object, datetime or boolean data, ndarray subclasses) and those NumPy
    refuses, are handed to :func:`numpy.gradient` itself, so the result,
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
    if _computed_here(f, varargs, axis, edge_order):
        return _grid_gradient(f, *varargs, axis=axis, edge_order=edge_order)
    npgrad: Any = np.gradient
    return npgrad(f, *varargs, axis=axis, edge_order=edge_order)
