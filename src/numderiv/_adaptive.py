"""``method="adaptive"``: Richardson extrapolation over a geometric ladder of steps.

Along every direction ``u`` the ``m``-th derivative of ``g(t) = f(x + t u)``
is estimated from pairs of points ``g(+-h_k)`` at steps ``h_k = h_ref q^-k``
(``q`` the step factor).  The points form a *run* of consecutive levels; a
*window* of ``L`` consecutive levels of a run gives the estimate

    E = (sum_i w+_i g(h q^i) + w-_i g(-h q^i) + w0 g(0)) / h^m,  i < L,

with exact Fornberg weights on the geometric nodes ``+-q^i`` (and ``0`` for
even ``m``).  That is the Richardson (Neville) extrapolation of the base
central difference to ``h = 0`` in powers of ``h^2``: each new level adds one
pair of points and reuses all the others (nested stencils).  The table of a
row holds the windows ending at the newest level; its entry of length ``L``
is checked against the two windows of length ``L - 1`` inside it, and the
largest difference is its truncation-error estimate.  Round-off is bounded
from the values themselves (``eps`` times ``sum |w g|``), plus the noise of
``f`` when it is known.  Per entry, the estimate with the smallest total is
kept.

The step search goes both ways from ``h_ref``:

* down, one level at a time, while the table converges;
* where ``f`` is non-finite on a side (a domain edge within the step), a
  new run ``_EDGE_FACTOR`` lower;
* where three successive base estimates do not contract as an asymptotic
  sequence must, or extrapolation gains nothing on them, the steps do not
  fit ``f`` (``sin`` at ``1e8`` with a relative step): far off, a new run
  ``_JUMP_FACTOR`` lower; nearly, on down the same run;
* where the estimates differ by round-off only and carry no digit, the
  steps are too small: a new run ``_JUMP_FACTOR`` higher; between a start
  too high and one too low, the search bisects.

Where ``f`` stays non-finite on one side down to tiny steps, or ``bounds``
leave no room, the ladder is one-sided (nodes ``0, q^i``, error in every
power of ``h``).  Each direction stops on its own as soon as all its entries
are within their tolerance, or when the estimate stops improving (the noise
floor), and costs no evaluations after that.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._core import ROUNDOFF_ULPS, Elements, Outcome, Points, differentiate
from ._result import worst_status
from ._stencil import _exact_weights
from ._steps import Scheme, _pref, input_noise_gain, scheme, user_or_default_steps
from ._validate import Common

#: a jump of the search (a new run) moves the step by about this factor
_JUMP_FACTOR = 16.0
#: after a level where f was non-finite (an edge within the step), the next
#: step is smaller by about this factor
_EDGE_FACTOR = 32.0
#: the truncation estimate (a difference of estimates) is one sample of the
#: error: doubled, it covers the error of the better of the two
_SAFETY = 2.0
#: extrapolation uses at most this many levels beyond the base stencil
_EXTRA_LEVELS = 5
#: consecutive levels without improvement that end a direction (noise floor)
_STALL = 2
#: round-off of a value of f, in units of eps |f|, that steers the search
#: and the stopping; the error reported has ROUNDOFF_ULPS (a wider margin
#: for the rounding inside f, which need not steer where to stop)
_ULPS = 2.0


def default_ladder(m: int) -> tuple[float, float]:
    """Default ``(initial_step, step_factor)`` for the ``m``-th derivative.

    The initial step is relative to ``max(1, |x|)`` along each direction.
    Extrapolation reaches high orders, so its best steps are much larger
    than those of a fixed stencil: about ``eps^(1/(p+m))`` for order ``p``.
    First derivatives start at 0.5 and halve (steps stay exact powers of
    two); higher derivatives amplify round-off by ``h^-m`` and do better on
    larger steps with a finer ratio, 1.5, which keeps the weights of the
    wide stencils small.  Tuned on the functions of
    :data:`numderiv.testing.PEER_PROBLEMS`.
    """
    if m == 1:
        return 0.5, 2.0
    return (1.0 if m == 2 else 2.0), 1.5


@dataclass(frozen=True)
class AdaptiveOptions:
    """Options of ``method="adaptive"``, checked (see :func:`check_adaptive`)."""

    initial_step: float
    step_factor: float
    maxiter: int
    atol: float
    rtol: float
    noise: NDArray[Any] | None  # absolute noise of f, per output (or scalar)
    estimate_noise: bool = False  # measure it first (noise="estimate")


@dataclass
class AdaptiveOutcome(Outcome):
    """:class:`~numderiv._core.Outcome` with what the extrapolation found."""

    levels: NDArray[Any] = field(default_factory=lambda: np.zeros(0))
    noise: NDArray[Any] = field(default_factory=lambda: np.zeros(0))


@functools.lru_cache(maxsize=512)
def _window_weights(
    m: int, L: int, side: int, center: bool, q: Fraction
) -> tuple[NDArray[Any], NDArray[Any], float]:
    """Weights ``(w+, w-, w0)`` of the window of ``L`` levels (smallest node 1).

    ``side`` 0: nodes ``+-q^i`` (and ``0`` with `center`); ``+1``: ``0, q^i``;
    ``-1``: ``0, -q^i``.  Exact rationals, so the extrapolation adds no
    rounding of its own beyond that of the float weights.
    """
    pos = [q**i for i in range(L)]
    offs: list[Fraction] = []
    if side >= 0:
        offs += pos
    if side <= 0:
        offs += [-p for p in pos]
    if center or side != 0:
        offs.append(Fraction(0))
    w = _exact_weights(tuple(offs), m)[m]
    wp = np.zeros(L)
    wm = np.zeros(L)
    k = 0
    if side >= 0:
        wp[:] = [float(v) for v in w[k : k + L]]
        k += L
    if side <= 0:
        wm[:] = [float(v) for v in w[k : k + L]]
        k += L
    w0 = float(w[k]) if k < len(w) else 0.0
    return wp, wm, w0


def base_levels(m: int, side: int, center: bool) -> int:
    """Levels of the smallest window that gives an ``m``-th derivative."""
    if side != 0:
        return m
    return -(-m // 2) if center else m // 2 + 1


def _axis_coordinates(prov: Points | Elements) -> NDArray[Any] | None:
    """The coordinate each direction moves, where it moves one only (else None).

    Then the rounding of a point ``x_j + t`` is known exactly,
    ``(x_j + t) - x_j - t``, and is often zero (steps of few significant
    bits); other directions take the worst case, ``eps |x|`` per coordinate.
    """
    if isinstance(prov, Elements):
        return prov.x.reshape(-1).real.astype(np.float64)
    if prov.dirs.unit_axes:
        return prov.x.real.astype(np.float64)
    return None


def _evaluate(
    prov: Points | Elements, idx: NDArray[Any], T: NDArray[Any]
) -> list[NDArray[Any]]:
    if isinstance(prov, Elements):
        return [prov.moved(idx, T[k]) for k in range(T.shape[0])]
    # Points reuses its table of values from one call to the next
    return [np.array(v) for v in prov.eval(idx, T)]


def _center(prov: Points | Elements, idx: NDArray[Any]) -> NDArray[Any]:
    c = prov.center(idx)
    return np.broadcast_to(c, (c.shape[0], idx.size))


def adaptive(
    prov: Points | Elements,
    href: NDArray[Any],
    m: int,
    opts: AdaptiveOptions,
    *,
    eps: float,
    trange: tuple[NDArray[Any], NDArray[Any]] | None = None,
    want_error: bool = True,
) -> AdaptiveOutcome:
    """``m``-th derivatives along every direction of `prov`; see the module doc.

    `href` is the reference step of each direction (the top of the first
    run).  Returns values and errors of shape ``(M, ndir)``, the smallest
    step of the chosen window per direction and the status (see
    :data:`numderiv._result.STATUS_MESSAGES`); without `want_error`,
    entries that cannot be trusted are NaN.
    """
    with np.errstate(all="ignore"):
        return _adaptive(prov, href, m, opts, eps, trange, want_error)


def _adaptive(
    prov: Points | Elements,
    href: NDArray[Any],
    m: int,
    opts: AdaptiveOptions,
    eps: float,
    trange: tuple[NDArray[Any], NDArray[Any]] | None,
    want_error: bool,
) -> AdaptiveOutcome:
    lad = _Ladder(prov, np.asarray(href), m, opts, eps, trange)
    for _ in range(opts.maxiter):
        act = np.flatnonzero(lad.active)
        if act.size == 0:
            break
        lad.level(act)
    return lad.outcome(want_error)


def _jump(factor: float, q: float) -> int:
    """Levels of the ladder that make up a step ratio of about `factor`."""
    return max(1, math.ceil(math.log(factor) / math.log(q) - 1e-9))


class _Ladder:
    """The state of the extrapolation along every direction (see module doc).

    Per direction: the side of its ladder (0 central, +1 forward, -1
    backward), the exponent ``e`` of its next step ``href q^e``, the length
    of its current run and the values of that run's last levels (index 0
    the newest); per entry (output, direction): the best estimate so far,
    its error and where it came from.
    """

    def __init__(
        self,
        prov: Points | Elements,
        href: NDArray[Any],
        m: int,
        opts: AdaptiveOptions,
        eps: float,
        trange: tuple[NDArray[Any], NDArray[Any]] | None,
    ) -> None:
        nd = href.size
        # steps in float64 here; points (and so f) in the precision of x
        self.step_dtype = href.dtype
        href = href.astype(np.float64)
        self.prov, self.href, self.m, self.opts, self.eps = prov, href, m, opts, eps
        self.q = float(opts.step_factor)
        self.qf = Fraction(self.q).limit_denominator(1 << 20)
        self.jump = _jump(_JUMP_FACTOR, self.q)
        self.edge_jump = _jump(_EDGE_FACTOR, self.q)
        self.side = np.zeros(nd, dtype=np.intp)
        self.e = np.zeros(nd, dtype=np.intp)
        self.run = np.zeros(nd, dtype=np.intp)
        self.run_id = np.zeros(nd, dtype=np.intp)
        self.verified = np.zeros(nd, dtype=bool)
        self.passes = np.zeros(nd, dtype=np.intp)
        # exponents known to start a run with steps too large / too small
        self.hi_e = np.full(nd, np.inf)
        self.lo_e = np.full(nd, -np.inf)
        self.levels = np.zeros(nd, dtype=np.intp)
        self.active = np.ones(nd, dtype=bool)
        self.stuck = np.zeros(nd, dtype=bool)
        self.use_center = m % 2 == 0
        self._f0: NDArray[Any] | None = None
        self.center_ok = np.ones(nd, dtype=bool)
        # below this step a central ladder that keeps failing is given up
        self.hmin = href * 2.0**-45
        self.room: tuple[NDArray[Any], NDArray[Any]] | None = None
        if trange is not None:
            tlo, thi = (np.asarray(a, dtype=np.float64) for a in trange)
            self.room = (-tlo, thi)
            both = np.minimum(thi, -tlo)
            # central where both sides leave room for a ladder of some
            # length, otherwise one-sided towards the roomier side
            tight = both < href * 2.0**-12
            self.side[tight & (thi >= -tlo)] = 1
            self.side[tight & (thi < -tlo)] = -1
            lim = np.where(self.side == 0, both, np.where(self.side > 0, thi, -tlo))
            ratio = np.maximum(href / np.maximum(lim, 1e-300), 1.0)
            self.e -= np.ceil(np.log(ratio) / math.log(self.q)).astype(np.intp)
        self.M = -1  # outputs, known after the first evaluation
        # how the points round: exactly where a direction moves one
        # coordinate, else at worst eps |x| along it
        self.exact_x = _axis_coordinates(prov)
        self.xscale = np.zeros(0)
        if self.exact_x is None:
            assert isinstance(prov, Points)  # Elements move one coordinate each
            self.xscale = prov.x_along()
        # how far the points of the run are off their intended place
        self.rounding = np.zeros(nd)

    # -- storage, allocated once the number of outputs is known
    def _allocate(self, first: NDArray[Any]) -> None:
        M, nd = first.shape[0], self.href.size
        self.noise: NDArray[Any] | None = None
        nz = self.opts.noise
        if nz is not None:
            if nz.size in (1, M):
                self.noise = np.broadcast_to(nz.reshape(-1, 1), (M, nd))
            elif M == 1 and nz.size == nd:
                self.noise = nz.reshape(1, nd)  # one value per element
            else:
                raise ValueError(
                    f"noise must be a scalar or have one value per output of f "
                    f"({M}), got {nz.size} values"
                )
        self.M = M
        self.out_dtype = first.dtype
        dt = np.result_type(first.dtype, np.float64)
        W = base_levels(self.m, 1, True) + _EXTRA_LEVELS + 2
        self.Fp = np.zeros((M, nd, W), dtype=dt)
        self.Fm = np.zeros((M, nd, W), dtype=dt)
        self.best = np.full((M, nd), np.nan, dtype=dt)
        self.best_err = np.full((M, nd), np.inf)
        self.best_tr = np.full((M, nd), np.inf)
        self.best_nz = np.zeros((M, nd))
        self.best_mg = np.zeros((M, nd))
        self.best_lvl = np.zeros((M, nd), dtype=np.intp)
        self.best_run = np.zeros((M, nd), dtype=np.intp)
        self.best_h = np.full((M, nd), np.nan)
        self.done = np.zeros((M, nd), dtype=bool)
        self.B1 = np.full((M, nd), np.nan)
        self.B2 = np.full((M, nd), np.nan)
        self.Bref = np.zeros((M, nd))
        self.G1 = np.zeros((M, nd))  # size of the first derivative, newest level
        self.Eprev = np.full((M, nd, _EXTRA_LEVELS + 1), np.nan, dtype=dt)
        self._tables: dict[tuple[int, bool], Any] = {}

    def f0(self) -> NDArray[Any]:
        """``f(x)`` for every direction, (M, ndir): evaluated once, when needed."""
        if self._f0 is None:
            nd = self.href.size
            c = self.prov.center(np.arange(nd))
            self._f0 = np.broadcast_to(c, (c.shape[0], nd))
            self.center_ok = np.isfinite(self._f0).all(axis=0)
        return self._f0

    # -- one level of the ladder for the active directions
    def level(self, act: NDArray[Any]) -> None:
        q = self.q
        # steps in the precision of x (float32 stays float32 for f)
        h = (self.href[act] * q ** self.e[act].astype(np.float64)).astype(
            self.step_dtype
        )
        s = self.side[act]
        parts = []
        for sd, signs in ((0, (1.0, -1.0)), (1, (1.0,)), (-1, (-1.0,))):
            sel = np.flatnonzero(s == sd)
            if sel.size:
                T = np.stack([sg * h[sel] for sg in signs])
                parts.append((sd, sel, _evaluate(self.prov, act[sel], T)))
        if self.M < 0:
            self._allocate(parts[0][2][0])
        if self.use_center or np.any(s != 0):
            self.f0()
        M = self.M
        newp = np.zeros((M, act.size), dtype=self.Fp.dtype)
        newm = np.zeros((M, act.size), dtype=self.Fp.dtype)
        for sd, sel, vals in parts:
            if sd >= 0:
                newp[:, sel] = vals[0]
            if sd <= 0:
                newm[:, sel] = vals[-1]
        self.levels[act] += 1
        pos_ok = np.asarray(np.isfinite(newp).all(axis=0))
        neg_ok = np.asarray(np.isfinite(newm).all(axis=0))
        ok: NDArray[Any] = np.where(
            s == 0, pos_ok & neg_ok, np.where(s > 0, pos_ok, neg_ok)
        )
        ok &= (s == 0) | self.center_ok[act]  # one-sided ladders need f(x)
        if not ok.all():
            self._failed(act[~ok], pos_ok[~ok], neg_ok[~ok])
        g = np.flatnonzero(ok)
        if g.size == 0:
            return
        good = act[g]
        ix = _index(good, self.href.size)
        self.Fp[:, ix, 1:] = self.Fp[:, ix, :-1]
        self.Fm[:, ix, 1:] = self.Fm[:, ix, :-1]
        self.Fp[:, ix, 0] = newp[:, g]
        self.Fm[:, ix, 0] = newm[:, g]
        self.run[good] += 1
        # the rounding of the new points, exactly along an axis
        if self.exact_x is not None:
            xj = self.exact_x[good]
            hj = h[g].astype(np.float64)
            off = np.maximum(np.abs((xj + hj) - xj - hj), np.abs((xj - hj) - xj + hj))
        else:
            off = self.eps * self.xscale[good]
        self.rounding[good] = np.where(
            self.run[good] == 1, off, np.maximum(self.rounding[good], off)
        )
        # the size of the first derivative along each direction, for the
        # rounding of the points (central pair, or one side against f(x))
        hgood = h[g].astype(np.float64)
        sg = s[g]
        one = np.where(sg[None, :] > 0, newp[:, g], newm[:, g])
        if np.any(sg != 0):
            one = one - self.f0()[:, good]
        self.G1[:, ix] = (
            np.abs(np.where(sg[None, :] == 0, (newp[:, g] - newm[:, g]) / 2, one))
            / hgood
        )
        self._row(good, h[g])

    def _failed(
        self, bad: NDArray[Any], pos_ok: NDArray[Any], neg_ok: NDArray[Any]
    ) -> None:
        """Non-finite values: a new run further down, or one-sided, or stuck.

        A domain edge lies within the step: the next step is smaller by
        about ``_EDGE_FACTOR``.  A central ladder that still fails below
        ``hmin`` is given up for the one-sided ladder on the finite side,
        from the reference step down.
        """
        self.run[bad] = 0
        self.run_id[bad] += 1
        self.verified[bad] = False
        self.passes[bad] = 0
        if self.M > 0:
            self.Bref[:, bad] = 0.0
        self.e[bad] -= self.edge_jump
        hb = self.href[bad] * self.q ** self.e[bad].astype(np.float64)
        over = (hb < self.hmin[bad]) | (self.side[bad] != 0)
        if not np.any(over):
            return
        tb = bad[over]
        pb, nb = pos_ok[over], neg_ok[over]
        cen = self.side[tb] == 0
        f0ok = self.center_ok[tb] & np.isfinite(self.f0()[:, tb]).all(axis=0)
        to_fw = cen & pb & ~nb & f0ok
        to_bw = cen & nb & ~pb & f0ok
        self.side[tb[to_fw]] = 1
        self.side[tb[to_bw]] = -1
        self.e[tb[to_fw | to_bw]] = 0
        dead = tb[~(to_fw | to_bw)]
        self.stuck[dead] = True
        self.active[dead] = False

    def _row(self, good: NDArray[Any], hg: NDArray[Any]) -> None:
        """The new row of the table, the best entries, and what to do next.

        Entry ``j`` of a row is the window of ``Lb + j`` levels ending at the
        new level (``Lb`` the base window of the direction's stencil kind).
        """
        ix = _index(good, self.href.size)
        M, m, eps, J = self.M, self.m, self.eps, _EXTRA_LEVELS + 1
        f0 = self._f0
        run = self.run[good]
        G = good.size
        dt = self.best.dtype
        E = np.full((M, G, J), np.nan, dtype=dt)
        N = np.full((M, G, J), np.nan)
        MG = np.full((M, G, J), np.nan)
        lb = np.zeros(G, dtype=np.intp)
        hm = hg.astype(np.float64) ** m
        groups = _window_groups(self.side[good], self.center_ok[good], self.use_center)
        for (sd, ce), loc in groups.items():
            Lb = base_levels(m, sd, ce)
            lb[loc] = Lb
            WP, WM, W0, gsum = self._weight_table(sd, ce, Lb)
            dd = ix if loc.size == G else good[loc]
            W = WP.shape[0]
            P, Q = self.Fp[:, dd, :W], self.Fm[:, dd, :W]
            num = P @ WP + Q @ WM
            mag = np.abs(P) @ np.abs(WP) + np.abs(Q) @ np.abs(WM)
            if np.any(W0):
                assert f0 is not None
                num = num + f0[:, dd, None] * W0
                mag = mag + np.abs(f0[:, dd, None]) * np.abs(W0)
            # round-off: a few ulps of each value, the rounding of the points
            # seen through f', plus the known noise
            noise = _ULPS * eps * mag
            noise += gsum * (self.rounding[dd] * self.G1[:, dd])[:, :, None]
            if self.noise is not None:
                # twice the standard deviation of the noise of each value
                noise += 2.0 * gsum * self.noise[:, dd, None]
            h_m = hm[loc][None, :, None]
            valid = (run[loc][:, None] >= Lb + np.arange(J))[None, :, :]
            E[:, loc] = np.where(valid, num / h_m, np.nan)
            N[:, loc] = np.where(valid, noise / h_m, np.nan)
            MG[:, loc] = np.where(valid, eps * mag / h_m, np.nan)
        # each window checked against the two windows of one level less
        # inside it: this row's (without its largest step) and the previous
        # row's (without its smallest); the best per output is kept
        prev = self.Eprev[:, ix]
        t1 = np.abs(E[..., 1:] - E[..., :-1])
        t2 = np.abs(E[..., 1:] - prev[..., :-1])
        tr = _SAFETY * np.fmax(t1, t2)
        tr[np.isnan(E[..., 1:])] = np.nan
        err = tr + N[..., 1:]
        err = np.where(np.isfinite(err), err, np.inf)
        k = np.argmin(err, axis=2)[..., None]
        rerr = np.take_along_axis(err, k, axis=2)[..., 0]
        pick = k + 1
        rb = np.take_along_axis(E, pick, axis=2)[..., 0]
        rtr = np.take_along_axis(tr, k, axis=2)[..., 0]
        rnz = np.take_along_axis(N, pick, axis=2)[..., 0]
        rmg = np.take_along_axis(MG, pick, axis=2)[..., 0]
        none = np.isinf(rerr)
        rb[none] = np.nan
        rtr[none] = np.inf
        rnz[none] = 0.0
        rmg[none] = 0.0
        self.Eprev[:, ix] = E
        self._decide(good, hg, lb, E[..., 0].real, N[..., 0], rb, rerr, rtr, rnz, rmg)

    def _weight_table(
        self, sd: int, ce: bool, Lb: int
    ) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any]]:
        """Weights of the windows of ``Lb .. Lb + _EXTRA_LEVELS`` levels, as columns."""
        key = (sd, ce)
        if key not in self._tables:
            J = _EXTRA_LEVELS + 1
            W = Lb + J - 1
            WP, WM, W0 = np.zeros((W, J)), np.zeros((W, J)), np.zeros(J)
            for j in range(J):
                wp, wm, w0 = _window_weights(self.m, Lb + j, sd, ce, self.qf)
                WP[: Lb + j, j], WM[: Lb + j, j], W0[j] = wp, wm, w0
            gsum = np.abs(WP).sum(axis=0) + np.abs(WM).sum(axis=0) + np.abs(W0)
            self._tables[key] = (WP, WM, W0, gsum)
        return self._tables[key]

    def _decide(
        self,
        good: NDArray[Any],
        hg: NDArray[Any],
        lb: NDArray[Any],
        base: NDArray[Any],
        basen: NDArray[Any],
        rb: NDArray[Any],
        rerr: NDArray[Any],
        rtr: NDArray[Any],
        rnz: NDArray[Any],
        rmg: NDArray[Any],
    ) -> None:
        q = self.q
        ix = _index(good, self.href.size)
        run = self.run[good]
        # is the run asymptotic?  Three successive base estimates must
        # contract (or differ by round-off only)
        d2 = np.abs(base - self.B1[:, ix])
        d1 = np.abs(self.B1[:, ix] - self.B2[:, ix])
        prev_base = self.B1[:, ix].copy()
        self.B2[:, ix] = self.B1[:, ix]
        self.B1[:, ix] = base
        done = self.done[:, ix]
        tested = run >= lb + 2
        # and the extrapolation must gain on the base estimates: random
        # values from steps that do not fit f contract now and then, but
        # extrapolating them gains nothing
        gains = (rtr <= 0.25 * _SAFETY * (d1 + d2)) | (rtr <= 4.0 * rnz)
        # a central base estimate's error shrinks by q^2 a level, a one-sided
        # one's by q only: it must contract by at least 2, or by sqrt(q)
        shrink = np.where(self.side[good] == 0, 0.5, q**-0.5)[None, :]
        diverging = (((d2 > shrink * d1 + 4.0 * basen) | ~gains) & ~done).any(axis=0)
        # nor may it be round-off only: base estimates that differ by
        # noise, with no digit in the best entry (a derivative that is
        # exactly 0, with equal estimates, is fine)
        noise_like = ~((d2 > 16.0 * basen) & ~done).any(axis=0)
        blank = ((rerr >= 0.5 * np.abs(rb)) & (d1 + d2 > 0) & ~self.done[:, ix]).any(
            axis=0
        )
        non_asym = tested & (diverging | (noise_like & blank))
        # verified: two contraction tests passed in a row (random values
        # from steps that do not fit f pass one now and then)
        self.passes[good] = np.where(tested & ~non_asym, self.passes[good] + 1, 0)
        newly = ~self.verified[good] & (self.passes[good] >= 2)
        self.verified[good] |= newly
        # the size of the derivative where the run became verified: the
        # scale of the tolerance where the estimate itself vanishes
        self.Bref[:, good[newly]] = np.abs(base[:, newly])
        # keep the best entry (tentative while its run is not verified)
        # two estimates whose error bars do not overlap: one bar is wrong.
        # If the new one is right the kept one is off by up to their
        # difference plus the new error, which becomes its error (so a
        # lucky early agreement of the table cannot stand)
        kept, kerr = self.best[:, ix], self.best_err[:, ix]
        gap = np.abs(rb - kept)
        clash = np.isfinite(gap) & np.isfinite(rerr) & (gap > rerr + kerr) & ~done
        if np.any(clash):
            self.best_err[:, ix] = np.where(clash, gap + rerr, kerr)
            self.best_tr[:, ix] = np.where(clash, gap + rerr, self.best_tr[:, ix])
        better = (rerr < self.best_err[:, ix]) & ~done
        # progress, for the noise floor, is a gain of more than the step
        # factor: where f vanishes at x its round-off bound shrinks with h
        # and would gain a little at every level forever
        gain = rerr < self.best_err[:, ix] / max(2.0, q)
        self.best_lvl[:, ix] = np.where(
            gain & ~done, self.levels[good], self.best_lvl[:, ix]
        )
        rr, cc = np.nonzero(better)
        gg = good[cc]
        self.best[rr, gg] = rb[rr, cc]
        self.best_err[rr, gg] = rerr[rr, cc]
        self.best_tr[rr, gg] = rtr[rr, cc]
        self.best_nz[rr, gg] = rnz[rr, cc]
        self.best_mg[rr, gg] = rmg[rr, cc]
        self.best_run[rr, gg] = self.run_id[gg]
        self.best_h[rr, gg] = hg[cc]
        # an entry is done when a row is within tolerance, relative to the
        # size of the estimate or, where that vanishes (a gradient at a
        # minimum), of the base estimate where its run was verified
        tol = self.opts.atol + self.opts.rtol * np.fmax(np.abs(rb), self.Bref[:, ix])
        self.done[:, ix] |= rerr <= tol
        done = self.done[:, ix]
        converged = done.all(axis=0)
        # a verified run that stops contracting within round-off has reached
        # its noise floor
        floor = non_asym & self.verified[good] & noise_like
        # otherwise a run that does not contract has steps too large
        # (truncation) or too small (round-off); the search brackets the
        # exponent of a good start between the two and bisects
        fresh = non_asym & ~floor & ~converged
        too_small = fresh & noise_like
        too_big = fresh & ~noise_like
        # far too big (the base estimate changes by more than its size):
        # jump; merely too big: go on down the same run, which drops its
        # top levels as it goes (narrow windows of good steps, as for high
        # derivatives, are not jumped over)
        wild = ((d2 > 0.5 * (np.abs(base) + np.abs(prev_base))) & ~done).any(axis=0)
        creep = too_big & ~wild
        too_big = too_big & wild
        self.passes[good[creep]] = 0
        # round-off only, again after a run further up: the derivative is
        # zero within the noise at every step tried (a linear f's second
        # derivative); the best estimate, within its noise bound, stands
        zero = too_small & np.isfinite(self.lo_e[good])
        too_small = too_small & ~zero
        large = too_big | creep
        if np.any(large):
            # what a run with steps too large found is not to be trusted
            # (one with steps too small only has a wide error bound)
            jd = good[large]
            lost = (self.best_run[:, jd] == self.run_id[jd][None, :]) & ~done[:, large]
            rr, cc = np.nonzero(lost)
            self.best[rr, jd[cc]] = np.nan
            self.best_err[rr, jd[cc]] = np.inf
            self.best_tr[rr, jd[cc]] = np.inf
        self.run_id[good[creep]] += 1  # later entries of the run are new
        top = self.e[good] + run - 1
        hi, lo = self.hi_e[good], self.lo_e[good]
        hi = np.where(too_big, np.minimum(hi, self.e[good]), hi)
        lo = np.where(too_small, np.maximum(lo, top), lo)
        self.hi_e[good], self.lo_e[good] = hi, lo
        bracket = np.isfinite(hi) & np.isfinite(lo)
        mid = np.floor((hi + lo) / 2)
        start = np.where(
            bracket,
            mid,
            np.where(too_big, self.e[good] - self.jump, top + self.jump),
        )
        if self.room is not None:
            # never above the room the bounds leave on the side(s) used
            down, up = self.room[0][good], self.room[1][good]
            sg = self.side[good]
            lim = np.where(sg == 0, np.minimum(down, up), np.where(sg > 0, up, down))
            with np.errstate(divide="ignore"):
                emax = np.floor(np.log(lim / self.href[good]) / math.log(q))
            start = np.minimum(start, emax)
        # no room left between the two: give up (the best so far stands)
        closed = (too_big | too_small) & (
            (bracket & (hi - lo <= lb + 2)) | (start <= lo)
        )
        restart = (too_big | too_small) & ~closed
        # the noise floor: no progress for _STALL levels, or for one where
        # the best entry is already round-off bound (smaller steps only
        # amplify round-off)
        since = self.levels[good][None, :] - self.best_lvl[:, ix]
        bound = self.best_nz[:, ix] >= self.best_tr[:, ix]
        stalled = ((since >= _STALL) | ((since >= 1) & bound) | done).all(
            axis=0
        ) & self.verified[good]
        finish = converged | floor | stalled | closed | zero
        self.active[good[finish]] = False
        d = good[restart]
        self.run[d] = 0
        self.run_id[d] += 1
        self.passes[d] = 0
        self.verified[d] = False
        self.Bref[:, d] = 0.0
        self.e[d] = start[restart].astype(np.intp)
        rest = good[~(finish | restart)]
        self.e[rest] -= 1

    def outcome(self, want_error: bool) -> AdaptiveOutcome:
        """Values, errors and status per entry; NaN where not to be trusted."""
        best, best_err = self.best, self.best_err
        tol = self.opts.atol + self.opts.rtol * np.fmax(np.abs(best), self.Bref)
        status = np.zeros(best.shape, dtype=np.intp)
        within = best_err <= tol
        # not within tolerance: still trustworthy where the ladder stopped
        # at its noise floor, after a verified run; not where maxiter ended it
        settled = np.isfinite(best_err) & ~self.active[None, :]
        status[~within & settled] = 2
        status[~within & ~settled] = -2
        status[~np.isfinite(best)] = -2  # nothing trustworthy was found
        status[:, self.stuck] = -3
        one_sided = self.side != 0
        status[:, one_sided] = np.where(
            status[:, one_sided] == 0, 1, status[:, one_sided]
        )
        # computed in float64 at least; returned in the precision of f and x
        value = best.astype(np.result_type(self.out_dtype, self.step_dtype))
        error = best_err + (ROUNDOFF_ULPS - _ULPS) * self.best_mg
        error[~np.isfinite(value)] = np.nan
        value[~np.isfinite(value)] = np.nan
        if not want_error:
            value[status < 0] = np.nan
        # the noise assumed: a few ulps of the values of f seen
        seen = np.abs(self.Fp[:, :, 0]) + np.abs(self.Fm[:, :, 0])
        if self._f0 is not None:
            seen = np.fmax(seen, np.abs(self._f0))
        seen = np.where(np.isfinite(seen), seen, 0.0)
        noise = _ULPS * self.eps * seen.max(axis=1)
        if self.noise is not None:
            noise = np.maximum(noise, self.noise.max(axis=1))
        return AdaptiveOutcome(
            value=value,
            error=error if want_error else None,
            step=_direction_steps(self.best_h),
            status=worst_status(np.unique(status).tolist()),
            levels=self.levels,
            noise=noise,
        )


def _direction_steps(best_h: NDArray[Any]) -> NDArray[Any]:
    """Per direction, the smallest step of the windows chosen for its entries."""
    out = np.full(best_h.shape[1], np.nan)
    have = ~np.isnan(best_h).all(axis=0)
    out[have] = np.nanmin(best_h[:, have], axis=0)
    return out


def _index(good: NDArray[Any], nd: int) -> Any:
    """`good` as an index: a slice (views, no copies) when it is every direction."""
    return slice(None) if good.size == nd else good


def _window_groups(
    sides: NDArray[Any], center_ok: NDArray[Any], use_center: bool
) -> dict[tuple[int, bool], NDArray[Any]]:
    """Directions grouped by the window weights they use."""
    out: dict[tuple[int, bool], NDArray[Any]] = {}
    for sd in (0, 1, -1):
        for ce in (True, False):
            if sd == 0:
                want = (sides == 0) & (center_ok == ce) if use_center else (sides == 0)
                if not use_center and ce:
                    continue
                cflag = ce if use_center else False
            else:
                want = (sides == sd) & ce
                if not ce:
                    continue
                cflag = True
            loc = np.flatnonzero(want)
            if loc.size:
                out[(sd, cflag)] = loc
    return out


# --- one entry for every method: what the drivers call ---------------------


def steps(
    c: Common, x_along: NDArray[Any], deriv: int, sch: Scheme | None = None
) -> NDArray[Any]:
    """Steps per direction: the fixed stencils' (see ``_steps``) or the ladder's top.

    For ``method="adaptive"`` the first step is ``initial_step * max(1, |x|)``
    along each direction (the search moves it both ways from there).
    """
    if c.adaptive is not None:
        scale = np.maximum(1.0, np.abs(x_along)).astype(c.x.real.dtype)
        return scale * c.adaptive.initial_step
    if sch is None:
        sch = scheme(
            c.method,
            _pref(c.method),
            deriv,
            c.order,
        )
    return user_or_default_steps(x_along, sch, c.eps, c.rel_step, c.abs_step)


def sensitivity_gain(c: Common, deriv: int) -> float:
    """The round-off of ``f`` seen through its inputs, per unit (see ``_steps``).

    The extrapolation measures what it needs from the differences of its
    own table, so it adds no modelled term.
    """
    if c.adaptive is not None:
        return 0.0
    return input_noise_gain(c.method, c.order, deriv, c.eps)


def _measured_noise(prov: Points | Elements) -> NDArray[Any]:
    """The noise of ``f`` near ``x`` by :func:`~numderiv.noise_level`, counted in nfev.

    For a function of a vector, one table along a fixed random direction
    gives the noise of each output.  For an elementwise ``f`` the whole
    array moves at once, so each element's table costs one call per point.
    Where the estimate fails (status < 0), the round-off floor is used.
    """
    from ._noise import noise_level

    ev = prov.ev
    if isinstance(prov, Elements):
        x = prov.x.reshape(-1)
        shape = prov.shape

        def g(y: Any) -> Any:
            if prov.broadcast:
                return np.asarray(
                    ev.fun(y.reshape(shape), *ev.args, **ev.kwargs)
                ).reshape(-1)
            return np.array([ev.fun(v, *ev.args, **ev.kwargs) for v in y])

        sigma, info = noise_level(
            g, x, direction=np.ones(x.size) / math.sqrt(x.size), full_output=True
        )
        ev.nfev += info.nfev * x.size
        ev.ncalls += info.ncalls * (1 if prov.broadcast else x.size)
    else:
        sigma, info = noise_level(
            ev.fun,
            prov.x,
            args=ev.args,
            kwargs=ev.kwargs,
            vectorized=ev.vectorized and ev.workers is None,
            full_output=True,
        )
        ev.nfev += info.nfev
        ev.ncalls += info.ncalls
    sig = np.atleast_1d(np.asarray(sigma, dtype=float))
    return np.where(np.isfinite(sig), sig, 0.0)


def run_directions(
    prov: Points | Elements,
    h: NDArray[Any],
    c: Common,
    deriv: int,
    *,
    trange: tuple[NDArray[Any], NDArray[Any]] | None,
    kinds: NDArray[Any] | None = None,
) -> Outcome:
    """Derivatives along every direction of `prov` by the method of `c`."""
    if c.adaptive is not None:
        opts = c.adaptive
        if opts.estimate_noise:
            noise = _measured_noise(prov)
            opts = dataclasses.replace(opts, noise=noise, estimate_noise=False)
        return adaptive(
            prov,
            h,
            deriv,
            opts,
            eps=c.eps,
            trange=trange,
            want_error=c.full_output,
        )
    return differentiate(
        prov,
        h,
        c.method,
        deriv,
        c.order,
        trange=trange,
        want_error=c.full_output,
        eps=c.eps,
        kinds=kinds,
        default_steps=c.rel_step is None and c.abs_step is None,
    )
