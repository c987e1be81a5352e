"""Finite-difference stencils and Fornberg's weights.

One weight generator serves the whole package: :func:`_fornberg` runs
Fornberg's recursion on any number type that has ``+``, ``-``, ``*`` and
``/``.  On :class:`fractions.Fraction` it gives exact rational weights (used
for every stencil with integer or rational offsets, and cached); on float
arrays it runs vectorised over many stencils at once (used for non-uniform
grids, where each point has its own nodes).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Stencil", "fornberg_weights"]

Kind = Literal["central", "forward", "backward"]


def _fornberg(z: Any, x: Sequence[Any], m: int, zero: Any, one: Any) -> list[list[Any]]:
    """Fornberg's recursion, generic over the number type.

    Parameters
    ----------
    z : number or ndarray
        Expansion point (an array runs many independent stencils at once).
    x : sequence
        The nodes; each element is a number or an array broadcastable with `z`.
    m : int
        Highest derivative order.
    zero, one : number or ndarray
        The additive and multiplicative identities of the number type.

    Returns
    -------
    c : list of lists
        ``c[k][i]`` is the weight of node ``i`` for the ``k``-th derivative.

    Notes
    -----
    This is the algorithm of Fornberg (1988) in the form of Fornberg (1998):
    for each new node it updates the weights of all earlier nodes with one
    division by the node distance, so it costs O(m N^2) operations and never
    forms or solves a Vandermonde system (whose condition number grows
    exponentially with N).
    """
    npts = len(x)
    c: list[list[Any]] = [[zero] * npts for _ in range(m + 1)]
    c[0][0] = one
    c1 = one
    c4 = x[0] - z
    for i in range(1, npts):
        mn = min(i, m)
        c2 = one
        c5 = c4
        c4 = x[i] - z
        for j in range(i):
            c3 = x[i] - x[j]
            c2 = c2 * c3
            if j == i - 1:
                for k in range(mn, 0, -1):
                    c[k][i] = c1 * (k * c[k - 1][i - 1] - c5 * c[k][i - 1]) / c2
                c[0][i] = -c1 * c5 * c[0][i - 1] / c2
            for k in range(mn, 0, -1):
                c[k][j] = (c4 * c[k][j] - k * c[k - 1][j]) / c3
            c[0][j] = c4 * c[0][j] / c3
        c1 = c2
    return c


def fornberg_weights(x0: float, nodes: ArrayLike, m: int) -> NDArray[np.float64]:
    """Finite-difference weights on arbitrary nodes, by Fornberg's algorithm.

    Parameters
    ----------
    x0 : float
        The point at which the derivatives are approximated.
    nodes : array_like, shape (N,)
        Distinct node locations (any order, any spacing).
    m : int
        Highest derivative order wanted, ``0 <= m < N``.

    Returns
    -------
    w : ndarray, shape (m + 1, N)
        Row ``k`` holds the weights of the ``k``-th derivative at `x0`:
        ``f^(k)(x0) ≈ w[k] @ f(nodes)``.

    Raises
    ------
    ValueError
        If `m` is negative or not smaller than the number of nodes, if the
        nodes are not finite and distinct, or if the weights are not
        representable in float64 (they overflow: `x0` far outside the
        nodes, or the spread of the nodes overflowing or too small for the
        derivative order).

    Notes
    -----
    The recursion costs O(m N^2) operations and is numerically stable for
    large N, unlike a Vandermonde solve.  When `x0` and all nodes are
    integers the weights are computed in exact rational arithmetic (and
    cached) and rounded once, so they are correctly rounded.  Otherwise
    nodes of huge or tiny spread (``1e300``, ``1e-300``) are scaled by a
    power of two for the recursion (the k-th row scales as
    ``spread**-k``), so intermediate results neither overflow nor
    underflow; weights too small for float64 round to zero.

    References
    ----------
    .. [1] B. Fornberg, "Generation of finite difference formulas on
       arbitrarily spaced grids", Math. Comp. 51 (1988), 699-706.
    .. [2] B. Fornberg, "Calculation of weights in finite difference
       formulas", SIAM Review 40 (1998), 685-691.

    Examples
    --------
    >>> import numderiv as nd
    >>> nd.fornberg_weights(0, [-1, 0, 1], 2)
    array([[ 0. ,  1. ,  0. ],
           [-0.5,  0. ,  0.5],
           [ 1. , -2. ,  1. ]])
    """
    pts = np.asarray(nodes, dtype=float)
    if pts.ndim != 1:
        raise ValueError(f"nodes must be one-dimensional, got shape {pts.shape}")
    if not isinstance(m, (int, np.integer)) or isinstance(m, bool) or m < 0:
        raise ValueError(f"m must be a non-negative integer, got {m!r}")
    if m >= pts.size:
        raise ValueError(
            f"m={m} needs at least {m + 1} nodes, got {pts.size} (nodes={pts.tolist()})"
        )
    x0f = float(x0)
    if not (np.all(np.isfinite(pts)) and math.isfinite(x0f)):
        raise ValueError(
            f"x0 and nodes must be finite, got x0={x0!r}, nodes={pts.tolist()}"
        )
    if np.unique(pts).size != pts.size:
        raise ValueError(f"nodes must be distinct, got {pts.tolist()}")
    where = f"x0={x0!r}, nodes={pts.tolist()}, m={m}"
    if x0f.is_integer() and np.all(pts == np.round(pts)):
        shift = int(x0f)
        exact = _exact_weights(tuple(int(p) - shift for p in pts), int(m))
        try:
            return np.array([[float(w) for w in row] for row in exact])
        except OverflowError:
            raise ValueError(
                f"the weights overflow float64 (x0 far outside the nodes?): {where}"
            ) from None
    with np.errstate(over="ignore"):
        spread = float(np.max(pts) - np.min(pts))
        far = float(max(np.max(np.abs(pts)), abs(x0f)))
    if not math.isfinite(spread):
        raise ValueError(f"the spread of the nodes overflows float64: {where}")
    # The weights of the k-th derivative scale as spread**-k: for spreads or
    # magnitudes far from 1, run the recursion on nodes scaled by a power of
    # two (exact), then scale back, so no intermediate over- or underflows.
    # Near 1 nothing is scaled, and the weights are bit for bit the same.
    e = 0
    if not (2.0**-400 <= spread <= 2.0**400 and far <= 2.0**400):
        e = math.frexp(spread)[1]
    try:
        c = _fornberg(
            math.ldexp(x0f, -e),
            [math.ldexp(float(p), -e) for p in pts],
            int(m),
            0.0,
            1.0,
        )
    except (ZeroDivisionError, OverflowError):
        c = [[math.inf]]
    w = np.array(c, dtype=float)
    if e:
        with np.errstate(over="ignore", under="ignore"):
            w = np.ldexp(w, -e * np.arange(m + 1)[:, None])
    if not np.all(np.isfinite(w)):
        raise ValueError(
            f"the weights overflow float64 (x0 far outside the nodes, or nodes "
            f"too close together for derivative {m}): {where}"
        )
    return w


# Points per call of the vectorised recursion in :func:`fornberg_rows`: its
# temporaries (a few arrays per node and order) stay in cache instead of
# being as long as the grid.
_FORNBERG_CHUNK = 1 << 14


def fornberg_rows(
    x0: NDArray[Any], nodes: NDArray[Any], m: int, *, all_orders: bool = False
) -> NDArray[np.float64]:
    """Float weights of many stencils at once: the one vectorised weight path.

    ``x0`` has shape ``(P,)`` and ``nodes`` shape ``(P, N)``: stencil ``p``
    approximates derivatives at ``x0[p]`` from the nodes ``nodes[p]``.  The
    recursion :func:`_fornberg` runs on float arrays of the stencils, one
    chunk of points at a time so that its temporaries stay in cache, instead
    of P times in Python.  Used by :mod:`numderiv.grid` on non-uniform grids,
    where every point has its own nodes.

    Returns the weights of the m-th derivative with shape ``(N, P)`` (column
    ``p`` holds stencil ``p``: the layout the grid engine applies), or with
    ``all_orders=True`` those of derivatives ``0..m``, shape ``(m + 1, N, P)``.
    """
    x0 = np.asarray(x0, dtype=np.float64)
    nodes = np.asarray(nodes, dtype=np.float64)
    npts, nn = nodes.shape
    first = 0 if all_orders else m
    out = np.empty((m + 1 - first, nn, npts))
    for s in range(0, npts, _FORNBERG_CHUNK):
        e = min(npts, s + _FORNBERG_CHUNK)
        cols = [nodes[s:e, j] for j in range(nn)]
        c = _fornberg(x0[s:e], cols, m, np.zeros(e - s), np.ones(e - s))
        for k in range(first, m + 1):
            for j, wj in enumerate(c[k]):
                out[k - first, j, s:e] = wj
    return out if all_orders else out[0]


def _fornberg_batch(
    x0: NDArray[Any], nodes: NDArray[Any], m: int
) -> NDArray[np.float64]:
    """:func:`fornberg_rows` for derivatives ``0..m`` as shape ``(P, m + 1, N)``."""
    return np.moveaxis(fornberg_rows(x0, nodes, m, all_orders=True), -1, 0)


@functools.lru_cache(maxsize=4096)
def _exact_weights(
    offsets: tuple[Fraction | int, ...], m: int
) -> tuple[tuple[Fraction, ...], ...]:
    """Exact rational weights of derivatives 0..m at 0 for rational offsets (cached)."""
    xs = [Fraction(o) for o in offsets]
    c = _fornberg(Fraction(0), xs, m, Fraction(0), Fraction(1))
    return tuple(tuple(row) for row in c)


def _kind_offsets(kind: str, deriv: int, order: int) -> tuple[int, ...]:
    """Integer offsets of the standard stencil of a kind, derivative and order."""
    if kind == "central":
        # 2*floor((d+1)/2) - 1 + p points, symmetric about 0
        half = (2 * ((deriv + 1) // 2) - 1 + order) // 2
        return tuple(range(-half, half + 1))
    if kind == "forward":
        return tuple(range(deriv + order))
    if kind == "backward":
        return tuple(-k for k in range(deriv + order))
    raise ValueError(f"kind must be 'central', 'forward' or 'backward', got {kind!r}")


def _check_deriv_order(kind: str, deriv: int, order: int) -> None:
    if not isinstance(deriv, (int, np.integer)) or isinstance(deriv, bool) or deriv < 0:
        raise ValueError(
            f"derivative order must be a non-negative integer, got {deriv!r}"
        )
    if not isinstance(order, (int, np.integer)) or isinstance(order, bool) or order < 1:
        raise ValueError(f"order must be a positive integer, got {order!r}")
    if kind == "central" and order % 2:
        raise ValueError(
            f"order must be even for central differences, got order={order}"
        )


@dataclass(frozen=True)
class Stencil:
    """An immutable finite-difference stencil.

    A stencil approximates the ``deriv``-th derivative as
    ``f^(deriv)(x) ≈ sum_k weights[k] * f(x + offsets[k] * h) / h**deriv``
    with a truncation error ``error_constant * h**order * f^(deriv+order)(x)``.

    Build one with :meth:`central`, :meth:`forward`, :meth:`backward` or
    :meth:`from_offsets`; these are cached, so building the same stencil twice
    is free.  Weights are exact rationals (:class:`fractions.Fraction`);
    :attr:`coefficients` gives them as floats.  Offsets whose weight is zero
    are dropped (the central first derivative does not use ``f(x)``).

    Parameters
    ----------
    offsets : tuple of Fraction
        Node offsets in units of the step ``h``.
    weights : tuple of Fraction
        Exact weights, one per offset.
    deriv : int
        Derivative order.
    order : int
        Accuracy order: the truncation error is ``O(h**order)``.
    error_constant : Fraction
        Leading truncation-error coefficient ``C``: the error is
        ``C * h**order * f^(deriv+order)(x) + O(h**(order+1))``.
    kind : str
        ``"central"``, ``"forward"``, ``"backward"`` or ``"custom"``.

    Examples
    --------
    >>> import numderiv as nd
    >>> s = nd.Stencil.central(1, 4)
    >>> s
    Stencil(deriv=1, order=4, kind='central', offsets=(-2, -1, 1, 2), weights=(1/12, -2/3, 2/3, -1/12), error_constant=-1/30)
    >>> import numpy as np
    >>> round(float(s(np.sin, 0.0, 0.01)), 12)
    1.0
    """

    offsets: tuple[Fraction, ...]
    weights: tuple[Fraction, ...]
    deriv: int
    order: int
    error_constant: Fraction
    kind: str = "custom"
    coefficients: NDArray[np.float64] = field(init=False, repr=False, compare=False)
    nodes: NDArray[np.float64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        coef = np.array([float(w) for w in self.weights])
        nodes = np.array([float(o) for o in self.offsets])
        coef.flags.writeable = False
        nodes.flags.writeable = False
        object.__setattr__(self, "coefficients", coef)
        object.__setattr__(self, "nodes", nodes)

    def __hash__(self) -> int:
        return hash((self.offsets, self.weights, self.deriv))

    def __repr__(self) -> str:
        def fmt(q: Fraction) -> str:
            return (
                str(q.numerator)
                if q.denominator == 1
                else f"{q.numerator}/{q.denominator}"
            )

        offs = ", ".join(fmt(o) for o in self.offsets)
        ws = ", ".join(fmt(w) for w in self.weights)
        comma = "," if len(self.offsets) == 1 else ""
        return (
            f"Stencil(deriv={self.deriv}, order={self.order}, kind={self.kind!r}, "
            f"offsets=({offs}{comma}), weights=({ws}{comma}), "
            f"error_constant={fmt(self.error_constant)})"
        )

    @property
    def uses_center(self) -> bool:
        """Whether ``f(x)`` itself (offset 0) carries a weight."""
        return any(o == 0 for o in self.offsets)

    @property
    def abs_weight_sum(self) -> float:
        """``sum |w_k|``: the round-off amplification of the stencil."""
        return float(sum(abs(w) for w in self.weights))

    @property
    def span(self) -> tuple[Fraction, Fraction]:
        """Smallest and largest offset."""
        return min(self.offsets), max(self.offsets)

    @staticmethod
    @functools.lru_cache(maxsize=1024)
    def from_offsets(
        offsets: tuple[Any, ...], deriv: int, kind: str = "custom"
    ) -> Stencil:
        """Stencil of the `deriv`-th derivative on the given rational offsets.

        The accuracy order is found from the moments of the weights, so
        symmetric stencils report their extra order (the 3-point second
        difference is order 2, not 1).

        Examples
        --------
        >>> import numderiv as nd
        >>> nd.Stencil.from_offsets((0, 1, 2), 1)
        Stencil(deriv=1, order=2, kind='custom', offsets=(0, 1, 2), weights=(-3/2, 2, -1/2), error_constant=-1/3)
        """
        offs = tuple(Fraction(o) for o in offsets)
        if len(set(offs)) != len(offs):
            raise ValueError(f"offsets must be distinct, got {offsets!r}")
        if (
            not isinstance(deriv, (int, np.integer))
            or isinstance(deriv, bool)
            or deriv < 0
        ):
            raise ValueError(f"deriv must be a non-negative integer, got {deriv!r}")
        if len(offs) <= deriv:
            raise ValueError(
                f"deriv={deriv} needs at least {deriv + 1} offsets, got {len(offs)}"
            )
        w = _exact_weights(offs, int(deriv))[deriv]
        # leading error term: first moment q > deriv with sum w o^q != 0
        q = deriv + 1
        while True:
            mom = sum(wk * ok**q for wk, ok in zip(w, offs, strict=True))
            if mom != 0:
                break
            if q > len(offs) + deriv + 1:
                # only the unit weight at offset 0 (deriv=0) has all moments zero
                raise ValueError(
                    f"offsets {offsets!r} with deriv={deriv} give f(x) itself, exact "
                    "for every function: not a difference stencil"
                )
            q += 1
        keep = [(o, wk) for o, wk in zip(offs, w, strict=True) if wk != 0]
        return Stencil(
            offsets=tuple(o for o, _ in keep),
            weights=tuple(wk for _, wk in keep),
            deriv=int(deriv),
            order=q - int(deriv),
            error_constant=mom / math.factorial(q),
            kind=kind,
        )

    @staticmethod
    def central(deriv: int, order: int = 2) -> Stencil:
        """Central stencil of the `deriv`-th derivative with even accuracy `order`.

        Examples
        --------
        >>> import numderiv as nd
        >>> nd.Stencil.central(2, 2)
        Stencil(deriv=2, order=2, kind='central', offsets=(-1, 0, 1), weights=(1, -2, 1), error_constant=1/12)
        """
        _check_deriv_order("central", deriv, order)
        return Stencil.from_offsets(
            _kind_offsets("central", deriv, order), deriv, "central"
        )

    @staticmethod
    def forward(deriv: int, order: int = 1) -> Stencil:
        """Forward (one-sided, offsets ``0..deriv+order-1``) stencil.

        Examples
        --------
        >>> import numderiv as nd
        >>> nd.Stencil.forward(1, 1)
        Stencil(deriv=1, order=1, kind='forward', offsets=(0, 1), weights=(-1, 1), error_constant=1/2)
        """
        _check_deriv_order("forward", deriv, order)
        return Stencil.from_offsets(
            _kind_offsets("forward", deriv, order), deriv, "forward"
        )

    @staticmethod
    def backward(deriv: int, order: int = 1) -> Stencil:
        """Backward (one-sided, offsets ``0..-(deriv+order-1)``) stencil.

        Examples
        --------
        >>> import numderiv as nd
        >>> nd.Stencil.backward(1, 1)
        Stencil(deriv=1, order=1, kind='backward', offsets=(0, -1), weights=(1, -1), error_constant=-1/2)
        """
        _check_deriv_order("backward", deriv, order)
        return Stencil.from_offsets(
            _kind_offsets("backward", deriv, order), deriv, "backward"
        )

    @staticmethod
    def of_kind(kind: str, deriv: int, order: int) -> Stencil:
        """The stencil of `kind` (``"central"``, ``"forward"``, ``"backward"``)."""
        if kind not in ("central", "forward", "backward"):
            raise ValueError(
                f"kind must be 'central', 'forward' or 'backward', got {kind!r}"
            )
        _check_deriv_order(kind, deriv, order)
        return Stencil.from_offsets(_kind_offsets(kind, deriv, order), deriv, kind)

    def __call__(
        self, f: Callable[..., Any], x: ArrayLike, h: ArrayLike, *args: Any
    ) -> NDArray[Any]:
        """Apply the stencil to a broadcasting callable ``f`` at `x` with step `h`.

        ``sum_k w_k f(x + o_k h, *args) / h**deriv``; `f` is called once per
        offset on the whole array `x`.
        """
        xa = np.asarray(x, dtype=float)
        ha = np.asarray(h, dtype=float)
        acc: NDArray[Any] = np.zeros(np.broadcast(xa, ha).shape)
        for o, w in zip(self.nodes, self.coefficients, strict=True):
            acc = acc + w * np.asarray(f(xa + o * ha, *args))
        return acc / ha**self.deriv
