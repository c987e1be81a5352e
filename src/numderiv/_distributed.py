"""Functions on a Dask cluster: the points of one call as Dask tasks.

``workers=<dask.distributed.Client>`` sends the evaluations of a call to
the cluster.  What travels, once per call:

* ``f`` with its extra arguments (``args``, ``kwargs``, the large constants
  among them) and the base point of the call, scattered to every worker
  (``broadcast=True``) under the key ``numderiv.<name of f>-<token>``;
* per task, the block's points as their differences from that base point:
  a point of a Jacobian along the axes differs from ``x`` in one or two
  entries, so a task of ``k`` points carries ``2k`` indices and values, not
  ``k`` copies of ``x``.  Blocks whose points differ in many entries (a
  ``jvp`` along a dense ``v``) are sent as they are.

Every task depends on the scattered future, and reads it on its worker.
Tasks are keyed ``numderiv-<entry point>-<token>-<i>``, so the dashboard and
the scheduler's task prefixes read ``numderiv-jacobian``; the entry point is
named by the driver (``Evaluator(..., name=...)``).

A worker lost mid-computation costs only its unfinished tasks: Dask runs
them again elsewhere (its ``allowed-failures`` times), and as every task is
``f`` at the same points, the result is identical bit for bit.  Scattered
data Dask cannot rebuild: where every worker holding ``f`` died, the blocks
not finished are shipped again with it (:data:`_SHIPS` times in all).  An
exception
of ``f`` comes back as a value (:class:`~numderiv._evaluate._Failed`), so
Dask logs nothing per task; the caller raises the first one, once, with its
point noted.  A task that kills its worker every time ends with Dask's
``KilledWorker``, noted with the points of that task.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._evaluate import _Failed, _fmt_points, _RowTask, _task_name

__all__ = ["spread"]


class _Shipped:
    """What every task of a call needs: the task object and the base point."""

    def __init__(self, task: _RowTask, base: NDArray[Any] | None) -> None:
        self.task, self.base = task, base

    def __repr__(self) -> str:
        return f"<{self.task.__name__} and its base point>"


def _encode(block: NDArray[Any], base: NDArray[Any] | None) -> Any:
    """A block as ``(k, rows, cols, values)`` differing from `base`, if shorter.

    Entries are compared bit for bit (``-0.0`` differs from ``0.0``, a NaN
    is kept as it is), so the points are rebuilt exactly.
    """
    if (
        base is None
        or block.ndim != 2
        or block.dtype != base.dtype
        or block.dtype.hasobject
    ):
        return block
    k, n = block.shape
    isz = block.itemsize
    b = np.ascontiguousarray(block)
    diff = b.view(np.uint8).reshape(k, n, isz) != base.view(np.uint8).reshape(n, isz)
    rows, cols = np.nonzero(diff.any(axis=2))
    idx = np.int32 if n < 2**31 and k < 2**31 else np.intp
    # an index pair and a value per entry moved, against n values per point
    if rows.size * (2 * np.dtype(idx).itemsize + isz) * 2 > b.nbytes:
        return block
    return (k, rows.astype(idx), cols.astype(idx), b[rows, cols])


def _decode(part: Any, base: NDArray[Any] | None) -> NDArray[Any]:
    if not isinstance(part, tuple):
        return part
    assert base is not None
    k, rows, cols, vals = part
    X = np.empty((k, base.size), dtype=base.dtype)
    X[...] = base
    X[rows, cols] = vals
    return X


def _run(shipped: _Shipped, part: Any) -> Any:
    """One task on a worker: ``f`` at each point of its block."""
    return shipped.task(_decode(part, shipped.base))


def _token() -> str:
    # Dask's key prefix is the run of alphabetic words; a token with a digit
    # ends it, so the prefix stays ``numderiv-<entry point>``
    while True:
        token = uuid.uuid4().hex[:16]
        if not token.isalpha():
            return token


def _lost(points: list[str], total: int, shipped: bool) -> str:
    """The note on an error of Dask: why the points were lost, and which."""
    if shipped:
        why = (
            f"every worker holding f and x died, {_SHIPS} times (does f crash "
            "its worker?); not evaluated"
        )
    else:
        why = (
            "the Dask task of these points failed (a worker died while "
            "evaluating f, e.g. killed or out of memory, more often than "
            "Dask's allowed-failures, or the task was cancelled)"
        )
    return f"numderiv: {why}: {_fmt_points(points, total)}"


def _note_lost(exc: BaseException, note: str) -> None:
    """Note on an error of Dask (a killed worker, a lost task) the points lost."""
    notes = getattr(exc, "__notes__", [])
    if hasattr(exc, "add_note") and not any(n.startswith("numderiv:") for n in notes):
        exc.add_note(note)


# Ships of f and the base point per call: the first, and one more each time
# every copy of them is lost (all the workers that held them died)
_SHIPS = 3


def spread(
    client: Any,
    task: _RowTask,
    blocks: list[NDArray[Any]],
    fmt: Callable[[NDArray[Any]], list[str]],
    total: int,
    *,
    name: str,
    timeout: float | None,
    expired: Callable[[list[int]], BaseException],
) -> list[Any]:
    """``task`` on each block, in order, as Dask tasks of `client`.

    `name` is the entry point (the keys' prefix ``numderiv-<name>``); `fmt`
    names the points of a block and `total` counts them, for the errors;
    ``expired(indices)`` is the error for blocks without a result within
    `timeout` seconds of the last one.  On any error (and on
    KeyboardInterrupt) the tasks not finished are cancelled.

    Dask runs again the tasks of a worker it lost; what it cannot rebuild is
    scattered data whose every copy is lost.  Then the blocks not finished
    are shipped again, with ``f`` and the base point (up to ``_SHIPS`` in
    all).
    """
    task.quiet = True  # failures come back as values: Dask logs no task
    base = blocks[0][0].copy() if blocks and blocks[0].ndim == 2 else None
    parts = [_encode(b, base) for b in blocks]
    results: list[Any] = [None] * len(blocks)
    todo = list(range(len(blocks)))
    for ship in range(_SHIPS):
        todo = _ship(
            client,
            _Shipped(task, base),
            parts,
            todo,
            results,
            name=name,
            timeout=timeout,
            lost=lambda idx, shipped: _lost(
                [p for i in idx for p in fmt(blocks[i])], total, shipped
            ),
            expired=expired,
            last=ship == _SHIPS - 1,
        )
        if not todo:
            break
    return results


def _value(r: Any) -> Any:
    """What a task returned; the exception of ``f`` it carries is raised."""
    if isinstance(r, _Failed):
        raise r.exc
    return r


def _ship(
    client: Any,
    shipped: _Shipped,
    parts: list[Any],
    todo: list[int],
    results: list[Any],
    *,
    name: str,
    timeout: float | None,
    lost: Callable[[list[int], bool], str],
    expired: Callable[[list[int]], BaseException],
    last: bool,
) -> list[int]:
    """Scatter `shipped`, run the blocks `todo`; the blocks left if it was lost."""
    from concurrent.futures import CancelledError

    from distributed import wait

    token = _token()
    futs: list[Any] = []
    future = None
    try:
        # with broadcast=True every worker holds a copy: losing one worker
        # loses no data
        (future,) = client.scatter(
            {f"{_task_name(shipped.task.fun)}-{token}": shipped}, broadcast=True
        ).values()
        keys = [f"numderiv-{name}-{token}-{i}" for i in todo]
        args = [parts[i] for i in todo]
        futs = client.map(_run, [future] * len(todo), args, key=keys, pure=False)
        where = {f.key: i for i, f in zip(todo, futs, strict=True)}
        pending = set(futs)
        while pending:
            try:
                done, pending = wait(
                    pending, timeout=timeout, return_when="FIRST_COMPLETED"
                )
            except TimeoutError:
                raise expired(sorted(where[f.key] for f in pending)) from None
            except CancelledError:
                # a task was cancelled: Dask forgot it (below)
                done = {f for f in pending if f.done()}
                pending -= done
            for fut in done:
                i = where[fut.key]
                try:
                    r = fut.result()
                except CancelledError as exc:
                    if future.status == "finished":  # this task alone
                        _note_lost(exc, lost([i], False))
                        raise
                    # every copy of f and the base point is lost, and with it
                    # every task not finished: those are shipped again
                    left = [f for f in futs if f.status != "finished"]
                    client.cancel(left)
                    for f in futs:
                        if f.status == "finished" and results[where[f.key]] is None:
                            results[where[f.key]] = _value(f.result())
                    todo = [where[f.key] for f in left]
                    todo = [j for j in todo if results[j] is None]
                    if last:
                        _note_lost(exc, lost(todo, True))
                        raise
                    return todo
                except Exception as exc:
                    _note_lost(exc, lost([i], False))
                    raise
                results[i] = _value(r)
        return []
    except BaseException:
        if futs:
            client.cancel(futs)
        raise
    finally:
        if future is not None:
            future.release()
