"""Taylor coefficients of analytic functions by Cauchy's integral on circles.

The coefficients ``c_k = f^(k)(x) / k!`` are the Fourier coefficients of
``f`` on a circle around ``x``; the trapezoidal rule on ``N`` equispaced
points (one FFT) computes them with an error that falls geometrically with
``N`` (Lyness & Moler 1967).  What is left to decide is the radius of the
circle, which trades aliasing (too large) against round-off (too small);
this module searches for it per element and per coefficient, with an error
estimate for each (Fornberg 1981 adjusts the radius from the decay of the
computed coefficients in the same spirit).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._result import STATUS_MESSAGES, Info, worst_status
from ._validate import _is_int, _short, check_callable, check_flag

__all__ = ["taylor"]

#: Largest order accepted: beyond it float64 cannot resolve the coefficients
#: (round-off grows like ``rho**-n`` for a radius ``rho`` below the
#: distance to the nearest singularity).
MAX_N = 100

_EPS = float(np.finfo(np.float64).eps)
# Safety factor of the error estimate over its model (round-off + aliasing).
_SAFETY = 2.0
# Round-off of one DFT coefficient, in units of eps * rms|f| on the circle:
# the values' own rounding (a few ulps) and the FFT's; the typical error is
# smaller by about sqrt(N), so this is a bound, not a guess.
_ROUND = 2.0
# Noise measured in the tail: twice the median of its top quarter.
_NOISE = 2.0
# Extra weight of the aliasing estimate: it is an extrapolation, and it
# grows like r**N, so a large weight moves the chosen radius very little
# (a factor 30**(1/N)) while covering a misjudged decay rate.
_ALIAS = 30.0
# A circle is "settled" when the tail of its coefficients (aliasing, or the
# principal part of a singularity inside it) is below this fraction of the
# size of f on it: the error model then applies.
_SETTLED = 1e-6
# Ladder of radii r0 * 2**i searched over, and the caps of its phases.
_I_MIN, _I_MAX = -50, 20
_UP_STEPS = 20  # most doublings above r0
_DOWN_AFTER = 8  # most halvings once a settled circle has been seen
_REFINE_STEPS = 10  # most bisections (in log r) around the best radius of c_n


@dataclass(frozen=True)
class _TaylorArgs:
    """Cleaned arguments of :func:`taylor`."""

    f: Callable[..., Any]
    x: NDArray[np.complex128]  # flattened points
    shape: tuple[int, ...]
    real_x: bool
    n: int
    derivatives: bool
    radius: NDArray[np.float64] | None  # flattened, or None (automatic)
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    vectorized: bool
    full_output: bool


def _check_taylor(
    f: Any,
    x: Any,
    n: Any,
    derivatives: Any,
    radius: Any,
    args: Any,
    kwargs: Any,
    vectorized: Any,
    full_output: Any,
) -> _TaylorArgs:
    """Check every argument of :func:`taylor` up front."""
    check_callable(f)
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged input and the like
        raise TypeError(f"x must be array_like of numbers, got {_short(x)}") from exc
    if arr.dtype.kind not in "biufc":
        raise TypeError(
            f"x must be array_like of real or complex numbers, got dtype "
            f"{arr.dtype}: {_short(x)}"
        )
    real_x = arr.dtype.kind != "c"
    xc = arr.astype(np.complex128)
    if not np.all(np.isfinite(xc)):
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(xc))[0])
        raise ValueError(f"x must be finite, got {arr[where].item()!r} at {where}")
    if not _is_int(n):
        raise TypeError(f"n must be an integer, got n={_short(n)}")
    n = int(n)
    if n < 0 or n > MAX_N:
        raise ValueError(
            f"n must be between 0 and {MAX_N} (float64 cannot resolve higher "
            f"Taylor coefficients), got n={n}"
        )
    for name, val in (
        ("derivatives", derivatives),
        ("vectorized", vectorized),
        ("full_output", full_output),
    ):
        check_flag(val, name)
    rad = None
    if radius is not None:
        try:
            r = np.asarray(radius, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"radius must be None or a positive number or array, got "
                f"{_short(radius)}"
            ) from exc
        # the values given are checked, not their broadcast (empty for an
        # empty x, which would let any radius through)
        if not (np.all(np.isfinite(r)) and np.all(r > 0)):
            raise ValueError(
                f"radius must be positive and finite, got radius={_short(radius)}"
            )
        try:
            r = np.broadcast_to(r, arr.shape)
        except ValueError:
            raise ValueError(
                f"radius must be a scalar or broadcast to the shape of x "
                f"{arr.shape}, got shape {r.shape}"
            ) from None
        rad = np.array(r, dtype=np.float64).reshape(-1)
    if not isinstance(args, tuple):
        raise TypeError(f"args must be a tuple, got {_short(args)}")
    if kwargs is None:
        kwargs = {}
    elif not isinstance(kwargs, dict):
        raise TypeError(f"kwargs must be a dict or None, got {_short(kwargs)}")
    return _TaylorArgs(
        f=f,
        x=xc.reshape(-1),
        shape=arr.shape,
        real_x=real_x,
        n=n,
        derivatives=bool(derivatives),
        radius=rad,
        args=args,
        kwargs=dict(kwargs),
        vectorized=bool(vectorized),
        full_output=bool(full_output),
    )


def _n_points(n: int) -> int:
    """Points per circle: a power of two, at least ``4 (n + 1)`` and 16.

    The DFT of ``N`` values gives ``N`` coefficients; the ``3N/4`` beyond the
    last one wanted are the tail that measures aliasing and round-off.  At
    the best radius the error of ``c_n`` is about ``eps**(N / (N + n))``
    relative to its natural size, so ``N >= 4 (n + 1)`` keeps about four
    fifths of the digits even for the highest coefficient.
    """
    return max(32, 1 << (4 * (n + 1) - 1).bit_length())


class _Caller:
    """Calls ``f`` on arrays of complex points and counts the points."""

    def __init__(self, o: _TaylorArgs) -> None:
        self.o = o
        self.nfev = 0
        self.ncalls = 0

    def __call__(self, Z: NDArray[np.complex128]) -> NDArray[np.complex128]:
        o = self.o
        if o.vectorized:
            try:
                y = o.f(Z.copy(), *o.args, **o.kwargs)  # f may write into its input
            except Exception as exc:
                if hasattr(exc, "add_note"):
                    exc.add_note(
                        f"numderiv: f raised this on an array of {Z.size} complex "
                        f"points on circles around x (taylor)"
                    )
                raise
            self.nfev += Z.size
            self.ncalls += 1
            out = self._as_complex(y)
            if out.shape != Z.shape:
                if out.ndim == 0:  # a constant f
                    return np.full(Z.shape, out[()], dtype=np.complex128)
                raise ValueError(
                    f"f returned shape {out.shape} for points of shape {Z.shape}; "
                    "taylor() needs an elementwise f (pass vectorized=False for a "
                    "scalar f)"
                )
            return out
        res = np.empty(Z.shape, dtype=np.complex128)
        for idx, z in np.ndenumerate(Z):
            try:
                y = o.f(z, *o.args, **o.kwargs)
            except Exception as exc:
                if hasattr(exc, "add_note"):
                    exc.add_note(f"numderiv: f raised this at z = {complex(z)!r}")
                raise
            self.nfev += 1
            self.ncalls += 1
            v = self._as_complex(y)
            if v.ndim != 0:
                raise ValueError(
                    f"f returned shape {v.shape} at a scalar point; with "
                    "vectorized=False f must return a scalar"
                )
            res[idx] = v[()]
        return res

    @staticmethod
    def _as_complex(y: Any) -> NDArray[np.complex128]:
        try:
            return np.asarray(y, dtype=np.complex128)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"f must return numbers, got {_short(y)} of type {type(y).__name__}"
            ) from exc


@dataclass(frozen=True)
class _Circle:
    """Coefficients and error estimates from one circle per element."""

    c: NDArray[np.complex128]  # (n + 1, m) Taylor coefficients
    e: NDArray[np.float64]  # (n + 1, m) their estimated absolute errors
    rel: NDArray[np.float64]  # (m,) tail over the size of f: settled if small
    finite: NDArray[np.bool_]  # (m,) f was finite on the whole circle


def _ratio(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """``min(1, a/b)``, with ``0/0 = 0`` and ``a/0 = 1``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, np.minimum(1.0, a / b), np.where(a > 0, 1.0, 0.0))


def _circle(
    call: _Caller,
    x: NDArray[np.complex128],
    r: NDArray[np.float64],
    n: int,
    nodes: NDArray[np.complex128],
) -> _Circle:
    """Sample ``f`` on circles of radii ``r`` around ``x`` and estimate.

    With ``b_j = (1/N) sum_l f(x + r w^l) w^(-jl)`` (``w = exp(2 pi i/N)``),
    ``b_j = sum_p a_(j+pN) r^(j+pN)``: the wanted ``a_j r^j`` plus aliasing.
    The error of ``b_k`` is modelled as round-off plus aliasing:

    * round-off ``sigma = eps (2 rms|f| + (|x| + r)/r sum_j j |b_j|)``: the
      values' rounding, and that of the points themselves (a point off by
      ``eps |z|`` moves ``f`` by ``|f'| eps |z|``, with ``|f'|`` on the circle
      bounded by ``sum_j j |b_j| / r``);
    * aliasing: the largest ``|b_j|`` of the top quarter, ``B2``, decays to
      index ``N + k`` at the rate measured from the quarter below it
      (``delta = min(1, B2/B1)`` per ``N/4`` indices), giving
      ``B2 delta**(1 + 4k/N)``.  A flat or rising tail (noise, or the
      principal part of a singularity inside the circle) is taken as it
      stands.
    """
    N = nodes.size
    with np.errstate(all="ignore"):
        # one row of N points per element: the FFT runs along contiguous rows
        Z = x[:, None] + r[:, None] * nodes[None, :]
        F = call(Z)
        finite = np.all(np.isfinite(F), axis=1)
        F[~finite] = 0.0
        b = np.fft.fft(F, axis=1) / N
        ab = np.abs(b)
        rms = np.sqrt(np.mean(F.real**2 + F.imag**2, axis=1))
        jj = np.arange(N, dtype=np.float64)
        sigma = _EPS * (_ROUND * rms + (np.abs(x) + r) / r * (ab @ jj))
        # noise above round-off (f computed to fewer digits) is white: it
        # sits in every b_j, and the last eighth of the tail measures it
        sigma += _NOISE * np.median(ab[:, N - N // 8 :], axis=1)
        q = N // 4
        B0 = ab[:, q : 2 * q].max(axis=1)
        B1 = ab[:, 2 * q : 3 * q].max(axis=1)
        B2 = ab[:, 3 * q :].max(axis=1)
        # decay per quarter: the slower of the last step and the mean of two
        # (oscillating coefficients move the maxima within their quarters)
        delta = np.maximum(_ratio(B2, B1), np.sqrt(_ratio(B2, B0)))
        k = np.arange(n + 1, dtype=np.float64)[:, None]
        alias = _ALIAS * B2[None, :] * delta[None, :] ** (1.0 + 4.0 * k / N)
        scale = r[None, :] ** -k  # 1 / r**k
        c = b[:, : n + 1].T * scale
        e = _SAFETY * (sigma[None, :] + alias) * scale
        rel = np.where(rms > 0, (sigma + alias[0]) / rms, 0.0)
        bad = ~finite | ~np.all(np.isfinite(e), axis=0)
        c[:, bad] = np.nan
        e[:, bad] = np.inf
        rel[bad] = np.inf
    return _Circle(c=c, e=e, rel=rel, finite=finite)


class _Best:
    """Per coefficient and element, the best circle so far.

    Each new circle is checked against the best one: two honest estimates
    must agree within the sum of their errors.  Where they do not, the
    larger circle is the suspect (it may enclose a singularity whose
    principal part its tail understates) and its error is raised to the
    discrepancy plus the other's error.
    """

    def __init__(self, n: int, m: int) -> None:
        self.c = np.full((n + 1, m), np.nan, dtype=np.complex128)
        self.e = np.full((n + 1, m), np.inf)
        self.r = np.full((n + 1, m), np.nan)
        self.rel = np.full((n + 1, m), np.inf)
        self.any_finite = np.zeros(m, dtype=bool)
        self.circles = np.zeros(m, dtype=np.int64)

    def add(
        self, sel: NDArray[np.intp], r: NDArray[np.float64], cir: _Circle
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
        """Merge a circle; return its ``e_n``, whether it improved, settled."""
        cb, eb, rb = self.c[:, sel], self.e[:, sel], self.r[:, sel]
        e = cir.e.copy()
        with np.errstate(all="ignore"):
            d = np.abs(cir.c - cb)
            clash = np.isfinite(e) & np.isfinite(eb) & (d > e + eb)
            larger = r[None, :] > rb
            e_new = np.where(clash & larger, d + eb, e)
            eb_new = np.where(clash & ~larger, d + e, eb)
            improved = np.any(e_new < 0.5 * eb, axis=0)
        take = e_new < eb_new
        self.c[:, sel] = np.where(take, cir.c, cb)
        self.e[:, sel] = np.where(take, e_new, eb_new)
        self.r[:, sel] = np.where(take, r[None, :], rb)
        self.rel[:, sel] = np.where(take, cir.rel[None, :], self.rel[:, sel])
        self.any_finite[sel] |= cir.finite
        self.circles[sel] += 1
        settled = cir.finite & (cir.rel <= _SETTLED)
        return e_new[-1], improved, settled


def _search(
    call: _Caller,
    x: NDArray[np.complex128],
    n: int,
    nodes: NDArray[np.complex128],
    best: _Best,
) -> None:
    """Choose the radii, per element, on a ladder ``r0 * 2**i`` and between.

    1. ``r0 = max(1, |x|) / 2``.  If that circle is settled, double the
       radius while some coefficient's error estimate halves (entire
       functions want large circles for high orders).
    2. Halve the radius while some estimate halves, and always until a
       circle is settled (a singularity near ``x``), at most
       ``_DOWN_AFTER`` halvings after that.
    3. The error of ``c_n`` is the most sensitive to the radius (round-off
       grows like ``r**-n``, aliasing like ``r**N``): bisect in ``log r``
       around its best ladder radius until the bracket is narrower than
       a factor ``2**(4/n)`` (losing at most a factor 4 in its error) or
       flat.
    """
    m = x.size
    r0 = 0.5 * np.maximum(1.0, np.abs(x))
    L = _I_MAX - _I_MIN + 1
    en_hist = np.full((L, m), np.nan)  # e_n on the ladder (nan: not evaluated)
    allm = np.arange(m)

    def run(sel: NDArray[np.intp], t: NDArray[np.float64]) -> tuple[Any, Any, Any]:
        r = r0[sel] * 2.0**t
        cir = _circle(call, x[sel], r, n, nodes)
        return best.add(sel, r, cir)

    en, _, settled0 = run(allm, np.zeros(m))
    en_hist[-_I_MIN] = en

    # 1. up
    cur = np.zeros(m, dtype=np.int64)
    active = settled0.copy()
    while active.any():
        sel = np.flatnonzero(active)
        cur[sel] += 1
        en, imp, _ = run(sel, cur[sel].astype(np.float64))
        en_hist[cur[sel] - _I_MIN, sel] = en
        active[sel] = imp & (cur[sel] < min(_UP_STEPS, _I_MAX))

    # 2. down
    cur[:] = 0
    seen = settled0.copy()
    since = np.zeros(m, dtype=np.int64)
    active = np.ones(m, dtype=bool)
    while active.any():
        sel = np.flatnonzero(active)
        cur[sel] -= 1
        en, imp, st = run(sel, cur[sel].astype(np.float64))
        en_hist[cur[sel] - _I_MIN, sel] = en
        seen[sel] |= st
        since[sel] += seen[sel]
        active[sel] = (
            (~seen[sel] | imp) & (since[sel] < _DOWN_AFTER) & (cur[sel] > _I_MIN)
        )

    # 3. refine around the best ladder radius of c_n
    if n < 3:  # a factor 2 in r costs at most 2**n in the error of c_n
        return
    h = np.where(np.isnan(en_hist), np.inf, en_hist)
    ib = np.argmin(h, axis=0)
    eb = h[ib, allm]
    ok = np.isfinite(eb) & (ib > 0) & (ib < L - 1)
    ia, ic = np.clip(ib - 1, 0, L - 1), np.clip(ib + 1, 0, L - 1)
    ok &= ~np.isnan(en_hist[ia, allm]) & ~np.isnan(en_hist[ic, allm])
    ea, ec = h[ia, allm], h[ic, allm]
    la = (ia + _I_MIN).astype(np.float64)
    lb = (ib + _I_MIN).astype(np.float64)
    lc = (ic + _I_MIN).astype(np.float64)
    width = 4.0 / n
    for _ in range(_REFINE_STEPS):
        with np.errstate(invalid="ignore"):
            active = ok & (lc - la > width) & (np.maximum(ea, ec) > 2.0 * eb)
        if not active.any():
            break
        sel = np.flatnonzero(active)
        left_w, right_w = lb[sel] - la[sel], lc[sel] - lb[sel]
        right = (right_w > left_w) | ((right_w == left_w) & (ec[sel] < ea[sel]))
        t = np.where(right, 0.5 * (lb[sel] + lc[sel]), 0.5 * (la[sel] + lb[sel]))
        et, _, _ = run(sel, t)
        better = et < eb[sel]
        # better: t becomes the middle, the old middle an end; else t an end
        sr, sl = sel[right], sel[~right]
        br, bl = better[right], better[~right]
        tr, tl, er, el = t[right], t[~right], et[right], et[~right]
        la[sr] = np.where(br, lb[sr], la[sr])
        ea[sr] = np.where(br, eb[sr], ea[sr])
        lc[sr] = np.where(br, lc[sr], tr)
        ec[sr] = np.where(br, ec[sr], er)
        lc[sl] = np.where(bl, lb[sl], lc[sl])
        ec[sl] = np.where(bl, eb[sl], ec[sl])
        la[sl] = np.where(bl, la[sl], tl)
        ea[sl] = np.where(bl, ea[sl], el)
        lb[sel] = np.where(better, t, lb[sel])
        eb[sel] = np.where(better, et, eb[sel])


def taylor(
    f: Callable[..., Any],
    x: ArrayLike,
    n: int,
    *,
    derivatives: bool = False,
    radius: ArrayLike | None = None,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    vectorized: bool = True,
    full_output: bool = False,
) -> Any:
    r"""Taylor coefficients up to order `n` of an analytic `f`, elementwise.

    Computes ``c[k] = f^(k)(x) / k!`` for ``k = 0, ..., n`` (or the
    derivatives ``f^(k)(x)``) from values of `f` on circles around `x` in
    the complex plane, by Cauchy's integral formula, with an error estimate
    and a radius chosen per element and per coefficient.

    Parameters
    ----------
    f : callable
        ``f(z, *args, **kwargs)``, analytic in a disk around each `x`.  It
        is called on complex arrays of points (any shape) and must return
        values of the same shape (elementwise); `args` and `kwargs` are
        passed unchanged to every call.  With ``vectorized=False`` it is
        called once per point on a NumPy complex scalar and returns a
        scalar.
    x : array_like
        Real or complex points, any shape.
    n : int
        Highest order, ``0 <= n <= 100``.
    derivatives : bool, optional
        Return the derivatives ``f^(k)(x)`` instead of the coefficients
        (default False).
    radius : float or array_like, optional
        The radius of the circle, per element (broadcast to the shape of
        `x`).  Default None: searched for automatically.
    args : tuple, optional
        Extra positional arguments of `f`.
    kwargs : dict, optional
        Extra keyword arguments of `f`.
    vectorized : bool, optional
        Whether `f` accepts arrays (default True).
    full_output : bool, optional
        Also return an :class:`~numderiv.Info` (default False).

    Returns
    -------
    c : ndarray
        Shape ``(n + 1,) + x.shape``; ``c[k]`` is the `k`-th Taylor
        coefficient (or derivative).  Real when `x` is real and `f` is real
        on the real axis (the imaginary parts are then within the error
        estimates and dropped), complex otherwise.  Entries that cannot be
        trusted to their error estimate (status ``< 0``) are NaN unless
        ``full_output=True``.
    info : Info
        Only with ``full_output=True``.  ``error`` is the estimated absolute
        error of each entry of `c`; ``step`` the radius used for each entry
        (shape of `c`); ``method`` is ``"taylor"``, ``order`` is `n`;
        ``status`` is the worst of the entries' codes (0 success, -1 a
        given `radius` was too large or too small for the error model to
        apply, -2 the radius search did not settle, -3 `f` was non-finite on
        every circle tried); ``extra`` holds ``"points"`` (points per
        circle), ``"circles"`` (circles per element, shape of `x`) and
        ``"status"`` (the code of each entry, shape of `c`).

    Raises
    ------
    TypeError
        If `f` is not callable, `x` is not numeric, `n` is not an integer
        (booleans included) or a flag is not a bool.
    ValueError
        If `n` is negative or above 100, `x` is not finite, `radius` is not
        positive and finite or does not broadcast to `x`, or `f` returns the
        wrong shape.

    Notes
    -----
    **Formula.**  On ``N`` points ``z_l = x + r w^l``, ``w = exp(2 pi i/N)``,
    the DFT ``b_j = (1/N) sum_l f(z_l) w^(-jl)`` equals
    ``sum_p c_(j+pN) r^(j+pN)``: the trapezoidal rule for Cauchy's integral
    is exact up to aliasing from orders ``j + N, j + 2N, ...``, which fall
    like ``(r/R)^N`` for a singularity at distance ``R`` (Lyness & Moler
    1967).  So ``c_k = b_k / r^k`` up to aliasing and a round-off of about
    ``eps max|f| / r^k``.  ``N`` is a power of two, at least ``4 (n + 1)``
    and 16, so that ``3N/4`` further coefficients form a tail from which
    both parts of the error are read.

    **Error estimate.**  Per circle, the error of ``b_k`` is bounded by
    ``3 (sigma + B2 delta^(1 + 4k/N))``: ``sigma`` is round-off (``2 eps``
    times the rms of `f` on the circle, plus the effect of rounding the
    points, ``eps (|x| + r) |f'|``, with ``|f'|`` bounded from the computed
    coefficients); ``B2`` is the largest ``|b_j|`` of the top quarter of the
    tail and ``delta = min(1, B2/B1)`` its decay from the quarter below,
    extrapolated to index ``N + k`` (a flat tail -- noise, or the principal
    part of a singularity inside the circle -- is taken as is).  Each new
    circle is also checked against the best previous one for the same
    coefficient; where they disagree by more than their errors, the larger
    circle's error is raised to the discrepancy.

    **Radius.**  Round-off wants a large circle, aliasing a small one, and
    the balance differs per order: for ``exp`` the best radius for ``c_k``
    is about ``k``; below a singularity at distance ``R`` it is close to
    ``R eps^(1/(N+n))`` for the highest orders.  The search (after Fornberg
    1981, who also adjusts the radius from the decay of the computed
    coefficients) starts at ``max(1, |x|)/2``, doubles the radius while some
    estimate improves twofold (only if the first circle is settled, i.e.
    its tail is below ``1e-6`` of `f`), halves it while some estimate
    improves twofold (and until a circle is settled), then bisects
    ``log r`` around the best radius for ``c_n``.  Each coefficient takes
    the circle with its smallest error estimate.  One call of `f` per
    circle evaluates all still-searching elements; ``nfev`` counts points
    (``N`` per circle per element): typically 5 to 15 circles.

    A circle through or around a singularity is seen in its tail (large or
    non-finite values) and is not chosen; a singularity at `x` itself, or
    noise far above round-off, leaves every circle unsettled: status -2.

    References
    ----------
    .. [1] J. N. Lyness and C. B. Moler, "Numerical differentiation of
       analytic functions", SIAM J. Numer. Anal. 4 (1967) 202-210.
    .. [2] B. Fornberg, "Numerical differentiation of analytic functions",
       ACM Trans. Math. Software 7 (1981) 512-526.
    .. [3] L. N. Trefethen and J. A. C. Weideman, "The exponentially
       convergent trapezoidal rule", SIAM Review 56 (2014) 385-458.

    Examples
    --------
    >>> import numpy as np
    >>> import numderiv as nd
    >>> c = nd.taylor(np.exp, 0.0, 5)
    >>> bool(np.allclose(c, [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120], rtol=1e-12))
    True

    Derivatives, with the error estimate, near a pole:

    >>> d, info = nd.taylor(lambda z: 1 / (1 - z), 0.9, 4, derivatives=True,
    ...                     full_output=True)
    >>> exact = np.array([1, 1, 2, 6, 24]) / 0.1 ** np.arange(1, 6)
    >>> bool(np.all(np.abs(d - exact) <= info.error)), info.status
    (True, 0)
    >>> bool(np.all(info.step < 0.1))
    True

    Elementwise over an array:

    >>> nd.taylor(np.sin, np.array([0.0, np.pi / 2]), 2).round(12) + 0.0
    array([[ 0. ,  1. ],
           [ 1. ,  0. ],
           [ 0. , -0.5]])
    """
    o = _check_taylor(
        f, x, n, derivatives, radius, args, kwargs, vectorized, full_output
    )
    n = o.n
    N = _n_points(n)
    m = o.x.size
    # The nodes w^l, with w^(N-l) the exact conjugate of w^l and the four
    # axis points exact: a real-on-the-real-axis f then gives conjugate
    # values at conjugate points, and real coefficients.
    half = np.exp(2j * np.pi * np.arange(N // 2 + 1) / N)
    q = N // 4
    half[0], half[q], half[2 * q] = 1.0, 1j, -1.0
    nodes = np.concatenate([half, np.conj(half[-2:0:-1])])
    call = _Caller(o)
    best = _Best(n, m)

    if m:
        if o.radius is None:
            _search(call, o.x, n, nodes, best)
        else:
            best.add(np.arange(m), o.radius, _circle(call, o.x, o.radius, n, nodes))

    # status per entry
    status = np.zeros((n + 1, m), dtype=np.int64)
    unsettled = ~(best.rel <= _SETTLED) | ~np.isfinite(best.e)
    status[unsettled] = -2 if o.radius is None else -1
    status[:, ~best.any_finite] = -3
    c, err = best.c, best.e
    c = np.where(status == -3, np.nan, c)
    err = np.where(status == -3, np.inf, err)
    if o.derivatives:
        fact = np.array([float(math.factorial(k)) for k in range(n + 1)])[:, None]
        with np.errstate(over="ignore", invalid="ignore"):
            c, err = c * fact, err * fact

    out: NDArray[Any] = c
    if o.real_x:
        with np.errstate(invalid="ignore"):
            real_ok = np.all((np.abs(c.imag) <= err) | ~np.isfinite(c))
        if real_ok:
            out = c.real.copy()
    if not o.full_output:
        out = np.where(status < 0, np.nan, out)

    shape = (n + 1, *o.shape)
    out = out.reshape(shape)
    if not o.full_output:
        return out
    code = worst_status([int(s) for s in np.unique(status)])
    info = Info(
        nfev=call.nfev,
        ncalls=call.ncalls,
        error=err.reshape(shape),
        step=best.r.reshape(shape),
        method="taylor",
        order=n,
        status=code,
        message=_message(code),
        extra={
            "points": N,
            "circles": best.circles.reshape(o.shape),
            "status": status.reshape(shape),
        },
    )
    return out, info


def _message(code: int) -> str:
    if code == -1:
        return (
            "the given radius is outside the range where the error model "
            "applies for some entries: the tail of the coefficients on the "
            "circle (aliasing, or a singularity inside it) is too large"
        )
    if code == -2:
        return (
            "no convergence: for some entries the radius search found no "
            "circle whose coefficients settle (a singularity at x, or noise "
            "in f); they are NaN without full_output"
        )
    if code == -3:
        return "f was non-finite on every circle tried for some entries; they are NaN"
    return STATUS_MESSAGES[code]
