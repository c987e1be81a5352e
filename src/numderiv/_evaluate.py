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

import contextlib
import math
import os
import pickle
import re
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._validate import _is_int

__all__ = ["Evaluator"]


def _note(exc: BaseException, where: str) -> None:
    """Attach the failing point to an exception raised by ``f``, once.

    The innermost evaluation names the point (an ``f`` that is itself a
    numderiv call, or a worker's task, has noted it already): an explicit
    flag on the exception says so, which survives pickling from a worker.
    """
    if getattr(exc, "_numderiv_noted", False) or not hasattr(exc, "add_note"):
        return  # noted already, or Python 3.10 (no notes)
    exc.add_note(f"numderiv: raised while evaluating f at {where}")
    with contextlib.suppress(AttributeError):  # a type refusing attributes
        exc._numderiv_noted = True  # type: ignore[attr-defined]


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
    name : str
        The entry point (``"jacobian"``, ...), named by the driver: with a
        dask Client, the tasks are keyed ``numderiv-<name>-<token>-<i>``.

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
        self._expected = 0  # evaluations announced (expect), for the bar's total
        self._done = 0  # evaluations made, as the bar counts them
        if _is_int(workers) or isinstance(workers, ProcessPoolExecutor):
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
            bar, self._bar = self._bar, None
            # the call is over: the total is what was made (the announced
            # count, unless f needed evaluations no one could foresee)
            bar.total = self._done
            bar.refresh()
            bar.close()

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

    # -- counts and progress ---------------------------------------------------
    def count(self, nfev: int, ncalls: int | None = None) -> None:
        """Count `nfev` evaluations made in `ncalls` calls of ``f`` (default one each)."""
        self.nfev += nfev
        self.ncalls += nfev if ncalls is None else ncalls
        self._tick(nfev)

    @property
    def progress(self) -> bool:
        """Whether a progress bar is shown (``progress=True``)."""
        return self._progress

    def expect(self, k: int) -> None:
        """Announce `k` more evaluations, before making them: the bar's total.

        The engine announces the points of every difference it plans
        (:func:`numderiv._core.differentiate`), so that with
        ``progress=True`` the bar has a total, a percentage and an ETA.
        Where nothing is announced (``method="adaptive"``, whose levels
        stop when they converge) the bar counts without a total.  When the
        evaluator closes, the total is set to the evaluations made.
        """
        if self._progress:
            self._expected = max(self._expected, self._done) + k
            if self._bar is not None:
                self._bar.total = self._expected
                self._bar.refresh()

    def _tick(self, k: int) -> None:
        if self._progress:
            self._done += k
            over = bool(self._expected) and self._done > self._expected
            if over:  # more than announced (a one-point check no one foresaw)
                self._expected = self._done
            if self._bar is None:
                from tqdm.auto import tqdm

                total = self._expected or None
                self._bar = tqdm(total=total, desc="numderiv", unit="fev", leave=False)
            elif over:
                self._bar.total = self._expected
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
        self.count(1)
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
        fun = self.bound()
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
        self.count(N - start)
        return out.reshape(N, -1).T

    def bound(self) -> Callable[[Any], Any]:
        """``f`` with its extra arguments bound: ``g(x) = f(x, *args, **kwargs)``."""
        fun, args, kwargs = self.fun, self.args, self.kwargs
        if not (args or kwargs):
            return fun

        def bound(x: Any) -> Any:
            return fun(x, *args, **kwargs)

        return bound

    def check_value(
        self, y: NDArray[Any], xr: NDArray[Any], rdt: np.dtype[Any]
    ) -> None:
        """Shape and dtype of one value on the fast path (the fold); raise if they changed."""
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
        self.count(xs.size)
        return np.array(ys)

    def _batch(self, Xt: NDArray[Any]) -> NDArray[Any]:
        """One vectorized call on the columns of ``Xt`` (n, k); returns (M, k)."""
        k = Xt.shape[1]
        try:
            y = np.asarray(self.fun(Xt, *self.args, **self.kwargs))
        except Exception as exc:
            _note(exc, f"one of the {k} points of a vectorized call")
            raise
        self.count(k, 1)
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
        if _is_int(w):
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
        if _is_int(w):
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
        self.count(N, len(blocks) if vec else N)
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
