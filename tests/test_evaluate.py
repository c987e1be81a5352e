"""Unit tests of the evaluation layer: numderiv._evaluate and numderiv._fold.

The Evaluator calls, counts, checks and spreads; the fold combines the values
of a serial f along the coordinate axes.  Values are compared with plain
NumPy evaluation of the same points (bit for bit where the arithmetic is
the same), counts with the points really handed to f.
"""

from __future__ import annotations

import io
import pickle
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import numderiv as nd
from numderiv import _fold, testing
from numderiv._evaluate import Evaluator, _note
from numderiv._fold import fold_axes


def _recording(f):
    seen: list[np.ndarray] = []

    def g(t, *args):
        seen.append(np.array(t, copy=True))
        return f(t, *args)

    return g, seen


# -- Evaluator: calls and counts ---------------------------------------------------


def test_point_counts_and_copies_its_input():
    x = np.array([1.0, 2.0, 3.0])

    def f(t):
        y = t**2
        t[0] = 99.0  # f writes into its input: x must not change
        return y

    ev = Evaluator(f)
    y = ev.point(x)
    assert np.array_equal(y, [1.0, 4.0, 9.0])
    assert np.array_equal(x, [1.0, 2.0, 3.0])
    assert (ev.nfev, ev.ncalls, ev.shape) == (1, 1, (3,))


def test_rows_equal_plain_evaluation():
    X = np.random.default_rng(1).normal(size=(7, 3))
    f = testing.scilab_example
    ev = Evaluator(f)
    Y = ev.rows(X)
    assert Y.shape == (2, 7)
    assert np.array_equal(Y, np.stack([f(r) for r in X], axis=1))
    assert ev.nfev == ev.ncalls == 7


def test_rows_with_args_and_kwargs():
    def f(t, a, b=0.0):
        return a * t + b

    ev = Evaluator(f, (2.0,), {"b": 1.0})
    X = np.arange(6.0).reshape(3, 2)
    assert np.array_equal(ev.rows(X), (2.0 * X + 1.0).T)


@pytest.mark.parametrize("chunk", [None, 1, 2, 5])
def test_columns_vectorized_chunks(chunk):
    calls = []

    def f(X):
        calls.append(X.shape[1])
        return np.sin(X)

    X = np.linspace(0, 1, 15).reshape(3, 5)
    ev = Evaluator(f, vectorized=True, chunk_size=chunk)
    Y = ev.columns(X)
    assert np.array_equal(Y, np.sin(X))
    assert ev.nfev == 5
    assert ev.ncalls == len(calls) == -(-5 // (chunk or 5))
    assert max(calls) <= (chunk or 5)


def test_scalars_and_count():
    ev = Evaluator(np.exp)
    xs = np.array([0.0, 1.0, 2.0])
    assert np.array_equal(ev.scalars(xs), np.exp(xs))
    assert ev.nfev == ev.ncalls == 3
    ev.count(4, 1)
    assert (ev.nfev, ev.ncalls) == (7, 4)


@pytest.mark.parametrize("workers", [map, "threads"])
def test_rows_with_workers_equal_serial(workers):
    X = np.random.default_rng(2).normal(size=(9, 3))
    serial = Evaluator(testing.scilab_example).rows(X)
    if workers == "threads":
        with ThreadPoolExecutor(2) as pool:
            got = Evaluator(testing.scilab_example, workers=pool, chunk_size=2).rows(X)
    else:
        got = Evaluator(testing.scilab_example, workers=map).rows(X)
    assert np.array_equal(got, serial)


# -- Evaluator: checks ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("ret", "exc", "words"),
    [
        (None, TypeError, "returned None"),
        (True, TypeError, "a bool"),
        ("text", TypeError, "must return numbers"),
    ],
)
def test_point_refuses_non_numbers(ret, exc, words):
    ev = Evaluator(lambda t: ret)
    with pytest.raises(exc, match=words):
        ev.point(np.zeros(2))


def test_shape_change_is_named():
    ev = Evaluator(lambda t: t[: int(t[0]) + 1])
    ev.point(np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"shape \(2,\).*shape \(1,\) before"):
        ev.rows(np.array([[1.0, 1.0, 2.0]]))


def test_vectorized_wrong_axis_is_named():
    ev = Evaluator(lambda X: np.sum(X, axis=1), vectorized=True)
    with pytest.raises(ValueError, match=r"expected an array of shape \(\.\.\., 4\)"):
        ev.columns(np.ones((3, 4)))


def test_scalars_refuse_a_vector():
    ev = Evaluator(lambda t: np.array([t, t]))
    with pytest.raises(ValueError, match="needs a scalar f returning a scalar"):
        ev.scalars(np.array([1.0]))


def test_check_value_kind_change():
    ev = Evaluator(lambda t: t)
    ev.point(np.zeros(2))
    with pytest.raises(TypeError, match="one kind of number"):
        ev.check_value(np.zeros(2, dtype=complex), np.zeros(2), np.dtype(float))


def _lam_holder():
    return lambda t: t


def test_unpicklable_f_refused_before_any_work():
    calls = []

    def closure(t):
        calls.append(1)
        return t

    with pytest.raises(TypeError, match="cannot be sent to worker processes"):
        Evaluator(closure, workers=2)
    assert not calls
    with pytest.raises(TypeError, match=r"extra arguments \(args, kwargs\)"):
        Evaluator(np.sin, (_lam_holder(),), workers=2)


# -- exceptions of f: the point noted once, by a flag -------------------------------


def test_exception_noted_once_with_the_point():
    def f(t):
        raise ZeroDivisionError("boom")

    ev = Evaluator(f)
    with pytest.raises(ZeroDivisionError) as info:
        ev.point(np.array([1.5, 2.0]))
    notes = getattr(info.value, "__notes__", [])
    if sys.version_info >= (3, 11):
        assert len(notes) == 1 and "x = [1.5, 2. ]" in notes[0]
        assert info.value._numderiv_noted is True


@pytest.mark.skipif(sys.version_info < (3, 11), reason="no exception notes")
def test_nested_numderiv_call_is_noted_once():
    # f itself differentiates a function that fails: the innermost point is
    # named, and the outer evaluation adds no second note
    def inner(s):
        raise ValueError("inner failed")

    def f(t):
        return nd.derivative(inner, t[0])

    with pytest.raises(ValueError, match="inner failed") as info:
        nd.gradient(f, [1.0, 2.0])
    assert len(info.value.__notes__) == 1


@pytest.mark.skipif(sys.version_info < (3, 11), reason="no exception notes")
def test_note_flag_survives_pickling():
    exc = RuntimeError("x")
    _note(exc, "x = [1.0]")
    back = pickle.loads(pickle.dumps(exc))
    _note(back, "x = [2.0]")  # as the parent would: no second note
    assert back.__notes__ == exc.__notes__


@pytest.mark.skipif(sys.version_info < (3, 11), reason="no exception notes")
def test_a_note_written_by_f_itself_does_not_stop_ours():
    # the decision is a flag, not the text of earlier notes
    def f(t):
        e = KeyError("k")
        e.add_note("numderiv: a note f wrote itself")
        raise e

    with pytest.raises(KeyError) as info:
        Evaluator(f).point(np.zeros(1))
    assert len(info.value.__notes__) == 2


# -- the fold --------------------------------------------------------------------------


def _central_reference(f, x, h):
    """(f(x + h e_j) - f(x - h e_j)) * (0.5 / h), point by point in NumPy."""
    rows = []
    for j in range(x.size):
        lo, hi = x.copy(), x.copy()
        lo[j] -= h[j]
        hi[j] += h[j]
        rows.append(np.subtract(f(hi), f(lo)) * (0.5 / h[j]))
    return np.array(rows)


def _fold_central(ev, x, h):
    (J,) = fold_axes(
        ev, x, list(range(x.size)), h.tolist(), [-1.0, 1.0], [[(0, -0.5)], [(0, 0.5)]],
        1, 0.5 / h, pair=True,
    )  # fmt: skip
    return J


def test_pair_fold_equals_plain_evaluation():
    x = np.linspace(-1, 1, 12)
    h = np.full(12, 2.0**-18)
    ev = Evaluator(testing.broyden_tridiagonal)
    J = _fold_central(ev, x, h)
    assert np.array_equal(J, _central_reference(testing.broyden_tridiagonal, x, h))
    assert ev.nfev == ev.ncalls == 24


def test_block_fold_equals_plain_evaluation():
    # order 4 central weights, value (target 0), check step (target 1) and
    # the round-off bound (target 2), against the same sums written out
    f = testing.scilab_example
    x = np.array([1.0, 2.0, 3.0])
    h = np.full(3, 2.0**-8)
    z = [-2.0, -1.0, 1.0, 2.0]
    w = [1 / 12, -2 / 3, 2 / 3, -1 / 12]
    half = [zz * 0.5 for zz in z]
    keys = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]
    plan: list[list[tuple[int, float]]] = [[] for _ in keys]
    for zz, ww in zip(z, w, strict=True):
        plan[keys.index(zz)] += [(0, ww), (2, abs(ww))]
        plan[keys.index(zz * 0.5)].append((1, ww * 2.0))
    ev = Evaluator(f)
    value, check, noise = fold_axes(ev, x, [0, 1, 2], h.tolist(), keys, plan, 3, 1 / h)
    assert ev.nfev == 18
    for j in range(3):

        def at(o, j=j):
            p = x.copy()
            p[j] += o * h[j]
            return f(p)

        want = sum(ww * at(zz) for zz, ww in zip(z, w, strict=True)) / h[j]
        want_half = sum(2 * ww * at(zz) for zz, ww in zip(half, w, strict=True)) / h[j]
        want_noise = sum(abs(ww) * np.abs(at(zz)) for zz, ww in zip(z, w, strict=True))
        np.testing.assert_allclose(value[j], want, rtol=1e-13)
        np.testing.assert_allclose(check[j], want_half, rtol=1e-13)
        np.testing.assert_allclose(noise[j], want_noise / h[j], rtol=1e-13)
    np.testing.assert_allclose(value.T, testing.scilab_example_jacobian(x), rtol=1e-7)


@pytest.mark.parametrize("misbehave", ["keeps", "writes", "returns_input", "buffer"])
def test_fold_guards_the_reused_point(misbehave):
    # whatever f does with its point (keep it, write into it, return it, or
    # return one buffer every time), the fold's result is that of fresh points
    x = np.linspace(-1, 1, 40)
    h = np.full(40, 2.0**-18)
    kept = []
    buf = np.empty(40)

    def f(t):
        y = testing.broyden_tridiagonal(t)
        if misbehave == "keeps":
            kept.append(t)
        elif misbehave == "writes":
            t[:] = 7.0
        elif misbehave == "returns_input":
            t[:] = y
            return t
        elif misbehave == "buffer":
            buf[:] = y
            return buf
        return y

    ev = Evaluator(f)
    J = _fold_central(ev, x, h)
    want = _central_reference(testing.broyden_tridiagonal, x, h)
    assert np.array_equal(J, want)
    if misbehave == "keeps":
        # every point kept is intact: each is one of the stencil's points,
        # and all of them are there (a direction whose point was kept is
        # evaluated again on new arrays: one more evaluation at most)
        pts = set()
        for j in range(40):
            for s in (-1.0, 1.0):
                q = x.copy()
                q[j] += s * h[j]
                pts.add(q.tobytes())
        assert {p.tobytes() for p in kept} == pts
        assert len(kept) <= 81


def test_fold_without_reference_counts(monkeypatch):
    # elsewhere than CPython every point is a new array: same values
    x = np.linspace(-1, 1, 20)
    h = np.full(20, 2.0**-18)
    want = _fold_central(Evaluator(testing.broyden_tridiagonal), x, h)
    monkeypatch.setattr(_fold, "_getrefcount", None)
    f, seen = _recording(testing.broyden_tridiagonal)
    assert np.array_equal(_fold_central(Evaluator(f), x, h), want)
    assert len(seen) == 40


def test_fold_f_raising_names_the_point():
    def f(t):
        if t[2] > 0.5:
            raise ArithmeticError("no")
        return t

    x = np.array([0.0, 0.0, 0.5])
    with pytest.raises(ArithmeticError) as info:
        _fold_central(Evaluator(f), x, np.full(3, 0.25))
    if sys.version_info >= (3, 11):
        assert "0.75" in info.value.__notes__[0]


# -- progress ----------------------------------------------------------------------------


@pytest.fixture
def bars(monkeypatch):
    """The tqdm bars numderiv opens, written to a string, with their first total."""
    tqdm_auto = pytest.importorskip("tqdm.auto")
    import tqdm

    opened = []

    class Recorder(tqdm.tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["file"] = io.StringIO()
            kwargs["mininterval"] = 0
            super().__init__(*args, **kwargs)
            self.first_total = self.total
            opened.append(self)

    monkeypatch.setattr(tqdm_auto, "tqdm", Recorder)
    return opened


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("jacobian", lambda: nd.jacobian(testing.scilab_example, [1.0, 2, 3], progress=True, full_output=True)),
        ("forward", lambda: nd.jacobian(testing.scilab_example, [1.0, 2, 3], method="forward", progress=True, full_output=True)),
        ("vectorized", lambda: nd.jacobian(testing.broyden_tridiagonal_vectorized, np.linspace(-1, 1, 6), vectorized=True, progress=True, full_output=True)),
        ("hessian", lambda: nd.hessian(testing.scilab_example, [1.0, 2, 3], progress=True, full_output=True)),
        ("derivative", lambda: nd.derivative(np.sin, np.linspace(0, 1, 5), progress=True, full_output=True)),
        ("complex", lambda: nd.derivative(np.sin, np.linspace(0, 1, 5), n=2, method="complex", progress=True, full_output=True)),
        ("jvp", lambda: nd.jvp(testing.scilab_example, [1.0, 2, 3], [1.0, 0, 1], progress=True, full_output=True)),
        ("bounds", lambda: nd.jacobian(testing.scilab_example, [1.0, 2, 3], bounds=([1, 0, 0], [5, 2, 9]), progress=True, full_output=True)),
        ("workers", lambda: nd.jacobian(testing.scilab_example, [1.0, 2, 3], workers=map, progress=True, full_output=True)),
    ],
)  # fmt: skip
def test_progress_total_known_up_front(bars, name, call):
    _, info = call()
    assert len(bars) == 1
    bar = bars[0]
    assert bar.first_total == info.nfev  # known before the first evaluation
    assert bar.total == bar.n == info.nfev
    text = bar.fp.getvalue()
    assert "100%" in text and f"{info.nfev}/{info.nfev}" in text


def test_progress_total_grows_with_the_edge_fallback(bars):
    # log near 0: the fallback's tries are announced as they are decided
    _, info = nd.derivative(np.log, 1e-9, progress=True, full_output=True)
    bar = bars[0]
    assert bar.first_total < info.nfev
    assert bar.total == bar.n == info.nfev


def test_progress_adaptive_has_an_honest_unknown_total(bars):
    _, info = nd.gradient(
        lambda v: np.sum(np.sin(v)), [0.1, 0.7], method="adaptive",
        progress=True, full_output=True,
    )  # fmt: skip
    bar = bars[0]
    assert bar.first_total is None  # no guess: the levels stop when they converge
    assert bar.total == bar.n == info.nfev


def test_expect_without_progress_is_free():
    ev = Evaluator(np.sin)
    ev.expect(10)
    ev.point(np.zeros(1))
    assert ev._bar is None and not ev.progress
