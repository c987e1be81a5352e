"""How points reach ``f``: one place that calls it, counts, batches and spreads.

Every evaluation of a computation goes through an :class:`Evaluator`.  It
counts points (``nfev``) and Python calls (``ncalls``), checks that ``f``
returns the same shape every time, sends batches to a vectorized ``f``
(``chunk_size`` points at most per call), and spreads rows over workers
(a process pool, a map-like callable, a :class:`concurrent.futures.Executor`
or a ``dask.distributed.Client``).  Parallel runs evaluate exactly the same
points as serial ones, so the results are identical.
"""

from __future__ import annotations

import math
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Evaluator"]

# Whether f kept a reference to a point is seen in its count of references
# (CPython); elsewhere every point is a new array.
_getrefcount: Callable[[Any], int] | None = getattr(sys, "getrefcount", None)


def _note(exc: BaseException, where: str) -> None:
    """Attach the failing point to an exception raised by ``f``."""
    notes = getattr(exc, "__notes__", [])
    if hasattr(exc, "add_note") and not any(n.startswith("numderiv:") for n in notes):
        exc.add_note(f"numderiv: raised while evaluating f at {where}")


def _fmt_point(x: Any) -> str:
    with np.printoptions(precision=17, threshold=20, edgeitems=4):
        return f"x = {np.array2string(np.asarray(x), separator=', ')}"


class _RowTask:
    """Picklable task for workers: evaluate ``f`` on each row of a block."""

    def __init__(
        self,
        fun: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        vec: bool,
    ) -> None:
        self.fun, self.args, self.kwargs, self.vec = fun, args, kwargs, vec

    def __call__(self, X: NDArray[Any]) -> NDArray[Any]:
        if self.vec:
            y = np.asarray(
                self.fun(np.ascontiguousarray(X.T), *self.args, **self.kwargs)
            )
            return np.moveaxis(y, -1, 0) if y.ndim else y
        return np.stack([np.asarray(self.fun(r, *self.args, **self.kwargs)) for r in X])


class _ScalarTask:
    """Picklable task for workers: ``f`` on each scalar of a block."""

    def __init__(
        self, fun: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.fun, self.args, self.kwargs = fun, args, kwargs

    def __call__(self, xs: NDArray[Any]) -> list[Any]:
        return [self.fun(xs[i], *self.args, **self.kwargs) for i in range(xs.size)]


class Evaluator:
    """Calls ``f`` and counts; see the module docstring.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args, **kwargs)``.
    vectorized : bool
        If True, ``fun`` takes points as the columns of an ``(n, k)`` array
        and returns ``(..., k)``.
    workers : None, int, map-like callable, Executor or dask Client
    chunk_size : int or None
        Most points per vectorized call (or per worker task).
    """

    def __init__(
        self,
        fun: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        vectorized: bool = False,
        workers: Any = None,
        chunk_size: int | None = None,
        progress: bool = False,
    ) -> None:
        self.fun = fun
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        self.vectorized = vectorized
        self.workers = workers
        self.chunk_size = chunk_size
        self.nfev = 0
        self.ncalls = 0
        self.nonfinite = False  # set by the fast paths when a value is not finite
        self.shape: tuple[int, ...] | None = None
        self.dtype: np.dtype[Any] | None = None
        self._pool: Any = None
        self._bar: Any = None
        self._progress = progress

    @classmethod
    def for_options(cls, fun: Callable[..., Any], opts: Any) -> Evaluator:
        """An evaluator for the checked options of an entry point."""
        return cls(
            fun,
            opts.args,
            opts.kwargs,
            vectorized=opts.vectorized,
            workers=opts.workers,
            chunk_size=opts.chunk_size,
            progress=opts.progress,
        )

    # -- bookkeeping ---------------------------------------------------------
    def close(self) -> None:
        """Shut down a process pool this evaluator started, and the bar."""
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def size(self) -> int:
        """Number of outputs of ``f`` (1 for a scalar)."""
        assert self.shape is not None
        return math.prod(self.shape)

    def _learn(self, y: NDArray[Any], where: str | Callable[[], str]) -> None:
        if not isinstance(where, str) and (
            (self.shape is not None and y.shape != self.shape)
            or y.dtype.kind not in "biufc"
        ):
            where = where()  # formatted only for an error message
        if y.dtype.kind not in "biufc":
            raise TypeError(f"f must return numbers, got dtype {y.dtype} at {where}")
        if self.shape is None:
            self.shape = y.shape
            self.dtype = np.result_type(
                y.dtype, np.float32 if y.dtype.kind in "biu" else y.dtype
            )
        elif y.shape != self.shape:
            raise ValueError(
                f"f returned shape {y.shape} at {where}, but shape {self.shape} "
                "before; f must return the same shape at every point"
            )

    def _tick(self, k: int) -> None:
        if self._progress:
            if self._bar is None:
                from tqdm.auto import tqdm

                self._bar = tqdm(desc="numderiv", unit="fev", leave=False)
            self._bar.update(k)

    # -- single points and rows ----------------------------------------------
    def point(self, x: NDArray[Any]) -> NDArray[Any]:
        """``f(x)`` at one point, flattened to shape ``(M,)``.

        ``f`` gets a copy: it may write into its input, and `x` is often the
        point of the whole computation.
        """
        x = x.copy()
        try:
            if self.vectorized:
                y = np.asarray(self.fun(x[:, None], *self.args, **self.kwargs))
                y = y[..., 0]
            else:
                y = np.asarray(self.fun(x, *self.args, **self.kwargs))
        except Exception as exc:
            _note(exc, _fmt_point(x))
            raise
        self.nfev += 1
        self.ncalls += 1
        self._tick(1)
        self._learn(y, lambda: _fmt_point(x))
        # a copy: f may hand back a buffer it overwrites on the next call
        return y.reshape(-1).copy()

    def rows(self, X: NDArray[Any], out: NDArray[Any] | None = None) -> NDArray[Any]:
        """``f`` at each row of ``X`` (shape ``(N, n)``); returns ``(M, N)``.

        The result may be a transposed view.  ``out``, an ``(N, M)`` array
        from an earlier call, is reused when it fits.
        """
        N = X.shape[0]
        if N == 0:
            return np.empty((self.size if self.shape is not None else 0, 0))
        if self.workers is not None:
            return self._rows_parallel(X)
        if self.vectorized:
            return self._rows_vectorized(X)
        first = None
        start = 0
        if self.shape is None:
            first = self.point(X[0])
            start = 1
        shape = self.shape
        assert shape is not None and self.dtype is not None
        fun = self._bound()
        dt = self.dtype
        M = math.prod(shape)
        if out is None or out.shape != (N, M) or out.dtype != dt:
            out = np.empty((N, M), dtype=dt)
        out = out.reshape((N, *shape))
        if first is not None:
            out[0] = first.reshape(shape)
        asarray = np.asarray
        r = start
        # the hot loop of a serial Jacobian: the call, two cheap checks and one
        # copy (f may reuse its output buffer, so the value is copied at once)
        try:
            for r, xr in enumerate(X[start:], start):
                y = asarray(fun(xr))
                if y.shape != shape:
                    self._learn(y, _fmt_point(xr))
                if y.dtype is not dt and y.dtype != dt and not np.can_cast(y.dtype, dt):
                    self._learn(y, _fmt_point(xr))
                    dt = np.result_type(dt, y.dtype)
                    out = out.astype(dt)
                    self.dtype = dt
                out[r] = y
        except Exception as exc:
            if not isinstance(exc, ValueError) or "same shape" not in str(exc):
                _note(exc, _fmt_point(X[r]))
            self.nfev += r - start
            self.ncalls += r - start
            raise
        self.nfev += N - start
        self.ncalls += N - start
        self._tick(N - start)
        return out.reshape(N, -1).T

    def fold_axes(
        self,
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

        The hot path of a serial Jacobian.  For direction ``r`` (axis
        ``cols[r]``, step ``steps[r]``) and each offset ``z`` in `keys`,
        ``f(x + z h e_j)`` enters row ``r`` of target ``t`` with weight ``w``
        for every ``(t, w)`` in the offset's `plan` (target 2 takes
        ``w |f|``), and so does `f0` (``f(x)``, flattened) for every ``(t, w)``
        in `center`; row ``r`` is then multiplied by ``scale[r]``.  Returns the
        targets, shape ``(len(cols), M)``.  Values are combined while in
        cache, a block of directions at a time; ``self.nonfinite`` is set if
        a value of target 0 is not finite.

        With `pair`, the scheme is a difference of two values (two offsets,
        opposite weights, the second weight already in `scale`; an offset 0
        takes its value from `f0`): see :class:`_PairFold`.  Otherwise see
        :class:`_BlockFold`.  Both hand ``f`` one reused array while ``f``
        allows it (see :class:`_AxisFold`).
        """
        L = len(cols)
        colsa = np.asarray(cols, dtype=np.intp)
        hs = np.asarray(steps, dtype=x.dtype)
        points = [x[colsa] + z * hs for z in keys]
        pending = None
        if self.shape is None:
            xr = x.copy()
            xr[cols[0]] = points[0][0]
            pending = self.point(xr)
        shape, dt = self.shape, self.dtype
        assert shape is not None and dt is not None
        M = math.prod(shape)
        rdt = np.result_type(dt, x.dtype)
        out = [
            np.empty((L, M), dtype=rdt if t < 2 else np.float64) for t in range(ntarget)
        ]
        sca = np.asarray(scale)  # real: the values may be complex
        st: _AxisFold
        if pair:
            st = _PairFold(self, x, colsa, points, out, sca, shape, dt, rdt)
            if f0 is not None:  # f(x) is one of the two values
                st.f0, st.lo_is_x, st.hi_is_x = f0, keys[0] == 0.0, keys[1] == 0.0
        else:
            st = _BlockFold(self, x, colsa, points, out, sca, shape, dt, rdt)
            st.plan(plan, center or [], f0)
        st.pending = pending
        try:
            r = st.run(0, fresh=_getrefcount is None)
            if r < L:
                st.run(r, fresh=True)
        finally:
            self.nfev += st.count
            self.ncalls += st.count
            self._tick(st.count)
        return out

    def _bound(self) -> Callable[[Any], Any]:
        """``f`` with its extra arguments bound: ``g(x) = f(x, *args, **kwargs)``."""
        fun, args, kwargs = self.fun, self.args, self.kwargs
        if not (args or kwargs):
            return fun

        def bound(x: Any) -> Any:
            return fun(x, *args, **kwargs)

        return bound

    def _check_row(self, y: NDArray[Any], xr: NDArray[Any], rdt: np.dtype[Any]) -> None:
        """Shape and dtype of one value on the fast path; raise if they changed."""
        self._learn(y, lambda: _fmt_point(xr))
        if not np.can_cast(y.dtype, rdt, casting="same_kind"):
            raise TypeError(
                f"f returned {y.dtype} values at {_fmt_point(xr)} after {self.dtype} "
                "values elsewhere; f must return one kind of number"
            )

    def scalars(self, xs: NDArray[Any]) -> NDArray[Any]:
        """``f`` at each scalar of ``xs`` (one call each; workers if given)."""
        if self.workers is not None and xs.size:
            mapper, nw = self._mapper()
            size = self.chunk_size or max(1, -(-xs.size // (4 * nw)))
            blocks = [xs[s : s + size] for s in range(0, xs.size, size)]
            try:
                values = [
                    y
                    for part in mapper(
                        _ScalarTask(self.fun, self.args, self.kwargs), blocks
                    )
                    for y in part
                ]
            except Exception as exc:
                _note(exc, f"one of {xs.size} points sent to the workers")
                raise
            points = [xs[i] for i in range(xs.size)]
        else:
            values, points = [], []
            for i in range(xs.size):
                xi = xs[i]
                try:
                    values.append(self.fun(xi, *self.args, **self.kwargs))
                except Exception as exc:
                    _note(exc, f"x = {xi!r}")
                    raise
                points.append(xi)
        ys = []
        for xi, v in zip(points, values, strict=True):
            y = np.asarray(v)
            if y.shape != ():
                raise ValueError(
                    f"f returned shape {y.shape} at x = {xi!r}; with vectorized=False "
                    "derivative() needs a scalar f returning a scalar"
                )
            ys.append(y)
        self.nfev += xs.size
        self.ncalls += xs.size
        self._tick(xs.size)
        return np.array(ys)

    def _batch(self, Xt: NDArray[Any]) -> NDArray[Any]:
        """One vectorized call on the columns of ``Xt`` (n, k); returns (M, k)."""
        k = Xt.shape[1]
        try:
            y = np.asarray(self.fun(Xt, *self.args, **self.kwargs))
        except Exception as exc:
            _note(exc, f"one of the {k} points of a vectorized call")
            raise
        self.nfev += k
        self.ncalls += 1
        self._tick(k)
        if y.ndim == 0 or y.shape[-1] != k:
            raise ValueError(
                f"vectorized f was given an array of shape {Xt.shape} and returned "
                f"shape {y.shape}; expected (..., {k}) with one column per point"
            )
        self._learn(y[..., 0], f"a vectorized call on {k} points")
        return y.reshape(-1, k)

    def _rows_vectorized(self, X: NDArray[Any]) -> NDArray[Any]:
        N = X.shape[0]
        step = self.chunk_size or N
        parts = [
            self._batch(np.ascontiguousarray(X[s : s + step].T))
            for s in range(0, N, step)
        ]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def columns(self, Xt: NDArray[Any]) -> NDArray[Any]:
        """``f`` at each column of ``Xt`` (shape ``(n, N)``); returns ``(M, N)``.

        The fast path for a vectorized ``f``: the points are built in this
        layout, so no copy is made before the call.
        """
        N = Xt.shape[1]
        if self.workers is not None or not self.vectorized:
            return self.rows(Xt.T)
        step = self.chunk_size or N
        if step >= N:
            return self._batch(Xt)
        parts = [self._batch(Xt[:, s : s + step]) for s in range(0, N, step)]
        return np.concatenate(parts, axis=1)

    # -- workers --------------------------------------------------------------
    def _mapper(
        self,
    ) -> tuple[Callable[[Callable[..., Any], list[Any]], list[Any]], int]:
        w = self.workers
        if isinstance(w, (int, np.integer)) and not isinstance(w, bool):
            nproc = (os.cpu_count() or 1) if w == -1 else int(w)
            if self._pool is None:
                import multiprocessing

                self._pool = multiprocessing.get_context().Pool(nproc)
            pool = self._pool
            return (lambda fn, it: pool.map(fn, it)), nproc
        if isinstance(w, Executor):
            return (lambda fn, it: list(w.map(fn, it))), (os.cpu_count() or 1)
        if hasattr(w, "submit") and hasattr(w, "gather") and hasattr(w, "map"):
            # dask.distributed.Client
            def dask_map(fn: Callable[..., Any], it: list[Any]) -> list[Any]:
                return list(w.gather(w.map(fn, it, pure=False)))

            nthreads = sum(w.nthreads().values()) if hasattr(w, "nthreads") else 1
            return dask_map, max(1, nthreads)
        return (lambda fn, it: list(w(fn, it))), (os.cpu_count() or 1)

    def _rows_parallel(self, X: NDArray[Any]) -> NDArray[Any]:
        N = X.shape[0]
        mapper, nw = self._mapper()
        size = self.chunk_size or max(1, -(-N // (4 * nw)))
        blocks = [X[s : s + size] for s in range(0, N, size)]
        task = _RowTask(self.fun, self.args, self.kwargs, self.vectorized)
        try:
            results = mapper(task, blocks)
        except Exception as exc:
            _note(exc, f"one of {N} points sent to the workers")
            raise
        ys = [np.asarray(r) for r in results]
        self.nfev += N
        self.ncalls += len(blocks) if self.vectorized else N
        self._tick(N)
        Y = np.concatenate(ys, axis=0)
        if Y.shape[0] != N:
            raise ValueError(f"workers returned {Y.shape[0]} results for {N} points")
        self._learn(Y[0], "a point evaluated by a worker")
        for i in range(1, len(ys)):
            if ys[i].shape[1:] != ys[0].shape[1:]:
                self._learn(ys[i][0], "a point evaluated by a worker")
        return Y.reshape(N, -1).T


def _in_combine(exc: BaseException) -> bool:
    """Whether `exc` came from combining values, not from ``f`` at a point."""
    tb = exc.__traceback__
    called = tb.tb_next if tb is not None else None
    return called is not None and called.tb_frame.f_code.co_name in (
        "_checked",
        "_kept",
    )


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
        fun = ev._bound()
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
                    y0 = asarray(fun(buf))
                    count += 1
                    if not fresh and rc(buf) != base:
                        return self._kept(buf, pristine, j, done, r)
                    if y0.shape != shape or y0.dtype is not dt:
                        ev._check_row(y0, buf, rdt)
                    if safe:
                        y0 = y0.copy()
                if hi_is_x:
                    y1 = f0
                else:
                    if fresh:
                        buf = xc.copy()
                    buf[j] = hi[r]
                    y1 = asarray(fun(buf))
                    count += 1
                    if not fresh and rc(buf) != base:
                        return self._kept(buf, pristine, j, done, r)
                    if y1.shape != shape or y1.dtype is not dt:
                        ev._check_row(y1, buf, rdt)
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
                    y0 = asarray(fun(buf)).copy()
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
        except Exception as exc:
            shape_changed = isinstance(exc, ValueError) and "same shape" in str(exc)
            if not (shape_changed or _in_combine(exc)):
                _note(exc, _fmt_point(buf))
            raise
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
        fun = ev._bound()
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
                    y = asarray(fun(buf))
                    count += 1
                    if not fresh and rc(buf) != base:
                        return self._kept(buf, pristine, j, done, r)
                    if y.shape != shape or y.dtype is not dt:
                        ev._check_row(y, buf, rdt)
                    table[k, i] = y  # a copy: f may reuse its buffer
                if not fresh:
                    buf[j] = xs[j]
                if r + 1 - done >= B or r + 1 == L:
                    if not self._checked(buf, pristine, fresh, done, r + 1):
                        return done  # f wrote into its point
                    done = r + 1
        except Exception as exc:
            shape_changed = isinstance(exc, ValueError) and "same shape" in str(exc)
            if not (shape_changed or _in_combine(exc)):
                _note(exc, _fmt_point(buf))
            raise
        finally:
            self.count += count
        return L
