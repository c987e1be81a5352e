"""Error against step: the data behind ``nd.plot.step_error`` and ``numderiv steps``.

A finite difference at step ``h`` has a truncation error that grows like
``h**p`` (``p`` the accuracy order) and a round-off error that grows like
``eps |f| / h**n``; plotted against ``h`` on log axes their sum is the
classic V (Scilab's ``numderivative`` help page draws it for ``sqrt`` at 1).
:func:`step_scan` computes that curve with the library's own stencils, each
estimate a call of :func:`numderiv.derivative` at a fixed ``abs_step``, and
beside it the step and error estimate that :func:`numderiv.derivative`
chooses by itself, so that the two can be compared.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._functions import derivative
from ._validate import MAX_DERIV, _is_int, _short, check_callable, check_method_order

__all__ = ["DEFAULT_METHODS", "ScanLine", "StepScan", "step_scan"]

#: The methods scanned by default.
DEFAULT_METHODS = ("forward", "central", "complex")
#: The methods that take a fixed step (``"adaptive"`` searches its own).
SCAN_METHODS = ("forward", "backward", "central", "complex")
#: Default steps: ``NSTEPS`` log-spaced from ``10**LO`` to ``10**HI`` times
#: ``max(1, |x|)``.
NSTEPS, LO, HI = 30, -16.0, -1.0


@dataclass(frozen=True)
class ScanLine:
    """One method and order of a :class:`StepScan`.

    Attributes
    ----------
    method : str
        The method (``"forward"``, ``"backward"``, ``"central"``,
        ``"complex"``).
    order : int
        The accuracy order of the stencil.
    steps : ndarray
        The step actually taken at each scanned step, ``(x + h) - x`` as
        reported by :func:`numderiv.derivative` (NaN where ``x + h == x``:
        that step cannot be taken, and is not scanned).
    estimates : ndarray
        The derivative at each step (NaN where not scanned).
    errors : ndarray
        ``|estimate - exact|`` when the scan was given ``exact``; otherwise
        ``|estimate[i] - estimate[i + 1]|``, the change to the next step (the
        last entry is NaN).  :attr:`StepScan.error_kind` says which.
    statuses : ndarray
        The :class:`~numderiv.Info` status of each fixed-step estimate
        (``0`` where not scanned).
    chosen_step : float
        The step :func:`numderiv.derivative` takes by default for this
        method and order (its ``info.step``).
    chosen_value : float
        The derivative it returns at that step.
    chosen_error : float
        Its error estimate (``info.error``).
    chosen_status : int
        Its status (``info.status``); ``-3`` (no value) where the method
        failed.
    failure : str or None
        ``None``, or why the method could not be scanned (for example a
        complex step on an ``f`` that refuses complex input), as
        ``"ExceptionType: message"``; every array is then NaN.
    """

    method: str
    order: int
    steps: NDArray[np.float64]
    estimates: NDArray[np.float64]
    errors: NDArray[np.float64]
    statuses: NDArray[np.int_]
    chosen_step: float
    chosen_value: float
    chosen_error: float
    chosen_status: int
    failure: str | None = None

    @property
    def label(self) -> str:
        """``"central, order 2"``: how plots and tables name the line."""
        return f"{self.method}, order {self.order}"


@dataclass(frozen=True)
class StepScan:
    """The result of :func:`step_scan`.

    Attributes
    ----------
    x : float
        The point.
    n : int
        The derivative order.
    steps : ndarray
        The steps requested, increasing.
    exact : float or None
        The exact derivative, when given.
    error_kind : {"exact", "successive"}
        ``"exact"``: each line's ``errors`` are ``|estimate - exact|``;
        ``"successive"``: they are the change between successive steps,
        ``|D(h[i]) - D(h[i+1])|``, an error indicator that needs no exact
        value (it follows the true error where one step's error dominates
        the next one's).
    lines : tuple of ScanLine
        One per method and order, in the order asked for.
    """

    x: float
    n: int
    steps: NDArray[np.float64]
    exact: float | None
    error_kind: str
    lines: tuple[ScanLine, ...]

    def line(self, method: str, order: int | None = None) -> ScanLine:
        """The line of `method` (and `order`; the first of `method` if None)."""
        for ln in self.lines:
            if ln.method == method and (order is None or ln.order == order):
                return ln
        have = [(ln.method, ln.order) for ln in self.lines]
        raise KeyError(f"no line for method={method!r}, order={order!r}; have {have}")

    def true_error(self, line: ScanLine) -> float:
        """``|line.chosen_value - exact|``, or NaN when no exact value was given."""
        if self.exact is None:
            return math.nan
        return abs(line.chosen_value - self.exact)


def _check_steps(steps: Any, x: float) -> NDArray[np.float64]:
    if steps is None:
        return np.logspace(LO, HI, NSTEPS) * max(1.0, abs(x))
    try:
        h = np.asarray(steps, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"steps must be a 1-D array of positive numbers, got {_short(steps)}"
        ) from None
    if h.ndim != 1 or h.size < 2:
        raise ValueError(
            f"steps must be a 1-D array of at least 2 steps, got shape {h.shape}"
        )
    if not np.all(np.isfinite(h) & (h > 0)):
        bad = h[~(np.isfinite(h) & (h > 0))][0]
        raise ValueError(f"steps must be finite and positive, got {float(bad)!r}")
    return np.unique(h)  # sorted, each once: "successive" needs an order


def _pairs(methods: Any, orders: Any, n: int) -> list[tuple[str, int]]:
    if isinstance(methods, str):
        methods = (methods,)
    try:
        methods = tuple(methods)
    except TypeError:
        raise TypeError(
            f"methods must be a method name or a sequence of them, got {_short(methods)}"
        ) from None
    if not methods:
        raise ValueError("methods must name at least one method, got ()")
    for m in methods:
        if m == "adaptive":
            raise ValueError(
                "methods: 'adaptive' searches its own steps and has no fixed-step "
                "estimate to scan; use 'forward', 'backward', 'central' or 'complex'"
            )
        if not isinstance(m, str) or m not in SCAN_METHODS:
            raise ValueError(f"methods must be among {SCAN_METHODS}, got {_short(m)}")
    out: list[tuple[str, int]] = []
    for m in methods:
        o = orders.get(m) if isinstance(orders, Mapping) else orders
        if o is None:
            olist: Sequence[Any] = [None]
        elif _is_int(o):
            olist = [o]
        elif isinstance(o, (list, tuple, np.ndarray)):
            olist = list(o)
        else:
            raise TypeError(
                f"orders must be None, an integer, a sequence of integers or a "
                f"mapping from method to those, got {_short(orders)}"
            )
        for oo in olist:
            try:
                pair = check_method_order(m, oo, n)
            except (TypeError, ValueError) as e:
                raise type(e)(f"orders: {e}") from None
            if pair not in out:
                out.append(pair)
    return out


def step_scan(
    f: Callable[..., Any],
    x: float,
    *,
    n: int = 1,
    methods: str | Sequence[str] = DEFAULT_METHODS,
    orders: int | Sequence[int] | Mapping[str, Any] | None = None,
    steps: ArrayLike | None = None,
    exact: float | None = None,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
) -> StepScan:
    """The error of the `n`-th derivative of `f` at `x` against the step.

    Parameters
    ----------
    f : callable
        A scalar function of one variable, ``f(x, *args, **kwargs)``, called
        as :func:`numderiv.derivative` calls it (on NumPy arrays).
    x : float
        The point, a real scalar (computed in float64).  For a function of several variables, scan
        its restriction to a line, ``lambda t: g(x0 + t * v)`` at ``t = 0``
        (the directional derivative along ``v``); a vector `x` is refused.
    n : int, optional
        Derivative order (default 1).
    methods : str or sequence of str, optional
        Methods to scan, among ``"forward"``, ``"backward"``, ``"central"``
        and ``"complex"`` (default ``("forward", "central", "complex")``).
        ``"adaptive"`` chooses its own steps and is refused.
    orders : int, sequence of int or mapping, optional
        Accuracy orders: one or several for every method, or a mapping from
        method to its order(s), e.g. ``{"central": (2, 4), "forward": 1}``.
        Default (and for a method missing from the mapping): the method's
        default order, as in :func:`numderiv.derivative`.
    steps : array_like, optional
        Steps to scan (positive; sorted, each once).  Default: 30 steps
        log-spaced from ``1e-16 * max(1, |x|)`` to ``1e-1 * max(1, |x|)``.
    exact : float, optional
        The exact derivative.  With it each error is ``|estimate - exact|``;
        without it, the change between successive steps.
    args, kwargs : optional
        Extra arguments of `f`.

    Returns
    -------
    StepScan
        The steps, one :class:`ScanLine` per method and order (estimates,
        errors, and the step, value and error estimate that
        :func:`numderiv.derivative` picks by itself), and which error it is.

    Raises
    ------
    TypeError, ValueError
        For a bad `f`, `x`, `n`, `methods`, `orders`, `steps` or `exact`; and
        the exception of `f` when every method fails.

    Notes
    -----
    Each estimate is ``derivative(f, x, n=n, method=m, order=o,
    abs_step=h, full_output=True)``: the stencils scanned are exactly the
    library's.  A step with ``x + h == x`` cannot be taken by a real-step
    stencil and is not scanned (NaN); the complex step of a first
    derivative, ``Im f(x + i h) / h``, has no such limit.  A method that
    fails (typically ``"complex"`` on an ``f`` that does not accept complex
    input) is reported in its line's ``failure`` rather than stopping the
    scan; only if every method fails is the first exception raised.

    Cost: per method and order, one default call plus one full-output call
    per step, each a few evaluations of `f` (about 30 x 3 x 5 = 450 for
    the defaults).

    Examples
    --------
    Scilab's example: the derivative of ``sqrt`` at 1, exact value 1/2.

    >>> import numpy as np
    >>> from numderiv._scan import step_scan
    >>> s = step_scan(np.sqrt, 1.0, methods="forward", exact=0.5)
    >>> line = s.line("forward")
    >>> s.error_kind, line.label, s.steps.size
    ('exact', 'forward, order 1', 30)
    >>> i = np.searchsorted(s.steps, 1e-8)  # near sqrt(eps), the bottom of the V
    >>> bool(line.errors[i] < 1e-7 < line.errors[-1])  # truncation on the right
    True
    >>> bool(np.nanmax(line.errors[s.steps < 1e-12]) > 1e-5)  # round-off on the left
    True
    >>> bool(abs(line.chosen_value - 0.5) <= line.chosen_error)
    True
    """
    check_callable(f)
    if isinstance(x, (bool, np.bool_)) or not isinstance(
        x, (int, float, np.integer, np.floating, np.ndarray)
    ):
        raise TypeError(f"x must be a real scalar, got {_short(x)}")
    xa = np.asarray(x)
    if xa.ndim != 0 or not np.issubdtype(xa.dtype, np.number) or np.iscomplexobj(xa):
        raise ValueError(
            f"x must be a real scalar (for several variables, scan "
            f"lambda t: f(x0 + t * v) at t = 0), got {_short(x)}"
        )
    xf = float(xa)
    if not math.isfinite(xf):
        raise ValueError(f"x must be finite, got {xf!r}")
    if not _is_int(n) or n < 1 or n > MAX_DERIV[np.dtype(np.float64)]:
        raise ValueError(
            f"n must be an integer from 1 to {MAX_DERIV[np.dtype(np.float64)]} "
            f"(derivative order), got {_short(n)}"
        )
    n = int(n)
    pairs = _pairs(methods, orders, n)
    h = _check_steps(steps, xf)
    ex: float | None = None
    if exact is not None:
        if isinstance(exact, (bool, np.bool_)) or not isinstance(
            exact, (int, float, np.integer, np.floating)
        ):
            raise TypeError(f"exact must be a real number or None, got {_short(exact)}")
        ex = float(exact)
        if not math.isfinite(ex):
            raise ValueError(f"exact must be finite, got {ex!r}")
    kw = {} if kwargs is None else dict(kwargs)
    # (x + h) - x: the step a real stencil really takes (0: lost to rounding)
    taken = (xf + h) - xf
    lines: list[ScanLine] = []
    first_exc: Exception | None = None
    for m, o in pairs:
        nan = np.full(h.shape, np.nan)
        try:
            d0, info = derivative(
                f, xf, n=n, method=m, order=o, args=args, kwargs=kw, full_output=True
            )
            est, stp = nan.copy(), nan.copy()
            stat = np.zeros(h.shape, dtype=np.int_)
            exact_step = m == "complex" and n == 1  # imaginary offsets: any h
            for i, hi in enumerate(h):
                if taken[i] == 0 and not exact_step:
                    continue
                di, ii = derivative(
                    f,
                    xf,
                    n=n,
                    method=m,
                    order=o,
                    abs_step=hi,
                    args=args,
                    kwargs=kw,
                    full_output=True,
                )
                est[i], stp[i], stat[i] = float(di), float(ii.step), int(ii.status)
        except Exception as e:  # f's own failure on this method: reported
            if first_exc is None:
                first_exc = e
            lines.append(
                ScanLine(
                    m,
                    o,
                    nan,
                    nan,
                    nan,
                    np.zeros(h.shape, dtype=np.int_),
                    math.nan,
                    math.nan,
                    math.nan,
                    -3,
                    failure=f"{type(e).__name__}: {e}",
                )
            )
            continue
        if ex is not None:
            err = np.abs(est - ex)
        else:
            err = np.append(np.abs(np.diff(est)), np.nan)
        lines.append(
            ScanLine(
                m,
                o,
                stp,
                est,
                err,
                stat,
                float(info.step),
                float(d0),
                float(info.error),
                int(info.status),
            )
        )
    if first_exc is not None and all(ln.failure for ln in lines):
        raise first_exc
    return StepScan(
        xf, n, h, ex, "exact" if ex is not None else "successive", tuple(lines)
    )
