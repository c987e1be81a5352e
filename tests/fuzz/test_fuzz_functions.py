"""Fuzz the function API: derivative, gradient, jacobian, hessian, jvp, hvp.

Every call goes through :func:`_fuzzkit.attempt`: a result, a named
``ValueError``/``TypeError``, or the user's own exception; never another
exception, a warning or a modified input.  A result is checked against the
derivatives written out below: within its own error estimate (with
``full_output=True`` and ``status >= 0``), or within a generous bound with
the default steps; entries flagged untrusted (NaN, ``status < 0``) pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
from _fuzzkit import (
    UserError,
    attempt,
    close_to,
    finite_or_nan,
    fuzz_settings,
    refused,
    result_dtype,
)
from hypothesis import assume, given
from hypothesis import strategies as st

import numderiv as nd
from numderiv import testing

# ---------------------------------------------------------------------------
# Problems with their derivatives written out.  Each f takes x of shape (n,)
# or (n, k) (one point per column, for vectorized=True) and extra arguments
# (an offset a, a keyword scale) so that args/kwargs are exercised.


def f_scalar(x: Any, a: float = 0.0, *, scale: float = 1.0) -> Any:
    """``scale (sum sin x + (sum x)^2 / 2) + a``: scalar, dense Hessian."""
    x = np.asarray(x)
    with np.errstate(over="ignore", invalid="ignore"):  # huge x: inf is f's answer
        return scale * (np.sum(np.sin(x), axis=0) + 0.5 * np.sum(x, axis=0) ** 2) + a


def f_scalar_grad(x: Any, scale: float = 1.0) -> Any:
    x = np.asarray(x, dtype=float)
    return scale * (np.cos(x) + np.sum(x))


def f_scalar_hess(x: Any, scale: float = 1.0) -> Any:
    x = np.asarray(x, dtype=float)
    return scale * (np.diag(-np.sin(x)) + np.ones((x.size, x.size)))


def f_vector(x: Any, a: float = 0.0, *, scale: float = 1.0) -> Any:
    """``scale [exp(x/2), sum x^2] + a``: m = n + 1, diagonal Hessians."""
    x = np.asarray(x)
    with np.errstate(over="ignore", invalid="ignore"):  # huge x: inf is f's answer
        top = np.exp(0.5 * x)
        return scale * np.concatenate([top, np.sum(x**2, axis=0, keepdims=True)]) + a


def f_vector_jac(x: Any, scale: float = 1.0) -> Any:
    x = np.asarray(x, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        return scale * np.vstack([np.diag(0.5 * np.exp(0.5 * x)), 2.0 * x[None, :]])


def f_vector_hess(x: Any, scale: float = 1.0) -> Any:
    x = np.asarray(x, dtype=float)
    n = x.size
    H = np.zeros((n + 1, n, n))
    with np.errstate(over="ignore"):
        H[np.arange(n), np.arange(n), np.arange(n)] = 0.25 * np.exp(0.5 * x)
    H[n] = 2.0 * np.eye(n)
    with np.errstate(invalid="ignore"):
        return scale * H


PROBLEMS = {
    "scalar": (f_scalar, lambda x, s: f_scalar_grad(x, s)[None, :], f_scalar_hess),
    "vector": (f_vector, f_vector_jac, f_vector_hess),
}


def exact_jacobian(kind: str, x: Any, scale: float) -> Any:
    return PROBLEMS[kind][1](x, scale)


def exact_hessian(kind: str, x: Any, scale: float) -> Any:
    return PROBLEMS[kind][2](x, scale)


# ---------------------------------------------------------------------------
# Strategies.

GOOD_METHODS = ("central", "forward", "backward", "complex", "adaptive")
BAD_METHODS = ("Central", "cs", "", 3, None)
REAL_DTYPES = (np.float64, np.float32, np.float16, np.int64, np.int32, np.bool_)


@st.composite
def points(draw: Any, min_n: int = 1, max_n: int = 4) -> np.ndarray:
    """A point x of shape (n,) in one of the real dtypes (0-d sometimes)."""
    n = draw(st.integers(min_n, max_n))
    dt = np.dtype(draw(st.sampled_from(REAL_DTYPES)))
    if dt.kind == "b":
        vals = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    elif dt.kind in "iu":
        vals = draw(st.lists(st.integers(-2, 2), min_size=n, max_size=n))
    else:
        vals = draw(
            st.lists(
                st.floats(
                    -2.0, 2.0, allow_nan=False, width=16 if dt.itemsize == 2 else 32
                ),
                min_size=n,
                max_size=n,
            )
        )
    x = np.array(vals, dtype=dt)
    if dt.kind == "f" and draw(st.integers(0, 7)) == 0:
        # one special entry: NaN/inf (to be refused), huge, subnormal
        huge = {2: 3e4, 4: 1e18, 8: 1e100}[dt.itemsize]
        tiny = float(np.finfo(dt).smallest_subnormal)
        x[draw(st.integers(0, n - 1))] = draw(
            st.sampled_from((np.nan, np.inf, -np.inf, huge, -huge, tiny, -tiny))
        )
    if n == 1 and draw(st.booleans()):
        x = x.reshape(())  # a 0-d x is a point with one component
    return x


@st.composite
def orthogonal(draw: Any, n: int) -> np.ndarray:
    a = np.array(
        draw(st.lists(st.floats(-1, 1), min_size=n * n, max_size=n * n))
    ).reshape(n, n) + 3.0 * np.eye(n)
    q, _ = np.linalg.qr(a)
    return q


@st.composite
def options(draw: Any, x: np.ndarray, *, deriv: int, kind: str) -> dict[str, Any]:
    """Keyword options for x; some invalid (the call must then be refused).

    The returned dict holds the options and, under the key ``"_bad"``, the
    name of the option made invalid on purpose (or None).
    """
    n = x.size
    opts: dict[str, Any] = {}
    bad: str | None = None
    method = draw(st.sampled_from(GOOD_METHODS))
    opts["method"] = method
    if method != "adaptive" and draw(st.booleans()):
        if method in ("central", "complex"):
            opts["order"] = draw(st.sampled_from((2, 4, 6)))
        else:
            opts["order"] = draw(st.sampled_from((1, 2, 3, 4)))
    if method != "adaptive":
        which = draw(st.sampled_from((None, None, "rel_step", "abs_step")))
        if which is not None:
            step = draw(st.floats(1e-9, 1e-3))
            if kind not in ("jvp", "hvp") and draw(st.booleans()):
                opts[which] = np.full(n, step)
            else:
                opts[which] = step
    else:
        if draw(st.booleans()):
            opts["maxiter"] = draw(st.integers(3, 30))
        if draw(st.booleans()):
            opts["tolerances"] = {"atol": 0.0, "rtol": draw(st.floats(1e-12, 1e-6))}
    if draw(st.integers(0, 3)) == 0 and np.isfinite(x).all():
        # bounds around x, sometimes touching it (one-sided stencils)
        xf = x.astype(float).reshape(-1)
        lo = xf - np.array(
            draw(
                st.lists(
                    st.sampled_from((0.0, 0.1, 1.0, np.inf)), min_size=n, max_size=n
                )
            )
        )
        hi = xf + np.array(
            draw(
                st.lists(
                    st.sampled_from((0.0, 0.1, 1.0, np.inf)), min_size=n, max_size=n
                )
            )
        )
        opts["bounds"] = (lo, hi)
    if kind in ("jacobian", "hessian", "gradient") and draw(st.integers(0, 4)) == 0:
        opts["directions"] = draw(orthogonal(n))
    if draw(st.booleans()):
        opts["args"] = (draw(st.sampled_from((0.0, 1.5))),)
    if draw(st.booleans()):
        opts["kwargs"] = {"scale": draw(st.sampled_from((1.0, -2.0, 1e3)))}
    opts["vectorized"] = draw(st.booleans())
    opts["full_output"] = draw(st.booleans())
    if draw(st.integers(0, 5)) == 0:
        opts["workers"] = map  # a map-like callable: another evaluation path
    if draw(st.integers(0, 3)) == 0:
        # one invalid option: the call must be refused naming it
        bad = draw(
            st.sampled_from(
                (
                    "method",
                    "order",
                    "rel_step",
                    "abs_step",
                    "bounds",
                    "args",
                    "kwargs",
                    "vectorized",
                    "full_output",
                    "chunk_size",
                )
                + (
                    ("directions",)
                    if kind in ("jacobian", "hessian", "gradient")
                    else ()
                )
            )
        )
        if bad == "method":
            opts["method"] = draw(st.sampled_from(BAD_METHODS))
            opts.pop("maxiter", None), opts.pop("tolerances", None)
        elif bad == "order":
            opts["order"] = draw(st.sampled_from((0, -2, 2.5, "2", True, 21)))
        elif bad in ("rel_step", "abs_step"):
            opts[bad] = draw(
                st.sampled_from((np.nan, np.inf, "small", np.ones(n + 1), -np.inf))
            )
        elif bad == "bounds" and np.isfinite(x).all():
            xf = x.astype(float).reshape(-1)
            opts["bounds"] = draw(
                st.sampled_from(
                    (
                        (xf + 1.0, xf + 2.0),
                        (xf - 1.0, xf - 0.5),
                        (1.0,),
                        "ab",
                        (xf, xf - 1),
                    )
                )
            )
        elif bad == "args":
            opts["args"] = draw(st.sampled_from(({"a": 1.0}, "ab", 3.0)))
        elif bad == "kwargs":
            opts["kwargs"] = draw(st.sampled_from(([("scale", 1.0)], "scale", 2)))
        elif bad in ("vectorized", "full_output"):
            opts[bad] = draw(st.sampled_from(("yes", 2, None)))
        elif bad == "chunk_size":
            opts["chunk_size"] = draw(st.sampled_from((0, -1, 1.5, "3")))
        elif bad == "directions":
            opts["directions"] = draw(
                st.sampled_from(
                    (
                        "ab",
                        np.ones((n, n)) + np.eye(n),
                        np.eye(n + 1),
                        np.eye(n)[:, :-1] if n > 1 else np.zeros((1, 1)),
                    )
                )
            )
    if (
        bad not in ("rel_step", "abs_step")
        and "rel_step" in opts
        and "abs_step" in opts
    ):
        opts.pop("abs_step")
    opts["_bad"] = bad
    return opts


def _split(opts: dict[str, Any]) -> tuple[dict[str, Any], str | None, float, float]:
    opts = dict(opts)
    bad = opts.pop("_bad")
    a = opts["args"][0] if isinstance(opts.get("args"), tuple) and opts["args"] else 0.0
    kw = opts.get("kwargs")
    scale = kw["scale"] if isinstance(kw, dict) else 1.0
    return opts, bad, float(a), float(scale)


def draw_f0(data: Any, f: Any, x: np.ndarray, opts: dict[str, Any], bad: Any) -> Any:
    """Maybe an f0 in opts: f(x) itself, or (when nothing else is bad) one of
    the wrong shape, which must be refused naming f0.  Returns the new bad."""
    if bad is not None or not np.isfinite(x).all():
        return bad
    kind = data.draw(st.sampled_from((None, None, None, "right", "wrong")))
    args = opts.get("args", ())
    kwargs = opts.get("kwargs") or {}
    if kind == "right":
        opts["f0"] = f(x.astype(result_dtype(x.dtype)).reshape(-1), *args, **kwargs)
    elif kind == "wrong":
        opts["f0"] = np.ones(np.size(f(x.reshape(-1).astype(float))) + 2)
        return "f0"
    return bad


def fn_attempt(entry: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """:func:`attempt` for the function API (a direction with components far
    below its largest, with bounds, once leaked an overflow warning)."""
    return attempt(entry, fn, *args, **kwargs)


def _info_of(r: Any, full_output: bool) -> tuple[Any, Any]:
    if full_output:
        val, info = r
        return val, info
    return r, None


def _dtype_eps(x: np.ndarray) -> float:
    return float(np.finfo(result_dtype(x.dtype)).eps)


def _check_value(
    val: Any,
    exact: Any,
    info: Any,
    x: np.ndarray,
    opts: dict[str, Any],
    *,
    deriv: int,
    scale: Any = None,
) -> None:
    """The oracle for a value: within its error, or a generous default bound."""
    val = np.asarray(val)
    assert finite_or_nan(val), f"infinite entries in {val!r}"
    if np.max(np.abs(x.astype(float)), initial=0.0) > 2.0:
        # a special huge entry: steps scale with |x| (3e4 in float16 gets
        # h = 550 for a Hessian), so the sin term, which varies on a scale
        # of 1, is aliased away at every step and no difference can see it
        # (at 1e100 it is below the float grid itself): its "exact"
        # derivative is not what differences of this f measure.  Only the
        # structure of the result is checked.
        return
    eps = _dtype_eps(x)
    single = eps > 1e-10
    if info is not None:
        assert np.shape(info.error) == val.shape, (np.shape(info.error), val.shape)
        if info.status < 0:
            return
        if (
            opts.get("method") == "complex"
            and deriv >= 2
            and ("rel_step" in opts or "abs_step" in opts)
        ):
            # documented limit (docs/accuracy.md, "What its error estimate
            # cannot see"): a complex second difference at a user's step far
            # below the default is rounding-dominated, and where f' itself
            # comes out of a cancellation inside f (cos x + sum x at
            # x = [0, -1, 0]) that rounding is invisible to the estimate;
            # the value is checked against the generous bound only
            ok, _worst = close_to(val, exact, 0.0, rtol=2e-2, scale=scale)
            assert ok, (val, exact)
            return
        # the estimate must cover the true error (plus a few ulps of what
        # rounding to the dtype of the result costs)
        ok, worst = close_to(val, exact, info.error, rtol=64 * eps, scale=scale)
        assert ok, (
            f"error estimate does not cover the true error by {worst:.3g}: "
            f"value {val!r}, exact {exact!r}, error {info.error!r}, status {info.status}"
        )
        return
    if any(k in opts for k in ("rel_step", "abs_step")):
        return  # a step of the user's: only the estimate vouches for it
    rtol = {1: 5e-2 if single else 1e-4, 2: 0.5 if single else 2e-2}[deriv]
    if scale is None:
        # normwise: the round-off of every entry scales with |f|, that is
        # with the largest derivatives, not with the entry's own size
        fin = np.abs(np.asarray(exact, dtype=float))
        scale = np.max(np.where(np.isfinite(fin), fin, 0.0), initial=0.0)
    ok, worst = close_to(val, exact, 0.0, rtol=rtol, scale=scale)
    assert ok, f"value {val!r} far from exact {exact!r} (by {worst:.3g})"


def _check_dtype(val: Any, x: np.ndarray) -> None:
    assert np.asarray(val).dtype == result_dtype(x.dtype), (
        np.asarray(val).dtype,
        x.dtype,
    )


def _refuses_empty(kind: str, fn: Any, f: Any, data: Any, *extra: Any) -> bool:
    """Now and then an empty x: it must be refused naming x."""
    if data.draw(st.integers(0, 19)):
        return False
    x = np.empty(0, dtype=data.draw(st.sampled_from(REAL_DTYPES)))
    r = attempt(kind, fn, f, x, *extra, names=("f", "x"))
    assert refused(r) and "x" in str(r.exc), r
    return True


# ---------------------------------------------------------------------------
# The well-behaved problems over every option.


@fuzz_settings(1.0)
@given(
    kind=st.sampled_from(("gradient", "jacobian")),
    fkind=st.sampled_from(("scalar", "vector")),
    x=points(),
    data=st.data(),
)
def test_jacobian_and_gradient(kind: str, fkind: str, x: Any, data: Any) -> None:
    if kind == "gradient":
        fkind = "scalar"
    f = PROBLEMS[fkind][0]
    if _refuses_empty(kind, getattr(nd, kind), f, data):
        return
    opts = data.draw(options(x, deriv=1, kind=kind))
    sparse = None
    if kind == "jacobian" and opts["_bad"] is None and "directions" not in opts:
        sparse = data.draw(st.sampled_from((None, None, "array", "csr", "groups")))
    opts, bad, _a, scale = _split(opts)
    if sparse is not None:
        S = exact_jacobian(fkind, np.ones(x.size), 1.0) != 0
        opts["sparsity"] = {
            "array": S,
            "csr": scipy.sparse.csr_array(S),
            "groups": (S, nd.color_columns(S)),
        }[sparse]
    bad = draw_f0(data, f, x, opts, bad)
    fn = nd.gradient if kind == "gradient" else nd.jacobian
    r = fn_attempt(kind, fn, f, x, names=("f", "x"), **opts)
    if not np.isfinite(x).all():
        assert refused(r), f"{kind} accepted x={x!r}"
        return
    if bad is not None:
        assert refused(r), f"{kind} accepted {bad}={opts.get(bad)!r}"
        assert bad != "f0" or "f0" in str(r.exc) or "bounds" in str(r.exc), r.exc
        return
    if refused(r):
        # what a valid draw may still be refused for, by name
        # (measured: only bounds that leave no room for the stencil)
        assert "bounds" in opts, r.exc
        return
    val, info = _info_of(r, opts["full_output"])
    if sparse is not None:
        assert isinstance(val, scipy.sparse.csr_array)
        val = val.toarray()
    _check_dtype(val, x)
    exact = exact_jacobian(fkind, x.astype(float).reshape(-1), scale)
    if kind == "gradient":
        exact = exact[0]
        assert val.shape == (x.size,)
    else:
        assert val.shape == exact.shape
    if info is not None and sparse is not None:
        err = info.error.toarray() if scipy.sparse.issparse(info.error) else info.error
        info = _Err(info.status, np.asarray(err).reshape(val.shape))
    _check_value(val, exact, info, x, opts, deriv=1)


class _Err:
    """An Info stand-in holding a dense error (for the sparse results)."""

    def __init__(self, status: int, error: Any) -> None:
        self.status = status
        self.error = error


@fuzz_settings(0.7)
@given(fkind=st.sampled_from(("scalar", "vector")), x=points(max_n=3), data=st.data())
def test_hessian(fkind: str, x: Any, data: Any) -> None:
    f = PROBLEMS[fkind][0]
    if _refuses_empty("hessian", nd.hessian, f, data):
        return
    opts = data.draw(options(x, deriv=2, kind="hessian"))
    sparse = None
    if opts["_bad"] is None and "directions" not in opts:
        sparse = data.draw(st.sampled_from((None, None, "array", "csr")))
    opts, bad, _a, scale = _split(opts)
    if sparse is not None:
        S = (
            np.ones((x.size, x.size), bool)
            if fkind == "scalar"
            else np.eye(x.size, dtype=bool)
        )
        opts["sparsity"] = S if sparse == "array" else scipy.sparse.csr_array(S)
    bad = draw_f0(data, f, x, opts, bad)
    r = fn_attempt("hessian", nd.hessian, f, x, names=("f", "x"), **opts)
    if not np.isfinite(x).all():
        assert refused(r), f"hessian accepted x={x!r}"
        return
    if bad is not None:
        assert refused(r), f"hessian accepted {bad}={opts.get(bad)!r}"
        assert bad != "f0" or "f0" in str(r.exc) or "bounds" in str(r.exc), r.exc
        return
    if refused(r):
        assert "bounds" in opts, r.exc  # only a box with no room for the stencil
        return
    val, info = _info_of(r, opts["full_output"])
    exact = exact_hessian(fkind, x.astype(float).reshape(-1), scale)
    if fkind == "scalar":
        exact = exact[0] if exact.ndim == 3 else exact
    if sparse is not None:
        vals = val if isinstance(val, list) else [val]
        assert all(isinstance(v, scipy.sparse.csr_array) for v in vals)
        val = (
            np.stack([v.toarray() for v in vals])
            if isinstance(val, list)
            else val.toarray()
        )
        if info is not None:
            errs = info.error if isinstance(info.error, list) else [info.error]
            dense = [
                e.toarray() if scipy.sparse.issparse(e) else np.asarray(e) for e in errs
            ]
            info = _Err(info.status, np.stack(dense).reshape(val.shape))
    _check_dtype(val, x)
    assert val.shape == exact.shape, (val.shape, exact.shape)
    assert np.array_equal(val, np.swapaxes(val, -1, -2), equal_nan=True), (
        "not symmetric"
    )
    _check_value(val, exact, info, x, opts, deriv=2)


@st.composite
def directions_v(draw: Any, n: int) -> np.ndarray:
    kind = draw(st.sampled_from(("plain", "plain", "zero", "huge", "tiny", "unit")))
    if kind == "zero":
        return np.zeros(n)
    v = np.array(draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
    if kind == "huge":
        v = v * 1e200
    elif kind == "tiny":
        v = v * 1e-300
    elif kind == "unit":
        v = np.eye(n)[draw(st.integers(0, n - 1))]
    return v


@fuzz_settings(1.0)
@given(
    kind=st.sampled_from(("jvp", "hvp")),
    fkind=st.sampled_from(("scalar", "vector")),
    x=points(),
    data=st.data(),
)
def test_jvp_and_hvp(kind: str, fkind: str, x: Any, data: Any) -> None:
    if kind == "hvp":
        fkind = "scalar"
    f = PROBLEMS[fkind][0]
    if _refuses_empty(kind, getattr(nd, kind), f, data, np.empty(0)):
        return
    v = data.draw(directions_v(x.size))
    bad_v = data.draw(st.sampled_from((None,) * 6 + ("nan", "long", "str")))
    if bad_v == "nan":
        v = v.copy()
        v[0] = np.nan
    elif bad_v == "long":
        v = np.ones(x.size + 1)
    elif bad_v == "str":
        v = "v"  # type: ignore[assignment]
    opts = data.draw(options(x, deriv=1 if kind == "jvp" else 2, kind=kind))
    opts, bad, _a, scale = _split(opts)
    if bad_v is None:
        bad = draw_f0(data, f, x, opts, bad)
    fn = nd.jvp if kind == "jvp" else nd.hvp
    r = fn_attempt(kind, fn, f, x, v, names=("f", "x", "v"), **opts)
    if bad == "f0" and bad_v is None and not np.any(v) and not refused(r):
        # v = 0: f is never called, f0 is all there is to go by (J 0 = 0 of
        # its shape); nothing to check it against
        jv = r[0] if opts["full_output"] else r
        assert np.array_equal(jv, np.zeros(np.shape(jv))), jv
        return
    if bad is not None or bad_v is not None or not np.isfinite(x).all():
        assert refused(r), f"{kind} accepted {bad or 'v'} (x={x!r})"
        return
    if refused(r):
        # a box with no room, or a v beyond the range of x's dtype (float32)
        assert "bounds" in opts or "range of float32" in str(r.exc), r.exc
        return
    val, info = _info_of(r, opts["full_output"])
    _check_dtype(val, x)
    xf = x.astype(float).reshape(-1)
    with np.errstate(invalid="ignore", over="ignore"):  # inf J at a huge x
        if kind == "jvp":
            J = exact_jacobian(fkind, xf, scale)
            exact = J @ v
            sc = np.abs(J) @ np.abs(v)  # a scalar f gives shape (1,), as jacobian
        else:
            H = exact_hessian(fkind, xf, scale)
            exact, sc = H @ v, np.abs(H) @ np.abs(v)
    assert np.shape(val) == np.shape(exact), (np.shape(val), np.shape(exact))
    # normwise: one difference along v / |v| errs by O(h |v|) in every row
    sc = np.full(np.shape(sc), np.max(sc, initial=0.0))
    _check_value(val, exact, info, x, opts, deriv=1 if kind == "jvp" else 2, scale=sc)


@fuzz_settings(0.5)
@given(
    kind=st.sampled_from(("jacobian", "hessian")),
    fkind=st.sampled_from(("scalar", "vector")),
    data=st.data(),
)
def test_linear_operator(kind: str, fkind: str, data: Any) -> None:
    """as_linear_operator=True: matvec (and the Jacobian's rmatvec) against
    the exact J @ w, J^T u, H @ w; a bad flag refused by name."""
    if kind == "hessian":
        fkind = "scalar"
    n = data.draw(st.integers(1, 4))
    dt = data.draw(st.sampled_from((np.float64, np.float32)))
    x = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=n, max_size=n)), dt)
    flag = data.draw(st.sampled_from((True, True, True, "no", 1)))
    opts: dict[str, Any] = {
        "method": data.draw(st.sampled_from(("central", "forward", "complex"))),
        "vectorized": data.draw(st.booleans()),
    }
    if dt == np.float64 and data.draw(st.booleans()):
        # (in float32 a step of 1e-6 is the user's loss: eps / h = 0.1)
        opts["rel_step"] = data.draw(st.sampled_from((1e-6, np.full(n, 1e-6))))
    f = PROBLEMS[fkind][0]
    fn = nd.jacobian if kind == "jacobian" else nd.hessian
    r = attempt(kind, fn, f, x, as_linear_operator=flag, names=("f", "x"), **opts)
    if flag is not True:
        assert refused(r), f"{kind} accepted as_linear_operator={flag!r}"
        return
    if kind == "jacobian" and np.ndim(opts.get("rel_step", 0)):
        # one step along v (jvp); hvp takes per-component steps
        assert refused(r), "a per-component step along v was accepted"
        return
    assert not refused(r), r.exc
    A = (
        exact_jacobian(fkind, x.astype(float), 1.0)
        if kind == "jacobian"
        else exact_hessian(fkind, x.astype(float), 1.0)
    )
    assert r.shape == A.shape
    w = np.array(data.draw(st.lists(st.floats(-1, 1), min_size=n, max_size=n)))
    tol = (
        (5e-2 if dt == np.float32 else 1e-4)
        * max(1.0, np.abs(A).max())
        * max(1.0, np.abs(w).max())
    )
    if kind == "hessian":
        tol *= 100
    assert np.allclose(r.matvec(w), A @ w, rtol=0, atol=tol), (r.matvec(w), A @ w)
    if kind == "jacobian":
        u = np.ones(A.shape[0])
        assert np.allclose(r.rmatvec(u), A.T @ u, rtol=0, atol=tol), (
            r.rmatvec(u),
            A.T @ u,
        )


# ---------------------------------------------------------------------------
# derivative(): elementwise, any shape (0-d and empty included), complex x.

UNIV = {u.name: u for u in testing.UNIVARIATE}
HOLOMORPHIC = ("exp", "sin", "cos(2x)", "exp(0.5x)")


@st.composite
def derivative_points(draw: Any, name: str) -> np.ndarray:
    lo, hi = UNIV[name].domain
    shape = draw(st.sampled_from(((), (0,), (1,), (3,), (2, 2), (2, 0, 3))))
    size = int(np.prod(shape))
    dt = np.dtype(draw(st.sampled_from((np.float64, np.float32, np.float16, np.int64))))
    if dt.kind == "i":
        vals = draw(
            st.lists(
                st.integers(int(np.ceil(lo)), int(np.floor(hi))),
                min_size=size,
                max_size=size,
            )
        )
    else:
        vals = draw(
            st.lists(st.floats(lo + 0.1, hi - 0.1), min_size=size, max_size=size)
        )
    x = np.array(vals, dtype=dt).reshape(shape)
    if name in HOLOMORPHIC and dt == np.float64 and draw(st.integers(0, 4)) == 0:
        im = draw(st.lists(st.floats(-0.5, 0.5), min_size=size, max_size=size))
        x = x + 1j * np.array(im).reshape(shape)
    return x


@fuzz_settings(1.0)
@given(name=st.sampled_from(sorted(UNIV)), data=st.data())
def test_derivative(name: str, data: Any) -> None:
    u = UNIV[name]
    x = data.draw(derivative_points(name))
    n = data.draw(st.sampled_from((1, 1, 2, 3, 4)))
    bad_n = data.draw(st.sampled_from((None,) * 8 + (0, -1, 1.5, True, 11, "1")))
    method = data.draw(st.sampled_from(GOOD_METHODS))
    opts: dict[str, Any] = {"method": method, "full_output": data.draw(st.booleans())}
    if method in ("central", "complex") and data.draw(st.booleans()):
        opts["order"] = data.draw(st.sampled_from((2, 4)))
    elif method in ("forward", "backward") and data.draw(st.booleans()):
        opts["order"] = data.draw(st.sampled_from((1, 2, 3)))
    if method != "adaptive" and data.draw(st.integers(0, 3)) == 0:
        opts["rel_step"] = data.draw(st.floats(1e-6, 1e-2))
    if data.draw(st.integers(0, 3)) == 0 and not np.iscomplexobj(x):
        lo, hi = u.domain
        opts["bounds"] = (lo, hi)
    opts["vectorized"] = data.draw(st.booleans())
    complex_f = name in HOLOMORPHIC
    r = attempt(
        "derivative",
        nd.derivative,
        u.f,
        x,
        n=bad_n if bad_n is not None else n,
        names=("f", "x"),
        **opts,
    )
    if bad_n is not None:
        assert refused(r), f"derivative accepted n={bad_n!r}"
        return
    if refused(r):
        msg = str(r.exc)
        # valid draws may be refused only for what the docs say: complex x
        # with the complex step, n beyond what the dtype can do, bounds with
        # complex x
        assert np.iscomplexobj(x) or "n=" in msg or method == "complex", msg
        return
    if method == "complex" and not complex_f:
        pass  # x**2.5, log, 1/(1+x) are analytic too where they are used
    val, info = _info_of(r, opts["full_output"])
    val = np.asarray(val)
    assert val.shape == x.shape, (val.shape, x.shape)
    want = (
        np.result_type(result_dtype(x.real.dtype), x.dtype)
        if np.iscomplexobj(x)
        else result_dtype(x.dtype)
    )
    assert val.dtype == want, (val.dtype, want)
    exact = u.d(x.astype(np.complex128 if np.iscomplexobj(x) else np.float64), n)
    assert finite_or_nan(val)
    eps = float(np.finfo(val.real.dtype).eps)
    if info is not None:
        if info.status < 0:
            return
        ok, worst = close_to(val, exact, info.error, rtol=64 * eps)
        assert ok, (
            f"error estimate does not cover the true error by {worst:.3g}: "
            f"{val!r} vs {exact!r}, error {info.error!r}"
        )
    elif "rel_step" not in opts and val.size:
        # the default steps: a digit or more up to n = 4 in float64, n = 2 in
        # float32 (measured limits in _validate.MAX_DERIV)
        # (float32 at n = 3, 4 may be 100% off, within its error estimate)
        if eps > 1e-10 and n > 2:
            return
        rtol = (1e-3 if n <= 2 else 5e-2) if eps < 1e-10 else 0.1
        ok, worst = close_to(val, exact, 0.0, rtol=rtol)
        assert ok, f"{val!r} far from {exact!r} (by {worst:.3g})"


# ---------------------------------------------------------------------------
# An f that misbehaves: raises, returns None, a bool, a string, the wrong or
# a varying shape, NaN or inf from some call on, NaN on one side of x.

MODES = (
    "raise",
    "none",
    "bool",
    "string",
    "varying",
    "nan",
    "inf",
    "edge",
    "list",
    "scalar",
)


class Misbehaving:
    """Wraps a good f; from call number ``at`` on, it misbehaves by ``mode``."""

    def __init__(
        self, good: Any, mode: str, at: int, x0: np.ndarray, elementwise: bool = False
    ) -> None:
        self.good, self.mode, self.at, self.x0 = good, mode, at, x0
        self.elementwise = elementwise
        self.calls = 0
        self.triggered = False

    def __call__(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        y = self.good(x, *args, **kwargs)
        if self.mode == "edge":
            # NaN where the first coordinate is above x0's (a domain edge);
            # for an elementwise f, where the element is above x0's
            if self.elementwise:
                xa = np.asarray(x).real
                tail = xa.shape[xa.ndim - self.x0.ndim :] if xa.ndim else ()
                mask = xa > (self.x0 if tail == self.x0.shape else self.x0[0])
            else:
                mask = np.asarray(x)[0].real > self.x0[0]
            if np.any(mask):
                self.triggered = True
            return np.where(mask, np.nan, y)
        if self.calls < self.at:
            return y
        m = self.mode
        if m == "varying" and (self.calls - self.at) % 2:
            return y  # every other call: the shape varies between calls
        self.triggered = True
        if m == "raise":
            raise UserError(f"f refuses call {self.calls}")
        if m == "none":
            return None
        if m == "bool":
            return np.asarray(y).real > 0
        if m == "string":
            return "not a number"
        if m == "varying":
            y = np.atleast_1d(y)
            return np.concatenate([y, y[:1]])
        if m == "nan":
            return np.asarray(y) * np.nan
        if m == "inf":
            return np.full_like(np.asarray(y), np.inf)
        if m == "list":
            return np.asarray(y).tolist()
        if m == "scalar":
            return 1.0  # the wrong shape for a vector f (right for a scalar)
        raise AssertionError(m)


@fuzz_settings(1.5)
@given(
    kind=st.sampled_from(
        ("gradient", "jacobian", "hessian", "jvp", "hvp", "derivative")
    ),
    fkind=st.sampled_from(("scalar", "vector")),
    mode=st.sampled_from(MODES),
    at=st.integers(1, 4),
    data=st.data(),
)
def test_misbehaving_f(kind: str, fkind: str, mode: str, at: int, data: Any) -> None:
    if kind in ("gradient", "hvp"):
        fkind = "scalar"
    if mode == "scalar":
        # a scalar from call 2 on: a changed shape for a vector f (for a
        # scalar f it is merely another, discontinuous, function)
        assume(fkind == "vector" and kind != "derivative")
        at = max(at, 2)
    x = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=1, max_size=3)))
    method = data.draw(st.sampled_from(GOOD_METHODS))
    opts: dict[str, Any] = {
        "method": method,
        "vectorized": data.draw(st.booleans()),
        "full_output": data.draw(st.booleans()),
    }
    if data.draw(st.integers(0, 3)) == 0:
        opts["workers"] = map  # the output checks hold on every path
    if kind == "derivative":
        good: Any = np.sin
        x = x.reshape(-1)
        opts["vectorized"] = True  # elementwise; per-point calls are tried below
    else:
        good = PROBLEMS[fkind][0]
    f = Misbehaving(good, mode, at, x.copy(), elementwise=kind == "derivative")
    args: tuple[Any, ...] = (f, x)
    if kind in ("jvp", "hvp"):
        args = (f, x, np.ones(x.size))
    fn = getattr(nd, kind)
    r = attempt(kind, fn, *args, names=("f",), user_error=(mode == "raise"), **opts)
    if refused(r):
        if mode == "raise":
            return
        assert f.triggered, f"refused a well-behaved f: {r.exc!r}"
        return
    if f.triggered and mode in ("raise", "none", "string", "varying"):
        raise AssertionError(f"{kind} accepted f misbehaving by {mode!r} at call {at}")
    if f.triggered and mode == "bool":
        raise AssertionError(f"{kind} accepted a bool-valued f (from call {at})")
    if f.triggered and mode == "scalar":
        raise AssertionError(f"{kind} accepted a scalar from a vector f (call {at})")
    # a result: what is finite must be right
    val, info = _info_of(r, opts["full_output"])
    if kind == "derivative":
        exact = np.cos(x)
        deriv = 1
    elif kind in ("gradient", "jacobian"):
        exact = exact_jacobian(fkind, x, 1.0)
        exact = exact[0] if kind == "gradient" else exact
        deriv = 1
    elif kind == "hessian":
        exact = exact_hessian(fkind, x, 1.0)
        deriv = 2
    elif kind == "jvp":
        exact = exact_jacobian(fkind, x, 1.0) @ np.ones(x.size)
        deriv = 1
    else:
        exact = exact_hessian(fkind, x, 1.0) @ np.ones(x.size)
        deriv = 2
    val = np.asarray(val)
    assume(val.shape == np.shape(exact))  # a scalar-for-scalar f is fine
    if info is None and f.triggered:
        # without info, untrusted entries must be NaN: a finite entry is
        # right within the generous bound
        rtol = 1e-4 if deriv == 1 else 2e-2
        ok, _worst = close_to(val, exact, 0.0, rtol=rtol)
        assert ok, f"{kind} {mode}: finite wrong value {val!r} vs {exact!r}"
        return
    # where f is non-finite only at the check step, the value has no error
    # bound: status -1 (it was a NaN error with status 0)
    if info is not None and info.status >= 0:
        assert np.isfinite(np.asarray(info.error)).all(), (kind, mode, info)
    _check_value(val, exact, info, x, opts, deriv=deriv)


@fuzz_settings(0.5)
@given(
    mode=st.sampled_from([m for m in MODES if m != "scalar"]),
    at=st.integers(1, 3),
    data=st.data(),
)
def test_misbehaving_f_per_point(mode: str, at: int, data: Any) -> None:
    """derivative(vectorized=False): f is called per point on scalars."""
    x = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=1, max_size=3)))
    if mode == "edge":
        x = x[:1]  # f sees one scalar at a time: one x0 to compare with
    f = Misbehaving(np.sin, mode, at, x.copy(), elementwise=True)
    r = attempt(
        "derivative",
        nd.derivative,
        f,
        x,
        vectorized=False,
        names=("f",),
        user_error=(mode == "raise"),
    )
    if refused(r):
        assert f.triggered, r.exc
        return
    if f.triggered and mode in ("raise", "none", "string", "varying", "bool"):
        raise AssertionError(f"derivative(vectorized=False) accepted {mode!r}")
    ok, _worst = close_to(r, np.cos(x), 0.0, rtol=1e-4)
    assert ok, (r, np.cos(x))
