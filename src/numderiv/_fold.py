"""The serial fold: values of a point-by-point ``f`` combined as they come.

The hot path of a serial Jacobian (and of every serial difference along the
coordinate axes).  :func:`fold_axes` calls ``f`` through an
:class:`~numderiv._evaluate.Evaluator` (which counts and checks) at
``x + z h e_j`` for each axis ``j`` and offset ``z``, and folds each value
into the rows of its targets (the value, the value at the check step, the
round-off bound) a block of directions at a time, while the block is in the
cache.  No table of all the values is kept.

Point reuse.  The fold hands ``f`` one array for every point, changing one
entry at a time, as long as ``f`` keeps no reference to it (CPython's count
of references, ``sys.getrefcount``) and leaves it as it was (a byte compare
every block of directions); otherwise it goes on with a new array per point.
Kept on an A/B measurement (Issue 10), interleaved in one run, against a
new array per point: the serial Jacobian of Broyden's tridiagonal function,
n = m = 1000, takes 1.108 times the bare f calls with the reuse and 1.179
without it (+6.4%, every one of 8 pairs); n = 100: +4-6%; n = 10 and serial
Hessians (n = 10, 30): within noise (-0.6% to +1.9%).  The rule was to
remove it unless it buys 5% or more; it does where the target of SPEC 4
(<= 1.25 the bare calls) is measured.
"""

from __future__ import annotations

import math
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._evaluate import _fmt_point, _note

if TYPE_CHECKING:
    from ._evaluate import Evaluator

__all__ = ["fold_axes"]

# Whether f kept a reference to a point is seen in its count of references
# (CPython); elsewhere every point is a new array.
_getrefcount: Callable[[Any], int] | None = getattr(sys, "getrefcount", None)


def fold_axes(
    ev: Evaluator,
    x: NDArray[Any],
    cols: list[int],
    steps: list[float],
    keys: list[float],
    plan: list[list[tuple[int, float]]],
    ntarget: int,
    scale: NDArray[Any],
    center: list[tuple[int, float]] | None = None,
    f0: NDArray[Any] | None = None,
    pair: bool = False,
) -> list[NDArray[Any]]:
    """Serial ``f`` along coordinate axes, combined block by block.

    For direction ``r`` (axis ``cols[r]``, step ``steps[r]``) and each
    offset ``z`` in `keys`, ``f(x + z h e_j)`` enters row ``r`` of target
    ``t`` with weight ``w`` for every ``(t, w)`` in the offset's `plan`
    (target 2 takes ``w |f|``), and so does `f0` (``f(x)``, flattened) for
    every ``(t, w)`` in `center`; row ``r`` is then multiplied by
    ``scale[r]``.  Returns the targets, shape ``(len(cols), M)``.  Values are
    combined while in cache, a block of directions at a time;
    ``ev.nonfinite`` is set if a value of target 0 is not finite.  Every
    evaluation is counted by `ev`.

    With `pair`, the scheme is a difference of two values (two offsets,
    opposite weights, the second weight already in `scale`; an offset 0
    takes its value from `f0`): see :class:`_PairFold`.  Otherwise see
    :class:`_BlockFold`.  Both hand ``f`` one reused array while ``f``
    allows it (see :class:`_AxisFold`).

    Examples
    --------
    A forward difference of ``f(x) = x**2`` along both axes (offsets 0 and
    1, weights -1 and 1, step 2**-20), as a pair:

    >>> import numpy as np
    >>> from numderiv._evaluate import Evaluator
    >>> from numderiv._fold import fold_axes
    >>> x = np.array([1.0, 2.0])
    >>> ev = Evaluator(lambda v: v**2)
    >>> f0 = ev.point(x)
    >>> h = 2.0**-20
    >>> (J,) = fold_axes(ev, x, [0, 1], [h, h], [0.0, 1.0], [[], []], 1,
    ...                  np.full(2, 1 / h), f0=f0, pair=True)
    >>> J.round(4)
    array([[2., 0.],
           [0., 4.]])
    >>> ev.nfev
    3
    """
    L = len(cols)
    colsa = np.asarray(cols, dtype=np.intp)
    hs = np.asarray(steps, dtype=x.dtype)
    points = [x[colsa] + z * hs for z in keys]
    pending = None
    if ev.shape is None:
        xr = x.copy()
        xr[cols[0]] = points[0][0]
        pending = ev.point(xr)
    shape, dt = ev.shape, ev.dtype
    assert shape is not None and dt is not None
    M = math.prod(shape)
    rdt = np.result_type(dt, x.dtype)
    out = [np.empty((L, M), dtype=rdt if t < 2 else np.float64) for t in range(ntarget)]
    sca = np.asarray(scale)  # real: the values may be complex
    st: _AxisFold
    if pair:
        st = _PairFold(ev, x, colsa, points, out, sca, shape, dt, rdt)
        if f0 is not None:  # f(x) is one of the two values
            st.f0, st.lo_is_x, st.hi_is_x = f0, keys[0] == 0.0, keys[1] == 0.0
    else:
        st = _BlockFold(ev, x, colsa, points, out, sca, shape, dt, rdt)
        st.plan(plan, center or [], f0)
    st.pending = pending
    try:
        r = st.run(0, fresh=_getrefcount is None)
        if r < L:
            st.run(r, fresh=True)
    finally:
        ev.count(st.count)
    return out


class _AxisFold(ABC):
    """Values of ``f`` along coordinate axes, point by point, for a serial ``f``.

    Direction ``r`` moves entry ``cols[r]`` of ``x`` to ``points[k][r]`` for
    each offset ``k``.  :meth:`run` hands ``f`` one array for every point,
    changing one entry at a time, as long as ``f`` keeps no reference to it
    (its count of references is unchanged after each call) and leaves its
    values as they were (checked every block of directions, bit for bit).
    Where either fails, the directions since the last check are evaluated
    again with a new array per point, which is never written again.  The
    subclasses combine the values; ``count`` is the number of evaluations.
    """

    def __init__(
        self,
        ev: Evaluator,
        x: NDArray[Any],
        cols: NDArray[Any],
        points: list[NDArray[Any]],
        out: list[NDArray[Any]],
        sca: NDArray[Any],
        shape: tuple[int, ...],
        dt: Any,
        rdt: Any,
    ) -> None:
        self.ev, self.x, self.cols, self.points, self.out = ev, x, cols, points, out
        self.sca, self.shape, self.dt, self.rdt = sca, shape, dt, rdt
        self.pending: NDArray[Any] | None = None  # f at the first point, if known
        self.count = 0
        # directions per block: the block's values stay in cache
        M = out[0].shape[1]
        self.block = max(1, min(64, (1 << 17) // max(1, M * len(points))))
        self._ones = np.ones(M, dtype=out[0].dtype)

    @abstractmethod
    def run(self, start: int, fresh: bool) -> int:
        """Directions from `start`; returns where to go on with ``fresh=True``.

        With `fresh`, every point is a new array; else one array serves
        every point while ``f`` allows it.  Returns ``len(cols)`` when all
        directions are done.
        """

    @abstractmethod
    def _finish(self, s: int, e: int) -> None:
        """Combine and scale rows ``s:e`` of the targets."""

    def _scale(self, s: int, e: int) -> None:
        """Scale rows ``s:e`` while in cache; note a non-finite value there."""
        sc = self.sca[s:e]
        uniform = sc[0] == sc[-1] and (sc == sc[0]).all()
        for blk in (o[s:e] for o in self.out):
            if uniform:
                np.multiply(blk, sc[0], blk)  # one step for all: twice as fast
            else:
                np.multiply(blk, sc[:, None], blk)
        # a sum is non-finite if one of its terms is (a product with ones is
        # the fastest sum)
        if not np.isfinite(self.out[0][s:e].dot(self._ones).sum()):
            self.ev.nonfinite = True

    def _kept(
        self, buf: NDArray[Any], pristine: NDArray[Any], j: int, done: int, r: int
    ) -> int:
        """``f`` kept a reference to the point (direction `r`): where to go on.

        The array is never written again; the directions since the last
        check are evaluated again if ``f`` changed an entry of it other
        than ``j`` (which holds this direction's offset), else they are
        finished here.
        """
        isz = buf.itemsize
        diff = (buf.view(np.uint8) != pristine).reshape(-1, isz).any(axis=1)
        diff[j] = False
        if diff.any():
            return done
        if r > done:
            self._finish(done, r)
        return r

    def _checked(
        self, buf: NDArray[Any], pristine: NDArray[Any], fresh: bool, s: int, e: int
    ) -> bool:
        """End of a block: if ``f`` left the point as it was, finish rows ``s:e``.

        Returns False where ``f`` wrote into the point (the rows are then to
        be evaluated again, with new arrays).
        """
        if not fresh and (buf.view(np.uint8) != pristine).any():
            return False
        self._finish(s, e)
        return True

    def _setup(self, fresh: bool) -> tuple[Any, ...]:
        """What both loops need: the point buffers and a reference counter.

        The caller reads the count of references to the buffer itself, in
        the frame where it compares it later.
        """
        if _getrefcount is None:
            fresh = True
        rc = _getrefcount or (lambda a: 0)  # the count is read only when reusing
        xc = np.array(self.x, order="C")  # never handed to f
        return fresh, rc, xc, xc.copy(), xc.view(np.uint8)


class _PairFold(_AxisFold):
    """A difference of two values: ``out[0][r] = (y(hi) - y(lo)) * sca[r]``.

    One subtraction per direction while the row is in cache.  ``y(0)`` is
    `f0` where one of the offsets is 0 (forward and backward order 1).
    """

    f0: NDArray[Any] | None = None  # f(x), flat, where lo or hi is x
    lo_is_x = hi_is_x = False
    safe = False  # set once f is seen to return one buffer every time

    def _finish(self, s: int, e: int) -> None:
        self._scale(s, e)

    def run(self, start: int, fresh: bool) -> int:
        ev, shape, dt, rdt = self.ev, self.shape, self.dt, self.rdt
        fun = ev.bound()
        asarray = np.asarray
        fresh, rc, xc, buf, pristine = self._setup(fresh)
        base = rc(buf)
        cols = self.cols.tolist()
        lo, hi = (p.tolist() for p in self.points)
        xs = self.x.tolist()
        L = len(cols)
        pending, B = self.pending, self.block
        rows = iter(self.out[0][start:])
        flat = len(shape) == 1
        safe = self.safe
        lo_is_x, hi_is_x = self.lo_is_x, self.hi_is_x
        f0: NDArray[Any] = self.f0 if self.f0 is not None else xc  # xc: unused
        done = start  # rows before `done` are checked and scaled
        count = 0
        try:
            for r in range(start, L):
                j = cols[r]
                if lo_is_x:
                    y0 = f0
                elif r == 0 and pending is not None:
                    y0 = pending.reshape(shape)
                else:
                    if fresh:
                        buf = xc.copy()
                    buf[j] = lo[r]
                    try:
                        y0 = asarray(fun(buf))
                    except Exception as exc:
                        _note(exc, _fmt_point(buf))
                        raise
                    count += 1
                    if not fresh and rc(buf) != base:
                        return self._kept(buf, pristine, j, done, r)
                    if y0.shape != shape or y0.dtype is not dt:
                        ev.check_value(y0, buf, rdt)
                    if safe:
                        y0 = y0.copy()
                if hi_is_x:
                    y1 = f0
                else:
                    if fresh:
                        buf = xc.copy()
                    buf[j] = hi[r]
                    try:
                        y1 = asarray(fun(buf))
                    except Exception as exc:
                        _note(exc, _fmt_point(buf))
                        raise
                    count += 1
                    if not fresh and rc(buf) != base:
                        return self._kept(buf, pristine, j, done, r)
                    if y1.shape != shape or y1.dtype is not dt:
                        ev.check_value(y1, buf, rdt)
                b1 = y1.base
                if (
                    y1 is y0
                    or (b1 is not None and (b1 is y0 or b1 is y0.base))
                    or y0.base is y1
                ) and np.shares_memory(y0, y1):
                    # f reused its output buffer: y0 is lost; evaluate it
                    # again, and copy values from now on
                    self.safe = safe = True
                    y1 = y1.copy()
                    if fresh:
                        buf = xc.copy()
                    buf[j] = lo[r]
                    try:
                        y0 = asarray(fun(buf)).copy()
                    except Exception as exc:
                        _note(exc, _fmt_point(buf))
                        raise
                    count += 1
                    if not fresh and rc(buf) != base:
                        return self._kept(buf, pristine, j, done, r)
                if not fresh:
                    buf[j] = xs[j]
                if flat:
                    np.subtract(y1, y0, next(rows))
                else:
                    np.subtract(y1.reshape(-1), y0.reshape(-1), next(rows))
                if r + 1 - done >= B or r + 1 == L:
                    if not self._checked(buf, pristine, fresh, done, r + 1):
                        return done  # f wrote into its point
                    done = r + 1
        finally:
            self.count += count
        return L


class _BlockFold(_AxisFold):
    """Any weights: a block's values are copied as they come, then combined.

    Each value is copied into a table of the block's values at once (``f``
    may reuse its output buffer), and the targets are combined from that
    table with a few array operations per block, while it is in cache.
    """

    def plan(
        self,
        plan: list[list[tuple[int, float]]],
        center: list[tuple[int, float]],
        f0: NDArray[Any] | None,
    ) -> None:
        """Weights of each offset per target, and the constant part from ``f(x)``."""
        K, B, M = len(self.points), self.block, self.out[0].shape[1]
        self.table = np.empty((K, B, *self.shape), dtype=self.out[0].dtype)
        self.flat_table = self.table.reshape(K, B, M)
        self.terms: list[list[tuple[int, float]]] = [[] for _ in self.out]
        for k, targets in enumerate(plan):
            for t, w in targets:
                self.terms[t].append((k, w))
        # f(x) enters every row alike: one row per target, made once
        self.const: list[NDArray[Any] | None] = [None for _ in self.out]
        for t, w in center:
            assert f0 is not None
            add = abs(w) * np.abs(f0) if t == 2 else w * f0
            c = self.const[t]
            self.const[t] = add if c is None else c + add
        self.tmpc = np.empty((B, M), dtype=self.out[0].dtype)
        # |f| for the round-off target (target 2), when there is one
        self.tmp = np.empty((B, M)) if len(self.out) > 2 else self.tmpc

    def _finish(self, s: int, e: int) -> None:
        nb = e - s
        Y = self.flat_table[:, :nb]
        for t, o in enumerate(self.out):
            blk = o[s:e]
            terms = self.terms[t]
            if not terms:
                blk.fill(0)
            tmp = self.tmp[:nb] if t == 2 else self.tmpc[:nb]
            for i, (k, w) in enumerate(terms):
                if t == 2:
                    np.abs(Y[k], out=tmp)
                    if i == 0:
                        np.multiply(tmp, w, out=blk)
                        continue
                    tmp *= w
                elif i == 0:
                    np.multiply(Y[k], w, out=blk)
                    continue
                else:
                    np.multiply(Y[k], w, out=tmp)
                blk += tmp
            c = self.const[t]
            if c is not None:
                blk += c
        self._scale(s, e)

    def run(self, start: int, fresh: bool) -> int:
        ev, shape, dt, rdt = self.ev, self.shape, self.dt, self.rdt
        fun = ev.bound()
        asarray = np.asarray
        fresh, rc, xc, buf, pristine = self._setup(fresh)
        base = rc(buf)
        cols = self.cols.tolist()
        pts = [p.tolist() for p in self.points]
        K = len(pts)
        xs = self.x.tolist()
        L = len(cols)
        pending, B, table = self.pending, self.block, self.table
        done = start  # rows before `done` are combined and scaled
        count = 0
        try:
            for r in range(start, L):
                j = cols[r]
                i = r - done
                for k in range(K):
                    if r == 0 and k == 0 and pending is not None:
                        table[0, i] = pending.reshape(shape)
                        continue
                    if fresh:
                        buf = xc.copy()
                    buf[j] = pts[k][r]
                    try:
                        y = asarray(fun(buf))
                    except Exception as exc:
                        _note(exc, _fmt_point(buf))
                        raise
                    count += 1
                    if not fresh and rc(buf) != base:
                        return self._kept(buf, pristine, j, done, r)
                    if y.shape != shape or y.dtype is not dt:
                        ev.check_value(y, buf, rdt)
                    table[k, i] = y  # a copy: f may reuse its buffer
                if not fresh:
                    buf[j] = xs[j]
                if r + 1 - done >= B or r + 1 == L:
                    if not self._checked(buf, pristine, fresh, done, r + 1):
                        return done  # f wrote into its point
                    done = r + 1
        finally:
            self.count += count
        return L
