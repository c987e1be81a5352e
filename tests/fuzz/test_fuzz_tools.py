"""Fuzz the other public entry points: taylor, noise_level, check_derivative,
fornberg_weights and Stencil (color_columns and check_groups are fuzzed
beside SciPy's group_columns in ``test_fuzz_compat.py``).

Oracles: Taylor coefficients of exp, sin and 1/(1 - z) written out; a noise
of known size added to a smooth f; a right and a wrong analytic Jacobian;
the moment conditions that define finite-difference weights.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
from _fuzzkit import UserError, attempt, close_to, fuzz_settings, refused
from hypothesis import given
from hypothesis import strategies as st

import numderiv as nd
from numderiv import testing

# ---------------------------------------------------------------------------
# taylor: c_k = f^(k)(x) / k! of analytic functions.


def _taylor_exact(name: str, x: Any, n: int) -> np.ndarray:
    x = np.asarray(x)
    k = np.arange(n + 1).reshape((-1,) + (1,) * x.ndim)
    fact = np.array([math.factorial(i) for i in range(n + 1)], dtype=float).reshape(
        k.shape
    )
    if name == "exp":
        return np.exp(x)[None] / fact
    if name == "sin":
        return np.imag(np.exp(1j * x)[None] * (1j) ** k) / fact
    # 1/(1 - z): c_k = 1/(1 - x)^(k+1), radius of convergence |1 - x|
    return 1.0 / (1.0 - x)[None] ** (k + 1)


TAYLOR_F = {"exp": np.exp, "sin": np.sin, "pole": lambda z: 1.0 / (1.0 - z)}


@fuzz_settings(0.7)
@given(data=st.data())
def test_taylor(data: Any) -> None:
    name = data.draw(st.sampled_from(sorted(TAYLOR_F)))
    shape = data.draw(st.sampled_from(((), (0,), (2,), (2, 2))))
    size = int(np.prod(shape))
    lo, hi = (-2.0, 0.5) if name == "pole" else (-3.0, 3.0)
    x = np.array(
        data.draw(st.lists(st.floats(lo, hi), min_size=size, max_size=size))
    ).reshape(shape)
    n = data.draw(st.sampled_from((0, 1, 3, 6, 10, -1, 101, 2.0, True)))
    kw: dict[str, Any] = {
        "full_output": data.draw(st.booleans()),
        "derivatives": data.draw(st.booleans()),
        "vectorized": data.draw(st.booleans()),
    }
    radius = data.draw(st.sampled_from((None, None, 0.5, -1.0, np.nan, "r")))
    if radius is not None:
        kw["radius"] = radius
    r = attempt("taylor", nd.taylor, TAYLOR_F[name], x, n, **kw)
    bad_n = isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 100
    bad_r = radius is not None and not (isinstance(radius, float) and radius > 0)
    if bad_n or bad_r:
        assert refused(r), f"taylor accepted n={n!r}, radius={radius!r}"
        return
    assert not refused(r), r.exc
    c, info = r if kw["full_output"] else (r, None)
    assert c.shape == (n + 1, *shape)
    exact = _taylor_exact(name, x, n)
    if kw["derivatives"]:
        fact = np.array([math.factorial(i) for i in range(n + 1)], dtype=float)
        exact = exact * fact.reshape((-1,) + (1,) * x.ndim)
    if info is None:
        # untrusted entries are NaN; the others a few digits at least
        ok, worst = close_to(c, exact, 0.0, rtol=1e-6)
        assert ok, (c, exact, worst)
    elif info.status >= 0:
        ok, worst = close_to(c, exact, info.error, rtol=1e-12)
        assert ok, (c, exact, info.error, worst)


# ---------------------------------------------------------------------------
# noise_level: sigma * N(0,1)-like noise on a smooth f.


@fuzz_settings(0.5)
@given(data=st.data())
def test_noise_level(data: Any) -> None:
    sigma = data.draw(st.sampled_from((0.0, 1e-10, 1e-7, 1e-4)))
    n = data.draw(st.integers(1, 3))
    x = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=n, max_size=n)))
    if n == 1 and data.draw(st.booleans()):
        x = x.reshape(())
    vectorized = data.draw(st.booleans())

    def f(z: Any) -> Any:
        z = np.asarray(z, dtype=float)
        # a scalar x: points of shape (k,) when vectorized, one value each
        smooth = np.sin(z) if x.ndim == 0 else np.sum(np.sin(z), axis=0)
        return smooth + sigma * testing.noise(smooth)

    kw: dict[str, Any] = {"vectorized": vectorized, "full_output": True}
    bad = data.draw(st.sampled_from((None, None, None, "npoints", "h", "direction")))
    if bad == "npoints":
        kw["npoints"] = data.draw(st.sampled_from((3, 0, 2.5, "9")))
    elif bad == "h":
        kw["h"] = data.draw(st.sampled_from((0.0, -1e-6, np.nan, np.inf)))
    elif bad == "direction":
        kw["direction"] = data.draw(st.sampled_from((np.zeros(n), np.ones(n + 1), "p")))
    r = attempt("noise_level", nd.noise_level, f, x, **kw)
    if bad is not None:
        assert refused(r), f"noise_level accepted {bad}={kw[bad]!r}"
        return
    assert not refused(r), r.exc
    est, info = r
    assert np.all(np.asarray(est) >= 0) or np.isnan(est).all()
    if info.status == 0 and sigma >= 1e-7:
        # the estimate of a noise of standard deviation sigma, within 10x
        assert sigma / 10 <= float(est) <= 10 * sigma, (est, sigma)


# ---------------------------------------------------------------------------
# check_derivative: the right Jacobian agrees, a wrong entry is the worst.


def _f_check(x: Any, a: float = 0.0) -> Any:
    x = np.asarray(x)
    return np.concatenate([np.exp(0.5 * x) + a, [np.sum(x**2)]])


def _jac_check(x: Any, a: float = 0.0) -> Any:
    x = np.asarray(x, dtype=float)
    return np.vstack([np.diag(0.5 * np.exp(0.5 * x)), 2 * x[None, :]])


@fuzz_settings(0.7)
@given(data=st.data())
def test_check_derivative(data: Any) -> None:
    n = data.draw(st.integers(1, 4))
    x = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=n, max_size=n)))
    J = _jac_check(x)
    wrong = data.draw(st.sampled_from((None, None, "entry", "nan")))
    i = data.draw(st.integers(0, n))
    j = data.draw(st.integers(0, n - 1))
    Jg = J.copy()
    if wrong == "entry":
        Jg[i, j] += 1e-3 * max(1.0, abs(J[i, j]))
    elif wrong == "nan":
        Jg[i, j] = np.nan
    as_callable = data.draw(st.booleans())
    jac: Any = (lambda z, a=0.0: Jg) if as_callable else Jg
    method = data.draw(
        st.sampled_from(
            ("complex_if_possible", "central", "forward", "complex", "adaptive")
        )
    )
    opts: dict[str, Any] = {}
    if data.draw(st.booleans()):
        opts["args"] = (0.0,)
    bad = data.draw(st.sampled_from((None,) * 5 + ("rtol", "shape", "jac")))
    if bad == "rtol":
        opts["rtol"] = data.draw(st.sampled_from((-1.0, np.nan, "1e-8")))
    elif bad == "shape":
        jac = np.ones((n + 2, n + 2))
    elif bad == "jac":
        jac = "J"
    r = attempt(
        "check_derivative", nd.check_derivative, _f_check, jac, x, method=method, **opts
    )
    if bad is not None:
        assert refused(r), f"check_derivative accepted {bad}"
        return
    assert not refused(r), r.exc
    if wrong is None:
        assert r.ok, str(r)
        return
    assert not r.ok, f"check_derivative agrees with a {wrong} entry at {(i, j)}: {r}"
    assert tuple(r.worst) == (i, j), (r.worst, (i, j))


@fuzz_settings(0.3)
@given(mode=st.sampled_from(("raise", "nan")), data=st.data())
def test_check_derivative_misbehaving_f(mode: str, data: Any) -> None:
    x = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=1, max_size=3)))

    def f(z: Any) -> Any:
        if mode == "raise":
            raise UserError("f refuses")
        return _f_check(z) * np.nan

    r = attempt(
        "check_derivative",
        nd.check_derivative,
        f,
        _jac_check(x),
        x,
        user_error=mode == "raise",
    )
    if mode == "nan":
        # nothing was computed: never "agrees"
        assert not refused(r) and not r.ok, r


# ---------------------------------------------------------------------------
# fornberg_weights and Stencil: the moment conditions.


@fuzz_settings(1.0)
@given(data=st.data())
def test_fornberg_weights(data: Any) -> None:
    k = data.draw(st.integers(1, 7))
    scale = data.draw(st.sampled_from((1.0, 1e-3, 1e3, 1e-150, 1e150, 1e300)))
    nodes = np.array(
        sorted(set(data.draw(st.lists(st.integers(-8, 8), min_size=k, max_size=k)))),
        float,
    )
    x0 = data.draw(st.floats(-8, 8)) * scale
    nodes = nodes * scale
    m = data.draw(st.sampled_from((0, 1, 2, 3, -1, 2.5)))
    bad_nodes = data.draw(st.sampled_from((None,) * 6 + ("dup", "nan", "2d", "empty")))
    if bad_nodes == "dup" and nodes.size:
        nodes = np.append(nodes, nodes[0])
    elif bad_nodes == "nan":
        nodes = np.append(nodes, np.nan)
    elif bad_nodes == "2d":
        nodes = np.atleast_2d(nodes)
    elif bad_nodes == "empty":
        nodes = np.empty(0)
    r = attempt("fornberg_weights", nd.fornberg_weights, x0, nodes, m)
    bad_m = isinstance(m, float) or m < 0
    if bad_nodes is not None or bad_m:
        assert refused(r), f"fornberg_weights accepted nodes={nodes!r}, m={m!r}"
        return
    if refused(r):
        # too few nodes for the derivative, or weights that overflow float64
        msg = str(r.exc)
        assert m >= nodes.size or "overflow" in msg or "float64" in msg, msg
        return
    w = np.asarray(r)
    assert w.shape == (m + 1, nodes.size) and w.dtype == np.float64
    assert np.all(np.isfinite(w))
    # sum_j w[d, j] (x_j - x0)^p / p! = [p == d] for p < len(nodes), in the
    # scaled variable t = (x - x0) / s, where the moments are O(1)
    s = scale
    t = (nodes - x0) / s
    for d in range(min(m, nodes.size - 1) + 1):
        if d * math.log10(s) > 290:
            continue  # weights of size s**-d below float64's normal range: 0 (documented)
        for p in range(nodes.size):
            mom = float(np.sum(w[d] * s**d * t**p)) / math.factorial(p)
            size = float(np.sum(np.abs(w[d] * s**d * t**p))) / math.factorial(p)
            want = 1.0 if p == d else 0.0
            assert abs(mom - want) <= 1e-9 * max(1.0, size), (d, p, mom, size)


@fuzz_settings(0.7)
@given(data=st.data())
def test_stencil(data: Any) -> None:
    how = data.draw(st.sampled_from(("central", "forward", "backward", "offsets")))
    deriv = data.draw(st.sampled_from((1, 2, 3, 0, -1)))
    order = data.draw(st.sampled_from((1, 2, 4, 3, 0)))
    if how == "offsets":
        offs = tuple(
            sorted(set(data.draw(st.lists(st.integers(-4, 4), min_size=1, max_size=6))))
        )
        r = attempt(
            "Stencil", nd.Stencil.from_offsets, offs, deriv, names=("offsets", "deriv")
        )
    else:
        r = attempt(
            "Stencil", getattr(nd.Stencil, how), deriv, order, names=("deriv", "order")
        )
    if refused(r):
        return
    s = r
    assert s.deriv == deriv >= 0  # deriv 0: an interpolation stencil
    # exact rational moments: sum w_j o_j^p = p! [p == deriv] for p <= deriv + order - 1
    for p in range(deriv + s.order):
        mom = sum(
            (
                Fraction(w) * Fraction(o) ** p
                for w, o in zip(s.weights, s.offsets, strict=True)
            ),
            Fraction(0),
        )
        assert mom == (math.factorial(p) if p == deriv else 0), (s, p, mom)
    # ... and not beyond (the stated order is the true one)
    p = deriv + s.order
    mom = sum(
        (
            Fraction(w) * Fraction(o) ** p
            for w, o in zip(s.weights, s.offsets, strict=True)
        ),
        Fraction(0),
    )
    assert mom != 0 or len(s.offsets) > p, s
    # applied to exp at 0.3: the derivative, to its truncation error
    x = 0.3
    h = 1e-2
    val = attempt("Stencil", s, np.exp, x, h)
    assert not refused(val), val.exc
    assert abs(float(val) - math.exp(x)) <= 10 * h**s.order * math.exp(
        x + 4 * h
    ) + 1e-13 / h**deriv * 10 ** len(s.offsets)
