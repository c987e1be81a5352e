"""The engine: derivatives along a set of directions.

Every derivative of a callable in numderiv is a set of *directional*
derivatives ``d^m/dt^m f(x + t u_d)`` at ``t = 0``:

* a Jacobian: ``u_d = e_d`` (or the columns of ``directions``);
* :func:`~numderiv.derivative`: one direction per element of ``x``;
* a Hessian: second derivatives along ``e_i`` and along
  ``h_i e_i + h_j e_j``, from which ``H_ij`` follows;
* ``jvp``/``hvp``: along ``v`` (and ``e_i + v``).

:func:`differentiate` applies a scheme along each direction: it picks the
stencil kind that keeps the points inside the bounds, evaluates all points
of a kind in one batch, falls back to a one-sided stencil where ``f`` is
non-finite on one side, and estimates the error from the same scheme at half
the step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._evaluate import Evaluator, _note
from ._fold import _getrefcount, fold_axes
from ._result import worst_status
from ._steps import Scheme, _pref, choose_kinds, scheme

# The round-off assumed of a value of f, in units of eps |f|: a few ulps
# (every error estimate adds it, the fixed stencils' and "adaptive"'s).
ROUNDOFF_ULPS = 8.0
# Points built per block: bounds memory to about 32 MiB of float64.
_BLOCK_ELEMENTS = 1 << 22
# Points per block when f is called point by point: stays in the L2 cache.
_CACHE_ELEMENTS = 1 << 18


class Directions:
    """Directions ``u_d = sum_l val[d, l] * b_{idx[d, l]}``.

    Basis vectors ``b_i`` with ``i < n`` are the canonical ``e_i``; ``i >= n``
    are the columns of ``extra`` (``directions`` matrices, ``v`` of jvp/hvp).
    Keeping directions in this sparse form builds the points of an ``n = 1000``
    Hessian without an ``n^2 x n`` array.
    """

    def __init__(
        self,
        n: int,
        idx: NDArray[Any],
        val: NDArray[Any],
        extra: NDArray[Any] | None = None,
    ) -> None:
        self.n = n
        self.idx = np.asarray(idx, dtype=np.intp).reshape(len(idx), -1)
        self.val = np.asarray(val).reshape(self.idx.shape)
        self.extra = extra

    @classmethod
    def axes(cls, n: int) -> Directions:
        d = cls(n, np.arange(n), np.ones(n))
        d.unit_axes = True
        return d

    unit_axes = False  # the directions are e_0, ..., e_{n-1}, in order

    @property
    def count(self) -> int:
        return self.idx.shape[0]

    def _add(
        self, X: NDArray[Any], dirs: NDArray[Any], t: NDArray[Any], cols: bool
    ) -> None:
        """Add ``t_r u_{dirs_r}`` to row (or column) ``r`` of ``X`` in place."""
        n = self.n
        ik = self.idx[dirs]
        vk = self.val[dirs] * t[:, None]
        rr = np.broadcast_to(np.arange(len(dirs))[:, None], ik.shape)
        if ik.shape[1] > 1:
            # drop padding (zero coefficients) so that each (point, coordinate)
            # pair appears once and a fancy-indexed += is exact
            keep = self.val[dirs] != 0
            ik, vk, rr = ik[keep], vk[keep], rr[keep]
        else:
            ik, vk, rr = ik[:, 0], vk[:, 0], rr[:, 0]
        if self.extra is None:
            if cols:
                X[ik, rr] += vk
            else:
                X[rr, ik] += vk
            return
        canon = ik < n
        if np.any(canon):
            if cols:
                X[ik[canon], rr[canon]] += vk[canon]
            else:
                X[rr[canon], ik[canon]] += vk[canon]
        ext = ~canon
        if np.any(ext):
            disp = self.extra[:, ik[ext] - n] * vk[ext]
            if cols:
                np.add.at(X.T, rr[ext], disp.T)
            else:
                np.add.at(X, rr[ext], disp.T)

    def rows(
        self, x: NDArray[Any], dirs: NDArray[Any], t: NDArray[Any]
    ) -> NDArray[Any]:
        """Points ``x + t_r u_{dirs_r}`` as rows, shape ``(len(dirs), n)``.

        Always a new array: ``f`` may keep the points it was given.
        """
        X = np.empty((len(dirs), self.n), dtype=np.result_type(x, t))
        X[...] = x
        self._add(X, dirs, t, cols=False)
        return X

    def cols(
        self, x: NDArray[Any], dirs: NDArray[Any], t: NDArray[Any]
    ) -> NDArray[Any]:
        """Points as columns, shape ``(n, len(dirs))`` (the vectorized layout)."""
        X = np.empty((self.n, len(dirs)), dtype=np.result_type(x, t))
        X[...] = x[:, None]
        self._add(X, dirs, t, cols=True)
        return X

    def trange(
        self, x: NDArray[Any], lb: NDArray[Any], ub: NDArray[Any]
    ) -> tuple[NDArray[Any], NDArray[Any]]:
        """Per direction, the range ``[tlo, thi]`` of ``t`` keeping ``x + t u`` in bounds."""
        D = self.count
        tlo = np.empty(D)
        thi = np.empty(D)
        room_up = ub - x
        room_dn = lb - x
        step = max(1, _BLOCK_ELEMENTS // max(self.n, 1))
        zero = np.zeros(self.n)
        # a component far below the largest overflows room / U to inf:
        # no limit along it, which is what inf says
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for s in range(0, D, step):
                d = np.arange(s, min(D, s + step))
                U = self.rows(zero, d, np.ones(len(d)))
                pos, neg = U > 0, U < 0
                hi = np.where(pos, room_up / U, np.where(neg, room_dn / U, np.inf))
                lo = np.where(pos, room_dn / U, np.where(neg, room_up / U, -np.inf))
                thi[d] = hi.min(axis=1)
                tlo[d] = lo.max(axis=1)
        return tlo, thi


class KnownF0Evaluator(Evaluator):
    """An evaluator told the value ``f(x)`` by the user (``f0``).

    The shape of the output is learnt from ``f0``, which saves an
    evaluation; a value of ``f`` of another shape then means a wrong ``f0``
    (or an ``f`` whose shape varies), and the error says so instead of
    blaming ``f`` alone.
    """

    _f0_shape: tuple[int, ...] | None = None

    def learn_f0(self, f0: NDArray[Any]) -> None:
        self._learn(np.asarray(f0), "f0")
        self._f0_shape = self.shape

    def _learn(self, y: NDArray[Any], where: str | Any) -> None:
        if (
            self._f0_shape is not None
            and y.shape != self._f0_shape
            and y.dtype.kind in "iufc"
        ):
            at = where if isinstance(where, str) else where()
            raise ValueError(
                f"f0 has shape {self._f0_shape}, but f returned shape {y.shape} at "
                f"{at}; f0 must be the value f(x), of the shape f returns"
            )
        super()._learn(y, where)


# The room a pair direction needs, in units of its step: the one-sided
# second difference of order 2 reaches 3 steps (see orient_pairs).
_PAIR_REACH = 4.0


def orient_pairs(
    x: NDArray[Any],
    lb: NDArray[Any],
    ub: NDArray[Any],
    idx: NDArray[Any],
    val: NDArray[Any],
    extra: NDArray[Any] | None,
    rows: NDArray[Any],
) -> tuple[Directions, tuple[NDArray[Any], NDArray[Any]]]:
    """Pair directions ``a_i b_i + a_j b_j`` turned into the box where needed.

    At a corner of the bounds (``x_i`` on its lower bound, ``x_j`` on its
    upper one) ``h_i e_i + h_j e_j`` leaves the box on both sides, so no
    stencil fits along it; ``h_i e_i - h_j e_j`` points inside.  For the
    `rows` of ``(idx, val)`` whose one-sided room ``max(thi, -tlo)`` is less
    than ``_PAIR_REACH`` steps, the second coefficient changes sign where
    that gives more room (in place in `val`); :func:`~numderiv._hessian.polarise`
    takes signed coefficients.  Returns the directions and their ranges of
    ``t`` (see :meth:`Directions.trange`).
    """
    n = x.size
    dirs = Directions(n, idx, val, extra=extra)
    tlo, thi = dirs.trange(x, lb, ub)
    cand = rows[np.maximum(thi[rows], -tlo[rows]) < _PAIR_REACH]
    if cand.size:
        flipped = val[cand].copy()
        flipped[:, 1] *= -1
        lo2, hi2 = Directions(n, idx[cand], flipped, extra=extra).trange(x, lb, ub)
        better = np.maximum(hi2, -lo2) > np.maximum(thi[cand], -tlo[cand])
        if better.any():
            sel = cand[better]
            val[sel, 1] *= -1
            tlo[sel], thi[sel] = lo2[better], hi2[better]
            dirs = Directions(n, idx, val, extra=extra)
    return dirs, (tlo, thi)


def refuse_no_room(
    trange: tuple[NDArray[Any], NDArray[Any]],
    what: str,
    x: NDArray[Any],
    lb: Any,
    ub: Any,
) -> None:
    """A direction along which ``x`` cannot move either way inside the bounds.

    It points out of the box in one component and in along another (``x``
    on a corner): no stencil, one-sided or not, fits along it.  A clear
    error rather than NaN blamed on ``f``.
    """
    tlo, thi = trange
    stuck = (thi <= 0) & (tlo >= 0)
    if stuck.any():
        d = int(np.flatnonzero(stuck)[0])
        on = np.flatnonzero((x == lb) | (x == ub))
        name = what if what == "v" else f"{what} {d}"
        raise ValueError(
            f"{name} points out of the bounds on one side and out again on the "
            f"other at x (x is on a bound at index {on.tolist()}: lb={np.asarray(lb)[on].tolist()}, "
            f"ub={np.asarray(ub)[on].tolist()}), so no stencil fits along it; "
            "differentiate along the coordinate axes there (no directions, or "
            "jacobian(f, x) @ v for jvp)"
        )


def safe_norm(v: NDArray[Any]) -> float:
    """``|v|`` without overflow or underflow: ``s |v / s|`` with ``s = max |v_k|``.

    ``np.linalg.norm`` squares the entries: ``1e200`` overflows (a warning
    and ``inf``), ``1e-200`` underflows to 0.
    """
    s = float(np.max(np.abs(v), initial=0.0))
    if s == 0 or not np.isfinite(s):
        return s
    return s * float(np.linalg.norm(v / s))


class Points:
    """Evaluates ``f`` at ``x + t u_d`` for a :class:`Directions` set."""

    def __init__(
        self, ev: Evaluator, x: NDArray[Any], dirs: Directions, f0: NDArray[Any] | None
    ) -> None:
        self.ev, self.x, self.dirs = ev, x, dirs
        self._f0 = None if f0 is None else np.asarray(f0).reshape(-1, 1)
        self._ybuf: NDArray[Any] | None = None
        # a vectorized f meets a single point first (see probe)
        self._probed = not ev.vectorized

    def probe(self, uses_center: bool) -> None:
        """A vectorized ``f``'s first call: one point alone, ``x`` if it is needed.

        ``f`` gets points as the columns of ``(n, k)`` and must return
        ``(..., k)``; one that reduces over the wrong axis (``np.sum(X, axis=1)``
        returns ``(n,)``) or returns its output transposed (``(k, m)``) passes
        that check whenever ``k`` happens to equal ``n`` (or ``m``), and gives
        confident garbage.  On a single point it returns ``(n,)`` or ``(1, m)``
        instead of ``(..., 1)``, which the evaluator refuses.  So the first
        vectorized call of a computation holds one point: ``f(x)`` where the
        stencils use it and it was not given (it costs nothing more), else the
        first point of the first batch, split off it (one more call, no more
        points; but the one-call fast path of :func:`_batch_group` takes
        ``f(x)`` alone always, one more point where no stencil uses it, rather
        than copy its batch).
        """
        if self._probed:
            return
        if uses_center and self._f0 is None:
            self.center(np.arange(0))

    def _columns(self, X: NDArray[Any]) -> NDArray[Any]:
        """``ev.columns(X)``, the first call of a vectorized ``f`` split (see probe)."""
        ev = self.ev
        if self._probed or X.shape[1] < 2:
            self._probed = True
            return ev.columns(X)
        self._probed = True
        first = ev.columns(X[:, :1])
        rest = ev.columns(np.ascontiguousarray(X[:, 1:]))
        return np.concatenate([first, rest], axis=1)

    def _rows(self, X: NDArray[Any], out: NDArray[Any] | None = None) -> NDArray[Any]:
        """``ev.rows(X)``, the first call of a vectorized ``f`` split (see probe)."""
        ev = self.ev
        if self._probed or X.shape[0] < 2:
            self._probed = True
            return ev.rows(X, out=out)
        self._probed = True
        first = ev.rows(X[:1])
        return np.concatenate([first, ev.rows(X[1:])], axis=1)

    @property
    def streamable(self) -> bool:
        """Serial calls along coordinate axes: the streaming fast path applies."""
        return (
            self.dirs.unit_axes and not self.ev.vectorized and self.ev.workers is None
        )

    def one_batch(self, sch: Scheme, idx: NDArray[Any]) -> bool:
        """All axes at once, in one vectorized call (see :func:`_batch_group`)."""
        ev, n = self.ev, self.dirs.n
        if not (self.dirs.unit_axes and ev.vectorized and ev.workers is None):
            return False
        K = int(np.count_nonzero(sch.offsets != 0))
        if idx.size != n or K * n * n > _BLOCK_ELEMENTS:
            return False
        return not (ev.chunk_size and ev.chunk_size < K * n)

    @property
    def layout(self) -> str:
        """``"cols"`` if values come as (M, points) arrays, ``"rows"`` if transposed."""
        ev = self.ev
        return "cols" if ev.vectorized and ev.workers is None else "rows"

    def block(self, K: int, L: int) -> int:
        """Directions per block: cache-sized point by point, large when batched."""
        if self.layout == "cols" or self.ev.workers is not None:
            return max(1, _BLOCK_ELEMENTS // max(1, K * self.dirs.n))
        return max(8, _CACHE_ELEMENTS // max(1, K * self.dirs.n))

    def center(self, idx: NDArray[Any]) -> NDArray[Any]:
        if self._f0 is None:
            if self.ev.vectorized:
                # as a batch of one point, whose output must be (..., 1)
                self._probed = True
                y = self.ev.columns(self.x[:, None].copy())
                self._f0 = y.reshape(-1, 1).copy()
            else:
                self._f0 = self.ev.point(self.x).reshape(-1, 1)
        return self._f0

    _x_along: NDArray[Any] | None = None

    def x_along(self) -> NDArray[Any]:
        """``sum_k |u_k| |x_k| / |u|^2`` per direction (cached).

        The points ``x + t u`` are rounded to the precision of ``x``: each
        value of ``f`` is then off by about ``eps sum_k |df/dx_k| |x_k|``,
        which is ``eps`` times this scale times ``|df/dt|`` (``df/dx_k`` is
        about ``(df/dt) / |u|`` along ``u``): the round-off of ``f`` seen
        through its inputs, which matters where ``f`` itself is tiny (at a
        minimum, ``f = 0``) while its slope is not.
        """
        if self._x_along is None:
            dirs, ax = self.dirs, np.abs(self.x.real).astype(np.float64)
            D = dirs.count
            out = np.empty(D)
            step = max(1, _BLOCK_ELEMENTS // max(dirs.n, 1))
            for s in range(0, D, step):
                d = np.arange(s, min(D, s + step))
                U = dirs.rows(np.zeros(dirs.n), d, np.ones(d.size))
                sq = np.einsum("ij,ij->i", U, U)
                out[d] = (np.abs(U) @ ax) / np.maximum(sq, 1e-300)
            self._x_along = out
        return self._x_along

    def eval(self, idx: NDArray[Any], T: NDArray[Any]) -> list[NDArray[Any]]:
        """Values at offsets ``T[k, r]`` along directions ``idx[r]``; K arrays (M, L)."""
        K, L = T.shape
        dirs = np.tile(idx, K)
        t = T.reshape(-1)
        N = K * L
        ev = self.ev
        step = max(1, _BLOCK_ELEMENTS // max(self.dirs.n, 1))
        if ev.vectorized and ev.workers is None:
            if ev.chunk_size:
                step = min(step, ev.chunk_size)
            if step >= N:
                Y = self._columns(self.dirs.cols(self.x, dirs, t))
            else:
                Y = np.concatenate(
                    [
                        self._columns(
                            self.dirs.cols(self.x, dirs[s : s + step], t[s : s + step])
                        )
                        for s in range(0, N, step)
                    ],
                    axis=1,
                )
        elif step >= N:
            # the points are new arrays every block (f may keep a reference
            # to its input); the table of values is ours and is reused
            Y = self._rows(self.dirs.rows(self.x, dirs, t), out=self._ybuf)
            self._ybuf = Y.T
        else:
            parts = [
                self._rows(self.dirs.rows(self.x, dirs[s : s + step], t[s : s + step]))
                for s in range(0, N, step)
            ]
            Y = np.concatenate(parts, axis=1)
        return [Y[:, k * L : (k + 1) * L] for k in range(K)]


class Elements:
    """Evaluates an elementwise ``f`` at ``x`` with element ``d`` moved by ``t``.

    Used by :func:`~numderiv.derivative`: one broadcasting call per offset
    (or one scalar call per point when ``vectorized=False``).
    """

    def __init__(
        self, ev: Evaluator, x: NDArray[Any], broadcast: bool, f0: NDArray[Any] | None
    ) -> None:
        self.ev, self.broadcast = ev, broadcast
        self.shape = x.shape
        self.x = x.reshape(-1)
        self._f0 = None if f0 is None else np.asarray(f0).reshape(1, -1)

    def _call(
        self, X: NDArray[Any], shape: tuple[int, ...] | None = None
    ) -> NDArray[Any]:
        """``f`` on the points ``X``, in the shape of ``x`` (or `shape`): (1, size)."""
        ev = self.ev
        if not self.broadcast:
            return self._scalar_calls(X.reshape(-1))
        X = X.reshape(self.shape if shape is None else shape)
        try:
            y = np.asarray(ev.fun(X, *ev.args, **ev.kwargs))
        except Exception as exc:
            _note(exc, f"one of the points of an array of shape {X.shape}")
            raise
        ev.count(X.size, 1)
        if y.shape != X.shape:
            raise ValueError(
                f"f returned shape {y.shape} for x of shape {X.shape}; derivative() "
                "needs an elementwise f (pass vectorized=False for a scalar f)"
            )
        ev._learn(y.reshape(-1)[:1], "x")
        return y.reshape(1, -1)

    def moved(self, idx: NDArray[Any], t: NDArray[Any]) -> NDArray[Any]:
        """``f`` at the elements `idx` only, each moved by ``t``: shape (1, L).

        Elements that are done cost no more evaluations (``method="adaptive"``
        stops per element); while every element is moved, ``f`` gets the
        shape of ``x``, otherwise the 1-D array of the moved elements.
        """
        X = self.x[idx] + t
        return self._call(X, None if idx.size == self.x.size else X.shape)

    def _scalar_calls(self, xs: NDArray[Any]) -> NDArray[Any]:
        """One call per point, on NumPy scalars (``vectorized=False``)."""
        out = self.ev.scalars(xs).reshape(1, -1)
        self.ev._learn(out[0, :1], "x")
        return out

    layout = "cols"

    def block(self, K: int, L: int) -> int:
        return L

    def center(self, idx: NDArray[Any]) -> NDArray[Any]:
        if self._f0 is None:
            self._f0 = self._call(self.x.copy())  # f may write into its input
        return self._f0[:, idx]

    def eval(self, idx: NDArray[Any], T: NDArray[Any]) -> list[NDArray[Any]]:
        out = []
        full = len(idx) == self.x.size
        for k in range(T.shape[0]):
            if self.broadcast:
                X = self.x.astype(np.result_type(self.x, T.dtype), copy=True)
                X.reshape(-1)[idx] += T[k]
                Y = self._call(X)
                out.append(Y if full else Y[:, idx])
            else:
                xs = self.x.reshape(-1)[idx] + T[k]
                out.append(self._scalar_calls(xs))
        return out


def _center_cost(prov: Points | Elements) -> int:
    """Evaluations that ``f(x)`` still costs: 0 if known, 1 point, or every element."""
    if prov._f0 is not None:
        return 0
    return prov.x.size if isinstance(prov, Elements) else 1


def _planned(
    prov: Points | Elements,
    sch: Scheme,
    L: int,
    want_error: bool,
    center: bool = True,
) -> int:
    """Evaluations of one scheme along `L` directions (with `center`, ``f(x)`` too).

    One point per direction and non-zero offset of the scheme (and of the
    check step, with `want_error`); for an elementwise ``f`` every
    broadcasting call counts the elements of ``x``.  Announced to the
    evaluator before the work (:meth:`Evaluator.expect`); 0 without a
    progress bar, which is all the count is for.
    """
    if not prov.ev.progress:
        return 0
    zs = [complex(z) for z in sch.offsets.tolist() if z != 0]
    keys = set(zs)
    if want_error:  # and the scheme at the check step (see _block_group)
        r = check_ratio(sch)
        keys |= {r * z for z in zs}
    per = prov.x.size if isinstance(prov, Elements) and prov.broadcast else L
    n = len(keys) * per
    if center and sch.uses_center:
        n += _center_cost(prov)
    return n


def _offset_array(zs: list[complex], h: NDArray[Any]) -> NDArray[Any]:
    """Offsets as an array of the dtype of the steps (complex if any is)."""
    cplx = any(z.imag for z in zs)
    dt = np.result_type(h.dtype, np.complex64) if cplx else h.dtype
    return np.array([z if cplx else z.real for z in zs], dtype=dt)


def _combine(
    terms: list[tuple[complex, NDArray[Any]]],
    is_complex: bool,
    scale: NDArray[Any],
    out: NDArray[Any],
) -> None:
    """``out = Re(sum w_k F_k) * scale`` in place, with as few passes as possible."""
    if is_complex:
        acc: Any = 0
        for w, F in terms:
            acc = acc + (w * F).real
        np.multiply(acc, scale, out=out)
        return
    ws = [w.real for w, _ in terms]
    Fs = [F for _, F in terms]
    if len(terms) == 2 and ws[0] == -ws[1]:
        # the central first difference: one subtraction, one scaling
        np.subtract(Fs[1], Fs[0], out=out)
        out *= ws[1] * scale
        return
    np.multiply(Fs[0], ws[0], out=out)
    tmp = np.empty_like(out)
    for w, F in zip(ws[1:], Fs[1:], strict=True):
        np.multiply(F, w, out=tmp)
        out += tmp
    out *= scale


@dataclass
class _Group:
    """Directions sharing one scheme, and what was found along them.

    ``value``, ``half`` (the scheme at half the step) and ``noise`` (the
    round-off bound divided by eps) have shape ``(M, L)``; ``pos_ok`` and
    ``neg_ok`` say, for directions whose value is not finite, whether ``f``
    was finite on the positive and on the negative side.  ``suspect``, once
    known, marks the entries that failed the consistency check (see
    :func:`_suspect`).
    """

    sch: Scheme
    idx: NDArray[Any]
    h: NDArray[Any]
    value: NDArray[Any]
    half: NDArray[Any] | None
    noise: NDArray[Any] | None
    pos_ok: NDArray[Any]
    neg_ok: NDArray[Any]
    bad: NDArray[Any]  # columns whose value is not finite
    suspect: NDArray[Any] | None = None  # (M, L) entries failing the check

    def subset(self, sel: NDArray[Any]) -> _Group:
        def cut(a: NDArray[Any] | None) -> NDArray[Any] | None:
            return None if a is None else a[:, sel]

        return _Group(
            self.sch,
            self.idx[sel],
            self.h[sel],
            self.value[:, sel],
            cut(self.half),
            cut(self.noise),
            self.pos_ok[sel],
            self.neg_ok[sel],
            self.bad[sel],
            cut(self.suspect),
        )


def _stream_group(
    prov: Points, sch: Scheme, idx: NDArray[Any], h: NDArray[Any], want_error: bool
) -> _Group:
    """Serial ``f`` along coordinate axes: fold each value in as it comes.

    The hot path of a serial Jacobian (see :func:`numderiv._fold.fold_axes`): the
    value, and with ``want_error`` the value at half the step and the
    round-off bound, are accumulated point by point.  Directions whose
    result is not finite are evaluated again by :func:`_block_group`, which
    records on which side ``f`` failed.
    """
    zs = [float(z) for z in sch.offsets.real.tolist()]
    ws = [float(w) for w in sch.weights.real.tolist()]
    m = sch.deriv
    # contributions of each offset: (target, weight); 0 value, 1 half, 2 noise
    contrib: dict[float, list[tuple[int, float]]] = {}
    for z, w in zip(zs, ws, strict=True):
        contrib.setdefault(z, []).append((0, w))
    if want_error:
        for z, w in zip(zs, ws, strict=True):
            contrib.setdefault(z * _CHECK_RATIO, []).append((1, w * _CHECK_RATIO**-m))
        for z, w in zip(zs, ws, strict=True):
            contrib.setdefault(z, []).append((2, abs(w)))
    center = contrib.pop(0.0, [])
    keys = list(contrib)
    ntarget = 3 if want_error else 1
    plan = [contrib[z] for z in keys]
    f0 = prov.center(idx)[:, 0] if center else None
    if (
        ntarget == 1
        and len(keys) == 1
        and len(center) == 1
        and len(plan[0]) == 1
        and plan[0][0][1] == -center[0][1]
    ):
        # f(x) and one other value (forward and backward order 1): the pair
        # loop below, with f(x) as one of the two
        both = sorted([(keys[0], plan[0]), (0.0, center)])
        keys, plan, center = [z for z, _ in both], [p for _, p in both], []
    pair = (
        len(keys) == 2
        and ntarget == 1
        and plan[0] == [(0, -plan[1][0][1])]
        and len(plan[1]) == 1
        and not center
    )
    scale = (plan[1][0][1] if pair else 1.0) / h**m
    prov.ev.nonfinite = False
    rows = fold_axes(
        prov.ev,
        prov.x,
        idx.tolist(),
        h.tolist(),
        keys,
        plan,
        ntarget,
        scale,
        center=center,
        f0=f0,
        pair=pair,
    )
    value = rows[0].T
    half = rows[1].T if want_error else None
    noise = rows[2].T if want_error else None
    if not prov.ev.nonfinite:
        # the fold looked at every block already
        return _fast_group(prov, sch, idx, h, value, half, noise, None)
    # a column sum is non-finite when an entry is (or, rarely, overflows:
    # then the entries are checked one by one)
    return _fast_group(prov, sch, idx, h, value, half, noise, value.sum(axis=0))


def _fast_group(
    prov: Points,
    sch: Scheme,
    idx: NDArray[Any],
    h: NDArray[Any],
    value: NDArray[Any],
    half: NDArray[Any] | None,
    noise: NDArray[Any] | None,
    colsum: NDArray[Any] | None,
) -> _Group:
    """The group of a fast path, which keeps no table of values.

    Where a value is not finite (``colsum``, a per-column sum, says where to
    look; None: nowhere), only those directions are evaluated again by
    :func:`_block_group`, which records on which side ``f`` failed.
    """
    L = idx.size
    pos_ok = np.ones(L, dtype=bool)
    neg_ok = np.ones(L, dtype=bool)
    bad = np.zeros(L, dtype=bool)
    if colsum is not None and not np.isfinite(colsum).all():
        bad = ~np.isfinite(value).all(axis=0)
    if bad.any():
        prov.ev.expect(_planned(prov, sch, int(bad.sum()), half is not None))
        again = _block_group(prov, sch, idx[bad], h[bad], half is not None)
        pos_ok[bad], neg_ok[bad] = again.pos_ok, again.neg_ok
    return _Group(sch, idx, h, value, half, noise, pos_ok, neg_ok, bad)


def _run_group(
    prov: Points | Elements,
    sch: Scheme,
    idx: NDArray[Any],
    h: NDArray[Any],
    want_error: bool,
) -> _Group:
    """Evaluate one scheme along directions ``idx`` (streamed, batched or in blocks)."""
    if isinstance(prov, Points) and not sch.is_complex:
        if prov.streamable:
            return _stream_group(prov, sch, idx, h, want_error)
        if not want_error and prov.one_batch(sch, idx):
            return _batch_group(prov, sch, h)
    return _block_group(prov, sch, idx, h, want_error)


def _batch_group(prov: Points, sch: Scheme, h: NDArray[Any]) -> _Group:
    """A vectorized ``f`` along every coordinate axis: one call, no blocks.

    The fast path of ``vectorized=True``: the points of all offsets are the
    columns of one ``(n, K n)`` array, ``x`` repeated with the steps on its
    diagonals, and the values are combined in place.
    """
    x = prov.x
    n = x.size
    zs = sch.offsets.real
    ws = sch.weights.real
    nz = np.flatnonzero(zs != 0)
    K = nz.size
    X = np.empty((n, K * n), dtype=np.result_type(x, h))
    refs = _getrefcount(X) if _getrefcount is not None else -1
    X[...] = x[:, None]
    flat = X.reshape(-1)
    diag = np.arange(n) * (K * n + 1)
    for k, i in enumerate(nz.tolist()):
        flat[diag + k * n] += zs[i] * h
    del flat
    # the axis check (see Points.probe) without splitting the batch, which
    # would cost copies of it.  A batch of K n != n points needs no probe: f's
    # output must end in K n, which a reduction over the wrong axis (n)
    # cannot match; only a transposed output (K n, m) with m = K n is
    # ambiguous, and only then is one point evaluated alone.  A batch of n
    # points (forward differences) takes f(x), which its stencil uses, alone.
    if K * n == n:
        prov.probe(True)
        Y = prov._columns(X)
    else:
        unchecked = not prov._probed
        prov._probed = True
        Y = prov.ev.columns(X)
        if unchecked and Y.ndim == 2 and Y.shape[0] == Y.shape[1]:
            prov.ev.columns(np.ascontiguousarray(X[:, :1]))
    M = Y.shape[0]
    inv = 1.0 / h**sch.deriv
    dt = np.result_type(Y.dtype, h.dtype)
    if (
        dt == X.dtype
        and M * n <= X.size
        and _getrefcount is not None
        and _getrefcount(X) <= refs
        and not np.may_share_memory(X, Y)
    ):
        # f kept no reference to the points (the count of references to them
        # is what it was before the call): their memory takes the result,
        # which saves allocating and touching a new array.  Kept on an A/B
        # (Issue 10, interleaved in one run, 41 pairs): the vectorized
        # Jacobian n = 1000 takes 7.0% longer with a new array, n = 100 1.5%
        value = X.reshape(-1)[: M * n].reshape(M, n)
    else:
        value = np.empty((M, n), dtype=dt)
    total = 0.0
    if K == 2 and nz.size == zs.size and ws[nz[0]] == -ws[nz[1]]:
        # difference, scale and sum a band of rows at a time, in cache
        scale = ws[nz[1]] * inv
        B = max(1, _CACHE_ELEMENTS // (4 * n))
        for r0 in range(0, M, B):
            vb = value[r0 : r0 + B]
            np.subtract(Y[r0 : r0 + B, n:], Y[r0 : r0 + B, :n], out=vb)
            vb *= scale
            total += vb.sum()
    else:
        terms = [
            (complex(ws[i]), Y[:, k * n : (k + 1) * n])
            for k, i in enumerate(nz.tolist())
        ]
        for i in np.flatnonzero(zs == 0).tolist():
            terms.append((complex(ws[i]), prov.center(np.arange(n))))
        _combine(terms, False, inv, value)
        total = value.sum()
    colsum = None if np.isfinite(total) else value.sum(axis=0)
    return _fast_group(prov, sch, np.arange(n), h, value, None, None, colsum)


def _block_group(
    prov: Points | Elements,
    sch: Scheme,
    idx: NDArray[Any],
    h: NDArray[Any],
    want_error: bool,
) -> _Group:
    """Evaluate one scheme along directions ``idx``, block by block.

    Blocks are small enough to stay in cache when ``f`` is called point by
    point, and as large as memory allows for a vectorized ``f``; only the
    combined values are kept, never all the function values.
    """
    zs = [complex(z) for z in sch.offsets.tolist()]
    ws = [complex(w) for w in sch.weights.tolist()]
    r = check_ratio(sch)
    need = list(zs) + ([z * r for z in zs] if want_error else [])
    keys: list[complex] = []
    for z in need:
        if z != 0 and z not in keys:
            keys.append(z)
    L = idx.size
    Lb = prov.block(len(keys), L)
    m = sch.deriv
    if isinstance(prov, Points):
        prov.probe(sch.uses_center)
    value = half = noise = None
    pos_ok = np.ones(L, dtype=bool)
    neg_ok = np.ones(L, dtype=bool)
    badcols = np.zeros(L, dtype=bool)
    for s in range(0, L, Lb):
        e = min(L, s + Lb)
        bidx, hb = idx[s:e], h[s:e]
        T = _offset_array(keys, hb)[:, None] * hb[None, :]
        F = dict(zip(keys, prov.eval(bidx, T), strict=True))
        if sch.is_complex and not np.iscomplexobj(F[keys[0]]):
            raise TypeError(
                "method='complex' needs f to accept complex input and return complex "
                f"output, but f returned {F[keys[0]].dtype} values for complex x"
            )

        def get(
            z: complex, F: dict[complex, NDArray[Any]] = F, bidx: Any = bidx
        ) -> Any:
            return prov.center(bidx) if z == 0 else F[z]

        if value is None:
            f1 = F[keys[0]]
            dt = f1.real.dtype if sch.is_complex else np.result_type(f1.dtype, hb.dtype)
            M = f1.shape[0]
            order: Any = "F" if prov.layout == "rows" else "C"
            value = np.empty((M, L), dtype=dt, order=order)
            if want_error:
                half = np.empty((M, L), dtype=dt, order=order)
                noise = np.empty((M, L), dtype=np.float64, order=order)
        hm = hb**m
        inv = 1.0 / hm
        blk = value[:, s:e]
        # a subnormal step (a user's, or SciPy's relative step at a
        # subnormal x) has no finite reciprocal: divide instead
        tiny = not np.isfinite(inv).all()
        _combine(
            [(w, get(z)) for z, w in zip(zs, ws, strict=True)],
            sch.is_complex,
            np.ones_like(inv) if tiny else inv,
            blk,
        )
        if tiny:
            blk /= hm
        if want_error:
            assert half is not None and noise is not None
            _combine(
                [(w, get(z * r)) for z, w in zip(zs, ws, strict=True)],
                sch.is_complex,
                inv * r**-m,
                half[:, s:e],
            )
            acc: Any = 0
            for z, w in zip(zs, ws, strict=True):
                term = w * get(z)
                acc = acc + np.abs(term.real if sch.is_complex else term)
            if (
                isinstance(prov, Points)
                and not prov.dirs.unit_axes
                and not sch.is_complex
            ):
                # the rounding of the points through the slope along u
                # (along the axes the callers add eps |J| |x| themselves)
                zr = [z.real for z in zs]
                zhi, zlo = max(zr), min(zr)
                slope = np.abs(get(complex(zhi)) - get(complex(zlo))) / (
                    (zhi - zlo) * hb
                )
                gain = sum(abs(w) for w in ws)
                acc = acc + gain * prov.x_along()[bidx] * slope
            noise[:, s:e] = acc * inv
        # a column sum is non-finite when an entry is (or, rarely, overflows)
        bad = ~np.isfinite(blk.sum(axis=0))
        if bad.any():
            bad = ~np.isfinite(blk).all(axis=0)
        badcols[s:e] = bad
        if bad.any():
            for z in keys:
                fin = np.isfinite(F[z][:, bad]).all(axis=0)
                if z.real > 0:
                    pos_ok[s:e][bad] &= fin
                elif z.real < 0:
                    neg_ok[s:e][bad] &= fin
    assert value is not None
    return _Group(sch, idx, h, value, half, noise, pos_ok, neg_ok, badcols)


@dataclass
class Outcome:
    """What :func:`differentiate` found."""

    value: NDArray[Any]  # (M, ndir)
    error: NDArray[Any] | None  # (M, ndir)
    step: NDArray[Any]  # (ndir,)
    status: int


# The consistency check (status -1): D(h) - D(h/2) is suspect when it is
# far above what round-off makes of it AND not small beside the value; see
# _suspect for the reasons behind these two numbers.
_ROUNDOFF_MARGIN = 1000.0
_DISAGREE = 1e-2
_DISAGREE_STRICT = 1e-4
# Domain edges: the fallback's step shrinks by _SHRINK per try, for at most
# _EDGE_TRIES tries, and stops once D(h) and D(h/2) agree to _EDGE_TOL
# (relative) or to round-off; see _edge_fallback.
_SHRINK = 8.0
_EDGE_TRIES = 16
_EDGE_TOL = 1e-8
# The check step is h/2 for real stencils.  For the complex step it is 3h/4:
# its values are exactly homogeneous in h while its truncation is far below
# round-off, and the steps are powers of two, so with h/2 f's complex
# arithmetic would round exactly alike at both steps (scaling by 2 is
# exact) and D(h) - D(h/2) would miss the rounding that the stencil
# amplifies: hvp of sin x + (sum x)^2/2 with the complex step and a user's
# step 2^-23 was off by 4e-10 with an estimate of 6e-11.  A ratio of 3/4
# changes the mantissas, so the rounding differs and the difference sees it.
_CHECK_RATIO = 0.5
_CHECK_RATIO_COMPLEX = 0.75


def check_ratio(sch: Scheme) -> float:
    """Ratio of the check step to the step: 1/2, or 3/4 for the complex step."""
    return _CHECK_RATIO_COMPLEX if sch.is_complex else _CHECK_RATIO


def _growth(sch: Scheme) -> float:
    """Truncation error of ``D(h)`` per ``|D(h) - D(rh)|``, doubled.

    ``D(h) - D(rh) ~ (1 - r^p) C h^p f^(m+p)`` with ``r`` the check ratio;
    doubled for the higher-order terms the model leaves out.
    """
    return 2.0 / (1.0 - check_ratio(sch) ** sch.order)


def _disagreement(
    g: _Group, eps: float
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any]]:
    """``|D(h) - D(rh)|``, its round-off bound, ``|D(h)|`` and ``|D(rh)|``.

    ``r`` is the check ratio (1/2, or 3/4 for the complex step: see
    :func:`check_ratio`).  ``D(h)`` is off by at most ``ulps eps noise`` from
    the rounding of the values of ``f`` (the bound the error estimate adds)
    and ``D(rh)`` by ``r^-m`` times that (the same weights over
    ``(rh)^m``); each by ``eps`` of its size from the combination itself.
    """
    assert g.half is not None and g.noise is not None
    ulps = 64.0 if g.sch.is_complex else ROUNDOFF_ULPS
    a1 = np.abs(g.value)
    a2 = np.abs(g.half)
    diff = np.abs(g.value - g.half)
    rnd = g.noise * ((1.0 + check_ratio(g.sch) ** -g.sch.deriv) * ulps * eps)
    rnd += eps * (a1 + a2)
    return diff, rnd, a1, a2


def _vanishing(g: _Group, a1: NDArray[Any], a2: NDArray[Any]) -> NDArray[Any]:
    """Where ``D(rh) ~ r^p D(h)``: a derivative that is zero, seen in range.

    Same sign, and ``|D(rh)| <= 1.25 r^p |D(h)|`` (``r`` the check ratio):
    ``D`` shrinks with the step at least about as fast as the model's
    ``h^p``.
    """
    assert g.half is not None
    same = np.real(g.value * np.conj(g.half)) >= 0
    return same & (a2 <= 1.25 * check_ratio(g.sch) ** g.sch.order * a1)


def _suspect(g: _Group, eps: float, *, strict: bool = False) -> NDArray[Any]:
    """Entries whose step does not fit ``f``: ``D(h)`` and ``D(h/2)`` disagree.

    In the asymptotic range ``D(h) - D(h/2) ~ (1 - 2^-p) C h^p f^(m+p)``: a
    difference of the size of the truncation error, small beside ``|D|``.
    An entry is suspect when all three hold:

    * the difference is more than ``_ROUNDOFF_MARGIN = 1000`` times its
      round-off bound (:func:`_disagreement`): the bound counts a few ulps of
      every value of ``f``, and the margin covers what only the callers
      know, the rounding inside ``f`` seen through its inputs (``eps
      sum_k |df/dx_k| |x_k|``): about 7 ulps of ``f`` on Scilab's example,
      and up to 120 times the bound for ``jvp`` of Rosenbrock's function at
      its minimum, where ``f ~ 100 h^2`` comes out of a cancellation.  The
      default steps balance truncation against this round-off, so where
      they fit ``f`` the difference is within a few hundred times the bound
      (measured on every method, order and derivative 1..4 at 41 points of
      each function of :mod:`numderiv.testing`, on Rosenbrock's function and
      on Scilab's example: at most 235 times, and 830 where the derivative
      vanishes, see the third point).  Out of range the difference is of
      the size of the values themselves, ``1e12`` times the bound and more;
    * it is more than ``_DISAGREE = 1e-2`` of ``max(|D(h)|, |D(h/2)|)``:
      an entry above it has an estimated relative error of 2-4% or more.
      This is what separates a large step that still fits (a user's
      ``rel_step=0.1`` on ``exp``: ``1e-3``) from one that does not: a
      step beyond the scale of ``f`` (``sin`` at ``1e10`` with
      ``h = 32768``, ``log`` at ``1e-12`` with ``h = 1.5e-8``) or a complex
      step across a branch cut (``Im log(-1 + i h) / h = pi / h``) gives
      values that are unrelated or scale like ``1 / h``: they differ by
      their own size;
    * the derivative does not look like one that vanishes
      (:func:`_vanishing`).  Where ``f^(m)(x) = 0`` (a gradient at a
      minimum, ``sin''`` at 0) ``D`` is its own truncation error and
      ``D(h/2) = 2^-p D(h)``: the model holds exactly though the two differ
      by half of ``D``.  For such a pair the estimate
      ``2 (2^p / (2^p - 1)) |D(h) - D(h/2)|`` is at least ``1.5 |D(h)|``,
      which covers the error whatever the value.

    With `strict` (default steps) the second point asks only for
    ``_DISAGREE_STRICT = 1e-4`` of ``|D|``: the default
    steps balance truncation against round-off, so a difference far beyond
    the margin means that the model of ``f`` failed however small it is
    beside ``|D|``: a step beyond the scale of ``f``, or noise in ``f`` far
    above a few ulps (``sin(x) + 1e-10 noise`` with the forward step
    ``1.5e-8``: ``D`` off by 2e-2 with an estimate of 6e-3).  A user's
    large step, whose truncation error legitimately dominates, keeps the
    second point.

    Two kinds of entries slip through: a step beyond the scale of ``f`` that
    gives ``D(h) ~ D(h/2)`` by chance (``sin`` at large ``x`` when ``h / 2``
    is within about 0.14 of a multiple of ``2 pi``, some 5% of such
    points); and, the other way, an entry is flagged that is in range but
    whose derivative is small, of the size of its truncation error (a
    forward difference a few steps away from a minimum): its estimate is
    honest, the flag over-cautious.  Costs a few passes over the values,
    only where ``h/2`` was computed.
    """
    diff, rnd, a1, a2 = _disagreement(g, eps)
    out = diff > _ROUNDOFF_MARGIN * rnd
    if out.any():
        out &= diff > (_DISAGREE_STRICT if strict else _DISAGREE) * np.maximum(a1, a2)
        if out.any():
            out &= ~_vanishing(g, a1, a2)
    return out


def _refuse_complex_valued(prov: Points | Elements) -> None:
    """The complex step needs ``f`` real for real ``x``: check it at ``x``.

    ``Im f(x + i h) / h`` is ``f'`` only if ``Im f(x) = 0``; for a
    complex-valued ``f`` it is ``Im f(x) / h + Re f'``, a confident wrong
    number.  ``f(x)`` (the user's ``f0`` where given, else one evaluation,
    counted in ``nfev``) must have no imaginary part.
    """
    f0 = prov.center(np.arange(prov.x.size))
    if np.iscomplexobj(f0):
        im = np.abs(f0.imag)
        if np.any(im > 0):
            k = np.unravel_index(int(np.argmax(im)), f0.shape)
            raise TypeError(
                "method='complex' needs f real-valued for real x, but f(x) has a "
                f"non-zero imaginary part ({complex(f0[k])!r}); the complex step "
                "takes Im f(x + ih)/h as f'(x), which is wrong for a complex-valued "
                "f: use method='central' (or differentiate its real and imaginary "
                "parts separately)"
            )


def _t_floor(prov: Points | Elements, idx: NDArray[Any]) -> NDArray[Any]:
    """Per direction, the smallest step worth trying: ``64 eps`` of ``x`` along it.

    Below it ``x + t u`` no longer moves by ``t u`` exactly (and round-off
    dominates): the edge fallback stops shrinking there.
    """
    if isinstance(prov, Elements):
        xs = np.abs(prov.x)[idx].astype(np.float64)
    else:
        d = prov.dirs
        xa = np.abs(prov.x).astype(np.float64)
        ik, vk = d.idx[idx], np.abs(d.val[idx]).astype(np.float64)
        comp = np.where(ik < d.n, xa[np.minimum(ik, d.n - 1)], xa.max(initial=0.0))
        ratio = np.divide(comp, vk, out=np.zeros_like(vk), where=vk > 0)
        xs = ratio.max(axis=1)
    return 64.0 * np.finfo(np.float64).eps * xs


def differentiate(
    prov: Points | Elements,
    h: NDArray[Any],
    method: str,
    deriv: int,
    order: int,
    *,
    trange: tuple[NDArray[Any], NDArray[Any]] | None,
    want_error: bool,
    eps: float,
    kinds: NDArray[Any] | None = None,
    default_steps: bool = False,
) -> Outcome:
    """``deriv``-th derivatives along every direction of `prov`; see module doc.

    `kinds`, when given, fixes the stencil kind of each direction (the
    caller has already fitted the steps into the bounds).  With
    `default_steps` (the steps balance truncation and round-off, none was
    given by the user) the consistency check is strict: see
    :func:`_suspect`.

    Succeed or say so: with `want_error` every entry is checked for
    consistency between the step and half the step (:func:`_suspect`;
    status -1 where it fails).  Without it the fixed stencils have no value
    at half the step and nothing is checked, except at domain edges, where
    the fallback evaluates half steps anyway (:func:`_edge_fallback`).
    Entries known to be untrustworthy (status < 0) are NaN without
    `want_error`.  The complex method refuses a complex-valued ``f``
    (:func:`_refuse_complex_valued`).
    """
    if kinds is None and trange is not None:
        kinds, h = choose_kinds(method, deriv, order, h, *trange)
    elif kinds is None:
        kinds = np.array([_pref(method)], dtype=object)  # one kind for every direction
    with np.errstate(all="ignore"):
        _announce(prov, h, kinds, method, deriv, order, want_error)
        if method == "complex":
            _refuse_complex_valued(prov)
        return _differentiate(
            prov, h, kinds, method, deriv, order, trange, want_error, eps, default_steps
        )


def _by_kind(kinds: NDArray[Any], ndir: int) -> list[tuple[str, NDArray[Any]]]:
    """The directions of each stencil kind (`kinds` of size 1: all of them)."""
    if kinds.size == 1 or len(set(kinds.tolist())) == 1:
        return [(kinds[0], np.arange(ndir))]
    return [(k, np.flatnonzero(kinds == k)) for k in dict.fromkeys(kinds.tolist())]


def _announce(
    prov: Points | Elements,
    h: NDArray[Any],
    kinds: NDArray[Any],
    method: str,
    deriv: int,
    order: int,
    want_error: bool,
) -> None:
    """Announce every evaluation :func:`_differentiate` plans (the progress total).

    Retries (the edge fallback, non-finite columns of a fast path) are
    announced when they are decided.
    """
    ev = prov.ev
    if not ev.progress:
        return
    parts = _by_kind(kinds, h.size)
    schemes = [scheme(method, k, deriv, order) for k, _ in parts]
    n = sum(
        _planned(prov, sch, sel.size, want_error, center=False)
        for sch, (_, sel) in zip(schemes, parts, strict=True)
    )
    if method == "complex" or any(sch.uses_center for sch in schemes):
        n += _center_cost(prov)
    ev.expect(n)


_Run = Any  # run(kind, idx, h, want_error) -> _Group


def _edge_fallback(
    g: _Group,
    run: _Run,
    trange: tuple[NDArray[Any], NDArray[Any]] | None,
    eps: float,
    floor: NDArray[Any],
) -> tuple[list[_Group], int]:
    """Directions of `g` (all non-finite) where ``f`` fails on one side only.

    A domain edge (``log`` near 0) lies within the step: a one-sided stencil
    of the step that straddled it is far outside its asymptotic range
    (``log'`` at ``1e-6`` with ``h = 4e-6``: half the truth).  So the step
    shrinks by ``_SHRINK = 8`` per try: at each, the preferred stencil (the
    kind of `g`, central for the central and complex methods) is tried first
    wherever ``f`` is finite on both of its sides, as the spec asks (one side
    is dropped only where ``f`` is not finite there), and the one-sided
    stencil on the finite side elsewhere; each with its value at half the
    step.  A direction is done at the first try whose two values agree to
    ``_EDGE_TOL = 1e-8`` relative or to round-off (or look like a vanishing
    derivative, :func:`_vanishing`); otherwise the best try passing
    :func:`_suspect` is kept, and shrinking stops as soon as a smaller step
    makes the error estimate worse (round-off growing) or after
    ``_EDGE_TRIES = 16`` tries (a step ``8^15 = 3.5e13`` times smaller), or
    at the floor of :func:`_t_floor`, or where ``f(x)`` itself is not finite
    (the one-sided stencil fails with its side finite: ``log`` at 0).  Directions that never pass keep their last
    finite try, marked suspect (NaN without full_output, status -1 with).
    Every evaluation counts in ``nfev``.

    Returns the groups covering the directions of `g` and the note: 1 where
    a one-sided stencil was kept.
    """
    L = g.idx.size
    k0 = g.sch.kind
    side = np.full(L, "", dtype=object)
    if k0 == "central":
        side[g.pos_ok & ~g.neg_ok] = "forward"
        side[g.neg_ok & ~g.pos_ok] = "backward"
    elif k0 == "forward":
        side[~g.pos_ok & g.neg_ok] = "backward"
    else:
        side[~g.neg_ok & g.pos_ok] = "forward"
    runs: list[_Group] = []  # every try; columns refer to them by number
    best_run = np.full(L, -1)
    best_pos = np.zeros(L, dtype=np.intp)
    best_score = np.full(L, np.inf)
    last_run = np.full(L, -1)  # latest finite try (kept if nothing passes)
    last_pos = np.zeros(L, dtype=np.intp)
    done = side == ""

    def fits(kind: str, P: NDArray[Any], ht: NDArray[Any]) -> NDArray[Any]:
        if trange is None:
            return np.ones(P.size, dtype=bool)
        sch = scheme(g.sch.method, kind, g.sch.deriv, g.sch.requested)
        i = g.idx[P]
        return (sch.lo * ht >= trange[0][i]) & (sch.hi * ht <= trange[1][i])

    def consider(G: _Group, P: NDArray[Any]) -> NDArray[Any]:
        """Record try `G` for columns `P`; returns where its values are finite."""
        assert G.half is not None
        fin = np.isfinite(G.value).all(axis=0) & np.isfinite(G.half).all(axis=0)
        r = len(runs)
        runs.append(G)
        k = np.arange(P.size)
        last_run[P[fin]] = r
        last_pos[P[fin]] = k[fin]
        diff, rnd, a1, a2 = _disagreement(G, eps)
        with np.errstate(invalid="ignore"):
            sus = _suspect(G, eps).any(axis=0)
            van = _vanishing(G, a1, a2)
            close = (diff <= np.maximum(_EDGE_TOL * np.maximum(a1, a2), rnd)) | van
            score = (_growth(G.sch) * diff + rnd).max(axis=0)
        ok = fin & ~sus
        good = ok & close.all(axis=0)
        better = ok & ~good & (score < best_score[P])
        worse = ok & ~good & ~better
        take = good | better
        best_run[P[take]] = r
        best_pos[P[take]] = k[take]
        best_score[P[better]] = score[better]
        # done: agreement reached, or the estimate got worse than the best
        # try (round-off grows), or a try fails after one that passed
        failed_after = fin & ~ok & (best_run[P] >= 0)
        done[P[good | worse | failed_after]] = True
        return fin

    for t in range(_EDGE_TRIES):
        todo = np.flatnonzero(~done)
        if todo.size == 0:
            break
        ht = (g.h[todo] * _SHRINK**-t).astype(g.h.dtype)
        if t > 0:
            low = ht < floor[todo]
            done[todo[low]] = True
            todo, ht = todo[~low], ht[~low]
        handled = np.zeros(todo.size, dtype=bool)
        if t > 0 and todo.size:
            sel = fits(k0, todo, ht)
            if sel.any():
                P = todo[sel]
                G = run(k0, g.idx[P], ht[sel], True)
                fin = consider(G, P)
                handled[np.flatnonzero(sel)[fin]] = True
                nf = ~fin
                if k0 == "central":
                    side[P[nf & G.pos_ok & ~G.neg_ok]] = "forward"
                    side[P[nf & G.neg_ok & ~G.pos_ok]] = "backward"
        for kind in ("forward", "backward"):
            if kind == k0:
                continue
            sel = ~handled & ~done[todo] & (side[todo] == kind)
            sel &= fits(kind, todo, ht)
            if sel.any():
                P = todo[sel]
                G = run(kind, g.idx[P], ht[sel], True)
                consider(G, P)
                # non-finite although f is finite on the stencil's side: f(x)
                # itself is not (log at 0), and no smaller step helps
                hopeless = G.bad & (G.pos_ok if kind == "forward" else G.neg_ok)
                done[P[hopeless]] = True

    parts: list[_Group] = []
    note = 0
    passed = best_run >= 0
    kept = ~passed & (last_run >= 0)
    never = ~passed & ~kept  # no finite value at any step: stays non-finite
    if never.any():
        parts.append(g.subset(np.flatnonzero(never)))
    for which, ref, pos in ((passed, best_run, best_pos), (kept, last_run, last_pos)):
        for r in np.unique(ref[which]).tolist():
            cols = np.flatnonzero(which & (ref == r))
            G = runs[r].subset(pos[cols])
            G.idx = g.idx[cols]  # the same directions, in g's order
            assert G.value is not None
            G.suspect = np.full(G.value.shape, which is kept, dtype=bool)
            if which is passed and G.sch.kind != k0:
                note = 1
            parts.append(G)
    return parts, note


def _differentiate(
    prov: Points | Elements,
    h: NDArray[Any],
    kinds: NDArray[Any],
    method: str,
    deriv: int,
    order: int,
    trange: tuple[NDArray[Any], NDArray[Any]] | None,
    want_error: bool,
    eps: float,
    default_steps: bool = False,
) -> Outcome:
    ndir = h.size

    def run(
        kind: str,
        idx: NDArray[Any],
        hh: NDArray[Any],
        err: bool = want_error,
        announced: bool = False,
    ) -> _Group:
        sch = scheme(method, kind, deriv, order)
        if not announced:  # the edge fallback's tries, as they come
            prov.ev.expect(_planned(prov, sch, idx.size, err))
        return _run_group(prov, sch, idx, hh, err)

    # announced up front by differentiate (see _announce)
    groups = [run(k, sel, h[sel], announced=True) for k, sel in _by_kind(kinds, ndir)]
    status = 0

    # f non-finite on one side of a point: smaller steps, one-sided where needed
    final: list[_Group] = []
    for g in groups:
        bad = g.bad
        if not bad.any() or (g.sch.is_complex and deriv == 1):
            final.append(g)
            continue
        good = ~bad
        if good.any():
            final.append(g.subset(good))
        sel = np.flatnonzero(bad)
        pieces, note = _edge_fallback(
            g.subset(sel), run, trange, eps, _t_floor(prov, g.idx[sel])
        )
        final.extend(pieces)
        status = max(status, note)

    step = h
    if (
        len(final) == 1
        and final[0].idx.size == ndir
        and np.array_equal(final[0].idx, np.arange(ndir))
    ):
        value = final[0].value
        step = final[0].h
    else:
        M = final[0].value.shape[0]
        value = np.empty((M, ndir), dtype=np.result_type(*[g.value for g in final]))
        step = h.copy()
        for g in final:
            value[:, g.idx] = g.value
            step[g.idx] = g.h
    error = None
    if want_error:
        # in the memory order of the values (the serial paths give them
        # transposed), built in place: a few passes, no temporaries
        whole = len(final) == 1 and final[0].value is value
        parts = None if whole else np.empty_like(value, dtype=np.float64)
        for g in final:
            assert g.half is not None and g.noise is not None
            # D(h) - D(rh) ~ (1 - r^p) C h^p f^(m+p): the truncation error of
            # D(h), doubled for the higher-order terms the model leaves out
            # (r = 1/2, or 3/4 for the complex step: see _CHECK_RATIO)
            e = np.abs(g.value - g.half).astype(np.float64, copy=False)
            grow = _growth(g.sch)
            e *= grow
            # round-off: f is assumed correct to a few ulps of its size (the
            # callers add what cancellation inside f costs, seen through the
            # inputs: eps * sum_k |df/dx_k| |x_k|); complex arithmetic rounds
            # more, and the complex step's imaginary parts cancel as well for
            # derivatives >= 2
            ulps = 64.0 if g.sch.is_complex else ROUNDOFF_ULPS
            tmp = np.multiply(g.noise, ulps * eps)
            if g.suspect is None:
                # the consistency check (see _suspect), screened in one pass:
                # |D(h) - D(h/2)| within the margin of the round-off bound
                # clears an entry (the bound without its eps |D| terms)
                margin = (
                    grow * _ROUNDOFF_MARGIN * (1.0 + check_ratio(g.sch) ** -g.sch.deriv)
                )
                if np.any(e > margin * tmp):
                    g.suspect = _suspect(g, eps, strict=default_steps)
            e += tmp
            np.abs(g.value, out=tmp)
            tmp *= eps
            e += tmp
            if parts is None:
                error = e
            else:
                parts[:, g.idx] = e
        if parts is not None:
            error = parts
    flagged = [g for g in final if g.suspect is not None and g.suspect.any()]
    # a finite value whose check could not be made (f non-finite at the
    # check step only): the value may be right, its error is unknown
    if (
        error is not None
        and not np.isfinite(error).all()
        and (np.isfinite(value) & ~np.isfinite(error)).any()
    ):
        status = worst_status([status, -1])
    if flagged:
        status = worst_status([status, -1])
        if not want_error:
            # untrustworthy and no info to say so: NaN
            for g in flagged:
                assert g.suspect is not None
                cols = value[:, g.idx]
                cols[g.suspect] = np.nan
                value[:, g.idx] = cols
    if any(g.bad.any() for g in final):
        bad = ~np.isfinite(value)
        value[bad] = np.nan
        if error is not None:
            error[bad] = np.nan
        if bad.any():
            status = worst_status([status, -3])
    return Outcome(value, error, step, status)


# -- the compatibility layers' entry ---------------------------------------------


def plain_differences(
    ev: Evaluator,
    x: NDArray[Any],
    dirs: Directions,
    h: NDArray[Any],
    kinds: NDArray[Any] | str,
    method: str,
    order: int,
    f0: NDArray[Any] | None = None,
) -> NDArray[Any]:
    """First derivatives along every direction, one fixed scheme each: ``(M, ndir)``.

    The engine entry of the compatibility layers (:mod:`numderiv.compat`),
    which apply the scheme and step the original chose and return what comes
    out: no error estimate, no fallback to a one-sided stencil where ``f``
    is not finite, no step adjusted.  Direction ``d`` uses
    ``scheme(method, kinds[d], 1, order)`` with step ``h[d]`` exactly as
    given: a negative step mirrors a one-sided stencil (SciPy's backward
    differences), and the points are ``x + z_k h[d] u_d``.  Non-finite
    values are returned as they come, without floating-point warnings.
    Every evaluation goes through `ev` (counted, checked, spread over its
    workers).

    Examples
    --------
    >>> import numpy as np
    >>> from numderiv._core import Directions, plain_differences
    >>> from numderiv._evaluate import Evaluator
    >>> x = np.array([1.0, 2.0])
    >>> ev = Evaluator(lambda v: v**2)
    >>> h = np.array([2.0**-10, 2.0**-10])
    >>> plain_differences(ev, x, Directions.axes(2), h, "central", "central", 2)
    array([[2., 0.],
           [0., 4.]])
    >>> ev.nfev
    4
    """
    ndir = h.size
    kind_arr = (
        np.full(ndir, kinds, dtype=object)
        if isinstance(kinds, str)
        else np.asarray(kinds, dtype=object)
    )
    prov = Points(ev, x, dirs, f0)
    out: NDArray[Any] | None = None
    with np.errstate(all="ignore"):
        for kind in dict.fromkeys(kind_arr.tolist()):
            idx = np.flatnonzero(kind_arr == kind)
            sch = scheme(method, kind, 1, order)
            ev.expect(_planned(prov, sch, idx.size, False))
            g = _block_group(prov, sch, idx, h[idx], False)
            if out is None:
                if idx.size == ndir:
                    return g.value
                out = np.empty((g.value.shape[0], ndir), dtype=g.value.dtype)
            out[:, idx] = g.value
    assert out is not None
    return out


def group_differences(
    ev: Evaluator,
    x: NDArray[Any],
    f0: NDArray[Any],
    step: NDArray[Any],
    kinds: NDArray[Any],
    method: str,
    order: int,
    groups: NDArray[Any],
    rows: NDArray[Any],
    cols: NDArray[Any],
    denom: NDArray[Any] | None = None,
) -> NDArray[Any]:
    """First derivatives of columns moved together in groups (sparse differencing).

    The compatibility layers' entry for a Jacobian of known structure
    (SciPy's ``sparsity``); like :func:`plain_differences`, one fixed
    scheme per column, no error estimate and no fallback.  Column ``j``
    (group ``groups[j]``) uses ``scheme(method, kinds[j], 1, order)`` with
    step ``step[j]``.  Every column of a group moves at once, each by its
    own stencil: the ``k``-th point of a group is ``x + sum_j z_jk step[j]
    e_j``, ``z_jk`` the ``k``-th non-zero offset of column ``j``'s stencil,
    so a group costs one evaluation per non-zero offset (``f(x)`` is `f0`).  Returns, for each pair
    ``(rows[e], cols[e])`` (an entry of the structure), ``sum_k w_k
    f_rows[e](x_k) / denom[cols[e]]`` with ``denom = step`` by default:
    the caller may divide by the steps really taken.  The complex step
    takes purely imaginary offsets.

    Examples
    --------
    Forward differences of ``f(x) = x**2`` (a diagonal Jacobian) with both
    columns in one group, one evaluation besides ``f(x)``:

    >>> import numpy as np
    >>> from numderiv._core import group_differences
    >>> from numderiv._evaluate import Evaluator
    >>> x = np.array([1.0, 2.0])
    >>> ev = Evaluator(lambda v: v**2)
    >>> h = np.full(2, 2.0**-20)
    >>> d = group_differences(ev, x, x**2, h, np.array(["forward"] * 2),
    ...                       "forward", 1, np.array([0, 0]),
    ...                       np.array([0, 1]), np.array([0, 1]))
    >>> d.round(4), ev.nfev
    (array([2., 4.]), 1)
    """
    n = x.size
    used = list(dict.fromkeys(np.asarray(kinds, dtype=object).tolist()))
    schemes = {k: scheme(method, k, 1, order) for k in used}
    nonzero = {
        k: [i for i, z in enumerate(sc.offsets.tolist()) if z != 0]
        for k, sc in schemes.items()
    }
    # a stencil of order p has p non-zero offsets, whatever its kind
    K = len(nonzero[used[0]]) if used else 0
    imaginary = any(sc.is_complex for sc in schemes.values())
    G = int(np.max(groups)) + 1 if groups.size else 0
    members = [np.flatnonzero(groups == g) for g in range(G)]
    width = max([1] + [c.size for c in members])
    # z_jk per column: the k-th non-zero offset of its stencil
    kind_of = np.asarray(kinds, dtype=object)
    Z = np.empty((n, K), dtype=complex if imaginary else np.float64)
    for k in used:
        sel = kind_of == k
        offs = schemes[k].offsets[nonzero[k]]
        Z[sel] = offs[None, :]
    move = (Z.imag if imaginary else Z.real) * step[:, None]
    idx = np.zeros((K * G, width), dtype=np.intp)
    val = np.zeros((K * G, width))
    for k in range(K):
        for g, c in enumerate(members):
            idx[k * G + g, : c.size] = c
            val[k * G + g, : c.size] = move[c, k]
    prov = Points(ev, x, Directions(n, idx, val), f0)
    t = np.full((1, K * G), 1j if imaginary else 1.0)
    ev.expect(K * G)
    with np.errstate(all="ignore"):
        (Y,) = prov.eval(np.arange(K * G), t)
        g_of = groups[cols]
        out = None
        for k in used:
            sc = schemes[k]
            sel = np.flatnonzero(kind_of[cols] == k)
            r, gc = rows[sel], g_of[sel]
            acc: Any = None
            pos = 0
            for z, w in zip(sc.offsets.tolist(), sc.weights.tolist(), strict=True):
                if z == 0:
                    F = f0[r]
                else:
                    F = Y[r, pos * G + gc]
                    pos += 1
                term = (w * F).real if imaginary else w.real * F
                acc = term if acc is None else acc + term
            if out is None:
                out = np.empty(rows.size, dtype=np.result_type(acc, np.float64))
            out[sel] = acc
        if out is None:
            out = np.empty(0)
        d = step if denom is None else denom
        return out / d[cols]
