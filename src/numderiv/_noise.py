"""The noise of a function near a point (Moré & Wild's ECnoise)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._evaluate import _fmt_point, _note
from ._result import Info, worst_status
from ._validate import check_callable, check_flag, check_x

__all__ = ["noise_level"]

#: Consecutive noise estimates are consistent when they agree within this
#: factor (Moré & Wild's choice).
_AGREE = 4.0
#: Retries with a new ``h`` after the first difference table, and the factor
#: by which ``h`` grows or shrinks at each.
_RETRIES = 4
_FACTOR = 100.0
#: An accepted noise above ``spread / _SUSPECT`` of values that spread over
#: more than 10 % of their size needs confirming at a smaller ``h``.
_SUSPECT = 100.0
#: Rough relative uncertainty of an accepted estimate (see Notes of
#: :func:`noise_level`): the true noise is below ``(1 + r) * sigma`` (an
#: estimate at least a third of it) in about 98 % of draws of Gaussian
#: noise and every draw of uniform noise measured with ``npoints = 9``.
_REL_UNCERTAINTY = 2.0

# Outcomes of one difference table for one output.
_OK, _SMALL, _LARGE, _NONFINITE = 0, 2, -1, -3

_MESSAGES = {
    _OK: "noise detected: consecutive levels of the difference table agree",
    _SMALL: "no noise detected above the round-off floor (the differences "
    "vanish at every h tried); sigma is the round-off floor eps * max|f|",
    _LARGE: "f is not smooth enough at the smallest h tried: the levels of "
    "the difference table never agree, so the estimate is unreliable",
    _NONFINITE: "f was non-finite at some of the points; sigma is NaN",
}


@dataclass(frozen=True)
class _Options:
    """Cleaned arguments of :func:`noise_level`."""

    x: NDArray[Any]  # 1-D, float32 or float64
    scalar: bool  # x was a scalar: f receives scalars (or a 1-D batch)
    direction: NDArray[Any]  # unit vector, dtype of x
    h: float
    npoints: int
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    vectorized: bool
    full_output: bool


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 120 else s[:117] + "..."


def _check_noise_args(
    f: Any,
    x: Any,
    direction: Any,
    h: Any,
    npoints: Any,
    args: Any,
    kwargs: Any,
    vectorized: Any,
    full_output: Any,
    rng: Any,
) -> _Options:
    """Check every argument of :func:`noise_level` up front."""
    check_callable(f)
    scalar = np.ndim(x) == 0
    xa = check_x(x)
    n = xa.size
    if isinstance(npoints, bool) or not isinstance(
        npoints, (numbers.Integral, np.integer)
    ):
        raise TypeError(f"npoints must be an integer, got {_short(npoints)}")
    npoints = int(npoints)
    if npoints < 4:
        raise ValueError(
            "npoints must be at least 4 (the difference table needs three "
            f"consecutive levels to compare), got npoints={npoints}"
        )
    if direction is None:
        if n == 1:
            p = np.ones(1)
        else:
            gen = rng if isinstance(rng, np.random.Generator) else None
            if gen is None:
                try:
                    gen = np.random.default_rng(0 if rng is None else rng)
                except (TypeError, ValueError) as exc:
                    raise TypeError(
                        "rng must be None, a numpy.random.Generator or a seed "
                        f"accepted by numpy.random.default_rng, got {_short(rng)}"
                    ) from exc
            p = gen.standard_normal(n)
    else:
        try:
            p = np.asarray(direction, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"direction must be an array of {n} real numbers, got {_short(direction)}"
            ) from exc
        if p.ndim > 1 or p.size != n:
            raise ValueError(
                f"direction must have one entry per component of x (shape ({n},)), "
                f"got shape {p.shape}"
            )
        p = p.reshape(n)
        if not np.all(np.isfinite(p)) or not np.any(p):
            raise ValueError(
                f"direction must be finite and non-zero, got {_short(direction)}"
            )
    p = p / np.linalg.norm(p)
    eps = float(np.finfo(xa.dtype).eps)
    scale = max(1.0, float(np.max(np.abs(xa))))
    if h is None:
        hh = eps**0.4 * scale
    else:
        try:
            hh = float(h)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"h must be a positive number, got {_short(h)}") from exc
        if not (math.isfinite(hh) and hh > 0):
            raise ValueError(f"h must be positive and finite, got h={_short(h)}")
    if isinstance(args, (str, bytes)) or not isinstance(args, (tuple, list)):
        raise TypeError(f"args must be a tuple, got {_short(args)}")
    if kwargs is None:
        kwargs = {}
    elif not isinstance(kwargs, Mapping):
        raise TypeError(f"kwargs must be a mapping or None, got {_short(kwargs)}")
    return _Options(
        x=xa,
        scalar=scalar,
        direction=p.astype(xa.dtype),
        h=hh,
        npoints=npoints,
        args=tuple(args),
        kwargs=dict(kwargs),
        vectorized=check_flag(vectorized, "vectorized"),
        full_output=check_flag(full_output, "full_output"),
    )


def _values(y: Any, where: Callable[[], str], maxdim: int = 1) -> NDArray[Any]:
    """Values of ``f`` as a real array (one value: shape ``()`` or ``(m,)``)."""
    a = np.asarray(y)
    if a.dtype.kind not in "biuf":
        if a.dtype.kind == "c":
            raise TypeError(
                f"f must be real-valued, got complex values at {where()}; take "
                "the noise of the real and imaginary parts separately"
            )
        raise TypeError(f"f must return numbers, got dtype {a.dtype} at {where()}")
    if a.ndim > maxdim:
        raise ValueError(
            f"f must return a scalar or a 1-D array, got shape {a.shape} at {where()}"
        )
    return a


def _table(
    fun: Callable[..., Any], o: _Options, h: float
) -> tuple[NDArray[Any], int, tuple[int, ...]]:
    """Values of ``f`` at the ``npoints`` points along the direction.

    Returns the table, shape ``(npoints, m)`` (``m = 1`` for a scalar
    ``f``), the number of Python calls of ``f`` and the shape of one value
    (``()`` or ``(m,)``).
    """
    npts = o.npoints
    m = npts - 1
    t = (np.arange(npts, dtype=np.float64) - m / 2.0) * h
    X = o.x[None, :] + t.astype(o.x.dtype)[:, None] * o.direction[None, :]
    if o.vectorized:
        batch = X[:, 0] if o.scalar else X.T.copy()
        try:
            Y = fun(batch, *o.args, **o.kwargs)
        except Exception as exc:
            _note(exc, f"a batch of shape {batch.shape}")
            raise
        a = np.asarray(Y)
        shape: tuple[int, ...]
        if a.ndim == 1 and a.shape[0] == npts:
            a, shape = a[:, None], ()
        elif a.ndim == 2 and a.shape[1] == npts:
            a, shape = a.T, (a.shape[0],)
        else:
            raise ValueError(
                f"f (vectorized) must return shape ({npts},) or (m, {npts}) for "
                f"{npts} points, got shape {a.shape}"
            )
        where = f"a batch of shape {batch.shape}"
        return _values(a, lambda: where, maxdim=2), 1, shape
    rows = []
    first: tuple[int, ...] | None = None
    for i in range(npts):
        xi = X[i, 0] if o.scalar else X[i].copy()
        try:
            yi = fun(xi, *o.args, **o.kwargs)
        except Exception as exc:
            _note(exc, _fmt_point(xi))
            raise
        a = _values(yi, lambda xi=xi: _fmt_point(xi))  # type: ignore[misc]
        if first is None:
            first = a.shape
        elif a.shape != first:
            raise ValueError(
                f"f must return the same shape at every point: expected {first}, "
                f"got {a.shape} at {_fmt_point(xi)}"
            )
        rows.append(np.atleast_1d(a))
    assert first is not None
    return np.stack(rows), npts, first


@dataclass(frozen=True)
class _Level:
    """What one column of a difference table says."""

    outcome: int
    k: int  # accepted level (1-based); 0 when none
    levels: NDArray[np.float64]  # sigma_k, k = 1..npoints-1
    floor: float  # eps * max|f|
    suspect: bool = False  # accepted, but the values may be f itself

    @property
    def sigma(self) -> float:
        return float(self.levels[self.k - 1])


def _analyse(y: NDArray[Any], eps: float) -> _Level:
    """Moré & Wild's test on one column ``y`` of ``npoints`` values."""
    m = y.size - 1
    y = y.astype(np.float64)
    if not np.all(np.isfinite(y)):
        return _Level(_NONFINITE, 0, np.full(m, np.nan), math.nan)
    big = float(np.max(np.abs(y)))
    floor = eps * big
    if big == 0.0:
        return _Level(_SMALL, 0, np.zeros(m), 0.0)
    # Scale by a power of two (exact) so that differences and their
    # squares neither overflow nor underflow.
    e = int(np.frexp(big)[1])
    d = np.ldexp(y, -e)
    levels = np.empty(m)
    sign_change = np.zeros(m, dtype=bool)
    vanish = False  # some level of differences is exactly zero
    zeros_first = 0
    gamma = 1.0
    for k in range(1, m + 1):
        d = np.diff(d)
        # gamma_k = (k!)^2 / (2k)!: for independent noise of variance
        # sigma^2, Var(Delta^k eps) = C(2k, k) sigma^2 = sigma^2 / gamma_k.
        gamma *= k / (2.0 * (2 * k - 1))
        levels[k - 1] = math.sqrt(gamma * float(np.mean(d * d)))
        sign_change[k - 1] = bool(d.min() < 0.0 < d.max())
        if k == 1:
            zeros_first = int(np.count_nonzero(d == 0.0))
        if not d.any():
            vanish = True
    levels = np.ldexp(levels, e)
    # Many equal neighbours: the values are quantised at this spacing, and
    # the noise cannot be seen; h is too small.
    if 2 * zeros_first >= m:
        return _Level(_SMALL, 0, levels, floor)
    for k in range(1, m - 1):
        w = levels[k - 1 : k + 2]
        if w.max() <= _AGREE * w.min() and sign_change[k - 1]:
            # Moré & Wild call h too large when the values spread over more
            # than 10 % of their size.  Around f = 0 that holds for any
            # noise, so here it only raises a suspicion, and only where the
            # noise found is of the size of the spread itself: then the
            # table cannot tell noise from f varying faster than h resolves
            # (aliasing), and a table at a smaller h must confirm it.
            spread = float(np.ptp(y))
            suspect = spread > 0.1 * big and levels[k - 1] > spread / _SUSPECT
            return _Level(_OK, k, levels, floor, suspect)
    return _Level(_SMALL if vanish else _LARGE, 0, levels, floor)


def noise_level(
    f: Callable[..., Any],
    x: ArrayLike,
    *,
    direction: ArrayLike | None = None,
    h: float | None = None,
    npoints: int = 9,
    args: tuple[Any, ...] = (),
    kwargs: Mapping[str, Any] | None = None,
    vectorized: bool = False,
    full_output: bool = False,
    rng: Any = None,
) -> Any:
    r"""Estimate the noise of ``f`` near ``x`` (Moré & Wild's ECnoise).

    The *noise* of a computed function is the standard deviation of the
    random-like error in its values: the part that does not follow any
    smooth curve, whether it comes from rounding, from an iterative solver
    stopped at a tolerance, or from a simulation's randomness.  It bounds
    how accurately any finite difference can be taken, and sets the best
    step of one.

    Parameters
    ----------
    f : callable
        ``f(x, *args, **kwargs)`` returning a scalar or a 1-D array of
        ``m`` values.  With ``vectorized=True`` it takes the points as
        columns of an array of shape ``(n, k)`` (shape ``(k,)`` for a
        scalar ``x``) and returns shape ``(k,)`` or ``(m, k)``.
    x : float or array_like, shape (n,)
        The point.  Integers become float64; float32 keeps float32 (points
        and the default ``h`` follow its eps).
    direction : array_like, shape (n,), optional
        The direction ``p`` along which the points are spaced; scaled to
        unit length.  Default: a fixed pseudo-random unit vector (drawn
        from ``rng``), so that no component is favoured; ``1`` for a
        scalar ``x``.
    h : float, optional
        The spacing of the points along ``p``.  Default
        ``eps**0.4 * max(1, max|x|)`` (about ``5.5e-7`` relative in
        float64, ``1.7e-3`` in float32).  It is changed automatically
        (see Notes) when the difference table says it is too small or too
        large.
    npoints : int, optional
        Number of points ``m + 1`` (default 9; Moré & Wild use 7 to 9).
        At least 4.
    args, kwargs : optional
        Extra arguments passed to ``f``.
    vectorized : bool, optional
        If True, ``f`` is called once per table with all points.
    full_output : bool, optional
        If True, return ``(sigma, info)``.
    rng : int, numpy.random.Generator or None, optional
        Seed or generator of the default direction (default seed 0).
        Nothing else is random.

    Returns
    -------
    sigma : float or ndarray, shape (m,)
        The estimated absolute noise (standard deviation) of each output.
        NaN where the estimate cannot be trusted (``info.status < 0``),
        unless ``full_output`` is True, where the best guess is returned.
    info : Info
        Only with ``full_output=True``.  ``nfev`` points evaluated (exactly
        ``npoints`` per table), ``ncalls`` calls of ``f``, ``method``
        ``"noise"``, ``order`` the level ``k`` of the difference table that
        was accepted (the largest over the outputs), ``step`` the spacing
        ``h`` each output's estimate was taken at, ``error`` a rough bound
        on ``|sigma - true noise|`` (``sigma`` times a relative uncertainty
        of 2 for a detected noise, ``sigma`` for the round-off floor,
        ``inf`` when unreliable, NaN for non-finite values), ``status``
        and ``message`` as below, and ``extra`` with ``"levels"`` (the
        estimates ``sigma_k``, ``k = 1 .. npoints - 1``, of the last table
        looked at, per output), ``"h"`` (the step used, per output),
        ``"order"`` (the level per output), ``"status"`` (per output) and
        ``"attempts"`` (the list of ``(h, status per output)`` of every
        table).

        ======  =======================================================
        status  meaning
        ======  =======================================================
         0      noise detected: three consecutive levels of the
                difference table agree within a factor 4 and the
                differences change sign
         2      no noise detected at any ``h`` tried (the differences
                vanish: ``f`` is constant or quantised at this
                spacing); ``sigma`` is the round-off floor
                ``eps * max|f|`` of the values' dtype, an upper bound on
                the noise of a single rounding
        -1      ``f`` is not smooth enough at the smallest ``h`` tried:
                the levels never agree; ``sigma`` is unreliable (NaN
                without ``full_output``; with it, the smallest level, a
                rough upper bound)
        -3      ``f`` was non-finite at some points; ``sigma`` is NaN
        ======  =======================================================

        With several outputs, ``info.status`` is the most severe of theirs.

    Raises
    ------
    TypeError
        If ``f`` is not callable, returns complex or non-numeric values,
        or an argument has the wrong type.
    ValueError
        If ``x`` is not finite, ``direction`` has the wrong shape or is
        zero, ``h`` is not positive, ``npoints < 4``, or ``f`` returns a
        wrong shape.

    Notes
    -----
    ``f`` is evaluated at the ``m + 1`` equally spaced points
    ``x + (i - m/2) h p``, ``i = 0, ..., m``, and the table of forward
    differences :math:`\Delta^k f` is built for ``k = 1, ..., m``.  If the
    values are a smooth function plus independent noise of standard
    deviation :math:`\sigma`, the smooth part of :math:`\Delta^k f` is about
    :math:`h^k f^{(k)}` and shrinks quickly with ``k``, while the noise part
    has variance :math:`\binom{2k}{k}\sigma^2`.  So each level gives an
    estimate

    .. math::

        \sigma_k = \sqrt{\gamma_k \, \frac{1}{m + 1 - k}
                   \sum_i (\Delta^k f_i)^2}, \qquad
        \gamma_k = \frac{(k!)^2}{(2k)!},

    that is too large while the smooth part dominates and settles at
    :math:`\sigma` once the noise does.  The first ``k`` at which
    :math:`\sigma_k, \sigma_{k+1}, \sigma_{k+2}` agree within a factor 4
    and the ``k``-th differences change sign (noise, not a smooth trend)
    is accepted, and :math:`\sigma_k` returned [1]_.

    If half the first differences are exactly zero or a whole level
    vanishes, ``h`` is too small to see the noise (the values are
    quantised): the table is taken again at ``100 h``.  If no levels
    agree, ``h`` is too large (``f`` is not smooth enough at this spacing):
    the table is taken again at ``h / 100``.  Once both have been seen
    the next ``h`` is their geometric mean.  At most 4 retries, so at most
    ``5 * npoints`` evaluations; with several outputs the retries serve
    the outputs still unresolved, and each keeps the first table that
    resolved it.

    Moré & Wild also call ``h`` too large when the values spread over
    more than 10 % of their size.  Around ``f = 0`` that holds for any
    noise, so here it only raises a suspicion, and only when the noise
    found is more than 1 % of that spread: a table made of noise alone
    cannot be told from ``f`` varying faster than ``h`` resolves
    (``sin`` at ``h = 10`` looks random).  A suspect estimate must be
    confirmed by a table at ``h / 100`` agreeing within a factor 4
    (noise does not shrink with ``h``; ``f``'s own variation does); the
    two are then pooled (root mean square).  An estimate never confirmed
    has status -1, unless the table below it was quantised.  So noise
    around ``f = 0`` costs ``2 * npoints`` evaluations.

    The default ``h = eps**0.4 * max(1, max|x|)`` is chosen so that, for
    an ``f`` whose derivatives are of the size of ``f`` on the scale
    ``max(1, |x|)``, the smooth part :math:`h^k f^{(k)}` has dropped
    below the round-off ``eps * |f|`` by level ``k = 3``: even the noise
    of a single rounding is seen with room for three agreeing levels
    among the eight, while the points stay millions of units in the last
    place apart, far from the quantisation that a too small ``h`` shows.
    Larger noise is seen from level 1.

    The estimate is statistical.  Measured over 300 seeds with
    ``npoints = 9``, for Gaussian noise of 1e-3 to 1e-12 added to ``sin``
    the ratio estimate / true :math:`\sigma` has median 0.9-0.95 and is
    within a factor 2 in 90-97 % of draws, within a factor 3 in 98-100 %;
    for uniform noise within a factor 2 in 99.7 %.  ``info.error``
    (``2 sigma``) therefore bounds the true noise from above in about
    98 % of draws.  After a retry at a smaller ``h`` the noise often shows
    only at level 5 or 6, from 3 or 4 differences, and the spread is
    wider (``sin`` with noise 1e-13 from ``h = 0.5``: 0.08 to 2.5 over 20
    seeds, median 0.9).  The noise of values
    computed in floating point includes the rounding of the points
    ``x + t p`` themselves, so a correctly rounded function shows noise of
    a fraction of ``eps * |f|``.

    References
    ----------
    .. [1] J. J. Moré and S. M. Wild, "Estimating computational noise",
       SIAM J. Sci. Comput. 33 (2011), 1292-1314.
       doi:10.1137/100786125

    Examples
    --------
    A sine with Gaussian noise of standard deviation 1e-6 (a new draw at
    each call):

    >>> import numpy as np
    >>> import numderiv as nd
    >>> gen = np.random.default_rng(1)
    >>> def f(t):
    ...     return np.sin(t) + 1e-6 * gen.standard_normal()
    >>> sigma, info = nd.noise_level(f, 1.0, full_output=True)
    >>> bool(0.5 < sigma / 1e-6 < 2), info.status, info.nfev
    (True, 0, 9)

    A smooth function computed in float64 shows its round-off, a fraction
    of ``eps * |f|``:

    >>> sigma = nd.noise_level(np.exp, 1.0)
    >>> bool(0.05 < sigma / (np.finfo(float).eps * np.e) < 2)
    True

    A constant has no noise to see; the round-off floor comes back with
    status 2, after the retries at larger ``h``:

    >>> sigma, info = nd.noise_level(lambda t: 3.0, 1.0, full_output=True)
    >>> bool(sigma == np.finfo(float).eps * 3.0), info.status, info.nfev
    (True, 2, 45)
    """
    o = _check_noise_args(
        f, x, direction, h, npoints, args, kwargs, vectorized, full_output, rng
    )
    nfev = ncalls = 0
    out_shape: tuple[int, ...] | None = None
    states: list[_State] = []
    attempts: list[tuple[float, list[int]]] = []
    hcur = o.h
    for _ in range(_RETRIES + 1):
        with np.errstate(all="ignore"):
            Y, calls, shape = _table(f, o, hcur)
        nfev += o.npoints
        ncalls += calls
        if out_shape is None:
            out_shape = shape
            states = [_State() for _ in range(Y.shape[1])]
        elif shape != out_shape:
            raise ValueError(
                f"f must return the same shape at every point: expected "
                f"{out_shape}, got {shape} at h={hcur!r}"
            )
        eps = float(np.finfo(Y.dtype if Y.dtype.kind == "f" else np.float64).eps)
        with np.errstate(all="ignore"):
            codes = [st.update(hcur, Y[:, j], eps) for j, st in enumerate(states)]
        attempts.append((hcur, codes))
        tried = [a[0] for a in attempts]
        proposals = [p for st in states if (p := st.proposal()) is not None]
        fresh = sorted(
            p for p in proposals if all(abs(p - t) > 1e-9 * t for t in tried)
        )
        if not fresh:
            break
        hcur = fresh[(len(fresh) - 1) // 2]
    assert out_shape is not None
    return _finish(o, out_shape, states, attempts, nfev, ncalls)


class _State:
    """The search for the noise of one output over the tables taken."""

    def __init__(self) -> None:
        self.history: list[tuple[float, _Level]] = []
        self.done: tuple[float, _Level, float] | None = None  # h, table, sigma
        self.candidate: tuple[float, _Level] | None = None

    def update(self, h: float, y: NDArray[Any], eps: float) -> int:
        """Take in the table at ``h``; return its outcome for this output."""
        if self.done is not None:
            return _OK
        lev = _analyse(y, eps)
        self.history.append((h, lev))
        if lev.outcome != _OK:
            return lev.outcome
        cand = self.candidate
        if cand is not None and cand[1].sigma <= _AGREE * lev.sigma <= (
            _AGREE**2 * cand[1].sigma
        ):
            # Confirmed: noise does not depend on h, f's own variation
            # would have shrunk with it.  The two tables are independent
            # draws of the noise; pool them.
            pooled = math.sqrt(0.5 * (cand[1].sigma ** 2 + lev.sigma**2))
            self.done = (h, lev, pooled)
        elif lev.suspect:
            self.candidate = (h, lev)
        else:
            self.done = (h, lev, lev.sigma)
        return _OK

    def _hs(self, outcome: int) -> list[float]:
        return [h for h, lev in self.history if lev.outcome == outcome]

    def proposal(self) -> float | None:
        """The spacing this output wants next, or None."""
        if self.done is not None:
            return None
        small, large = self._hs(_SMALL), self._hs(_LARGE)
        if self.candidate is not None:
            # Look below the candidate, and below any too large h there.
            hc = min([self.candidate[0]] + [h for h in large if h < self.candidate[0]])
            lo = max((h for h in small if h < hc), default=0.0)
            if hc / _FACTOR > lo:
                return hc / _FACTOR
            return math.sqrt(lo * hc) if hc > 2.0 * lo else None
        if small and large:
            lo, hi = max(small), min(large)
            return math.sqrt(lo * hi) if hi > 2.0 * lo else None
        if small:
            return max(small) * _FACTOR
        if large:
            return min(large) / _FACTOR
        return None  # only non-finite tables: no spacing is known to be better

    def result(self) -> tuple[int, float, float, float, int, NDArray[np.float64]]:
        """status, sigma, error, h, order and levels of this output."""
        if self.done is not None:
            h, lev, sigma = self.done
            return _OK, sigma, _REL_UNCERTAINTY * sigma, h, lev.k, lev.levels
        if self.candidate is not None:
            # Not confirmed.  If a smaller h only showed quantised values
            # there was nothing finer to look at: the noise stands.
            h, lev = self.candidate
            if any(hs < h for hs in self._hs(_SMALL)):
                return (
                    _OK,
                    lev.sigma,
                    _REL_UNCERTAINTY * lev.sigma,
                    h,
                    lev.k,
                    lev.levels,
                )
            return _LARGE, lev.sigma, math.inf, h, lev.k, lev.levels
        code = worst_status([lev.outcome for _, lev in self.history])
        if code == _SMALL:
            # The largest floor seen: an upper bound for a single rounding.
            h, lev = max(self.history, key=lambda r: r[1].floor)
            return _SMALL, lev.floor, lev.floor, h, 0, lev.levels
        if code == _LARGE:
            # The table at the smallest h that was too large: its smallest
            # level still mixes the smooth part in, a rough upper bound.
            h, lev = min(
                ((h, lv) for h, lv in self.history if lv.outcome == _LARGE),
                key=lambda r: r[0],
            )
            sigma = max(float(lev.levels.min()), lev.floor)
            return _LARGE, sigma, math.inf, h, 0, lev.levels
        h, lev = self.history[-1]
        return _NONFINITE, math.nan, math.nan, h, 0, lev.levels


def _finish(
    o: _Options,
    out_shape: tuple[int, ...],
    states: list[_State],
    attempts: list[tuple[float, list[int]]],
    nfev: int,
    ncalls: int,
) -> Any:
    """The estimate per output, and the Info."""
    res = [st.result() for st in states]
    status = np.array([r[0] for r in res], dtype=int)
    sigma = np.array([r[1] for r in res])
    error = np.array([r[2] for r in res])
    step = np.array([r[3] for r in res])
    order = np.array([r[4] for r in res], dtype=int)
    levels = np.array([r[5] for r in res])
    total = worst_status([int(c) for c in status])
    message = _MESSAGES[total]
    if total != _OK and out_shape:
        bad = [int(j) for j in np.flatnonzero(status == total)]
        message += f" (outputs {bad})"
    if not o.full_output:
        sigma = np.where(status < 0, np.nan, sigma)
        return float(sigma[0]) if not out_shape else sigma
    one = not out_shape
    info = Info(
        nfev=nfev,
        ncalls=ncalls,
        error=np.asarray(error[0]) if one else error,
        step=np.asarray(step[0]) if one else step,
        method="noise",
        order=int(order.max()),
        status=total,
        message=message,
        extra={
            "levels": levels[0] if one else levels,
            "h": float(step[0]) if one else step,
            "order": int(order[0]) if one else order,
            "status": int(status[0]) if one else status,
            "attempts": attempts,
        },
    )
    return (float(sigma[0]) if one else sigma), info
