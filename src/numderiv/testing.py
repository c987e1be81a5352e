"""Test functions with exact derivatives, for tests, benchmarks and demos.

Every function here comes with its derivatives written out by hand, so a
numerical result can be compared with the truth.

Examples
--------
>>> import numpy as np
>>> from numderiv import testing
>>> x = np.array([1.0, 2.0, 3.0])
>>> testing.scilab_example(x).round(4)
array([1097.5425,   36.    ])
>>> testing.scilab_example_jacobian(x).shape, testing.scilab_example_hessian(x).shape
((2, 3), (2, 3, 3))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "MAX_DIGITS",
    "PEER_PROBLEMS",
    "UNIVARIATE",
    "Problem",
    "Univariate",
    "broyden_tridiagonal",
    "broyden_tridiagonal_jacobian",
    "broyden_tridiagonal_vectorized",
    "digits",
    "noise",
    "scilab_example",
    "scilab_example_hessian",
    "scilab_example_jacobian",
]


def scilab_example(x: ArrayLike) -> NDArray[np.float64]:
    """Scilab's ``numderivative`` example ``[sin(x1 x2) + exp(x2 x3 + x1), sum(x^3)]``."""
    x = np.asarray(x)
    return np.array([np.sin(x[0] * x[1]) + np.exp(x[1] * x[2] + x[0]), np.sum(x**3)])


def scilab_example_jacobian(x: ArrayLike) -> NDArray[np.float64]:
    """Exact Jacobian of :func:`scilab_example`, shape (2, 3)."""
    x1, x2, x3 = np.asarray(x, dtype=float)
    e = math.exp(x2 * x3 + x1)
    c = math.cos(x1 * x2)
    return np.array(
        [
            [c * x2 + e, c * x1 + e * x3, e * x2],
            [3 * x1**2, 3 * x2**2, 3 * x3**2],
        ]
    )


def scilab_example_hessian(x: ArrayLike) -> NDArray[np.float64]:
    """Exact Hessians of both components of :func:`scilab_example`, shape (2, 3, 3)."""
    x1, x2, x3 = np.asarray(x, dtype=float)
    e = math.exp(x2 * x3 + x1)
    s, c = math.sin(x1 * x2), math.cos(x1 * x2)
    h1 = np.array(
        [
            [-s * x2**2 + e, c - s * x2 * x1 + e * x3, e * x2],
            [c - s * x2 * x1 + e * x3, -s * x1**2 + e * x3**2, e + e * x3 * x2],
            [e * x2, e + e * x3 * x2, e * x2**2],
        ]
    )
    h2 = np.diag([6 * x1, 6 * x2, 6 * x3])
    return np.stack([h1, h2])


def broyden_tridiagonal(x: ArrayLike) -> NDArray[Any]:
    """Broyden's tridiagonal function ``F_i = (3 - 2 x_i) x_i - x_{i-1} - 2 x_{i+1} + 1``.

    ``x_0 = x_{n+1} = 0``.  Cheap (a few vector operations), with m = n.
    """
    x = np.asarray(x)
    out = (3.0 - 2.0 * x) * x + 1.0
    out[1:] -= x[:-1]
    out[:-1] -= 2.0 * x[1:]
    return out


def broyden_tridiagonal_vectorized(X: ArrayLike) -> NDArray[Any]:
    """:func:`broyden_tridiagonal` on the columns of ``X`` (shape (n, k))."""
    X = np.asarray(X)
    out = (3.0 - 2.0 * X) * X + 1.0
    out[1:] -= X[:-1]
    out[:-1] -= 2.0 * X[1:]
    return out


def broyden_tridiagonal_jacobian(x: ArrayLike) -> NDArray[np.float64]:
    """Exact (dense) Jacobian of :func:`broyden_tridiagonal`."""
    x = np.asarray(x, dtype=float)
    n = x.size
    J = np.diag(3.0 - 4.0 * x)
    J[np.arange(1, n), np.arange(n - 1)] = -1.0
    J[np.arange(n - 1), np.arange(1, n)] = -2.0
    return J


@dataclass(frozen=True)
class Univariate:
    """A scalar function with all its derivatives, ``d(x, k)`` = k-th derivative."""

    name: str
    f: Callable[[Any], Any]
    d: Callable[[Any, int], Any]
    domain: tuple[float, float]

    def __call__(self, x: Any) -> Any:
        return self.f(x)


def _sin_cycle(x: Any, k: int) -> Any:
    """k-th derivative of sin, exactly: sin, cos, -sin, -cos."""
    x = np.asarray(x)
    return (np.sin(x), np.cos(x), -np.sin(x), -np.cos(x))[k % 4]


def _falling(a: float, k: int) -> float:
    return math.prod(a - i for i in range(k))


UNIVARIATE: tuple[Univariate, ...] = (
    Univariate("exp", np.exp, lambda x, k: np.exp(x), (-3.0, 3.0)),
    Univariate("sin", np.sin, lambda x, k: _sin_cycle(x, k), (-3.0, 3.0)),
    Univariate(
        "exp(0.5x)",
        lambda x: np.exp(0.5 * x),
        lambda x, k: 0.5**k * np.exp(0.5 * x),
        (-3.0, 3.0),
    ),
    Univariate(
        "log",
        np.log,
        lambda x, k: (
            np.log(x)
            if k == 0
            else (-1) ** (k - 1) * math.factorial(k - 1) / np.asarray(x) ** k
        ),
        (0.5, 4.0),
    ),
    Univariate(
        "1/(1+x)",
        lambda x: 1.0 / (1.0 + x),
        lambda x, k: (-1) ** k * math.factorial(k) / (1.0 + np.asarray(x)) ** (k + 1),
        (-0.5, 3.0),
    ),
    Univariate(
        "x**2.5",
        lambda x: x**2.5,
        lambda x, k: _falling(2.5, k) * np.asarray(x) ** (2.5 - k),
        (0.5, 3.0),
    ),
    Univariate(
        "cos(2x)",
        lambda x: np.cos(2 * x),
        lambda x, k: 2.0**k * _sin_cycle(2 * np.asarray(x), k + 1),
        (-2.0, 2.0),
    ),
)
"""Smooth scalar functions with exact derivatives of every order."""


# ---------------------------------------------------------------------------
# The peer problem set: the accuracy benchmark (benchmarks/bench_accuracy.py)
# runs numderiv and its peers on each of these and counts correct digits.


@dataclass(frozen=True)
class Problem:
    """One accuracy problem: a function, a point and the exact answer.

    Attributes
    ----------
    name : str
        Short label, e.g. ``"exp'(1)"``.
    kind : {"derivative", "gradient", "hessian", "jacobian"}
        ``"derivative"``: the `n`-th derivative of the elementwise scalar
        function `f` at every element of `x`; ``"gradient"``/``"hessian"``:
        of a scalar ``f: R^k -> R``; ``"jacobian"``: of ``f: R^k -> R^m``;
        ``"hessian"`` with a vector `f` means the Hessians of all outputs,
        shape ``(m, k, k)``.
    f : callable
        For ``"derivative"`` an elementwise function; otherwise a function
        of a point ``x`` of shape ``(k,)`` that also takes ``(k, ...)``
        (points along the trailing axes) and returns ``(...)`` or
        ``(m, ...)``, as :func:`scipy.differentiate.jacobian` wants.
    x : float or ndarray
        The point (an array of points for ``"derivative"``).
    exact : float or ndarray
        The exact answer, written out by hand (closed forms, or series where
        the closed form cancels), never a numerical reference.
    n : int
        Derivative order (``"derivative"`` only).
    target_digits : float or None
        Least correct digits (see :func:`digits`) that ``method="adaptive"``
        should reach.
    target_nfev : int or None
        Most evaluations ``method="adaptive"`` may take; for ``"derivative"``
        per element of `x` (an elementwise call on ``k`` points counts ``k``).
    notes : str
        What the problem tests.
    complex_ok : bool
        Whether `f` takes complex input (the complex step applies).
    componentwise : bool
        Whether digits are counted per component (the least is reported)
        rather than against the largest entry.
    """

    name: str
    kind: str
    f: Callable[..., Any]
    x: Any
    exact: Any
    n: int = 1
    target_digits: float | None = None
    target_nfev: int | None = None
    notes: str = ""
    complex_ok: bool = True
    componentwise: bool = False

    @property
    def npoints(self) -> int:
        """Number of points of `x` (elements for ``"derivative"``, else 1)."""
        return int(np.size(self.x)) if self.kind == "derivative" else 1


MAX_DIGITS = 16.0
"""What :func:`digits` returns for an exact result."""


def digits(value: ArrayLike, exact: ArrayLike, *, componentwise: bool = False) -> float:
    """Correct decimal digits of `value`: ``-log10(max|err| / max|exact|)``.

    The absolute error is used where the exact value is 0 (all of it, or
    that component with `componentwise`).  An exact result gives
    :data:`MAX_DIGITS` (16), as does any error below ``1e-16`` of the scale;
    a NaN or infinite value anywhere, or a shape that is not that of
    `exact`, gives 0; so does an error larger than the scale (no digit is
    right).  With `componentwise`, each component is scored against its own
    exact value and the least is returned.

    Examples
    --------
    >>> from numderiv.testing import digits
    >>> digits(1.0001, 1.0)
    4.0
    >>> digits([1.0, 2e-6], [1.0, 1e-6]), digits([1.0, 2e-6], [1.0, 1e-6], componentwise=True)
    (6.0, 0.0)
    >>> digits(float("nan"), 1.0), digits(0.0, 0.0), digits(1e-15, 0.0)
    (0.0, 16.0, 15.0)
    """
    v = np.asarray(value)
    e = np.asarray(exact)
    if v.shape != e.shape or not np.all(np.isfinite(v)):
        return 0.0
    err = np.abs(v - e).astype(float)
    scale = np.abs(e).astype(float)
    if componentwise:
        rel = np.divide(err, scale, out=err.copy(), where=scale > 0)
        worst = float(np.max(rel)) if rel.size else 0.0
    else:
        big = float(np.max(scale)) if scale.size else 0.0
        worst = float(np.max(err)) if err.size else 0.0
        if big > 0:
            worst /= big
    if worst <= 10.0**-MAX_DIGITS:
        return MAX_DIGITS
    return float(min(MAX_DIGITS, max(0.0, -math.log10(worst))))


def _sinc(x: Any) -> Any:
    """``sin(x) / x``, written plainly: NaN at 0, as a user would write it."""
    return np.sin(x) / x


def _dsinc(x: float) -> float:
    """Exact ``(sin x / x)'`` for small ``|x|`` by its Taylor series.

    ``(x cos x - sin x) / x^2`` cancels: at ``x = 1e-3`` it keeps only about
    ten digits, so the series ``sum_k (-1)^k 2k x^(2k-1) / (2k+1)!`` is used
    (each term ``x^2 / 4k^2`` of the last, so a few suffice for ``|x| < 0.1``).
    """
    return math.fsum(
        (-1) ** k * 2 * k * x ** (2 * k - 1) / math.factorial(2 * k + 1)
        for k in range(1, 12)
    )


def _rosen(x: Any) -> Any:
    """Rosenbrock's function along axis 0 (as :func:`scipy.optimize.rosen`)."""
    x = np.asarray(x)
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2, axis=0)


def _rosen_grad(x: ArrayLike) -> NDArray[np.float64]:
    """Exact gradient of :func:`_rosen` (SciPy's ``rosen_der``, closed form)."""
    from scipy.optimize import rosen_der

    return np.asarray(rosen_der(np.asarray(x, dtype=float)), dtype=float)


def _rosen_hess(x: ArrayLike) -> NDArray[np.float64]:
    """Exact Hessian of :func:`_rosen` (SciPy's ``rosen_hess``, closed form)."""
    from scipy.optimize import rosen_hess

    return np.asarray(rosen_hess(np.asarray(x, dtype=float)), dtype=float)


def _scilab_vectorized(x: Any) -> Any:
    """:func:`scilab_example` along axis 0: ``(3, ...)`` -> ``(2, ...)``."""
    x = np.asarray(x)
    return np.stack(
        [np.sin(x[0] * x[1]) + np.exp(x[1] * x[2] + x[0]), np.sum(x**3, axis=0)]
    )


def _mixed_scales(x: Any) -> Any:
    """``log x0 + x1 sqrt(x2) + sin x1``: components of very different scales."""
    x = np.asarray(x)
    return np.log(x[0]) + x[1] * np.sqrt(x[2]) + np.sin(x[1])


def _big_offset(x: Any) -> Any:
    """``1e10 + sin x``: the derivative is 1e-10 of the value (round-off bound)."""
    return 1e10 + np.sin(x)


_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's finaliser: a well-mixed 64-bit hash, wrapping arithmetic."""
    z = z ^ (z >> np.uint64(30))
    z = z * np.uint64(0xBF58476D1CE4E5B9)
    z = z ^ (z >> np.uint64(27))
    z = z * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def noise(x: ArrayLike) -> NDArray[np.float64]:
    """A reproducible N(0, 1)-like value for each float `x` (a hash of its bits).

    The same float always gives the same value, neighbouring floats give
    unrelated ones: a model of an ``f`` whose last digits are noise.  The sum
    of four uniforms from chained SplitMix64 hashes, centred and scaled to
    unit variance (Irwin–Hall), so ``|noise| <= 2 sqrt(3)``.

    Examples
    --------
    >>> import numpy as np
    >>> from numderiv.testing import noise
    >>> bool(noise(1.0) == noise(np.array([1.0]))[0])
    True
    >>> z = noise(np.linspace(0, 1, 10**5))
    >>> bool(abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02)
    True
    """
    xa = np.asarray(x, dtype=np.float64)
    bits = np.ascontiguousarray(xa).reshape(-1).view(np.uint64)
    total = np.zeros(bits.shape)
    z = bits
    with np.errstate(over="ignore"):
        for k in range(4):
            z = _splitmix(
                z + np.uint64(0x9E3779B97F4A7C15 * (k + 1) & 0xFFFFFFFFFFFFFFFF)
            )
            total += (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return ((total - 2.0) * math.sqrt(3.0)).reshape(xa.shape)


def _noisy_sin(x: Any) -> Any:
    """``sin x + 1e-10 noise(x)``: noise 1e-10, far above round-off."""
    return np.sin(x) + 1e-10 * noise(x)


_SIN_POINTS = np.linspace(-3.0, 3.0, 1000)
_ROSEN2_X = np.array([0.5, 1.5])
_ROSEN100_X = np.linspace(-1.2, 1.2, 100)
_SCILAB_X = np.array([1.0, 2.0, 3.0])
_MIXED_X = np.array([1e-6, 1.0, 1e6])
_E = math.e
_EXP_N_DIGITS = {2: 11.8, 3: 11.4, 4: 8.6, 5: 8.4, 6: 7.5}
_SIN_N_DIGITS = {2: 12.6, 3: 10.6, 4: 10.5, 5: 8.8, 6: 7.1}


PEER_PROBLEMS: tuple[Problem, ...] = (
    Problem("exp'(1)", "derivative", np.exp, 1.0, _E, 1, 13, 15),
    Problem("exp''(1)", "derivative", np.exp, 1.0, _E, 2, 12, 16),
    Problem(
        "(sin x/x)' at 1e-3",
        "derivative",
        _sinc,
        1e-3,
        _dsinc(1e-3),
        1,
        11,
        15,
        "sin(x)/x written plainly; f' = -x/3 + x^3/30 - ... near 0",
    ),
    Problem(
        "(sin x/x)' at 0",
        "derivative",
        _sinc,
        0.0,
        0.0,
        1,
        14,
        None,
        "f(0) is NaN (0/0); exact 0, absolute error <= 1e-14",
    ),
    Problem("log'(0.01)", "derivative", np.log, 0.01, 100.0, 1, 12, 15),
    Problem(
        "sin' at 1000 points",
        "derivative",
        np.sin,
        _SIN_POINTS,
        np.cos(_SIN_POINTS),
        1,
        13,
        15,
        "x = linspace(-3, 3, 1000), one elementwise call per stencil point; "
        "nfev per point",
    ),
    Problem(
        "Rosenbrock n=2 gradient",
        "gradient",
        _rosen,
        _ROSEN2_X,
        np.array([-251.0, 250.0]),
        1,
        14,
        31,
        "at [0.5, 1.5]",
    ),
    Problem(
        "Rosenbrock n=2 Hessian",
        "hessian",
        _rosen,
        _ROSEN2_X,
        np.array([[-298.0, -200.0], [-200.0, 200.0]]),
        2,
        13,
        61,
        "at [0.5, 1.5]",
    ),
    Problem(
        "Rosenbrock n=100 gradient",
        "gradient",
        _rosen,
        _ROSEN100_X,
        _rosen_grad(_ROSEN100_X),
        1,
        13,
        1500,
        "at linspace(-1.2, 1.2, 100); exact: scipy.optimize.rosen_der",
    ),
    Problem(
        "Rosenbrock n=100 dense Hessian",
        "hessian",
        _rosen,
        _ROSEN100_X,
        _rosen_hess(_ROSEN100_X),
        2,
        12,
        60000,
        "at linspace(-1.2, 1.2, 100), no sparsity given; exact: "
        "scipy.optimize.rosen_hess",
    ),
    Problem(
        "Scilab f Jacobian",
        "jacobian",
        _scilab_vectorized,
        _SCILAB_X,
        scilab_example_jacobian(_SCILAB_X),
        1,
        13,
        45,
        "scilab_example at [1, 2, 3], shape (2, 3)",
    ),
    Problem(
        "Scilab f Hessians",
        "hessian",
        _scilab_vectorized,
        _SCILAB_X,
        scilab_example_hessian(_SCILAB_X),
        2,
        12,
        135,
        "both outputs, shape (2, 3, 3)",
    ),
    *(
        Problem(f"exp^({k})(1)", "derivative", np.exp, 1.0, _E, k, d)
        for k, d in _EXP_N_DIGITS.items()
    ),
    *(
        Problem(
            f"sin^({k})(1)", "derivative", np.sin, 1.0, float(_sin_cycle(1.0, k)), k, d
        )
        for k, d in _SIN_N_DIGITS.items()
    ),
    Problem(
        "sin'(1e8)",
        "derivative",
        np.sin,
        1e8,
        math.cos(1e8),
        1,
        11,
        None,
        "large x: the step scales with |x|",
    ),
    Problem(
        "log'(1e-8)",
        "derivative",
        np.log,
        1e-8,
        1e8,
        1,
        10,
        None,
        "small x near a singularity: the step must not reach 0",
    ),
    Problem(
        "gradient of log x0 + x1 sqrt(x2) + sin x1",
        "gradient",
        _mixed_scales,
        _MIXED_X,
        np.array([1e6, 1e3 + math.cos(1.0), 0.5e-3]),
        1,
        10,
        None,
        "at [1e-6, 1, 1e6]: one step per component's scale; digits per component",
        componentwise=True,
    ),
    Problem(
        "(1e10 + sin x)' at 1",
        "derivative",
        _big_offset,
        1.0,
        math.cos(1.0),
        1,
        4,
        None,
        "|f| = 1e10 |f'|: round-off bound",
    ),
    Problem(
        "(sin x + 1e-10 noise)' at 1",
        "derivative",
        _noisy_sin,
        1.0,
        math.cos(1.0),
        1,
        8.5,
        None,
        "noise(x): reproducible N(0,1)-like hash of the float bits",
        complex_ok=False,
    ),
)
"""The problems of the peer accuracy benchmark, with exact answers."""
