"""Plots of numerical derivatives (the optional ``plot`` extra: matplotlib).

- :func:`step_error`: the V-shaped error against step of Scilab's
  ``numderivative`` help page, one line per method and order, with the step
  and error estimate that :func:`numderiv.derivative` chooses marked.
- :func:`convergence`: the truncation branch of the same curve, with the
  fitted slope of each order beside the order itself.
- :func:`grid_derivative`: sampled data, its derivative, and for
  :func:`numderiv.grid.smooth_derivative` the smoothed curve.
- :func:`draw_step_scan`: the drawing half of :func:`step_error`, for a
  :class:`~numderiv._scan.StepScan` already computed (``numderiv steps``).

Each function draws into ``ax=`` (default: a new figure) and returns the
matplotlib ``Axes``.  ``import numderiv`` does not import matplotlib; this
module is imported on first use of ``nd.plot`` and pyplot only when a new
figure is made.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

try:
    import matplotlib  # noqa: F401  (the check that the extra is installed)
except ImportError as _e:  # pragma: no cover - exercised with a fake import
    raise ImportError(
        'numderiv.plot needs matplotlib, the optional "plot" extra: '
        'pip install "numderiv[plot]"'
    ) from _e

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import grid as _grid
from ._scan import DEFAULT_METHODS, StepScan, step_scan
from ._validate import _short

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["convergence", "draw_step_scan", "grid_derivative", "step_error"]

_EPS = float(np.finfo(np.float64).eps)
_SUPERSCRIPTS = str.maketrans(
    "0123456789", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)


def _new_axes(ax: Any) -> Axes:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7.0, 4.8), layout="constrained")
        return ax
    from matplotlib.axes import Axes as _Axes

    if not isinstance(ax, _Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {_short(ax)}")
    return ax


def _dname(n: int) -> str:
    """``f'(x)``, ``f''(x)``, ``f^{(3)}(x)`` in mathtext."""
    return {1: "f'(x)", 2: "f''(x)"}.get(n, f"f^{{({n})}}(x)")


def _floor(scan: StepScan) -> float:
    """Where an error of exactly 0 is drawn on log axes.

    Half an ulp of the derivative, ``eps |f^(n)| / 2``: an estimate that
    equals the reference to the last bit is that close at worst.
    """
    ref = scan.exact
    if ref is None:
        ok = [ln.chosen_value for ln in scan.lines if ln.failure is None]
        ref = ok[0] if ok else 0.0
    if ref != 0 and math.isfinite(ref):
        return 0.5 * _EPS * abs(ref)
    pos = [
        float(np.nanmin(ln.errors[ln.errors > 0]))
        for ln in scan.lines
        if np.any(ln.errors > 0)
    ]
    return min(pos) / 10 if pos else _EPS


def draw_step_scan(scan: StepScan, *, ax: Axes | None = None) -> Axes:
    """Draw a :class:`~numderiv._scan.StepScan` as :func:`step_error` does.

    For a scan already computed (the ``numderiv steps`` command prints its
    table and draws it); see :func:`step_error` for what is drawn.

    Parameters
    ----------
    scan : StepScan
        From :func:`numderiv._scan.step_scan`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> import numderiv as nd
    >>> from numderiv._scan import step_scan
    >>> s = step_scan(np.exp, 1.0, methods="central", exact=np.e)
    >>> ax = nd.plot.draw_step_scan(s)
    >>> [t.get_text() for t in ax.get_legend().get_texts()][:1]
    ['central, order 2']
    >>> plt.close(ax.figure)
    """
    if not isinstance(scan, StepScan):
        raise TypeError(f"scan must be a StepScan, got {_short(scan)}")
    from matplotlib.lines import Line2D

    ax = _new_axes(ax)
    floor = _floor(scan)
    clipped = False
    handles: list[Any] = []
    for ln in scan.lines:
        if ln.failure is not None:
            reason = ln.failure.split(":", 1)[0]
            handles.append(
                Line2D([], [], color="none", label=f"{ln.label}: failed ({reason})")
            )
            continue
        err = ln.errors.copy()
        clipped |= bool(np.any(err == 0))
        err[err == 0] = floor
        (line,) = ax.plot(ln.steps, err, ".-", lw=1.2, ms=4, label=ln.label)
        line.set_gid(f"scan:{ln.method}:{ln.order}")
        handles.append(line)
        c = line.get_color()
        (est,) = ax.plot(
            [ln.chosen_step],
            [max(ln.chosen_error, floor)],
            "o",
            ms=9,
            mfc="none",
            mew=1.8,
            color=c,
            zorder=4,
        )
        est.set_gid(f"chosen-estimate:{ln.method}:{ln.order}")
        if scan.exact is not None:
            (tru,) = ax.plot(
                [ln.chosen_step],
                [max(scan.true_error(ln), floor)],
                "x",
                ms=8,
                mew=1.8,
                color=c,
                zorder=4,
            )
            tru.set_gid(f"chosen-true:{ln.method}:{ln.order}")
    handles.append(
        Line2D(
            [],
            [],
            ls="none",
            marker="o",
            mfc="none",
            mew=1.8,
            ms=9,
            color="0.3",
            label="default step: error estimate",
        )
    )
    if scan.exact is not None:
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker="x",
                mew=1.8,
                ms=8,
                color="0.3",
                label="default step: true error",
            )
        )
    if clipped:
        fl = ax.axhline(floor, color="0.6", ls=":", lw=1)
        fl.set_gid("floor")
        fl.set_label(r"error 0, drawn at $\epsilon\,|f^{(n)}|/2$")
        handles.append(fl)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("step $h$")
    d = _dname(scan.n)
    if scan.exact is not None:
        ax.set_ylabel(f"absolute error $|D(h) - {d}|$")
        what = "Error"
    else:
        ax.set_ylabel(r"change to the next step $|D(h_i) - D(h_{i+1})|$")
        what = "Change between successive steps"
    ax.set_title(f"{what} of ${d}$ against step, $x = {scan.x:g}$")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(handles=handles, fontsize="small")
    return ax


def step_error(
    f: Callable[..., Any],
    x: float,
    *,
    n: int = 1,
    methods: str | Sequence[str] = DEFAULT_METHODS,
    orders: int | Sequence[int] | Mapping[str, Any] | None = None,
    exact: float | None = None,
    steps: ArrayLike | None = None,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The error of a finite difference against its step: the V curve.

    Parameters
    ----------
    f : callable
        A scalar function of one variable (as for :func:`numderiv.derivative`).
    x : float
        The point, a real scalar (for several variables, plot
        ``lambda t: g(x0 + t * v)`` at 0).
    n : int, optional
        Derivative order.
    methods : str or sequence of str, optional
        Among ``"forward"``, ``"backward"``, ``"central"``, ``"complex"``;
        default ``("forward", "central", "complex")``.  A method that fails
        (the complex step on an ``f`` that refuses complex input) is named in
        the legend as failed.
    orders : int, sequence of int or mapping, optional
        Accuracy order(s), for every method or per method
        (``{"central": (2, 4)}``); default each method's default order.
    exact : float, optional
        The exact derivative: the curve is then ``|D(h) - exact|``.  Without
        it, the change between successive steps ``|D(h_i) - D(h_{i+1})|``.
    steps : array_like, optional
        Steps; default 30 from ``1e-16`` to ``1e-1`` times ``max(1, |x|)``.
    args, kwargs : optional
        Extra arguments of `f`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Log-log: one line per method and order (x the step actually taken,
        y the error), a circle at the step :func:`numderiv.derivative` takes
        by default at the height of its error estimate, and with `exact` a
        cross at the same step at the height of its true error; a legend,
        axis labels and a title.

    Notes
    -----
    Left of the bottom of the V the round-off of ``f`` divided by ``h**n``
    dominates (a noisy branch of slope ``-n``); right of it the truncation
    error of the stencil (slope the accuracy order).  The complex step has
    no round-off branch for ``n = 1``.  An error of exactly 0 (an estimate
    correct to the last bit) cannot be drawn on log axes; it is drawn on a
    dotted line at half an ulp of the derivative.  Data:
    :func:`numderiv._scan.step_scan`, whose cost it has (about 450
    evaluations of `f` for the defaults).

    Examples
    --------
    The example of Scilab's ``numderivative`` help page: the derivative of
    ``sqrt`` at 1, exactly 1/2.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> import numderiv as nd
    >>> ax = nd.plot.step_error(np.sqrt, 1.0, exact=0.5)
    >>> ax.get_xscale(), ax.get_yscale()
    ('log', 'log')
    >>> [t.get_text() for t in ax.get_legend().get_texts()][:3]
    ['forward, order 1', 'central, order 2', 'complex, order 2']
    >>> plt.close(ax.figure)
    """
    ax = _new_axes(ax)
    s = step_scan(
        f,
        x,
        n=n,
        methods=methods,
        orders=orders,
        steps=steps,
        exact=exact,
        args=args,
        kwargs=kwargs,
    )
    return draw_step_scan(s, ax=ax)


def _fit_slope(h: NDArray[Any], e: NDArray[Any]) -> tuple[float, NDArray[np.bool_]]:
    """Slope of log e against log h on the truncation branch, and the points used.

    The bottom of the V is the smallest error after a running median of
    three (an estimate correct to the last bit by luck is not the bottom);
    the branch is right of it, where the error is at least 100 times that
    bottom (the round-off below then moves the log error by under 1%).
    NaN with fewer than 3 such points.
    """
    ok = np.isfinite(h) & np.isfinite(e) & (e > 0)
    use = np.zeros(h.shape, dtype=bool)
    idx = np.flatnonzero(ok)
    if idx.size < 3:
        return math.nan, use
    le = np.log10(e[idx])
    med = np.median(
        np.stack([np.r_[le[0], le[:-1]], le, np.r_[le[1:], le[-1]]]), axis=0
    )
    i0 = int(np.argmin(med))
    bottom = 10.0 ** med[i0]
    use[idx[i0 + 1 :]] = e[idx[i0 + 1 :]] >= 100 * bottom
    if np.count_nonzero(use) < 3:
        return math.nan, use
    slope = float(np.polyfit(np.log10(h[use]), np.log10(e[use]), 1)[0])
    return slope, use


def convergence(
    f: Callable[..., Any],
    x: float,
    *,
    n: int = 1,
    methods: str | Sequence[str] = ("forward", "central"),
    orders: int | Sequence[int] | Mapping[str, Any] | None = None,
    exact: float | None = None,
    steps: ArrayLike | None = None,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Error against step on log axes, with the slope of each order.

    Parameters
    ----------
    f : callable
        A scalar function of one variable.
    x : float
        The point, a real scalar.
    n : int, optional
        Derivative order.
    methods : str or sequence of str, optional
        Default ``("forward", "central")``.
    orders : int, sequence of int or mapping, optional
        Accuracy order(s), for every method or per method, e.g.
        ``{"forward": (1, 2), "central": (2, 4, 6)}``.
    exact : float, optional
        The exact derivative (the error is ``|D(h) - exact|``); without it
        the change between successive steps, which falls at the same rate.
    steps : array_like, optional
        Default 25 steps log-spaced from ``1e-5`` to ``1e-1`` times
        ``max(1, |x|)``: mostly the truncation branch.
    args, kwargs : optional
        Extra arguments of `f`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One line per method and order; a dashed reference line of slope
        exactly the order over the points fitted, a factor 4 below them
        (a line parallel to the data is a slope equal to the order); the
        legend gives each
        fitted slope beside the order (``"central, order 2: slope 2.00"``).

    Notes
    -----
    A stencil of accuracy order ``p`` has a truncation error
    ``C h**p + O(h**(p+1))``: on log axes a line of slope ``p``.  The slope
    is fitted (least squares on the logs) right of the smallest error, over
    the points at least 100 times above it, where round-off no longer
    matters; it is reported as ``n/a`` with fewer than 3 such points (a
    stencil exact for `f`, or steps all in the round-off branch).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> import numderiv as nd
    >>> ax = nd.plot.convergence(
    ...     np.exp, 1.0, exact=np.e, orders={"forward": (1, 2), "central": (2, 4)}
    ... )
    >>> for t in ax.get_legend().get_texts():
    ...     print(t.get_text())
    forward, order 1: slope 1.01
    forward, order 2: slope 2.01
    central, order 2: slope 2.00
    central, order 4: slope 4.00
    >>> plt.close(ax.figure)
    """
    ax = _new_axes(ax)
    if steps is None:
        steps = np.logspace(-5.0, -1.0, 25) * max(1.0, abs(float(x)))
    s = step_scan(
        f,
        x,
        n=n,
        methods=methods,
        orders=orders,
        steps=steps,
        exact=exact,
        args=args,
        kwargs=kwargs,
    )
    for ln in s.lines:
        if ln.failure is not None:
            reason = ln.failure.split(":", 1)[0]
            ax.plot([], [], color="none", label=f"{ln.label}: failed ({reason})")
            continue
        slope, use = _fit_slope(ln.steps, ln.errors)
        txt = "n/a" if math.isnan(slope) else f"{slope:.2f}"
        e = np.where(ln.errors > 0, ln.errors, np.nan)
        (line,) = ax.plot(
            ln.steps, e, "o-", ms=3.5, lw=1.2, label=f"{ln.label}: slope {txt}"
        )
        line.set_gid(f"convergence:{ln.method}:{ln.order}")
        if not math.isnan(slope):
            hu, eu = ln.steps[use], ln.errors[use]
            # slope p exactly, a factor 4 below the geometric centre of the
            # fitted points (on them it would hide behind the data)
            lh, le = np.mean(np.log10(hu)), np.mean(np.log10(eu)) - math.log10(4.0)
            hr = np.array([hu.min(), hu.max()])
            er = 10 ** (le + ln.order * (np.log10(hr) - lh))
            (ref,) = ax.plot(hr, er, "--", color=line.get_color(), lw=1.2, alpha=0.8)
            ref.set_gid(f"reference:{ln.method}:{ln.order}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("step $h$")
    d = _dname(s.n)
    if s.exact is not None:
        ax.set_ylabel(f"absolute error $|D(h) - {d}|$")
    else:
        ax.set_ylabel(r"change to the next step $|D(h_i) - D(h_{i+1})|$")
    ax.set_title(f"Convergence of ${d}$ at $x = {s.x:g}$ (dashed: slope = order)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def _coordinates(x: Any, npts: int) -> NDArray[np.float64]:
    if x is None:
        return np.arange(npts, dtype=np.float64)
    xa = np.asarray(x, dtype=np.float64)
    if xa.ndim == 0:
        return float(xa) * np.arange(npts, dtype=np.float64)
    return xa


def _smoothed(
    y: NDArray[Any], xs: NDArray[Any], n: int, method: str, opts: dict[str, Any]
) -> NDArray[Any]:
    """The curve :func:`numderiv.grid.smooth_derivative` differentiates (n = 0).

    The same filter with the same options (the Savitzky-Golay window follows
    the polynomial degree, so the degree is passed as the derivative's
    default ``n + 2``; the spline's penalty and the spectral cut-off do not
    depend on ``n``).  Called after the public function has checked them.
    """
    from .grid import _smooth

    if method == "spline":
        return _smooth._spline(y, xs, 0, -1, opts["lam"])
    h = float(xs[1] - xs[0]) if xs.size > 1 else 1.0
    if method == "savgol":
        po = opts["polyorder"] if opts["polyorder"] is not None else n + 2
        return _smooth._savgol(y, h, 0, -1, opts["window"], po)
    return _smooth._spectral(y, h, 0, -1, opts["cutoff"])


def grid_derivative(
    y: ArrayLike,
    x: ArrayLike | None = None,
    *,
    n: int = 1,
    accuracy: int = 2,
    boundary: str = "one-sided",
    smooth: str | None = None,
    window: int | None = None,
    polyorder: int | None = None,
    lam: float | None = None,
    cutoff: float | None = None,
    label: str = "y",
    ax: Axes | None = None,
    dax: Axes | None = None,
) -> Axes:
    """Sampled data and its derivative (smoothed, with `smooth`).

    Parameters
    ----------
    y : array_like
        1-D real samples.
    x : scalar or array_like, optional
        The spacing (default 1) or the coordinates, as for
        :func:`numderiv.grid.derivative`.
    n : int, optional
        Derivative order.
    accuracy, boundary : optional
        Options of :func:`numderiv.grid.derivative` (without `smooth`).
    smooth : {None, "savgol", "spline", "spectral"}, optional
        ``None``: finite differences, :func:`numderiv.grid.derivative`.
        Otherwise :func:`numderiv.grid.smooth_derivative` with that method,
        and the smoothed curve is drawn over the data.
    window, polyorder, lam, cutoff : optional
        Options of :func:`numderiv.grid.smooth_derivative` (with `smooth`).
    label : str, optional
        Name of the data in labels and the legend (default ``"y"``).
    ax : matplotlib.axes.Axes, optional
        Axes of the data; default a new figure.
    dax : matplotlib.axes.Axes, optional
        Axes of the derivative; default ``ax.twinx()``, a second y axis on
        the right sharing `ax`'s x axis (the derivative's scale differs from
        the data's).  Pass ``dax=ax`` for one y axis.

    Returns
    -------
    matplotlib.axes.Axes
        `ax`, the data's axes, which holds the legend of every curve; the
        derivative's axes is `dax` (``ax.figure.axes[-1]`` when made here).

    Raises
    ------
    ValueError, TypeError
        For `y` not 1-D and real, an option given to the wrong kind
        (`accuracy`/`boundary` with `smooth`, `window`/... without), and
        whatever :mod:`numderiv.grid` raises for bad input.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> import numderiv as nd
    >>> rng = np.random.default_rng(1)
    >>> t = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    >>> y = np.sin(t) + 0.02 * rng.standard_normal(t.size)
    >>> ax = nd.plot.grid_derivative(y, t, smooth="spline")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['y (data)', 'y smoothed (spline)', 'dy/dx (spline)']
    >>> plt.close(ax.figure)
    """
    ya = np.asarray(y)
    if ya.ndim != 1:
        raise ValueError(f"y must be 1-D to plot, got shape {ya.shape}")
    if np.iscomplexobj(ya) or not (
        np.issubdtype(ya.dtype, np.number) and ya.dtype != np.bool_
    ):
        raise TypeError(f"y must be real numbers to plot, got dtype {ya.dtype}")
    if not isinstance(label, str):
        raise TypeError(f"label must be a string, got {_short(label)}")
    sopts: dict[str, Any] = {
        "window": window,
        "polyorder": polyorder,
        "lam": lam,
        "cutoff": cutoff,
    }
    if smooth is None:
        given = [k for k, v in sopts.items() if v is not None]
        if given:
            raise ValueError(
                f"{given[0]} is an option of smooth_derivative; give smooth="
                f"'savgol', 'spline' or 'spectral' to use it, got smooth=None"
            )
        d = _grid.derivative(ya, x, n=n, accuracy=accuracy, boundary=boundary)
        how = f"accuracy {accuracy}"
    else:
        if accuracy != 2 or boundary != "one-sided":
            name = "accuracy" if accuracy != 2 else "boundary"
            raise ValueError(
                f"{name} is an option of finite differences (smooth=None), not of "
                f"smooth={smooth!r}"
            )
        d = _grid.smooth_derivative(
            ya,
            1.0 if x is None else x,
            n=n,
            method=smooth,
            window=window,
            polyorder=polyorder,
            lam=lam,
            cutoff=cutoff,
        )
        how = smooth
    xs = _coordinates(x, ya.size)
    ax = _new_axes(ax)
    dax = ax.twinx() if dax is None else _new_axes(dax)
    if smooth is None:
        (dl,) = ax.plot(xs, ya, ".-", color="C0", lw=1, ms=4, label=f"{label} (data)")
    else:
        (dl,) = ax.plot(
            xs, ya, ".", color="C0", ms=4, alpha=0.6, label=f"{label} (data)"
        )
    dl.set_gid("data")
    handles = [dl]
    if smooth is not None:
        sm = np.asarray(_smoothed(ya.astype(np.float64), xs, n, smooth, sopts))
        (sl,) = ax.plot(
            xs, sm, "-", color="C2", lw=1.8, label=f"{label} smoothed ({smooth})"
        )
        sl.set_gid("smoothed")
        handles.append(sl)
    sup = "" if n == 1 else str(n).translate(_SUPERSCRIPTS)
    dlab = f"d{sup}{label}/dx{sup}"
    (der,) = dax.plot(xs, d, "-", color="C3", lw=1.6, label=f"{dlab} ({how})")
    der.set_gid("derivative")
    handles.append(der)
    ax.set_xlabel("x")
    ax.set_ylabel(label, color="C0")
    if dax is not ax:
        dax.set_ylabel(dlab, color="C3")
    else:
        ax.set_ylabel(f"{label}, {dlab}")
    ax.set_title(
        f"Data and derivative ({'smoothed: ' + smooth if smooth else 'finite differences'})"
    )
    ax.grid(True, alpha=0.3)
    ax.legend(handles=handles, fontsize="small")
    return ax
