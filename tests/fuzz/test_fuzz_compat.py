"""Fuzz ``numderiv.compat.scipy`` against SciPy and ``compat.scilab`` against
exact derivatives (``compat.numpy`` is fuzzed beside ``grid.gradient`` in
``test_fuzz_grid.py``).

SciPy's ``approx_derivative``, ``approx_fprime``, ``group_columns`` and
``check_grad`` are the oracles: where SciPy gives numbers, the layer gives
the same numbers to rounding; where SciPy refuses, the layer refuses with a
``ValueError``/``TypeError`` that names the argument.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse
from _fuzzkit import attempt, fuzz_settings, refused
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize._numdiff import approx_derivative as scipy_approx_derivative
from scipy.optimize._numdiff import group_columns as scipy_group_columns

import numderiv as nd
from numderiv import testing
from numderiv.compat import scilab
from numderiv.compat import scipy as cscipy


def fun_vec(x: Any, a: float = 0.0, *, s: float = 1.0) -> Any:
    """``[exp(x/2), sum x^2] * s + a``: m = n + 1 (complex-step safe)."""
    x = np.asarray(x)
    return s * np.concatenate([np.exp(0.5 * x), [np.sum(x**2)]]) + a


def fun_scalar(x: Any, a: float = 0.0, *, s: float = 1.0) -> Any:
    x = np.asarray(x)
    return s * (np.sum(np.sin(x)) + 0.5 * np.sum(x) ** 2) + a


def _scipy(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except Exception as exc:  # the oracle's verdict, whatever its type
        return exc


def _dense(a: Any) -> np.ndarray:
    if scipy.sparse.issparse(a):
        return a.toarray()
    if isinstance(a, scipy.sparse.linalg.LinearOperator):
        n = a.shape[1]
        if n == 0:
            return np.zeros(a.shape)
        with np.errstate(invalid="ignore"):  # fun's own sin(nan + 0j) at a NaN x0
            cols = [a.matvec(e) for e in np.eye(n)]
        return np.column_stack(cols).reshape(a.shape)
    return np.asarray(a)


@st.composite
def approx_derivative_call(draw: Any) -> tuple[Any, np.ndarray, dict[str, Any]]:
    n = draw(st.integers(1, 4))
    f = draw(st.sampled_from((fun_vec, fun_scalar)))
    x = np.array(draw(st.lists(st.floats(-2, 2), min_size=n, max_size=n)))
    if draw(st.integers(0, 4)) == 0:
        x = x.reshape(()) if n == 1 else x
    kw: dict[str, Any] = {
        "method": draw(st.sampled_from(("2-point", "3-point", "cs", "4-point")))
    }
    step = draw(st.sampled_from((None, "rel", "rel_vec", "abs", "abs_vec", "neg")))
    if step == "rel":
        kw["rel_step"] = draw(st.floats(1e-8, 1e-3))
    elif step == "rel_vec":
        kw["rel_step"] = np.array(
            draw(st.lists(st.floats(1e-8, 1e-3), min_size=n, max_size=n))
        )
    elif step == "abs":
        kw["abs_step"] = draw(st.floats(1e-8, 1e-3))
    elif step == "abs_vec":
        kw["abs_step"] = np.array(
            draw(st.lists(st.floats(1e-8, 1e-3), min_size=n, max_size=n))
        )
    elif step == "neg":
        kw["rel_step"] = -draw(st.floats(1e-8, 1e-3))
    if draw(st.booleans()):
        lo = np.reshape(x, -1) - np.array(
            draw(
                st.lists(
                    st.sampled_from((0.0, 1e-9, 0.5, np.inf)), min_size=n, max_size=n
                )
            )
        )
        hi = np.reshape(x, -1) + np.array(
            draw(
                st.lists(
                    st.sampled_from((0.0, 1e-9, 0.5, np.inf)), min_size=n, max_size=n
                )
            )
        )
        kw["bounds"] = (lo, hi)
    if draw(st.booleans()):
        kw["f0"] = f(np.reshape(x, -1))
    if draw(st.booleans()):
        kw["args"] = (draw(st.sampled_from((0.0, 2.0))),)
    if draw(st.booleans()):
        kw["kwargs"] = {"s": draw(st.sampled_from((1.0, -3.0)))}
    m = n + 1 if f is fun_vec else 1
    extra = draw(
        st.sampled_from((None, None, "sparsity", "sparsity_groups", "operator"))
    )
    if extra in ("sparsity", "sparsity_groups") and "bounds" not in kw:
        S = (
            np.ones((m, n), bool)
            if f is fun_scalar
            else np.vstack([np.eye(n, dtype=bool), np.ones((1, n), bool)])
        )
        if draw(st.booleans()):
            S = scipy.sparse.csr_array(S)
        kw["sparsity"] = (
            (S, scipy_group_columns(S)) if extra == "sparsity_groups" else S
        )
    elif extra == "operator" and kw["method"] != "4-point":
        kw["as_linear_operator"] = True
        kw.pop("bounds", None)
    bad = draw(st.sampled_from((None,) * 6 + ("x", "bounds", "step", "f0", "method")))
    if bad == "x":
        x = draw(
            st.sampled_from(
                (np.ones((2, 2)), np.array([np.nan] * n), np.array([], float))
            )
        )
    elif bad == "bounds":
        kw["bounds"] = (np.reshape(x, -1) + 1.0, np.reshape(x, -1) + 2.0)
        kw.pop("sparsity", None), kw.pop("as_linear_operator", None)
    elif bad == "step":
        kw["rel_step"] = np.ones(n + 2)
        kw.pop("abs_step", None)
    elif bad == "f0":
        kw["f0"] = np.ones(m + 3)
    elif bad == "method":
        kw["method"] = draw(st.sampled_from(("central", "3point", 3)))
    return f, x, kw


@fuzz_settings(1.5)
@given(call=approx_derivative_call())
def test_approx_derivative_against_scipy(call: Any) -> None:
    f, x, kw = call
    ref = _scipy(scipy_approx_derivative, f, x, **kw)
    r = attempt(
        "compat.scipy.approx_derivative",
        cscipy.approx_derivative,
        f,
        x,
        names=("fun", "x0", "f"),
        **kw,
    )
    if isinstance(ref, Exception):
        assert refused(r), f"SciPy raises {ref!r}; compat gives {r!r}"
        return
    steps = [k for k in ("rel_step", "abs_step") if k in kw]
    if (
        refused(r)
        and steps
        and steps[0] in str(r.exc)
        and np.size(kw[steps[0]]) not in (1, np.size(x))
    ):
        return  # SciPy broadcasts a step of another length; refused by name here
    sp = kw.get("sparsity")
    if (
        refused(r)
        and "sparsity" in str(r.exc)
        and not isinstance(sp, tuple)
        and np.shape(sp)[:1] == (2,)
    ):
        return  # a 2-row structure reads as a (structure, groups) pair, as in SciPy
    wrong_f0 = "f0" in kw and np.shape(kw["f0"]) != np.shape(f(np.reshape(x, -1)))
    if refused(r) and wrong_f0:
        return  # SciPy may go on with an f0 of the wrong shape; refused by name here
    assert not refused(r), f"SciPy accepts; compat refuses: {r.exc!r}"
    try:
        theirs = _dense(ref)
    except ValueError:
        # SciPy's LinearOperator fails at matvec (a per-component step that
        # does not broadcast against f, or an f0 of the wrong shape): so
        # does the layer's, with a ValueError
        with pytest.raises(ValueError):
            _dense(r)
        return
    try:
        ours = _dense(r)
    except ValueError as exc:
        if wrong_f0 and "f0 has shape" in str(exc):
            return  # SciPy's operator broadcasts a wrong f0; refused by name here
        raise
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    assert type(r).__name__ == type(ref).__name__ or (
        scipy.sparse.issparse(r) and scipy.sparse.issparse(ref)
    ), (type(r), type(ref))
    # the same formulas on the same steps: equal up to the rounding of the
    # differences, eps |f| / h, which the step choice balances
    if "rel_step" in kw and np.max(np.abs(x), initial=0.0) < 1e-290:
        # SciPy's step rel_step |x0| underflows for a tiny x0 and it returns
        # a silent 0; NaN (flagged) here is the honest answer
        ours = np.where(np.isnan(ours), theirs, ours)
    if "rel_step" in kw:
        # SciPy's step rel_step |x0_j| underflows for a tiny x0_j and it
        # returns a silent 0 in column j; NaN (flagged) here is the honest
        # answer
        tiny = np.abs(np.reshape(x, -1)) < 1e-290
        ours = np.where(np.isnan(ours) & tiny[None, :], theirs, ours)
    # SciPy's own inf/NaN (a zero-width box: h = 0) are not compared
    fin = np.isfinite(theirs)
    ours, theirs = np.where(fin, ours, 0.0), np.where(fin, theirs, 0.0)
    scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
    assert np.allclose(ours, theirs, rtol=1e-6, atol=1e-6 * scale, equal_nan=True), (
        ours,
        theirs,
    )


@fuzz_settings(1.0)
@given(data=st.data())
def test_approx_fprime_against_scipy(data: Any) -> None:
    n = data.draw(st.integers(1, 4))
    x = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=n, max_size=n)))
    f = data.draw(st.sampled_from((fun_scalar, fun_vec)))
    eps_kind = data.draw(
        st.sampled_from(("default", "scalar", "vector", "wrong", "zero"))
    )
    eps: Any = {
        "default": np.sqrt(np.finfo(float).eps),
        "scalar": data.draw(st.floats(1e-9, 1e-3)),
        "vector": np.array(
            data.draw(st.lists(st.floats(1e-9, 1e-3), min_size=n, max_size=n))
        ),
        "wrong": np.ones(n + 1) * 1e-6,
        "zero": 0.0,
    }[eps_kind]
    args = tuple(data.draw(st.lists(st.sampled_from((0.0, 1.0)), max_size=1)))
    ref = _scipy(scipy.optimize.approx_fprime, x, f, eps, *args)
    r = attempt("compat.scipy.approx_fprime", cscipy.approx_fprime, x, f, eps, *args)
    if isinstance(ref, Exception):
        assert refused(r), f"SciPy raises {ref!r}; compat gives {r!r}"
        return
    if eps_kind == "zero":
        return  # SciPy divides by zero (NaN/inf); a refusal is the better answer
    if eps_kind == "wrong" and refused(r) and "epsilon" in str(r.exc):
        return  # SciPy broadcasts an epsilon of length 2 over n = 1; named here
    assert not refused(r), f"SciPy accepts; compat refuses: {r.exc!r}"
    assert np.shape(r) == np.shape(ref)
    assert np.allclose(r, ref, rtol=1e-6, atol=1e-6), (r, ref)


@fuzz_settings(1.0)
@given(data=st.data())
def test_group_columns_and_colouring(data: Any) -> None:
    m = data.draw(st.integers(0, 8))
    n = data.draw(st.integers(0, 8))
    S = np.array(
        data.draw(st.lists(st.booleans(), min_size=m * n, max_size=m * n)), bool
    ).reshape(m, n)
    form = data.draw(st.sampled_from(("dense", "csr", "int", "list")))
    A: Any = {
        "dense": S,
        "csr": scipy.sparse.csr_array(S.astype(int)),
        "int": S.astype(int),
        "list": S.tolist(),
    }[form]
    order: Any = data.draw(st.sampled_from((0, 1, 7, "perm")))
    if order == "perm":
        order = np.array(data.draw(st.permutations(range(n)))) if n else np.arange(0)
    ref = _scipy(scipy_group_columns, A, order)
    r = attempt("compat.scipy.group_columns", cscipy.group_columns, A, order)
    if isinstance(ref, Exception):
        assert refused(r), f"SciPy raises {ref!r}; compat gives {r!r}"
    else:
        assert not refused(r), f"SciPy accepts; compat refuses: {r.exc!r}"
        if isinstance(order, int):
            # by design: with an integer order (a seed) the layer tries
            # several orders and keeps the fewest groups (never more than
            # SciPy's), so its labels may differ; the grouping must be valid
            r = np.asarray(r)
            for c in np.unique(r):
                assert np.all(S[:, r == c].sum(axis=1) <= 1), (r, S)
        else:
            assert np.array_equal(r, ref), (r, ref)
    # numderiv's own colouring: valid, and no more colours than SciPy's
    g = attempt("color_columns", nd.color_columns, S if form != "list" else A)
    if refused(g):
        assert m * n == 0 or form == "list", g.exc
        return
    g = np.asarray(g)
    assert g.shape == (n,)
    for c in np.unique(g):
        cols = S[:, g == c]
        assert np.all(cols.sum(axis=1) <= 1), f"columns of colour {c} share a row"
    if n and m:
        assert g.max() + 1 >= S.sum(axis=1).max()  # the lower bound
        if not isinstance(ref, Exception):
            assert g.max() + 1 <= np.asarray(ref).max() + 1
    ok = attempt("check_groups", nd.check_groups, S, g)
    assert not refused(ok), ok
    if n >= 2 and m:
        # put two columns that share a row in one group: refused by name
        rows, cols = np.nonzero(S)
        for r_ in np.unique(rows):
            c = cols[rows == r_]
            if c.size >= 2:
                bad = g.copy()
                bad[c[1]] = bad[c[0]]
                out = attempt("check_groups", nd.check_groups, S, bad)
                assert refused(out), "check_groups accepted a clash"
                break


@fuzz_settings(0.5)
@given(data=st.data())
def test_check_grad_against_scipy(data: Any) -> None:
    n = data.draw(st.integers(1, 4))
    x = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=n, max_size=n)))
    wrong = data.draw(st.booleans())

    def grad(x: Any) -> Any:
        g = np.cos(x) + np.sum(x)
        return g + (1.0 if wrong else 0.0)

    eps = data.draw(st.sampled_from((1.4901161193847656e-08, 1e-6)))
    ref = _scipy(scipy.optimize.check_grad, fun_scalar, grad, x, epsilon=eps)
    r = attempt(
        "compat.scipy.check_grad", cscipy.check_grad, fun_scalar, grad, x, epsilon=eps
    )
    assert not isinstance(ref, Exception)
    assert not refused(r), r
    assert np.isclose(r, ref, rtol=1e-3, atol=1e-6), (r, ref)


# ---------------------------------------------------------------------------
# Scilab's numderivative: exact derivatives, Scilab's shapes.


def _scilab_tol(x: np.ndarray, h: Any, order: int, deriv: int, fx: Any) -> float:
    """Truncation ``h^p`` plus round-off ``eps |f| / h^d`` at Scilab's steps.

    Scilab's default step is ``hdef |x|`` (``hdef`` where ``x = 0``), so a
    small ``|x|`` means a small step and a large round-off: the bound is
    computed from the steps actually taken, with a factor 1000 of margin.
    """
    eps = np.finfo(float).eps
    if h is None:
        hdef = eps ** (1 / (order + deriv))
        steps = np.where(x == 0, hdef, hdef * np.abs(x))
    else:
        steps = np.broadcast_to(np.asarray(h, dtype=float), x.shape)
    F = max(1.0, float(np.max(np.abs(fx))))
    hmin, hmax = float(np.min(steps)), float(np.max(steps))
    return 1e3 * (eps * F / hmin**deriv + hmax**order * F * 10)


@fuzz_settings(1.0)
@given(data=st.data())
def test_scilab_numderivative(data: Any) -> None:
    prob = data.draw(st.sampled_from(("scilab", "vec", "scalar")))
    # Scilab's default step is hdef |x| (hdef at 0): for a tiny non-zero x
    # it is too small to move f, and Scilab returns 0 there, as the layer
    # does (a fidelity choice reported to the lead); such x are not drawn
    coord = st.one_of(st.just(0.0), st.floats(1e-3, 2.0), st.floats(-2.0, -1e-3))
    if prob == "scilab":
        x = np.array(data.draw(st.lists(coord, min_size=3, max_size=3)))
        fun: Any = testing.scilab_example
        J = testing.scilab_example_jacobian(x)
        Hs = testing.scilab_example_hessian(x)
    else:
        n = data.draw(st.integers(1, 4))
        x = np.array(data.draw(st.lists(coord, min_size=n, max_size=n)))
        if prob == "vec":
            fun = fun_vec
            J = np.vstack([np.diag(0.5 * np.exp(0.5 * x)), 2 * x[None, :]])
            Hs = np.zeros((n + 1, n, n))
            Hs[np.arange(n), np.arange(n), np.arange(n)] = 0.25 * np.exp(0.5 * x)
            Hs[n] = 2 * np.eye(n)
        else:
            fun = fun_scalar
            J = (np.cos(x) + np.sum(x))[None, :]
            Hs = (np.diag(-np.sin(x)) + 1.0)[None]
    m, n = J.shape
    f: Any = fun
    if prob != "scilab" and data.draw(st.booleans()):
        f = (fun, 0.0)  # Scilab's list(fun, a1)
    order = data.draw(st.sampled_from((None, 1, 2, 4, 3)))
    h = data.draw(st.sampled_from((None, None, 1e-4, "vec", "", -1.0)))
    if h == "vec":
        h = np.full(n, 1e-4)
    H_form = data.draw(
        st.sampled_from((None, None, "default", "blockmat", "hypermat", "bogus"))
    )
    Q = data.draw(st.sampled_from((None, None, "orth", "bad", "")))
    if Q == "orth":
        Q = np.linalg.qr(np.arange(1.0, n * n + 1).reshape(n, n) + 3 * np.eye(n))[0]
    elif Q == "bad":
        Q = np.ones((n, n)) + np.eye(n)
    hessian = data.draw(st.booleans())
    r = attempt(
        "compat.scilab.numderivative",
        scilab.numderivative,
        f,
        x,
        h,
        order,
        H_form,
        Q,
        hessian=hessian,
    )
    bad_h = isinstance(h, str) or (isinstance(h, float) and h < 0)
    bad = (
        order == 3
        or bad_h
        or H_form == "bogus"
        or (isinstance(Q, str))
        or (isinstance(Q, np.ndarray) and not np.allclose(Q.T @ Q, np.eye(n)))
    )
    if bad:
        assert refused(r), (
            f"numderivative accepted order={order}, h={h!r}, H_form={H_form}, Q={Q!r}"
        )
        return
    assert not refused(r), r.exc
    want_h = hessian or H_form is not None
    Jr, Hr = r if want_h else (r, None)
    assert Jr.shape == (m, n)
    p = order or 2
    fx = fun(x)
    tolJ = _scilab_tol(x, h, p, 1, fx)
    # NaN passes: Scilab's step hdef |x| vanishes for subnormal x (0 / 0 in
    # Scilab too); finite entries must be right
    ok = np.isclose(Jr, J, rtol=tolJ, atol=tolJ) | np.isnan(Jr)
    assert ok.all(), (Jr, J)
    if not want_h:
        return
    form = H_form or "default"
    if form == "default":
        H = Hs.reshape(m, n * n)
    elif form == "blockmat":
        H = Hs.reshape(m * n, n)
    else:
        H = Hs[0] if m == 1 else np.moveaxis(Hs, 0, -1)
    assert Hr.shape == H.shape, (Hr.shape, H.shape)
    tolH = _scilab_tol(x, h, p, 2, fx)
    ok = np.isclose(Hr, H, rtol=tolH, atol=tolH * max(1.0, np.abs(H).max())) | np.isnan(
        Hr
    )
    assert ok.all(), (Hr, H)
