"""The stencil engine of :mod:`numderiv.grid`: plans and their fast application.

A derivative along one axis is described by an :class:`AxisPlan`: the weights
of the interior stencil (the same for every point on a uniform grid, one row
per point on a non-uniform one) and a short list of boundary rows (one-sided
or wrapped-around stencils).  All weights come from Fornberg's recursion in
:mod:`numderiv._stencil`: exact rationals on uniform grids, the vectorised
float recursion (:func:`numderiv._stencil.fornberg_rows`, the one batched
weight path) on non-uniform ones.

:func:`execute` applies sums of such plans to arrays.  The work is cut into
blocks along the outermost axis in memory so that the few passes each block
needs (a difference, a scaling, an accumulation) run in cache, every output
element is written to main memory once, and no array-sized temporary is made.
Large arrays are shared between threads: NumPy's ufuncs release the GIL.
"""

from __future__ import annotations

import contextvars
import itertools
import math
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from .._stencil import Stencil, fornberg_rows

__all__ = [
    "AxisPlan",
    "Row",
    "Term",
    "execute",
    "fornberg_rows",
    "make_plan",
    "plan_nonuniform",
    "plan_uniform",
]

# Elements per block: large enough that the Python overhead per block (a few
# dozen ufunc calls) is small, small enough that a block and its temporaries
# stay in the L2/L3 caches (1 MiB per block for float64).
_BLOCK = 1 << 17
# Work is split into this many contiguous runs per thread.
_RUNS_PER_THREAD = 4
# Arrays at least this large are split between threads (when workers allow).
_PARALLEL_MIN = 1 << 20
_MAX_EXACT = 1 << 53


@dataclass(frozen=True)
class Row:
    """One point computed by its own stencil (boundary or wrapped point).

    The value is ``sum_j coefs[j] * y[nodes[j]]``, divided by ``den`` when it
    is not ``None``.  With ``diff=True`` it is ``(y[nodes[1]] - y[nodes[0]]) /
    den`` instead: the two-point first difference, written as NumPy writes it
    (subtract first, then divide), which also avoids amplifying round-off.
    """

    index: int
    nodes: tuple[int, ...]
    coefs: tuple[Any, ...]
    den: Any = None
    diff: bool = False


@dataclass(frozen=True)
class AxisPlan:
    """How to differentiate along one axis of `npts` points.

    Interior points ``lo <= i < hi`` use a centred stencil of half-width
    ``r``.  On a uniform grid it is stored as integer numerators grouped in
    symmetric pairs ``pairs = ((k, c_k), ...)`` and a centre weight, the sum
    being divided by ``den`` (the common denominator times ``h**n``).  On a
    non-uniform grid ``weights`` has shape ``(2r + 1, hi - lo)``.  Every other
    point is a :class:`Row`.
    """

    npts: int
    lo: int
    hi: int
    r: int
    rows: tuple[Row, ...]
    odd: bool = True
    center: Any = 0
    pairs: tuple[tuple[int, Any], ...] = ()
    den: Any = 1.0
    weights: NDArray[Any] | None = None


@dataclass(frozen=True)
class Term:
    """``sign * d^n src / dx^n`` along `axis`, as described by `plan`."""

    src: NDArray[Any]
    axis: int
    plan: AxisPlan
    sign: int = 1


# ---------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------


def _power(h: Any, n: int) -> Any:
    # h**1 is h itself, keeping the scalar's type exactly as NumPy's gradient does
    return h if n == 1 else h**n


def _central_half_width(n: int, accuracy: int) -> int:
    """Half-width of the centred uniform stencil (2*floor((n+1)/2) - 1 + p points)."""
    return (2 * ((n + 1) // 2) - 1 + accuracy) // 2


def nonuniform_half_width(n: int, accuracy: int) -> int:
    """Half-width of the symmetric window used on non-uniform grids.

    A stencil on ``M`` arbitrary nodes has accuracy ``M - n`` for the n-th
    derivative; symmetric node sets gain an order only on uniform grids.  So
    a non-uniform grid needs at least ``n + accuracy`` nodes, taken as the
    smallest symmetric window holding them.  This is why the second
    derivative keeps order 2 on non-uniform grids (five nodes, not three).
    """
    return (n + accuracy) // 2


def min_points(
    n: int, accuracy: int, edge: int, *, uniform: bool, periodic: bool
) -> int:
    """The fewest points an axis needs for this derivative."""
    if periodic:
        r = (
            _central_half_width(n, accuracy)
            if uniform
            else nonuniform_half_width(n, accuracy)
        )
        return 2 * r + 1
    return n + edge


def _uniform_pairs(
    n: int, accuracy: int
) -> tuple[int, bool, Any, list[tuple[int, Any]], int]:
    """Centre weight, symmetric pairs and common denominator of the central stencil."""
    st = Stencil.central(n, accuracy)
    wmap = {int(o): w for o, w in zip(st.offsets, st.weights, strict=True)}
    r = max(abs(int(o)) for o in st.offsets)
    odd = n % 2 == 1
    center: Fraction = wmap.get(0, Fraction(0))
    pairs = [(k, wmap.get(k, Fraction(0))) for k in range(1, r + 1)]
    den = 1
    for w in [center, *(w for _, w in pairs)]:
        den = den * w.denominator // math.gcd(den, w.denominator)
    return r, odd, center, pairs, den


def _one_sided_row(
    i: int, window: Sequence[int], n: int, hn: Any, diff_den: Any = None
) -> Row:
    """Row ``i`` from the exact weights on the integer nodes `window`."""
    st = Stencil.from_offsets(tuple(j - i for j in window), n)
    nodes = tuple(i + int(o) for o in st.offsets)
    if n == 1 and len(nodes) == 2:
        return Row(
            i,
            tuple(sorted(nodes)),
            (),
            den=hn if diff_den is None else diff_den,
            diff=True,
        )
    order = np.argsort(nodes)
    coefs = tuple(float(st.weights[k]) / hn for k in order)
    return Row(i, tuple(nodes[k] for k in order), coefs)


def _edge_points(npts: int, lo: int, hi: int, r: int) -> tuple[list[int], list[int]]:
    """Points outside the interior, split into those using the left window and
    those using the right one (when the axis is too short for any interior
    point, each half uses the window on its side)."""
    left, right = [], []
    for i in [*range(0, lo), *range(max(hi, lo), npts)]:
        if i < r and (i < npts - r or 2 * i <= npts - 1):
            left.append(i)
        else:
            right.append(i)
    return left, right


def plan_uniform(
    npts: int, n: int, accuracy: int, edge: int, h: Any, *, periodic: bool
) -> AxisPlan:
    r, odd, center, pairs, common = _uniform_pairs(n, accuracy)
    hn = _power(h, n)
    nums = [center * common, *(w * common for _, w in pairs)]
    exact = all(abs(q) < _MAX_EXACT for q in nums)
    if exact:
        # integer numerators are exact in floating point: one division at the
        # end, by common * h**n, reproduces NumPy's (y[i+1] - y[i-1]) / (2 h)
        cen: Any = int(nums[0])
        prs: tuple[tuple[int, Any], ...] = tuple(
            (k, int(q)) for (k, _), q in zip(pairs, nums[1:], strict=True)
        )
        den = float(common) * hn
    else:
        cen = float(center)
        prs = tuple((k, float(w)) for k, w in pairs)
        den = hn
    if periodic:
        lo, hi = r, npts - r
        st = Stencil.central(n, accuracy)
        offs = [int(o) for o in st.offsets]
        rows = []
        coefs = tuple(float(w * common) if exact else float(w) for w in st.weights)
        for i in [*range(0, min(r, npts)), *range(max(npts - r, r), npts)]:
            rows.append(Row(i, tuple((i + o) % npts for o in offs), coefs, den=den))
        return AxisPlan(npts, lo, hi, r, tuple(rows), odd, cen, prs, den)
    m = n + edge
    lo, hi = min(r, npts), max(npts - r, min(r, npts))
    left, right = _edge_points(npts, lo, hi, r)
    rows = [_one_sided_row(i, range(0, m), n, hn) for i in left]
    rows += [_one_sided_row(i, range(npts - m, npts), n, hn) for i in right]
    return AxisPlan(npts, lo, hi, r, tuple(rows), odd, cen, prs, den)


def plan_nonuniform(
    x: NDArray[Any],
    dx: NDArray[Any],
    n: int,
    accuracy: int,
    edge: int,
    *,
    period: float | None,
) -> AxisPlan:
    npts = x.shape[0]
    wdtype = dx.dtype if np.issubdtype(dx.dtype, np.floating) else np.dtype(np.float64)
    xf = x.astype(np.float64)
    r = nonuniform_half_width(n, accuracy)
    if period is not None:
        # extend the coordinates by r points on each side, shifted by the period
        ext = np.concatenate([xf[npts - r :] - period, xf, xf[:r] + period])
        win = sliding_window_view(ext, 2 * r + 1)
        w_all = fornberg_rows(xf, win, n)
        lo, hi = r, npts - r
        weights = np.ascontiguousarray(w_all[:, lo:hi]).astype(wdtype, copy=False)
        rows = []
        for i in [*range(0, r), *range(max(npts - r, r), npts)]:
            nodes = tuple((i + o) % npts for o in range(-r, r + 1))
            rows.append(Row(i, nodes, tuple(wdtype.type(w) for w in w_all[:, i])))
        return AxisPlan(npts, lo, hi, r, tuple(rows), weights=weights)
    lo, hi = min(r, npts), max(npts - r, min(r, npts))
    if hi > lo:
        win = sliding_window_view(xf, 2 * r + 1)
        weights = fornberg_rows(xf[lo:hi], win, n).astype(wdtype, copy=False)
    else:
        weights = np.empty((2 * r + 1, 0), dtype=wdtype)
    m = n + edge
    rows = []
    left, right = _edge_points(npts, lo, hi, r)
    for pts, window in ((left, np.arange(0, m)), (right, np.arange(npts - m, npts))):
        if not pts:
            continue
        if n == 1 and m == 2:
            # two-point first difference, NumPy's (y1 - y0) / (x1 - x0)
            d = dx[window[0]]
            rows.extend(
                Row(i, (int(window[0]), int(window[1])), (), den=d, diff=True)
                for i in pts
            )
            continue
        xs = np.array(pts)
        w = fornberg_rows(xf[xs], np.broadcast_to(xf[window], (len(pts), m)), n)
        for i, wi in zip(pts, w.T, strict=True):
            rows.append(
                Row(i, tuple(int(j) for j in window), tuple(wdtype.type(v) for v in wi))
            )
    return AxisPlan(npts, lo, hi, r, tuple(rows), weights=weights)


# ---------------------------------------------------------------------------
# Application
# ---------------------------------------------------------------------------


def _take(a: NDArray[Any], axis: int, start: int, stop: int) -> NDArray[Any]:
    idx: list[Any] = [slice(None)] * a.ndim
    idx[axis] = slice(start, stop)
    return a[tuple(idx)]


def _at(a: NDArray[Any], axis: int, i: int) -> NDArray[Any]:
    # a slab of thickness one (a view, also for 1-D arrays)
    return _take(a, axis, i, i + 1)


def _exact_reciprocal(den: Any) -> Any:
    """``1 / den`` (same scalar type) when `den` is a power of two, else None.

    Dividing by a power of two and multiplying by its (exact) reciprocal
    round the same exact value, so they give the same bits; the product is
    cheaper.
    """
    try:
        value = float(den)
    except (TypeError, ValueError):
        return None
    if value == 0 or not math.isfinite(value) or abs(math.frexp(value)[0]) != 0.5:
        return None
    recip = den**-1
    rv = float(recip)
    if not math.isfinite(rv) or abs(math.frexp(rv)[0]) != 0.5 or rv * value != 1.0:
        return None
    return recip


def _interior_uniform(
    src: NDArray[Any], axis: int, plan: AxisPlan, o: NDArray[Any], ilo: int, ihi: int
) -> None:
    def sl(k: int) -> NDArray[Any]:
        return _take(src, axis, ilo + k, ihi + k)

    tmp: NDArray[Any] | None = None
    started = False
    if not plan.odd and plan.center != 0:
        np.multiply(sl(0), plan.center, out=o)
        started = True
    for k, c in plan.pairs:
        if c == 0:
            continue
        op = np.subtract if plan.odd else np.add
        if not started:
            op(sl(k), sl(-k), out=o)
            if c != 1:
                np.multiply(o, c, out=o)
            started = True
            continue
        if tmp is None:
            tmp = np.empty_like(o)
        op(sl(k), sl(-k), out=tmp)
        if c != 1:
            np.multiply(tmp, c, out=tmp)
        np.add(o, tmp, out=o)
    recip = _exact_reciprocal(plan.den)
    if recip is not None:
        np.multiply(o, recip, out=o)
    else:
        np.divide(o, plan.den, out=o)


def _interior_nonuniform(
    src: NDArray[Any], axis: int, plan: AxisPlan, o: NDArray[Any], ilo: int, ihi: int
) -> None:
    assert plan.weights is not None
    w = plan.weights[:, ilo - plan.lo : ihi - plan.lo]
    shape = [1] * src.ndim
    shape[axis] = ihi - ilo
    acc_dtype = np.result_type(w.dtype, src.dtype)
    acc = o if acc_dtype == o.dtype else np.empty(o.shape, acc_dtype)
    tmp = np.empty_like(acc)
    r = plan.r
    for j, k in enumerate(range(-r, r + 1)):
        wk = w[j].reshape(shape)
        s = _take(src, axis, ilo + k, ihi + k)
        if j == 0:
            np.multiply(wk, s, out=acc)
        else:
            np.multiply(wk, s, out=tmp)
            np.add(acc, tmp, out=acc)
    if acc is not o:
        o[...] = acc


def _row(src: NDArray[Any], axis: int, row: Row) -> Any:
    if row.diff:
        return (_at(src, axis, row.nodes[1]) - _at(src, axis, row.nodes[0])) / row.den
    val: Any = None
    for j, c in zip(row.nodes, row.coefs, strict=True):
        t = c * _at(src, axis, j)
        val = t if val is None else val + t
    if row.den is not None:
        val = val / row.den
    return val


def apply_plan(
    src: NDArray[Any], axis: int, plan: AxisPlan, dst: NDArray[Any], lo: int, hi: int
) -> None:
    """``dst`` = derivative of `src` along `axis` at indices ``lo..hi-1``."""
    ilo, ihi = max(lo, plan.lo), min(hi, plan.hi)
    if ilo < ihi:
        o = _take(dst, axis, ilo - lo, ihi - lo)
        if plan.weights is None:
            _interior_uniform(src, axis, plan, o, ilo, ihi)
        else:
            _interior_nonuniform(src, axis, plan, o, ilo, ihi)
    for row in plan.rows:
        if lo <= row.index < hi:
            _at(dst, axis, row.index - lo)[...] = _row(src, axis, row)


def _chunk_axis(a: NDArray[Any]) -> int:
    """The axis with the largest stride: blocks along it are contiguous slabs."""
    if a.ndim == 0:
        return 0
    strides = [abs(s) if n > 1 else -1 for s, n in zip(a.strides, a.shape, strict=True)]
    return int(np.argmax(strides))


def _apply_block(
    jobs: Sequence[tuple[NDArray[Any], Sequence[Term]]], c: int, b0: int, b1: int
) -> None:
    for dst, terms in jobs:
        dblk = _take(dst, c, b0, b1)
        for t_i, term in enumerate(terms):
            if term.axis == c:
                s, lo, hi = term.src, b0, b1
            else:
                s, lo, hi = _take(term.src, c, b0, b1), 0, term.plan.npts
            if t_i == 0:
                apply_plan(s, term.axis, term.plan, dblk, lo, hi)
                if term.sign < 0:
                    np.negative(dblk, out=dblk)
            else:
                tmp = np.empty_like(dblk)
                apply_plan(s, term.axis, term.plan, tmp, lo, hi)
                (np.add if term.sign > 0 else np.subtract)(dblk, tmp, out=dblk)


def default_workers(workers: int | None, size: int) -> int:
    """Threads to use for `size` elements of work."""
    if workers == 1 or (workers is None and size < _PARALLEL_MIN):
        return 1
    try:
        ncpu = len(os.sched_getaffinity(0))  # type: ignore[attr-defined,unused-ignore]
    except AttributeError:  # pragma: no cover - not on Linux
        ncpu = os.cpu_count() or 1
    if workers is None:
        return max(1, min(ncpu, 8))
    if workers == -1:
        return max(1, ncpu)
    return workers


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(
                max_workers=max(os.cpu_count() or 1, 2),
                thread_name_prefix="numderiv-grid",
            )
        return _POOL


def _run_parallel(tasks: Sequence[tuple[Any, tuple[Any, ...]]]) -> None:
    if len(tasks) == 1:
        fn, args = tasks[0]
        fn(*args)
        return
    pool = _pool()
    # each task runs in a copy of the caller's context, so np.errstate applies
    futs = [
        pool.submit(contextvars.copy_context().run, fn, *args) for fn, args in tasks
    ]
    errors = []
    for f in futs:
        try:
            f.result()
        except BaseException as e:
            errors.append(e)
    if errors:
        raise errors[0]


def execute(
    jobs: Sequence[tuple[NDArray[Any], Sequence[Term]]], workers: int | None = None
) -> None:
    """Fill each ``dst`` with the sum of its terms, in cache-sized blocks.

    Every ``Term.src`` has the shape of its ``dst``.
    """
    if not jobs:
        return
    dst0 = jobs[0][0]
    if dst0.size == 0:
        return
    ref = jobs[0][1][0].src if jobs[0][1] else dst0
    c = _chunk_axis(ref)
    nc = dst0.shape[c]
    per_row = max(1, dst0.size // nc)
    step = max(1, _BLOCK // per_row)
    total = dst0.size * sum(len(t) for _, t in jobs)
    starts = range(0, nc, step)
    nthreads = min(default_workers(workers, total), len(starts))
    if nthreads == 1:
        for b0 in starts:
            _apply_block(jobs, c, b0, min(nc, b0 + step))
        return
    # threads pull contiguous runs of blocks from a shared queue: a thread
    # slowed down by other load on the machine simply takes fewer runs, and
    # each run is long enough that threads do not fault in the same (huge)
    # pages of the fresh output at the same time
    nruns = min(len(starts), _RUNS_PER_THREAD * nthreads)
    edges = np.linspace(0, len(starts), nruns + 1).astype(int)
    queue = iter([starts[a:b] for a, b in itertools.pairwise(edges)])
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                run = next(queue, None)
            if run is None:
                return
            for b0 in run:
                _apply_block(jobs, c, b0, min(nc, b0 + step))

    _run_parallel([(worker, ())] * nthreads)


def make_plan(
    axis: Any,
    npts: int,
    n: int,
    accuracy: int,
    edge: int,
    *,
    periodic: bool,
    workers: int | None = None,
) -> AxisPlan:
    """The plan for a cleaned :class:`~numderiv.grid._validate.Axis`."""
    if axis.uniform:
        return plan_uniform(npts, n, accuracy, edge, axis.h, periodic=periodic)
    return plan_nonuniform(
        axis.x, axis.dx, n, accuracy, edge, period=axis.period if periodic else None
    )
