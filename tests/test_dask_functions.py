"""Functions on a Dask cluster (``workers=Client``), Issue 12 point 4.

``f``, its extra arguments and the base point are scattered once per call
and every task depends on that one future; each task carries only the
entries its points change; the keys read ``numderiv-<entry point>-...``; a
worker killed mid-computation costs a retry, not a different result; a
failing ``f`` is named once, with its point, and Dask logs nothing of it.

The two tests on a cluster of worker processes share one cluster (its
start-up is most of their time, about 5 s together on two cores).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

import numderiv as nd
from numderiv._distributed import _decode, _encode
from numderiv._evaluate import _fmt_point

distributed = pytest.importorskip("dask.distributed")
cloudpickle = pytest.importorskip("cloudpickle")
from distributed.diagnostics.plugin import SchedulerPlugin  # noqa: E402
from distributed.utils import key_split  # noqa: E402

X0 = np.array([0.5, -1.25, 2.0, 0.75])


def _f(x: np.ndarray, c: np.ndarray, *, scale: float = 1.0) -> np.ndarray:
    """A vector function with a large constant; exact Jacobian in _jac."""
    return scale * np.array(
        [np.sin(x[0]) * x[1], x[2] ** 3 + c[0] * x[3], np.exp(x[1]) * x[3]]
    )


def _jac(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    return np.array(
        [
            [np.cos(x[0]) * x[1], np.sin(x[0]), 0.0, 0.0],
            [0.0, 0.0, 3 * x[2] ** 2, c[0]],
            [0.0, np.exp(x[1]) * x[3], 0.0, np.exp(x[1])],
        ]
    )


def _scalar(x: np.ndarray) -> float:
    return float(np.sin(x[0]) * x[1] ** 2 + x[2] * x[3])


def _slow(x: np.ndarray, delay: float) -> np.ndarray:
    time.sleep(delay)
    return np.array([np.sin(x[0]) * x[1], x @ x, np.cos(x).prod()])


def _exits_above_x2(x: np.ndarray) -> np.ndarray:
    if x[2] > X0[2]:
        os._exit(3)  # the worker process dies
    return x**2


def _fails_at_x2(x: np.ndarray) -> np.ndarray:
    if x[2] != X0[2]:
        raise ArithmeticError("f cannot go there")
    return x**2


class _Tasks(SchedulerPlugin):
    """Records, on the scheduler, what each numderiv task depends on and weighs."""

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler
        self.deps: dict[str, set[str]] = {}
        self.nbytes: dict[str, int] = {}
        self.moves: list[tuple[str, str, str]] = []

    def transition(self, key: Any, start: str, finish: str, *a: Any, **k: Any) -> None:
        key = str(key)
        if not key.startswith("numderiv"):
            return
        self.moves.append((key, start, finish))
        if finish == "processing":
            ts = self.scheduler.tasks[key]
            self.deps[key] = {str(d.key) for d in ts.dependencies}
            self.nbytes[key] = len(cloudpickle.dumps(ts.run_spec))

    def clear(self) -> None:
        self.deps.clear()
        self.nbytes.clear()
        self.moves.clear()


@pytest.fixture(scope="module")
def threads() -> Iterator[tuple[Any, _Tasks]]:
    """A client of an in-process cluster (threads), with the recorder."""
    with distributed.Client(
        processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0"
    ) as client:
        rec = _Tasks(client.cluster.scheduler)
        client.cluster.scheduler.add_plugin(rec)
        yield client, rec


@pytest.fixture(scope="module")
def processes() -> Iterator[tuple[Any, Any, _Tasks]]:
    """Two worker processes of one thread each, with the recorder."""
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        rec = _Tasks(cluster.scheduler)
        cluster.scheduler.add_plugin(rec)
        yield cluster, client, rec


# ---------------------------------------------------------------------------
# what travels: f, args and the base point once; per task, the changed entries


def test_f_args_and_x_scattered_once(threads):
    client, rec = threads
    big = np.random.default_rng(1).random(125_000)  # 1 MB of constants
    rec.clear()
    J = nd.jacobian(
        _f, X0, args=(big,), kwargs={"scale": 1.0}, workers=client, chunk_size=1
    )
    assert np.array_equal(J, nd.jacobian(_f, X0, args=(big,)))  # bit for bit
    np.testing.assert_allclose(J, _jac(X0, big), rtol=1e-8, atol=1e-8)
    assert len(rec.deps) == 2 * X0.size  # central: one task per point
    shipped = set.union(*rec.deps.values())
    # every task depends on the one scattered future, named after f
    assert all(d == shipped for d in rec.deps.values())
    (key,) = shipped
    assert key_split(key) == "numderiv._f"
    # and carries no copy of the constants: its spec is a few hundred bytes
    assert max(rec.nbytes.values()) < 2_000, rec.nbytes
    # the scattered future is released after the call (a message on its way)
    deadline = time.monotonic() + 10
    while key in client.cluster.scheduler.tasks and time.monotonic() < deadline:
        time.sleep(0.01)
    assert key not in client.cluster.scheduler.tasks


def test_a_long_x_travels_as_differences(threads):
    client, rec = threads
    x = np.linspace(-1.0, 1.0, 2_000)  # 16 kB per point
    rec.clear()
    g = nd.gradient(np.dot, x, args=(x,), workers=client)  # d(x.c)/dx = c
    assert np.array_equal(g, nd.gradient(np.dot, x, args=(x,)))
    np.testing.assert_allclose(g, x, atol=1e-6)  # x.c sums 2000 terms
    # 4000 points in a few tasks: each carries 2 entries per point, not 16 kB
    npoints = 2 * x.size
    assert sum(rec.nbytes.values()) < 40 * npoints, sum(rec.nbytes.values())


@pytest.mark.parametrize(
    "block",
    [
        np.array([[1.0, 2.0, 3.0], [1.0, -0.0, 3.0], [np.nan, 2.0, 3.0]]),
        np.array([[1 + 1j, 2.0], [1 + 1j, 2.0 + 1e-300j], [1 + 1j, 2.0]]),
        np.arange(12.0).reshape(4, 3),  # every entry differs: sent as it is
    ],
)
def test_encoding_rebuilds_points_bit_for_bit(block):
    base = block[0].copy()
    part = _encode(block, base)
    X = _decode(part, base)
    assert X.dtype == block.dtype and X.shape == block.shape
    assert X.tobytes() == block.tobytes()
    if np.isnan(block).any() or np.signbit(block.real).any():
        assert isinstance(part, tuple)  # NaN and -0.0 kept as entries that differ
    if block.shape == (4, 3):
        assert part is block


# ---------------------------------------------------------------------------
# task names: numderiv-<entry point>


_ENTRIES = {
    "jacobian": lambda w: nd.jacobian(_f, X0, args=(X0,), workers=w),
    "gradient": lambda w: nd.gradient(_scalar, X0, workers=w),
    "hessian": lambda w: nd.hessian(_scalar, X0, workers=w),
    "derivative": lambda w: nd.derivative(np.sin, X0, vectorized=False, workers=w),
    "jvp": lambda w: nd.jvp(_f, X0, X0[::-1], args=(X0,), workers=w),
    "hvp": lambda w: nd.hvp(_scalar, X0, X0[::-1], workers=w),
}


@pytest.mark.parametrize("entry", sorted(_ENTRIES))
def test_task_keys_name_the_entry_point(threads, entry):
    client, rec = threads
    run = _ENTRIES[entry]
    rec.clear()
    got = run(client)
    assert np.array_equal(got, run(None))
    prefixes = {key_split(k) for k in rec.deps}
    assert prefixes == {f"numderiv-{entry}"}, prefixes
    assert not any("object at 0x" in k for k in rec.deps)


@pytest.mark.parametrize("entry", ["jacobian", "hessian"])
def test_operator_tasks_name_the_entry_point(threads, entry):
    client, rec = threads
    v = np.array([1.0, 0.5, -2.0, 0.25])
    make = getattr(nd, entry)
    f, args = (_f, (X0,)) if entry == "jacobian" else (_scalar, ())
    rec.clear()
    op = make(f, X0, args=args, workers=client, as_linear_operator=True)
    got = op.matvec(v)
    assert np.array_equal(got, make(f, X0, args=args, as_linear_operator=True) @ v)
    assert {key_split(k) for k in rec.deps} == {f"numderiv-{entry}"}


# ---------------------------------------------------------------------------
# a failing f: named once, with its point; nothing in Dask's logs


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_failing_f_named_once_without_logs(threads):
    client, _ = threads
    rec = _Records()
    log = logging.getLogger("distributed")
    log.addHandler(rec)
    try:
        with pytest.raises(ArithmeticError, match="f cannot go there") as e:
            nd.jacobian(_fails_at_x2, X0, workers=client, chunk_size=1, abs_step=0.5)
    finally:
        log.removeHandler(rec)
    # f fails at the two points x +- 0.5 e_2: the first to fail is named
    up, dn = X0.copy(), X0.copy()
    up[2] += 0.5
    dn[2] -= 0.5
    (note,) = e.value.__notes__
    assert note in {
        f"numderiv: raised while evaluating f at {_fmt_point(p)}" for p in (up, dn)
    }
    said = [r for r in rec.records if "cannot go there" in r.getMessage()]
    assert len(said) <= 1
    assert all(r.levelno < logging.WARNING for r in rec.records)


# ---------------------------------------------------------------------------
# worker processes: one killed mid-way, one killed by f


@pytest.mark.parametrize("kill", ["one", "all"])
def test_killed_worker_is_retried_and_result_identical(processes, kill):
    # one: Dask runs its tasks again; all: the copies of f are lost with the
    # workers, and numderiv ships f again for the blocks not finished
    _, client, rec = processes
    client.wait_for_workers(2, timeout=30)
    x = np.array([0.3, -0.7, 1.1])
    serial = nd.jacobian(_slow, x, args=(0.0,))
    pids = client.run(os.getpid)
    rec.clear()
    with ThreadPoolExecutor(1) as ex:
        job = ex.submit(
            nd.jacobian, _slow, x, args=(0.15,), workers=client, chunk_size=1
        )
        victim = None
        deadline = time.monotonic() + 30
        while victim is None and time.monotonic() < deadline:
            finished = sum(f == "memory" for _, _, f in rec.moves)
            busy = [
                w
                for w, keys in client.processing().items()
                if any(str(k).startswith("numderiv-jacobian") for k in keys)
            ]
            if finished >= 2 and busy:
                victim = busy[0]
            else:
                time.sleep(0.02)
        assert victim is not None, "the computation never got going"
        for w in [victim] if kill == "one" else list(pids):
            os.kill(pids[w], signal.SIGKILL)
        J = job.result(timeout=60)
    assert J.tobytes() == serial.tobytes()
    lost = {k for k, s, f in rec.moves if s == "processing" and f != "memory"}
    assert lost, rec.moves
    if kill == "one":
        # the tasks taken back from the dead worker were run again elsewhere
        assert all((k, "processing", "memory") in rec.moves for k in lost)
    else:
        # f was shipped twice: the tasks of the second ship depend on another key
        assert len({frozenset(d) for d in rec.deps.values()}) == 2


def test_worker_killed_by_f_names_the_points(processes):
    cluster, client, _ = processes
    client.wait_for_workers(2, timeout=30)
    allowed = cluster.scheduler.allowed_failures
    cluster.scheduler.allowed_failures = 0  # no retry: f kills every worker
    try:
        with pytest.raises(distributed.KilledWorker) as e:
            nd.jacobian(_exits_above_x2, X0, workers=client, chunk_size=1)
    finally:
        cluster.scheduler.allowed_failures = allowed
    (note,) = e.value.__notes__
    assert note.startswith("numderiv: the Dask task of these points failed")
    assert "1 of 8 points: x = [" in note
