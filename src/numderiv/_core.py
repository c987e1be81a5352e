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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._evaluate import Evaluator
from ._steps import Scheme, choose_kinds, scheme

# Points built per block: bounds memory to about 32 MiB of float64.
_BLOCK_ELEMENTS = 1 << 22


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
        return cls(n, np.arange(n), np.ones(n))

    @property
    def count(self) -> int:
        return self.idx.shape[0]

    def _add(
        self, X: NDArray[Any], dirs: NDArray[Any], t: NDArray[Any], cols: bool
    ) -> None:
        """Add ``t_r u_{dirs_r}`` to row (or column) ``r`` of ``X`` in place."""
        n = self.n
        ar = np.arange(len(dirs))
        for k in range(self.idx.shape[1]):
            ik = self.idx[dirs, k]
            vk = self.val[dirs, k] * t
            if self.extra is None:
                if cols:
                    X[ik, ar] += vk
                else:
                    X[ar, ik] += vk
                continue
            canon = ik < n
            if np.any(canon):
                if cols:
                    X[ik[canon], ar[canon]] += vk[canon]
                else:
                    X[ar[canon], ik[canon]] += vk[canon]
            ext = ~canon
            if np.any(ext):
                disp = self.extra[:, ik[ext] - n] * vk[ext]
                if cols:
                    X[:, ext] += disp
                else:
                    X[ext] += disp.T

    def rows(
        self, x: NDArray[Any], dirs: NDArray[Any], t: NDArray[Any]
    ) -> NDArray[Any]:
        """Points ``x + t_r u_{dirs_r}`` as rows, shape ``(len(dirs), n)``."""
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
        with np.errstate(divide="ignore", invalid="ignore"):
            for s in range(0, D, step):
                d = np.arange(s, min(D, s + step))
                U = self.rows(zero, d, np.ones(len(d)))
                pos, neg = U > 0, U < 0
                hi = np.where(pos, room_up / U, np.where(neg, room_dn / U, np.inf))
                lo = np.where(pos, room_dn / U, np.where(neg, room_up / U, -np.inf))
                thi[d] = hi.min(axis=1)
                tlo[d] = lo.max(axis=1)
        return tlo, thi


class Points:
    """Evaluates ``f`` at ``x + t u_d`` for a :class:`Directions` set."""

    def __init__(
        self, ev: Evaluator, x: NDArray[Any], dirs: Directions, f0: NDArray[Any] | None
    ) -> None:
        self.ev, self.x, self.dirs = ev, x, dirs
        self._f0 = None if f0 is None else np.asarray(f0).reshape(-1, 1)

    def center(self, idx: NDArray[Any]) -> NDArray[Any]:
        if self._f0 is None:
            self._f0 = self.ev.point(self.x).reshape(-1, 1)
        return self._f0

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
                Y = ev.columns(self.dirs.cols(self.x, dirs, t))
            else:
                Y = np.concatenate(
                    [
                        ev.columns(
                            self.dirs.cols(self.x, dirs[s : s + step], t[s : s + step])
                        )
                        for s in range(0, N, step)
                    ],
                    axis=1,
                )
        elif step >= N:
            Y = ev.rows(self.dirs.rows(self.x, dirs, t))
        else:
            parts = [
                ev.rows(self.dirs.rows(self.x, dirs[s : s + step], t[s : s + step]))
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

    def _call(self, X: NDArray[Any]) -> NDArray[Any]:
        ev = self.ev
        if not self.broadcast:
            return self._scalar_calls(X.reshape(-1))
        X = X.reshape(self.shape)
        try:
            y = np.asarray(ev.fun(X, *ev.args, **ev.kwargs))
        except Exception as exc:
            if hasattr(exc, "add_note"):
                exc.add_note(f"numderiv: f raised this on an array of shape {X.shape}")
            raise
        ev.nfev += X.size
        ev.ncalls += 1
        ev._tick(X.size)
        if y.shape != X.shape:
            raise ValueError(
                f"f returned shape {y.shape} for x of shape {X.shape}; derivative() "
                "needs an elementwise f (pass vectorized=False for a scalar f)"
            )
        ev._learn(y.reshape(-1)[:1], "x")
        return y.reshape(1, -1)

    def _scalar_calls(self, xs: NDArray[Any]) -> NDArray[Any]:
        """One call per point, on NumPy scalars (``vectorized=False``)."""
        ev = self.ev
        ys = []
        for i in range(xs.size):
            xi = xs[i]
            try:
                y = np.asarray(ev.fun(xi, *ev.args, **ev.kwargs))
            except Exception as exc:
                if hasattr(exc, "add_note"):
                    exc.add_note(f"numderiv: f raised this at x = {xi!r}")
                raise
            ev.nfev += 1
            ev.ncalls += 1
            if y.shape != ():
                raise ValueError(
                    f"f returned shape {y.shape} at x = {xi!r}; with vectorized=False "
                    "derivative() needs a scalar f returning a scalar"
                )
            ys.append(y)
        ev._tick(xs.size)
        out = np.array(ys).reshape(1, -1)
        ev._learn(out[0, :1], "x")
        return out

    def center(self, idx: NDArray[Any]) -> NDArray[Any]:
        if self._f0 is None:
            self._f0 = self._call(self.x)
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


@dataclass
class _Group:
    """Directions sharing one scheme, with the values already computed."""

    sch: Scheme
    idx: NDArray[Any]
    h: NDArray[Any]
    F: dict[complex, NDArray[Any]] = field(default_factory=dict)

    def need(self, prov: Any, offsets: list[complex]) -> None:
        new = []
        for z in offsets:
            if z != 0 and z not in self.F and z not in new:
                new.append(z)
        if not new:
            return
        cplx = any(isinstance(v, complex) and v.imag for v in new)
        dt = np.result_type(self.h.dtype, np.complex64) if cplx else self.h.dtype
        za = np.array([v if cplx else complex(v).real for v in new], dtype=dt)
        T = za[:, None] * self.h[None, :]
        for zk, Fk in zip(new, prov.eval(self.idx, T), strict=True):
            if cplx and not np.iscomplexobj(Fk):
                raise TypeError(
                    f"method='complex' needs f to accept complex input and return complex "
                    f"output, but f returned {Fk.dtype} values for complex x"
                )
            self.F[zk] = Fk

    def value(self, prov: Any, scale: float = 1.0) -> tuple[NDArray[Any], NDArray[Any]]:
        """The scheme's value at step ``h * scale`` and its round-off bound / eps."""
        acc: Any = 0
        noise: Any = 0
        for z, w in zip(
            self.sch.offsets.tolist(), self.sch.weights.tolist(), strict=True
        ):
            key = z * scale
            Fk = prov.center(self.idx) if key == 0 else self.F[key]
            term = w * Fk
            acc = acc + term
            noise = noise + np.abs(term.real if self.sch.is_complex else term)
        if self.sch.is_complex:
            acc = acc.real
        hm = (self.h * scale) ** self.sch.deriv
        return acc / hm, noise / hm

    def subset(self, mask: NDArray[Any]) -> _Group:
        return _Group(
            self.sch,
            self.idx[mask],
            self.h[mask],
            {k: v[:, mask] for k, v in self.F.items()},
        )

    def side_ok(
        self, prov: Any, cols: NDArray[Any]
    ) -> tuple[NDArray[Any], NDArray[Any]]:
        """Whether ``f`` is finite on the positive / negative side, per column."""
        pos = np.ones(cols.sum(), dtype=bool)
        neg = pos.copy()
        for z, Fk in self.F.items():
            fin = np.isfinite(Fk[:, cols]).all(axis=0)
            if z.real > 0:
                pos &= fin
            elif z.real < 0:
                neg &= fin
        return pos, neg


@dataclass
class Outcome:
    """What :func:`differentiate` found."""

    value: NDArray[Any]  # (M, ndir)
    error: NDArray[Any] | None  # (M, ndir)
    step: NDArray[Any]  # (ndir,)
    status: int


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
) -> Outcome:
    """``deriv``-th derivatives along every direction of `prov`; see module doc."""
    ndir = h.size
    if trange is not None:
        kinds, h = choose_kinds(method, deriv, order, h, *trange)
    else:
        pref = "central" if method in ("central", "complex") else method
        kinds = np.full(ndir, pref, dtype=object)
    with np.errstate(all="ignore"):
        return _differentiate(
            prov, h, kinds, method, deriv, order, trange, want_error, eps
        )


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
) -> Outcome:
    ndir = h.size

    def run(kind: str, idx: NDArray[Any]) -> _Group:
        grp = _Group(scheme(method, kind, deriv, order), idx, h[idx])
        offs = grp.sch.offsets.tolist()
        if want_error:
            offs = offs + [z * 0.5 for z in offs]
        grp.need(prov, offs)
        return grp

    groups = [run(k, np.flatnonzero(kinds == k)) for k in dict.fromkeys(kinds.tolist())]
    vals = [g.value(prov)[0] for g in groups]
    status = 0

    # f non-finite on one side of a point: one-sided stencil on the other side
    final: list[tuple[_Group, NDArray[Any]]] = []
    for g, v in zip(groups, vals, strict=True):
        bad = ~np.isfinite(v).all(axis=0)
        if not bad.any() or (g.sch.is_complex and deriv == 1):
            final.append((g, v))
            continue
        good = ~bad
        if good.any():
            final.append((g.subset(good), v[:, good]))
        pos, neg = g.side_ok(prov, bad)
        bidx = g.idx[bad]
        new_kind = np.full(bidx.size, "", dtype=object)
        if g.sch.kind == "central":
            new_kind[pos & ~neg] = "forward"
            new_kind[neg & ~pos] = "backward"
        elif g.sch.kind == "forward":
            new_kind[~pos] = "backward"
        else:
            new_kind[~neg] = "forward"
        if trange is not None:
            for kind in ("forward", "backward"):
                sel = new_kind == kind
                sch = scheme(method, kind, deriv, order)
                fits = (sch.lo * h[bidx] >= trange[0][bidx]) & (
                    sch.hi * h[bidx] <= trange[1][bidx]
                )
                new_kind[sel & ~fits] = ""
        stuck = new_kind == ""
        if stuck.any():
            final.append((g.subset(np.flatnonzero(bad)[stuck]), v[:, bad][:, stuck]))
        for kind in ("forward", "backward"):
            sel = new_kind == kind
            if sel.any():
                fg = run(kind, bidx[sel])
                final.append((fg, fg.value(prov)[0]))
                status = 1

    M = final[0][1].shape[0]
    dtype = np.result_type(*[v for _, v in final])
    value = np.empty((M, ndir), dtype=dtype)
    error = np.empty((M, ndir)) if want_error else None
    for g, v in final:
        value[:, g.idx] = v
        if error is not None:
            _, noise = g.value(prov)
            half, _ = g.value(prov, 0.5)
            p = g.sch.order
            # D(h) - D(h/2) ~ (1 - 2^-p) C h^p f^(m+p): the truncation error of
            # D(h), doubled for the higher-order terms the model leaves out
            trunc = np.abs(v - half) * (2.0 * 2.0**p / (2.0**p - 1.0))
            # round-off: f is assumed correct to a few ulps of its size
            error[:, g.idx] = trunc + 8.0 * eps * noise + eps * np.abs(v)
    bad = ~np.isfinite(value)
    if bad.any():
        value[bad] = np.nan
        if error is not None:
            error[bad] = np.nan
        status = -3
    return Outcome(value, error, h, status)
