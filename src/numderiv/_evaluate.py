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
import pickle
import re
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor
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


def _fmt_points(points: Sequence[str], total: int) -> str:
    """``k of N points: x = ...; x = ...; and j more`` for an error message."""
    shown = "; ".join(points[:4])
    more = f"; and {len(points) - 4} more" if len(points) > 4 else ""
    return f"{len(points)} of {total} points: {shown}{more}"


def _describe(y: NDArray[Any]) -> str:
    """What ``f`` returned, in words, for an error message."""
    if y.dtype.kind == "O" and y.ndim == 0:
        v = y.item()
        return "None" if v is None else f"an object of type {type(v).__name__}"
    if y.dtype.kind == "b":
        return f"a bool ({y.item()!r})" if y.ndim == 0 else f"bools of shape {y.shape}"
    if y.ndim == 0:
        return f"a scalar of dtype {y.dtype}"
    return f"an array of shape {y.shape} and dtype {y.dtype}"


def _task_name(fun: Any) -> str:
    """``numderiv.<name of f>``: the name of the workers' tasks (Dask keys)."""
    name = getattr(fun, "__name__", None) or type(fun).__name__
    return "numderiv." + (re.sub(r"[^0-9A-Za-z_]+", "_", str(name))[:40] or "f")


def _is_count(w: Any) -> bool:
    """Whether `workers` is a number of processes (an int, not a bool)."""
    return isinstance(w, (int, np.integer)) and not isinstance(w, (bool, np.bool_))


class _Failed:
    """An exception of ``f`` in a Dask task, returned rather than raised.

    Dask logs every task that raises, with its arguments; the caller raises
    the first failure instead, once, with its point noted.
    """

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _RowTask:
    """Picklable task for workers: ``f`` on each point of a block.

    The values come back as ``f`` returned them (one array per point, or the
    vectorized call's array), to be checked by the caller as on the serial
    paths.  An exception of ``f`` gets its point noted here, where it is
    known; with `quiet` (Dask) it is returned as a :class:`_Failed`.
    """

    def __init__(
        self,
        fun: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        vec: bool,
        quiet: bool = False,
    ) -> None:
        self.fun, self.args, self.kwargs, self.vec = fun, args, kwargs, vec
        self.quiet = quiet
        self.__name__ = _task_name(fun)

    def __repr__(self) -> str:
        return f"<{self.__name__}>"

    def __call__(self, X: NDArray[Any]) -> Any:
        fun, args, kwargs = self.fun, self.args, self.kwargs
        if self.vec:
            try:
                return np.asarray(fun(np.ascontiguousarray(X.T), *args, **kwargs))
            except Exception as exc:
                pts = _fmt_points([_fmt_point(r) for r in X], X.shape[0])
                _note(exc, f"one of the points of a vectorized call ({pts})")
                if not self.quiet:
                    raise
                return _Failed(exc)
        out = []
        for r in X:
            try:
                out.append(np.asarray(fun(r, *args, **kwargs)))
            except Exception as exc:
                _note(exc, _fmt_point(r))
                if not self.quiet:
                    raise
                return _Failed(exc)
        return out


class _ScalarTask(_RowTask):
    """Picklable task for workers: ``f`` on each scalar of a block."""

    def __call__(self, xs: NDArray[Any]) -> Any:
        fun, args, kwargs = self.fun, self.args, self.kwargs
        out = []
        for i in range(xs.size):
            try:
                out.append(fun(xs[i], *args, **kwargs))
            except Exception as exc:
                _note(exc, f"x = {xs[i]!r}")
                if not self.quiet:
                    raise
                return _Failed(exc)
        return out


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
    timeout : float or None
        With an int, an Executor or a dask Client as `workers`: the most
        seconds to wait for the next result from the workers.  On expiry a
        :class:`TimeoutError` names the points not evaluated (a process pool
        this evaluator started is stopped; the tasks of an Executor or Dask
        that have not started are cancelled).

    Raises
    ------
    TypeError
        With process workers (an int, or a
        :class:`~concurrent.futures.ProcessPoolExecutor`), where ``f`` or its
        extra arguments cannot be pickled; checked here, before any work.
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
        timeout: float | None = None,
        name: str = "evaluate",
    ) -> None:
        self.fun = fun
        self.name = name  # the entry point, for the workers' task names
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        self.vectorized = vectorized
        self.workers = workers
        self.chunk_size = chunk_size
        self.timeout = timeout
        self.nfev = 0
        self.ncalls = 0
        self.nonfinite = False  # set by the fast paths when a value is not finite
        self.shape: tuple[int, ...] | None = None
        self.dtype: np.dtype[Any] | None = None
        self._pool: Any = None
        self._bar: Any = None
        self._progress = progress
        if _is_count(workers) or isinstance(workers, ProcessPoolExecutor):
            self._check_picklable()

    @classmethod
    def for_options(
        cls, fun: Callable[..., Any], opts: Any, name: str = "evaluate"
    ) -> Evaluator:
        """An evaluator for the checked options of an entry point."""
        return cls(
            fun,
            opts.args,
            opts.kwargs,
            vectorized=opts.vectorized,
            workers=opts.workers,
            chunk_size=opts.chunk_size,
            progress=opts.progress,
            timeout=getattr(opts, "timeout", None),
            name=name,
        )

    def _check_picklable(self) -> None:
        """Refuse, before any work, an ``f`` that cannot reach worker processes."""
        for what, obj in (
            ("f", self.fun),
            ("the extra arguments (args, kwargs)", (self.args, self.kwargs)),
        ):
            try:
                pickle.dumps(obj)
            except Exception as exc:
                raise TypeError(
                    f"{what} cannot be sent to worker processes (workers="
                    f"{self.workers!r}): pickling failed with {type(exc).__name__}: "
                    f"{exc}.  A lambda, a closure or a function defined inside "
                    "another cannot be pickled: use a function defined at module "
                    "level, a thread pool (workers=concurrent.futures."
                    "ThreadPoolExecutor(...), or any map-like callable), or a "
                    "dask.distributed.Client (which pickles with cloudpickle)"
                ) from exc

    # -- bookkeeping ---------------------------------------------------------
    def close(self) -> None:
        """Shut down a process pool this evaluator started, and the bar."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True)
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
        """Check one value of ``f`` (``np.asarray`` of it); learn its shape.

        The one check of what ``f`` returns, on every path: numbers (int,
        float or complex; not bool, not None), of the same shape everywhere.
        """
        if not isinstance(where, str) and (
            (self.shape is not None and y.shape != self.shape)
            or y.dtype.kind not in "iufc"
        ):
            where = where()  # formatted only for an error message
        if y.dtype.kind not in "iufc":
            shape = "" if self.shape is None else f" of shape {self.shape}"
            raise TypeError(
                f"f must return numbers: f returned {_describe(y)} at {where}; "
                f"expected a scalar or an array{shape} of int, float or complex"
            )
        if self.shape is None:
            self.shape = y.shape
            self.dtype = np.result_type(
                y.dtype, np.float32 if y.dtype.kind in "iu" else y.dtype
            )
        elif y.shape != self.shape:
            raise ValueError(
                f"f returned shape {y.shape} at {where}, but shape {self.shape} "
                "before; f must return the same shape at every point"
            )

    def _learn_columns(
        self, y: NDArray[Any], shape_in: tuple[int, ...], k: int, where: str
    ) -> None:
        """Check the value of a vectorized call on `k` points (shape `shape_in`)."""
        if y.ndim == 0 or y.shape[-1] != k:
            raise ValueError(
                f"vectorized f was given an array of shape {shape_in} ({k} points "
                f"as columns) and returned {_describe(y)}; expected an array of "
                f"shape (..., {k}), one column per point"
            )
        self._learn(y[..., 0], where)

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
                try:
                    y = asarray(fun(xr))
                except Exception as exc:
                    _note(exc, _fmt_point(xr))
                    raise
                if y.shape != shape:
                    self._learn(y, _fmt_point(xr))
                if (
                    y.dtype is not dt
                    and y.dtype != dt
                    and (y.dtype.kind == "b" or not np.can_cast(y.dtype, dt))
                ):
                    self._learn(y, _fmt_point(xr))
                    dt = np.result_type(dt, y.dtype)
                    out = out.astype(dt)
                    self.dtype = dt
                out[r] = y
        except BaseException:
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
            size = self.chunk_size or max(1, -(-xs.size // (4 * self._nworkers())))
            blocks = [xs[s : s + size] for s in range(0, xs.size, size)]
            task = _ScalarTask(self.fun, self.args, self.kwargs, False)
            parts = self._spread(
                task, blocks, lambda b: [f"x = {v!r}" for v in b], xs.size
            )
            values = [y for part in parts for y in part]
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
                    f"f returned {_describe(y)} at x = {xi!r}; with vectorized=False "
                    "derivative() needs a scalar f returning a scalar"
                )
            if y.dtype.kind not in "iufc":
                self._learn(y, f"x = {xi!r}")  # raises: not a number
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
        self._learn_columns(y, Xt.shape, k, f"a vectorized call on {k} points")
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
    def _nworkers(self) -> int:
        """How many evaluations the workers run at once (for the block size)."""
        w = self.workers
        if _is_count(w):
            return (os.cpu_count() or 1) if w == -1 else int(w)
        if not isinstance(w, Executor) and hasattr(w, "gather"):
            nthreads = sum(w.nthreads().values()) if hasattr(w, "nthreads") else 1
            return max(1, nthreads)
        return os.cpu_count() or 1

    def _spread(
        self,
        task: _RowTask,
        blocks: list[NDArray[Any]],
        fmt: Callable[[NDArray[Any]], list[str]],
        total: int,
    ) -> list[Any]:
        """``task`` on each block, in order, by the workers.

        `fmt` names the points of a block and `total` counts them all, for
        the errors: a worker process that died, or no result within
        ``timeout``, names the points lost.  On any error, and on
        KeyboardInterrupt, the tasks not started are cancelled and a process
        pool of this evaluator is stopped at once (its processes killed).
        """
        w = self.workers
        if _is_count(w):
            if self._pool is None:
                import multiprocessing

                self._pool = ProcessPoolExecutor(
                    self._nworkers(), mp_context=multiprocessing.get_context()
                )
            return self._futures(self._pool, task, blocks, fmt, total, own=True)
        if isinstance(w, Executor):
            return self._futures(w, task, blocks, fmt, total, own=False)
        if hasattr(w, "submit") and hasattr(w, "gather") and hasattr(w, "map"):
            return self._dask(w, task, blocks, fmt, total)
        results = list(w(task, blocks))
        if len(results) != len(blocks):
            raise ValueError(
                f"workers (a map-like callable) returned {len(results)} results for "
                f"{len(blocks)} tasks; expected one result per task, in order"
            )
        return results

    def _expired(
        self, blocks: list[NDArray[Any]], idx: list[int], fmt: Any, total: int
    ) -> TimeoutError:
        lost = [p for i in idx for p in fmt(blocks[i])]
        return TimeoutError(
            f"no result from the workers within timeout={self.timeout} s; "
            f"not evaluated: {_fmt_points(lost, total)}"
        )

    def _futures(
        self,
        ex: Executor,
        task: _RowTask,
        blocks: list[NDArray[Any]],
        fmt: Callable[[NDArray[Any]], list[str]],
        total: int,
        own: bool,
    ) -> list[Any]:
        import concurrent.futures as cf

        futs: list[cf.Future[Any]] = []
        try:
            futs = [ex.submit(task, b) for b in blocks]
            pending: set[cf.Future[Any]] = set(futs)
            while pending:
                done, pending = cf.wait(
                    pending, timeout=self.timeout, return_when=cf.FIRST_COMPLETED
                )
                if not done:
                    idx = [i for i, f in enumerate(futs) if f in pending]
                    raise self._expired(blocks, idx, fmt, total)
                for fut in done:
                    exc = fut.exception()
                    if isinstance(exc, BrokenExecutor):
                        # the pool lost a process: every task not finished is lost
                        lost = [
                            p
                            for b, f in zip(blocks, futs, strict=True)
                            if not (f.done() and f.exception(0) is None)
                            for p in fmt(b)
                        ]
                        raise type(exc)(
                            "a worker process died while evaluating f (f crashed, "
                            "called os._exit, or the process was killed, e.g. out of "
                            f"memory); lost: {_fmt_points(lost, total)}"
                        ) from exc
                    if exc is not None:
                        raise exc
            return [f.result() for f in futs]
        except BaseException:
            for f in futs:
                f.cancel()
            if own:
                self._kill_pool()
            raise

    def _kill_pool(self) -> None:
        """Stop this evaluator's process pool now: no process outlives the call."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # the executor has no public way to stop running tasks (before 3.14)
        procs = list((getattr(pool, "_processes", None) or {}).values())
        for p in procs:
            if p.is_alive():
                p.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        for p in procs:
            p.join()

    def _dask(
        self,
        client: Any,
        task: _RowTask,
        blocks: list[NDArray[Any]],
        fmt: Callable[[NDArray[Any]], list[str]],
        total: int,
    ) -> list[Any]:
        from ._distributed import spread

        return spread(
            client,
            task,
            blocks,
            fmt,
            total,
            name=self.name,
            timeout=self.timeout,
            expired=lambda idx: self._expired(blocks, idx, fmt, total),
        )

    def _rows_parallel(self, X: NDArray[Any]) -> NDArray[Any]:
        N = X.shape[0]
        size = self.chunk_size or max(1, -(-N // (4 * self._nworkers())))
        blocks = [X[s : s + size] for s in range(0, N, size)]
        vec = self.vectorized
        task = _RowTask(self.fun, self.args, self.kwargs, vec)
        results = self._spread(task, blocks, lambda b: [_fmt_point(r) for r in b], N)
        self.nfev += N
        self.ncalls += len(blocks) if vec else N
        self._tick(N)
        ys: list[NDArray[Any]] = []
        for b, res in zip(blocks, results, strict=True):
            if vec:
                k = b.shape[0]
                y = np.asarray(res)
                where = f"a vectorized call on {k} points in a worker"
                self._learn_columns(y, (b.shape[1], k), k, where)
                ys.append(np.moveaxis(y, -1, 0))
                continue
            if not isinstance(res, list) or len(res) != b.shape[0]:
                raise ValueError(
                    f"workers returned {_describe(np.asarray(res, dtype=object))} "
                    f"for a task of {b.shape[0]} points; expected one value per point"
                )
            for xr, v in zip(b, res, strict=True):
                y = np.asarray(v)
                if y.shape != self.shape or y.dtype.kind not in "iufc":
                    self._learn(y, _fmt_point(xr))
            ys.append(np.stack(res))
        Y = np.concatenate(ys, axis=0)
        return Y.reshape(N, -1).T


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
                    try:
                        y0 = asarray(fun(buf))
                    except Exception as exc:
                        _note(exc, _fmt_point(buf))
                        raise
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
                    try:
                        y1 = asarray(fun(buf))
                    except Exception as exc:
                        _note(exc, _fmt_point(buf))
                        raise
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
                    try:
                        y = asarray(fun(buf))
                    except Exception as exc:
                        _note(exc, _fmt_point(buf))
                        raise
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
        finally:
            self.count += count
        return L
