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
    "UNIVARIATE",
    "Univariate",
    "broyden_tridiagonal",
    "broyden_tridiagonal_jacobian",
    "broyden_tridiagonal_vectorized",
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
