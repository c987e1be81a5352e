"""The array-API path of :mod:`numderiv.grid`: PyTorch, CuPy, JAX, array-api-strict.

Data that is not a NumPy array but an array of another array-API library is
differentiated in its own namespace, on its own device, and the result is an
array of that kind.  The plans are the same as for NumPy (see
:mod:`numderiv.grid._engine`): the weights are computed on the host, exactly
(rationals on uniform grids, the float64 recursion on non-uniform ones), and
only then moved to the device of the data with ``xp.asarray(w, device=...)``.
The batched arithmetic (slices, products, sums) runs in the namespace,
through the standard's functions only, so CuPy and PyTorch on a GPU take the
same path as array-api-strict on the CPU, and immutable arrays (JAX) work:
the result is assembled with ``concat`` rather than written in place.

Every operation mirrors the NumPy engine's, in the same order and at the
same working precision: where NumPy promotes (a float64 weight or spacing
against float32 data) the slab is cast first, because array-API libraries
treat 0-d arrays and scalars differently from NumPy.  Results agree with the
NumPy path to the last few ulps (bit for bit where the libraries round
alike).

`array-api-compat` is imported only when such an array arrives (the
``arrays`` extra); NumPy input never reaches this module.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._arrays import _is_foreign, host_array
from ._engine import AxisPlan, Row, Term, _exact_reciprocal

__all__ = [
    "data_array_xp",
    "execute_xp",
    "host_spacing",
    "xp_dtype",
]


def host_spacing(spacing: Sequence[Any], name: str = "spacing") -> tuple[Any, ...]:
    """Each spacing argument through :func:`host_array`."""
    if not any(_is_foreign(d) for d in spacing):
        return tuple(spacing)
    many = len(spacing) > 1
    return tuple(
        host_array(d, f"{name}[{i}]" if many else name) for i, d in enumerate(spacing)
    )


def xp_dtype(xp: Any, dtype: Any) -> Any:
    """The dtype of namespace `xp` with the name of NumPy dtype `dtype`."""
    dt = np.dtype(dtype)
    out = getattr(xp, dt.name, None)
    if out is None:
        raise TypeError(
            f"the array namespace {xp.__name__} has no dtype {dt.name} (needed for "
            "weights or a spacing of that dtype); give the spacing as a Python "
            "number or as float32/float64 coordinates"
        )
    return out


def data_array_xp(xp: Any, y: Any, name: str = "y") -> tuple[Any, Any]:
    """The data and the dtype of the result, as :func:`._validate.data_array`.

    Floating and complex data keep their dtype, integers become float64 (so
    differences never wrap around), booleans are refused.
    """
    dt = y.dtype
    if xp.isdtype(dt, "bool"):
        raise TypeError(
            f"{name} has boolean dtype; differences of booleans are not defined "
            "(convert to a numeric dtype first)"
        )
    if xp.isdtype(dt, ("real floating", "complex floating")):
        return y, dt
    if xp.isdtype(dt, "integral"):
        return xp.astype(y, xp.float64), xp.float64
    raise TypeError(
        f"{name} must have a numeric (integer, floating or complex) dtype, got {dt}"
    )


# ---------------------------------------------------------------------------
# Arithmetic with NumPy's promotion rules
# ---------------------------------------------------------------------------


class _Ops:
    """Scalar and weight arithmetic of one namespace and device."""

    def __init__(self, xp: Any, device: Any) -> None:
        self.xp = xp
        self.device = device

    def _working(self, a: Any, s: Any) -> tuple[Any, Any]:
        """`a` in the dtype NumPy computes ``a op s`` in, and `s` as a Python number.

        Python numbers are weak (the array's dtype wins) in NumPy and in the
        standard; NumPy scalars and 0-d arrays are not, so a float64 spacing
        makes NumPy compute a float32 slab in float64.
        """
        xp = self.xp
        if isinstance(s, (np.generic, np.ndarray)):
            wd = xp.result_type(a.dtype, xp_dtype(xp, s.dtype))
            if wd != a.dtype:
                a = xp.astype(a, wd)
            s = s.item()
        return a, s

    def mul(self, a: Any, s: Any) -> Any:
        a, v = self._working(a, s)
        return a * v

    def div(self, a: Any, s: Any) -> Any:
        a, v = self._working(a, s)
        return a / v

    def cast(self, a: Any, dtype: Any) -> Any:
        return a if a.dtype == dtype else self.xp.astype(a, dtype)

    def weights(self, w: Any) -> Any:
        """Host weights (a NumPy array) on the device, in the same dtype."""
        xp = self.xp
        return xp.asarray(w, dtype=xp_dtype(xp, w.dtype), device=self.device)


def _slab(a: Any, axis: int, start: int, stop: int) -> Any:
    idx: list[Any] = [slice(None)] * a.ndim
    idx[axis] = slice(start, stop)
    return a[tuple(idx)]


def _interior_uniform(
    ops: _Ops, src: Any, axis: int, plan: AxisPlan, otype: Any
) -> Any:
    """The centred stencil at ``plan.lo..plan.hi - 1``, as the NumPy engine sums it."""
    lo, hi = plan.lo, plan.hi

    def sl(k: int) -> Any:
        return _slab(src, axis, lo + k, hi + k)

    o: Any = None
    if not plan.odd and plan.center != 0:
        o = ops.cast(ops.mul(sl(0), plan.center), otype)
    for k, c in plan.pairs:
        if c == 0:
            continue
        t = sl(k) - sl(-k) if plan.odd else sl(k) + sl(-k)
        if c != 1:
            t = ops.cast(ops.mul(t, c), otype)
        o = t if o is None else o + t
    recip = _exact_reciprocal(plan.den)
    o = ops.mul(o, recip) if recip is not None else ops.div(o, plan.den)
    return ops.cast(o, otype)


def _interior_nonuniform(
    ops: _Ops, src: Any, axis: int, plan: AxisPlan, otype: Any
) -> Any:
    """Per-point weights: ``sum_k w[k] * y[i + k]`` in the promoted dtype."""
    assert plan.weights is not None
    xp = ops.xp
    w = ops.weights(plan.weights)
    acc_dt = xp.result_type(w.dtype, src.dtype)
    w = ops.cast(w, acc_dt)
    shape = [1] * src.ndim
    shape[axis] = plan.hi - plan.lo
    acc: Any = None
    for j, k in enumerate(range(-plan.r, plan.r + 1)):
        wk = xp.reshape(w[j, :], tuple(shape))
        t = wk * ops.cast(_slab(src, axis, plan.lo + k, plan.hi + k), acc_dt)
        acc = t if acc is None else acc + t
    return ops.cast(acc, otype)


def _row(ops: _Ops, src: Any, axis: int, row: Row, otype: Any) -> Any:
    """One boundary or wrapped point, a slab of thickness one."""

    def at(i: int) -> Any:
        return _slab(src, axis, i, i + 1)

    if row.diff:
        return ops.cast(ops.div(at(row.nodes[1]) - at(row.nodes[0]), row.den), otype)
    val: Any = None
    for j, c in zip(row.nodes, row.coefs, strict=True):
        t = ops.mul(at(j), c)
        val = t if val is None else val + t
    if row.den is not None:
        val = ops.div(val, row.den)
    return ops.cast(val, otype)


def derivative_xp(ops: _Ops, src: Any, axis: int, plan: AxisPlan, otype: Any) -> Any:
    """The derivative along `axis` described by `plan`, a new array of dtype `otype`."""
    rows = sorted(plan.rows, key=lambda r: r.index)
    pieces = [_row(ops, src, axis, r, otype) for r in rows if r.index < plan.lo]
    if plan.hi > plan.lo:
        inner = _interior_uniform if plan.weights is None else _interior_nonuniform
        pieces.append(inner(ops, src, axis, plan, otype))
    pieces += [_row(ops, src, axis, r, otype) for r in rows if r.index >= plan.hi]
    if len(pieces) == 1:
        return pieces[0]
    return ops.xp.concat(pieces, axis=axis)


def execute_xp(xp: Any, terms: Sequence[Term], otype: Any) -> Any:
    """The sum of `terms` (each ``sign * d^n src / dx^n``) in namespace `xp`.

    Terms are added in order, each rounded to `otype` first, as the NumPy
    engine accumulates them.
    """
    from array_api_compat import device

    src0 = terms[0].src
    ops = _Ops(xp, device(src0))
    if math.prod(src0.shape) == 0:
        return xp.zeros(tuple(src0.shape), dtype=otype, device=ops.device)
    out: Any = None
    for term in terms:
        d = derivative_xp(ops, term.src, term.axis, term.plan, otype)
        if out is None:
            out = -d if term.sign < 0 else d
        else:
            out = out + d if term.sign > 0 else out - d
    return out
