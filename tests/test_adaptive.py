"""method="adaptive": targets, honesty both ways, options, edges and status."""

from __future__ import annotations

import itertools
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import rosen, rosen_der, rosen_hess

import numderiv as nd
from numderiv.testing import (
    PEER_PROBLEMS,
    Problem,
    broyden_tridiagonal,
    broyden_tridiagonal_jacobian,
    digits,
    noise,
    scilab_example,
    scilab_example_hessian,
    scilab_example_jacobian,
)

A: dict[str, Any] = {"method": "adaptive", "full_output": True}


def _solve(p: Problem, **opts: Any) -> tuple[Any, nd.Info]:
    call = {
        "derivative": lambda: nd.derivative(p.f, p.x, n=p.n, **opts),
        "gradient": lambda: nd.gradient(p.f, p.x, **opts),
        "hessian": lambda: nd.hessian(p.f, p.x, **opts),
        "jacobian": lambda: nd.jacobian(p.f, p.x, **opts),
    }[p.kind]
    return call()


def _covers(value: Any, exact: Any, error: Any) -> bool:
    return bool(np.all(np.abs(np.asarray(value) - np.asarray(exact)) <= error))


# ---------------------------------------------------------------------------
# the targets of the peers' problems (testing.PEER_PROBLEMS)


@pytest.mark.parametrize("p", PEER_PROBLEMS, ids=[p.name for p in PEER_PROBLEMS])
def test_peer_problem_targets(p: Problem) -> None:
    value, info = _solve(p, **A)
    d = digits(value, p.exact, componentwise=p.componentwise)
    assert p.target_digits is not None
    assert d >= p.target_digits, (d, info)
    if p.target_nfev is not None:
        assert info.nfev / p.npoints <= p.target_nfev, info
    assert info.status >= 0, info
    # honest: the true error is below the estimate, entry by entry
    assert _covers(value, p.exact, info.error), info


def test_error_estimates_are_useful() -> None:
    """Not absurdly loose: median estimate / true error <= 1000 (where above round-off)."""
    ratios = []
    for p in PEER_PROBLEMS:
        value, info = _solve(p, **A)
        exact = np.asarray(p.exact, dtype=float)
        err = np.abs(np.asarray(value) - exact)
        est = np.asarray(info.error)
        floor = 1e-15 * max(1.0, float(np.max(np.abs(exact))))
        above = err > floor
        if above.any():
            ratios.append(float(np.median(est[above] / err[above])))
    assert len(ratios) >= 15
    assert np.median(ratios) <= 1000, ratios
    assert min(ratios) >= 1, ratios


def test_without_info_the_same_values() -> None:
    p = PEER_PROBLEMS[0]
    v1, _ = _solve(p, **A)
    v2 = _solve(p, method="adaptive")
    assert v1 == v2


# ---------------------------------------------------------------------------
# evaluations


def test_exact_nfev() -> None:
    # pairs of points per level, f(x) once for even derivatives
    _, info = nd.derivative(np.exp, 1.0, **A)
    assert (info.nfev, info.ncalls) == (12, 12)
    assert info.extra["levels"].tolist() == [6]
    x = np.array([0.5, 1.5])
    _, info = nd.hessian(rosen, x, **A)
    assert info.nfev == 2 * int(info.extra["levels"].sum()) + 1
    _, info2 = nd.hessian(rosen, x, f0=rosen(x), **A)
    assert info2.nfev == info.nfev - 1


def test_each_entry_stops_on_its_own() -> None:
    # a linear component converges at once and costs no more evaluations
    J, info = nd.jacobian(
        lambda x: np.array([np.exp(x[0]) + 3 * x[1]]), [1.0, 2.0], **A
    )
    lv = info.extra["levels"]
    assert lv[1] == 2 < lv[0]
    assert info.nfev == 2 * int(lv.sum())
    assert np.allclose(J, [[math.e, 3.0]], rtol=1e-13, atol=0)
    # elementwise: f is called on the elements still active only
    calls: list[int] = []

    def f(t: Any) -> Any:
        calls.append(np.size(t))
        # a quadratic (exact at once) beside exponentials
        return np.where(t > 2.5, t**2, np.exp(t))

    x = np.array([1.0, 2.0, 3.0])
    d, info = nd.derivative(f, x, **A)
    assert info.nfev == sum(calls)
    lv = info.extra["levels"]
    assert lv[2] < lv[0] and lv[2] < lv[1]
    assert sorted(set(calls)) == [1, 2, 3]  # converged elements left out
    assert np.allclose(d, [math.e, math.exp(2), 6.0], rtol=1e-12)


def test_vectorized_one_call_per_level() -> None:
    x = np.array([0.5, 1.5, -0.3])
    g1, i1 = nd.gradient(rosen, x, **A)
    g2, i2 = nd.gradient(rosen, x, vectorized=True, **A)
    assert np.array_equal(g1, g2)
    assert i2.nfev == i1.nfev
    # one call per level, the first split: its first point alone (the axis check)
    assert i2.ncalls == int(i2.extra["levels"].max()) + 1


# ---------------------------------------------------------------------------
# the extrapolation converges


def test_extrapolation_converges_with_levels() -> None:
    errs = []
    for k in range(2, 6):
        d, info = nd.derivative(np.exp, 1.0, maxiter=k, tolerances={"rtol": 0}, **A)
        assert abs(d - math.e) <= info.error
        assert info.status == -2  # stopped by maxiter: said so
        errs.append(abs(d - math.e))
    # each level gains orders of magnitude until round-off
    assert all(b < a / 100 for a, b in itertools.pairwise(errs))
    assert np.isnan(nd.derivative(np.exp, 1.0, method="adaptive", maxiter=3))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6, 8, 10])
@pytest.mark.parametrize(
    ("name", "f", "dk"),
    [
        ("exp", np.exp, lambda x, k: np.exp(x)),
        ("sin", np.sin, lambda x, k: np.sin(x + k * np.pi / 2)),
        (
            "pole",
            lambda x: 1 / (1 + x),
            lambda x, k: (-1) ** k * math.factorial(k) / (1 + x) ** (k + 1),
        ),
    ],
)
def test_higher_derivatives_succeed_or_say_so(
    name: str, f: Any, dk: Any, n: int
) -> None:
    x = np.array([-0.4, 0.3, 1.7])
    d, info = nd.derivative(f, x, n=n, **A)
    exact = dk(x, n)
    if name != "pole" or n <= 6:
        # entire functions (and the pole at distance >= 0.6 up to n = 6)
        assert info.status >= 0
    if info.status >= 0:
        assert _covers(d, exact, info.error)
        # and useful: at the median within 1000 of the true error or of round-off
        floor = np.maximum(np.abs(d - exact), 1e-15 * abs(exact))
        assert np.median(info.error / floor) <= 1000
    else:
        plain = nd.derivative(f, x, n=n, method="adaptive")
        bad = ~(np.abs(d - exact) <= info.error)
        assert np.all(np.isnan(plain[bad]))


# ---------------------------------------------------------------------------
# steps that fit f, per component


def test_steps_per_component_fit_each_scale() -> None:
    def f(x: Any) -> Any:
        return np.log(x[0]) + x[1] * np.sqrt(x[2]) + np.sin(x[1])

    x = np.array([1e-6, 1.0, 1e6])
    g, info = nd.gradient(f, x, **A)
    exact = [1e6, 1e3 + math.cos(1.0), 0.5 / 1e3]
    assert np.all(np.abs(g - exact) <= 1e-10 * np.abs(exact))
    assert _covers(g, exact, info.error)
    # the steps found span the scales of the components
    assert info.step[0] < 1e-6 < info.step[1] < info.step[2]


def test_large_and_tiny_x() -> None:
    d, info = nd.derivative(np.sin, 1e8, **A)
    assert abs(d - math.cos(1e8)) <= min(info.error, 1e-11)
    d, info = nd.derivative(np.log, 1e-8, **A)
    assert abs(d - 1e8) <= min(info.error, 1e-2)


def test_derivative_tiny_next_to_f() -> None:
    d, info = nd.derivative(lambda x: 1e10 + np.sin(x), 1.0, **A)
    assert abs(d - math.cos(1.0)) <= info.error < 1e-3


# ---------------------------------------------------------------------------
# domain edges, bounds and status codes


def test_domain_edge_one_sided() -> None:
    # sqrt(x)^2 is NaN for x < 0: the ladder turns one-sided (status 1)
    d, info = nd.derivative(lambda x: np.sqrt(x) ** 2 + np.exp(x), 0.0, **A)
    assert info.status == 1
    assert abs(d - 2.0) <= info.error < 1e-10
    # sinc at 0: f(0) is NaN, the central ladder does not need it
    d, info = nd.derivative(lambda x: np.sin(x) / x, 0.0, **A)
    assert abs(d) <= 1e-14 and abs(d) <= info.error


def test_bounds_never_left() -> None:
    seen: list[float] = []

    def f(x: Any) -> Any:
        seen.extend(np.atleast_1d(x).tolist())
        return np.exp(x)

    for x0 in (0.0, 1e-3, 0.999):
        seen.clear()
        d, info = nd.derivative(f, x0, bounds=(0, 1), **A)
        assert min(seen) >= 0 and max(seen) <= 1
        assert abs(d - math.exp(x0)) <= info.error < 1e-9
    x = np.array([0.5, 1.5, -0.3])
    g, info = nd.gradient(rosen, x, bounds=([0.5, 0, -1], [1, 2, -0.3]), **A)
    assert _covers(g, rosen_der(x), info.error)
    assert np.allclose(g, rosen_der(x), rtol=1e-9)


def test_nonfinite_both_sides_is_nan() -> None:
    d, info = nd.derivative(np.log, -1.0, **A)
    assert np.isnan(d) and info.status == -3
    assert np.isnan(nd.derivative(np.log, -1.0, method="adaptive"))


def test_no_convergence_said_so() -> None:
    # an infinite derivative never settles
    d, info = nd.derivative(np.sqrt, 0.0, **A)
    assert info.status < 0
    assert np.isnan(nd.derivative(np.sqrt, 0.0, method="adaptive"))
    # a jump: never a confident finite answer
    d = nd.derivative(np.sign, 0.0, method="adaptive")
    assert np.isnan(d)


def test_step_does_not_fit_is_searched_not_trusted() -> None:
    """A huge relative step is garbage; the search must discard it."""
    d, info = nd.derivative(np.sin, 1e8, initial_step=1.0, **A)
    assert abs(d - math.cos(1e8)) <= info.error
    assert info.status >= 0


# ---------------------------------------------------------------------------
# every option with "adaptive"


def test_jacobian_and_hessians_of_scilab_example() -> None:
    x = np.array([1.0, 2.0, 3.0])
    J, info = nd.jacobian(scilab_example, x, **A)
    assert _covers(J, scilab_example_jacobian(x), info.error)
    H, info = nd.hessian(scilab_example, x, **A)
    assert _covers(H, scilab_example_hessian(x), info.error)
    assert np.array_equal(H, np.swapaxes(H, 1, 2))  # symmetric by construction


def test_directions() -> None:
    x = np.array([0.5, 1.5, -0.3])
    Q = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
    g, info = nd.gradient(rosen, x, directions=Q, **A)
    assert _covers(g, rosen_der(x), info.error)
    H, info = nd.hessian(rosen, x, directions=Q, **A)
    assert np.allclose(H, rosen_hess(x), rtol=1e-10, atol=1e-9)
    assert _covers(H, rosen_hess(x), info.error)


def test_sparsity() -> None:
    x = np.linspace(-1, 1, 20)
    S = sp.diags_array([1.0, 1.0, 1.0], offsets=[-1, 0, 1], shape=(20, 20))
    J, info = nd.jacobian(broyden_tridiagonal, x, sparsity=S, **A)
    assert info.extra["ngroups"] == 3
    assert np.allclose(J.toarray(), broyden_tridiagonal_jacobian(x), atol=1e-12)
    xr = np.linspace(-1, 1, 6)
    Hs, info = nd.hessian(
        rosen,
        xr,
        sparsity=sp.diags_array([1.0, 1.0, 1.0], offsets=[-1, 0, 1], shape=(6, 6)),
        **A,
    )
    assert _covers(Hs.toarray(), rosen_hess(xr), info.error.toarray())


def test_jvp_hvp_and_operators() -> None:
    x, v = np.array([0.5, 1.5, -0.3]), np.array([1.0, 2.0, 3.0])
    jv, info = nd.jvp(rosen, x, v, **A)
    assert _covers(jv, rosen_der(x) @ v, info.error)
    hv, info = nd.hvp(rosen, x, v, **A)
    assert _covers(hv, rosen_hess(x) @ v, info.error)
    op = nd.hessian(rosen, x, method="adaptive", as_linear_operator=True)
    assert np.allclose(op.matvec(v), rosen_hess(x) @ v, rtol=1e-9)


def test_workers_equal_serial() -> None:
    x = np.array([0.5, 1.5, -0.3])
    g0, i0 = nd.gradient(rosen, x, **A)
    with ThreadPoolExecutor(2) as pool:
        g1, i1 = nd.gradient(rosen, x, workers=pool, **A)
    g2, _ = nd.gradient(rosen, x, workers=map, **A)
    assert np.array_equal(g0, g1) and np.array_equal(g0, g2)
    assert i0.nfev == i1.nfev


def test_args_kwargs_and_f0() -> None:
    def f(x: Any, a: float, *, b: float) -> Any:
        return a * np.exp(b * x)

    d, info = nd.derivative(f, 0.5, args=(2.0,), kwargs={"b": 3.0}, n=2, **A)
    assert abs(d - 18 * math.exp(1.5)) <= info.error


def test_float32_stays_float32() -> None:
    x = np.float32([0.5, 1.5, -0.3])
    g, info = nd.gradient(rosen, x, **A)
    assert g.dtype == np.float32
    assert _covers(g, rosen_der(x.astype(float)), info.error)


def test_complex_x_holomorphic() -> None:
    d, info = nd.derivative(np.exp, 1 + 1j, **A)
    assert abs(d - np.exp(1 + 1j)) <= info.error < 1e-11


# ---------------------------------------------------------------------------
# noise


def test_noise_known_or_estimated() -> None:
    def f(x: Any) -> Any:
        return np.sin(x) + 1e-8 * noise(x)

    for opt in (None, 1e-8, "estimate"):
        d, info = nd.derivative(f, 1.0, noise=opt, **A)
        assert abs(d - math.cos(1.0)) <= info.error, (opt, info)
        assert info.error < 1e-5
        if opt is not None:
            # the noise is in the report and in the error
            assert info.extra["noise"][0] >= 0.3e-8
    _, i1 = nd.derivative(f, 1.0, **A)
    _, i2 = nd.derivative(f, 1.0, noise="estimate", **A)
    assert i2.nfev > i1.nfev  # the estimate is paid for and counted


def test_noise_per_output_checked() -> None:
    with pytest.raises(ValueError, match="one value per output"):
        nd.jacobian(
            scilab_example, [1.0, 2.0, 3.0], method="adaptive", noise=[1e-9] * 3
        )


# ---------------------------------------------------------------------------
# the fixed stencils on the same problems: succeed or say so


FIXED = [("central", 2), ("central", 4), ("forward", 1), ("complex", 2)]


@pytest.mark.parametrize(("method", "order"), FIXED)
def test_fixed_stencils_on_peer_problems_succeed_or_say_so(
    method: str, order: int
) -> None:
    for p in PEER_PROBLEMS:
        if method == "complex" and not p.complex_ok:
            continue
        value, info = _solve(p, method=method, order=order, full_output=True)
        # with full_output: covered, or flagged (the fixed stencils check
        # their step with the half step, which only full_output computes)
        if info.status >= 0:
            assert _covers(value, p.exact, info.error), (p.name, info)
        else:
            assert info.message and not info.message.startswith("success")


@pytest.mark.parametrize(
    ("method", "order", "per_component"),
    [("central", 2, 2), ("central", 4, 4), ("forward", 1, 1), ("complex", 2, 1)],
)
def test_fixed_stencils_exact_nfev_on_rosenbrock(
    method: str, order: int, per_component: int
) -> None:
    x = np.linspace(-1.2, 1.2, 100)
    calls = [0]

    def f(t: Any) -> Any:
        calls[0] += 1
        return rosen(t)

    nd.gradient(f, x, method=method, order=order)
    # f(x) once where the stencil uses it (forward) or to check the complex step
    extra = 1 if method in ("forward", "complex") else 0
    assert calls[0] == per_component * x.size + extra


def test_process_pool_workers() -> None:
    x = np.array([0.5, 1.5, -0.3])
    g0 = nd.gradient(rosen, x, method="adaptive")
    g1 = nd.gradient(rosen, x, method="adaptive", workers=2)
    assert np.array_equal(g0, g1)


def test_vanishing_derivatives_at_an_optimum() -> None:
    """A gradient at a minimum (f = 0 there): no NaN, an honest error, no runaway."""
    for x in (np.ones(4), np.ones(50)):
        g, info = nd.gradient(rosen, x, **A)
        assert info.status >= 0
        assert np.all(np.abs(g) <= info.error) and info.error.max() < 1e-12
        assert info.nfev <= 10 * x.size
        assert not np.isnan(nd.gradient(rosen, x, method="adaptive")).any()
        H, info = nd.hessian(rosen, x[:4], **A)
        assert _covers(H, rosen_hess(x[:4]), info.error)
    for f, x0 in (
        (lambda t: t**3, 0.0),
        (np.cos, 0.0),
        (lambda t: (t - 1.0) ** 2, 1.0),
    ):
        d, info = nd.derivative(f, x0, **A)
        assert info.status >= 0 and abs(d) <= info.error < 1e-12


# ---------------------------------------------------------------------------
# randomised: smooth functions with exact derivatives, succeed or say so


def test_random_univariate_honest() -> None:
    from numderiv.testing import UNIVARIATE

    rng = np.random.default_rng(2026)
    ratios = []
    for _ in range(60):
        u = UNIVARIATE[rng.integers(len(UNIVARIATE))]
        x = rng.uniform(*u.domain, size=int(rng.integers(1, 5)))
        n = int(rng.integers(1, 5))
        d, info = nd.derivative(u.f, x, n=n, **A)
        exact = u.d(x, n)
        assert info.status >= 0, (u.name, x, n)
        err = np.abs(d - exact)
        assert np.all(err <= info.error), (u.name, x, n)
        above = err > 1e-15 * np.maximum(1, np.abs(exact))
        ratios += (info.error[above] / err[above]).tolist()
    assert np.median(ratios) <= 1000


def test_random_multivariate_honest() -> None:
    """Sums of c u(x_i) (1 + x_j / 2): gradients and Hessians written out."""
    from numderiv.testing import UNIVARIATE

    rng = np.random.default_rng(7)
    for _ in range(25):
        n = int(rng.integers(1, 5))
        terms = [
            (
                UNIVARIATE[rng.integers(len(UNIVARIATE))],
                int(rng.integers(n)),
                int(rng.integers(n)),
                rng.uniform(-2, 2),
            )
            for _ in range(int(rng.integers(1, 4)))
        ]
        lo = max(max(t[0].domain[0] for t in terms), -1.0)
        hi = min(min(t[0].domain[1] for t in terms), 2.0)
        if lo >= hi:
            continue
        x = rng.uniform(lo, hi, size=n)

        def f(x: Any, terms: Any = terms) -> Any:
            return sum(c * u.f(x[i]) * (1 + 0.5 * x[j]) for u, i, j, c in terms)

        g = np.zeros(n)
        H = np.zeros((n, n))
        for u, i, j, c in terms:
            a, a1, a2 = u.d(x[i], 0), u.d(x[i], 1), u.d(x[i], 2)
            b = 1 + 0.5 * x[j]
            g[i] += c * a1 * b
            g[j] += c * a * 0.5
            H[i, i] += c * a2 * b
            H[i, j] += c * a1 * 0.5
            H[j, i] += c * a1 * 0.5
        gv, gi = nd.gradient(f, x, **A)
        Hv, hi_ = nd.hessian(f, x, **A)
        assert gi.status >= 0 and hi_.status >= 0
        assert _covers(gv, g, gi.error) and _covers(Hv, H, hi_.error)
