"""Reliability of the evaluations by workers (Issue 10).

A worker process that dies, a KeyboardInterrupt, a timeout, an ``f`` that
cannot be pickled, what ``f`` returns on every path, and Dask's task names
and logs.  Process pools are started few times: each start costs.
"""

from __future__ import annotations

import ctypes
import faulthandler
import logging
import multiprocessing
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import numderiv as nd
from numderiv._evaluate import Evaluator

X0 = np.array([1.0, 2.0])


class _Hung(Exception):
    """The call did not return in time (it would have hung)."""


@contextmanager
def _deadline(seconds: float, exc: type[BaseException] = _Hung) -> Iterator[None]:
    """Raise `exc` in the main thread after `seconds` (SIGALRM)."""

    def handler(signum: int, frame: Any) -> None:
        raise exc("deadline")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _children() -> set[int]:
    return {p.pid for p in multiprocessing.active_children() if p.pid is not None}


def _exit_at_second(x: np.ndarray) -> np.ndarray:
    if x[1] != 2.0:  # the points moved along the second axis
        os._exit(1)
    return x**2


def _segfault_at_second(x: np.ndarray) -> np.ndarray:
    if x[1] != 2.0:
        faulthandler.disable()  # no traceback dump from the dying worker
        ctypes.string_at(0)  # reads address 0: the process dies of SIGSEGV
    return x**2


def _sleep_at_second(x: np.ndarray) -> np.ndarray:
    if x[1] != 2.0:
        time.sleep(20)
    return x**2


def _quick(x: np.ndarray) -> np.ndarray:
    return x**2


def _with_arg(x: np.ndarray, arg: Any) -> Any:
    return x @ x


# ---------------------------------------------------------------------------
# 1. a worker process that dies, KeyboardInterrupt, timeout


needs_posix = pytest.mark.skipif(
    not hasattr(signal, "setitimer"), reason="SIGALRM needed"
)


@needs_posix
@pytest.mark.parametrize("f", [_exit_at_second, _segfault_at_second])
def test_dead_worker_names_lost_points_and_leaves_no_process(f):
    before = _children()
    with _deadline(20), pytest.raises(BrokenProcessPool) as err:
        nd.jacobian(f, X0, workers=2, chunk_size=1)
    msg = str(err.value)
    assert "worker process died" in msg
    # the points moved along the second axis were lost (x[1] = 2 +- h)
    assert re.search(r"lost: [2-4] of 4 points: x = \[", msg), msg
    assert "1.9999923706054688]" in msg or "2.0000076293945312]" in msg
    assert _children() <= before


@needs_posix
def test_one_keyboard_interrupt_cancels_promptly():
    before = _children()
    t = time.perf_counter()
    with (
        pytest.raises(KeyboardInterrupt),
        _deadline(0.5, KeyboardInterrupt),
    ):
        nd.jacobian(_sleep_at_second, X0, workers=2, chunk_size=1)
    assert time.perf_counter() - t < 5  # f sleeps 20 s in the workers
    assert _children() <= before


def test_timeout_names_points_and_stops_the_pool():
    before = _children()
    t = time.perf_counter()
    with pytest.raises(TimeoutError, match=r"timeout=0\.5 s; not evaluated: 2 of 4"):
        nd.jacobian(_sleep_at_second, X0, workers=2, chunk_size=1, timeout=0.5)
    assert time.perf_counter() - t < 5
    assert _children() <= before


def test_timeout_with_a_thread_pool_cancels_and_names_points():
    def slow(x):
        if x[1] != 2.0:
            time.sleep(0.3)
        return x**2

    match = r"not evaluated: [1-4] of 4 points"
    with ThreadPoolExecutor(1) as ex, pytest.raises(TimeoutError, match=match):
        nd.jacobian(slow, X0, workers=ex, chunk_size=1, timeout=0.05)


def test_timeout_that_is_not_reached_changes_nothing():
    with ThreadPoolExecutor(2) as ex:
        J, info = nd.jacobian(_quick, X0, workers=ex, timeout=30, full_output=True)
    J0, info0 = nd.jacobian(_quick, X0, full_output=True)
    assert np.array_equal(J, J0) and info.nfev == info0.nfev


@pytest.mark.parametrize(
    ("kw", "exc", "match"),
    [
        ({"timeout": -1, "workers": 2}, ValueError, "timeout must be a positive"),
        ({"timeout": 0, "workers": 2}, ValueError, "timeout must be a positive"),
        ({"timeout": np.nan, "workers": 2}, ValueError, "timeout=nan"),
        ({"timeout": np.inf, "workers": 2}, ValueError, "timeout=inf"),
        ({"timeout": "1", "workers": 2}, TypeError, "timeout must be a number"),
        ({"timeout": True, "workers": 2}, TypeError, "timeout must be a number"),
        ({"timeout": 1.0}, ValueError, r"timeout=1\.0 needs workers .*workers=None"),
        (
            {"timeout": 1.0, "workers": lambda fn, it: list(map(fn, it))},
            ValueError,
            "map-like call cannot be interrupted",
        ),
    ],
    ids=["negative", "zero", "nan", "inf", "str", "bool", "serial", "map-like"],
)
def test_timeout_validated(kw, exc, match):
    with pytest.raises(exc, match=match):
        nd.gradient(lambda x: x @ x, X0, **kw)


@pytest.mark.parametrize("entry", ["derivative", "gradient", "hessian", "jvp", "hvp"])
def test_timeout_accepted_by_every_entry_point(entry):
    fun = getattr(nd, entry)
    with ThreadPoolExecutor(2) as ex:
        if entry == "derivative":
            got = fun(np.sin, 0.5, workers=ex, vectorized=False, timeout=30)
            want = fun(np.sin, 0.5, vectorized=False)
        elif entry in ("jvp", "hvp"):
            got = fun(lambda x: x @ x, X0, X0, workers=ex, timeout=30)
            want = fun(lambda x: x @ x, X0, X0)
        else:
            got = fun(lambda x: x @ x, X0, workers=ex, timeout=30)
            want = fun(lambda x: x @ x, X0)
    assert np.array_equal(got, want)


# ---------------------------------------------------------------------------
# 2. an f that cannot be pickled, refused before any work


def test_unpicklable_f_refused_before_any_work():
    calls = []

    def closure(x):
        calls.append(1)
        return x @ x

    for f in (closure, lambda x: x @ x):
        with pytest.raises(TypeError, match="cannot be sent to worker processes") as e:
            nd.gradient(f, X0, workers=2)
        msg = str(e.value)
        assert "module level" in msg and "ThreadPoolExecutor" in msg
        assert "dask" in msg and "raised while evaluating f" not in msg
    assert calls == []


def test_unpicklable_args_and_user_process_pool_refused():
    with pytest.raises(TypeError, match=r"extra arguments \(args, kwargs\) cannot"):
        nd.gradient(_with_arg, X0, args=(threading.Lock(),), workers=2)
    match = "f cannot be sent to worker processes"
    # no process starts before a task
    with ProcessPoolExecutor(1) as ex, pytest.raises(TypeError, match=match):
        nd.gradient(lambda x: x @ x, X0, workers=ex)


def test_picklable_f_with_a_thread_pool_is_fine():
    with ThreadPoolExecutor(2) as ex:
        g = nd.gradient(lambda x: x @ x, X0, workers=ex)
    assert np.allclose(g, 2 * X0)


# ---------------------------------------------------------------------------
# 6. what f returns, checked on every path with the same error


def _bad(x: np.ndarray, kind: str) -> Any:
    """Bad at the points moved along the second axis (or everywhere)."""
    good = np.array([x[0] ** 2, x[0] * x[1]])
    if kind == "none":
        return None
    if kind == "bool":
        return bool(x[0] > 0)
    moved = x[1] != 2.0
    if kind == "scalar":
        return float(x[0]) if moved else good
    return np.append(good, 1.0) if moved else good  # "shape": (3,) after (2,)


def _bad_vec(X: np.ndarray, kind: str) -> Any:
    """A vectorized f that returns something other than ``(..., k)``."""
    if kind == "none":
        return None
    if kind == "bool":
        return True
    if kind == "scalar":
        return float(X.sum())
    return np.sum(X**2, axis=1)  # "shape": reduces over the points


_KINDS = ["none", "bool", "scalar", "shape"]
_SAYS = {
    # what f returned, then what was expected
    "none": (TypeError, r"f returned None at x = .*; expected a scalar or an array"),
    "bool": (TypeError, r"f returned a bool \(True\) at x = .*; expected"),
    "scalar": (ValueError, r"f returned shape \(\d?,?\) at x = .*but shape"),
    "shape": (ValueError, r"f returned shape \(3,\) at x = .*but shape \(2,\) before"),
}
_SAYS_VEC = {
    "none": r"returned None; expected an array of shape \(\.\.\., \d+\)",
    "bool": r"returned a bool \(True\); expected an array of shape \(\.\.\., \d+\)",
    "scalar": r"returned a scalar of dtype float64; expected an array of shape",
    "shape": r"returned an array of shape \(2,\) .*expected an array of shape",
}


def _serial_map(fn: Callable[..., Any], it: Any) -> list[Any]:
    return list(map(fn, it))


@contextmanager
def _workers(path: str) -> Iterator[Any]:
    if path == "serial":
        yield None
    elif path == "map":
        yield _serial_map
    elif path == "executor":
        with ThreadPoolExecutor(2) as ex:
            yield ex
    elif path == "dask":
        distributed = pytest.importorskip("dask.distributed")
        with distributed.Client(
            processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
        ) as client:
            yield client
    else:
        yield 2


@pytest.mark.parametrize("path", ["serial", "map", "executor", "dask"])
def test_bad_returns_same_error_on_every_path(path):
    with _workers(path) as w:
        for kind in _KINDS:
            exc, match = _SAYS[kind]
            with pytest.raises(exc, match=match) as e:
                nd.jacobian(_bad, X0, args=(kind,), workers=w, chunk_size=2)
            assert "raised while evaluating f" not in "".join(
                getattr(e.value, "__notes__", [])
            )
            # vectorized f, in one call or by the workers
            with pytest.raises(ValueError, match=_SAYS_VEC[kind]):
                nd.jacobian(_bad_vec, X0, args=(kind,), vectorized=True, workers=w)


@pytest.mark.parametrize("kind", _KINDS)
def test_bad_returns_from_a_process_pool(kind):
    exc, match = _SAYS[kind]
    with pytest.raises(exc, match=match):
        nd.jacobian(_bad, X0, args=(kind,), workers=2, chunk_size=2)
    if kind == "none":
        with pytest.raises(ValueError, match=_SAYS_VEC[kind]):
            nd.jacobian(_bad_vec, X0, args=(kind,), vectorized=True, workers=2)


@pytest.mark.parametrize("path", ["serial", "map", "executor"])
@pytest.mark.parametrize(
    ("ret", "exc", "match"),
    [
        (None, TypeError, r"f returned None at x = .*expected a scalar"),
        (True, TypeError, r"f returned a bool \(True\) at x = "),
        (np.ones(2), ValueError, r"f returned an array of shape \(2,\) .*a scalar f"),
    ],
    ids=["none", "bool", "array"],
)
def test_bad_returns_of_a_scalar_f(path, ret, exc, match):
    with _workers(path) as w, pytest.raises(exc, match=match):
        nd.derivative(lambda x: ret, X0, vectorized=False, workers=w)


def test_bool_values_after_numbers_refused_on_the_fast_path():
    def f(x):
        return x > 1.5 if x[0] != 1.0 else x

    with pytest.raises(TypeError, match=r"f returned bools of shape \(2,\) at x ="):
        nd.jacobian(f, X0, method="forward")
    with pytest.raises(TypeError, match=r"f returned bools of shape \(2,\)"):
        nd.jacobian(f, X0, order=4)


def test_map_returning_too_few_results_is_named():
    with pytest.raises(ValueError, match=r"returned 1 results for \d+ tasks"):
        nd.jacobian(_quick, X0, workers=lambda fn, it: [fn(next(iter(it)))])


# ---------------------------------------------------------------------------
# _evaluate: no control flow from frame names or exception text


def test_own_errors_on_the_fast_path_are_not_blamed_on_f():
    def f(x):  # one kind of number, then another
        return x.sum() + (1j if x[0] > 1 else 0)

    for method in ("forward", "central"):
        with pytest.raises(TypeError, match="one kind of number") as e:
            nd.jacobian(f, X0, method=method)
        assert not getattr(e.value, "__notes__", [])


def test_f_raising_on_the_fast_path_names_the_point():
    def f(x):
        if x[1] != 2.0:
            raise ArithmeticError("boom")
        return x

    for method, order in (("forward", 1), ("central", 2), ("central", 4)):
        with pytest.raises(ArithmeticError) as e:
            nd.jacobian(f, X0, method=method, order=order)
        (note,) = e.value.__notes__
        assert re.match(
            r"numderiv: raised while evaluating f at x = \[1\. +, [12]\.", note
        )


def test_f_raising_in_a_worker_names_its_own_point_once():
    def f(x):
        if x[1] > 2.0:
            raise ArithmeticError("boom")
        return x

    with ThreadPoolExecutor(2) as ex, pytest.raises(ArithmeticError) as e:
        nd.jacobian(f, X0, workers=ex, chunk_size=1)
    (note,) = e.value.__notes__
    assert re.match(r"numderiv: raised while evaluating f at x = \[1\. +, 2\.0", note)


# ---------------------------------------------------------------------------
# 14. Dask: readable task names, a failing f named once, no flood of logs


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _fails_everywhere(x: np.ndarray) -> np.ndarray:
    raise ArithmeticError(f"boom at {x}")


def test_dask_task_names_and_one_failure_without_logs():
    distributed = pytest.importorskip("dask.distributed")
    rec = _Records()
    log = logging.getLogger("distributed")
    log.addHandler(rec)
    try:
        with distributed.Client(
            processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
        ) as client:
            J = nd.jacobian(_quick, X0, workers=client)
            assert np.array_equal(J, nd.jacobian(_quick, X0))
            prefixes = set(client.cluster.scheduler.task_prefixes)
            assert "numderiv._quick" in prefixes, prefixes
            assert not any("object at 0x" in p for p in prefixes)
            rec.records.clear()
            with pytest.raises(ArithmeticError) as e:
                nd.jacobian(_fails_everywhere, X0, workers=client, chunk_size=1)
            (note,) = e.value.__notes__
            assert note.startswith("numderiv: raised while evaluating f at x = [")
            failed = [r for r in rec.records if "Compute Failed" in r.getMessage()]
            assert failed == []
            assert all(r.levelno < logging.WARNING for r in rec.records)
    finally:
        log.removeHandler(rec)


def test_dask_timeout_names_points():
    distributed = pytest.importorskip("dask.distributed")

    def slow(x):
        if x[1] != 2.0:
            time.sleep(0.5)
        return x**2

    match = r"not evaluated: [1-4] of 4 points"
    with (
        distributed.Client(
            processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
        ) as client,
        pytest.raises(TimeoutError, match=match),
    ):
        nd.jacobian(slow, X0, workers=client, chunk_size=1, timeout=0.1)


def test_evaluator_closes_its_pool():
    before = _children()
    with Evaluator(_quick, workers=2) as ev:
        Y = ev.rows(np.eye(2))
    assert np.array_equal(Y, np.eye(2))
    assert ev._pool is None and _children() <= before
