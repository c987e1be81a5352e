"""The fuzz suite's settings, counters and oracle (Issue 10).

Two Hypothesis profiles, applied to the fuzz tests only (the rest of the
suite keeps the root ``conftest.py``'s settings):

* ``numderiv-fuzz-quick`` (default, inside ``make test``): derandomised, a
  modest number of examples per entry point, no deadline;
* ``numderiv-fuzz-long`` (``NUMDERIV_FUZZ=1``, ``make fuzz``): many more
  examples, still derandomised unless ``NUMDERIV_FUZZ_SEED`` asks for a
  random run.

:func:`attempt` is the oracle shared by every test: it calls an entry point
and accepts only a result, a ``ValueError``/``TypeError`` whose message
names one of the arguments, or the user's own exception raised by ``f``.
Any other exception, a leaked warning or an input modified in place fails
the test.  Every call is counted per entry point; with ``NUMDERIV_FUZZ`` set
the counts are printed at the end of the session.
"""

from __future__ import annotations

import collections
import inspect
import os
import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings

LONG = bool(os.environ.get("NUMDERIV_FUZZ"))

_COMMON = {
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
}
settings.register_profile(
    "numderiv-fuzz-quick", derandomize=True, max_examples=600, **_COMMON
)
settings.register_profile(
    "numderiv-fuzz-long",
    derandomize=not os.environ.get("NUMDERIV_FUZZ_SEED"),
    max_examples=int(os.environ.get("NUMDERIV_FUZZ_EXAMPLES", "3000")),
    **_COMMON,
)
#: The settings every fuzz test is decorated with.
FUZZ = settings.get_profile("numderiv-fuzz-long" if LONG else "numderiv-fuzz-quick")


def fuzz_settings(scale: float = 1.0) -> settings:
    """:data:`FUZZ` with ``scale`` times its examples (cheap or costly tests)."""
    return settings(FUZZ, max_examples=max(5, int(FUZZ.max_examples * scale)))


#: Calls made per entry point in this session.
COUNTS: collections.Counter[str] = collections.Counter()
#: Outcomes per entry point: "ok", "ValueError", "TypeError", "user".
OUTCOMES: dict[str, collections.Counter[str]] = collections.defaultdict(
    collections.Counter
)


class UserError(Exception):
    """The exception a misbehaving ``f`` raises; it may propagate."""


class Refused:
    """What :func:`attempt` returns when the call raised an accepted error."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __repr__(self) -> str:
        return f"Refused({self.exc!r})"


def _snapshot(objs: Iterable[Any]) -> list[tuple[Any, Any]]:
    out = []
    for o in objs:
        if isinstance(o, np.ndarray):
            out.append((o, o.copy()))
        elif isinstance(o, (list, tuple)):
            out.extend(_snapshot(o))
    return out


def _names_argument(msg: str, names: Iterable[str]) -> bool:
    return any(
        re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", msg)
        for n in names
    )


def _parameters(fn: Any) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters) - {"args", "kwargs", "opts"}
    except (TypeError, ValueError):
        return set()


def attempt(
    entry: str,
    fn: Callable[..., Any],
    *args: Any,
    names: Iterable[str] = (),
    user_error: bool = False,
    **kwargs: Any,
) -> Any:
    """Call ``fn(*args, **kwargs)`` under the fuzz oracle.

    Returns the result, or a :class:`Refused` holding a ``ValueError`` /
    ``TypeError`` whose message names one of the parameters of ``fn`` (or
    of ``names``, for what its signature does not show), or
    one holding the :class:`UserError` of ``f`` when ``user_error`` says
    ``f`` may raise.  Anything else fails: another exception type, a
    warning (turned into an error here), an input array changed in place.
    """
    COUNTS[entry] += 1
    before = _snapshot(list(args) + list(kwargs.values()))
    allowed = set(names) | set(kwargs) | _parameters(fn)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = fn(*args, **kwargs)
    except UserError as exc:
        if not user_error:
            raise
        # propagated as it was raised, with a note naming the point
        notes = " ".join(getattr(exc, "__notes__", []))
        # ("at x = ...", or for a vectorized call "at one of the points of ...")
        assert "point" in notes or re.search(r"\bx\b", notes), (
            f"{entry}: f's exception has no note naming the point: {notes!r}"
        )
        OUTCOMES[entry]["user"] += 1
        result: Any = Refused(exc)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        if not _names_argument(msg, allowed):
            raise AssertionError(
                f"{entry}: {type(exc).__name__} names none of the arguments "
                f"{sorted(allowed)}: {msg!r}"
            ) from exc
        OUTCOMES[entry][type(exc).__name__] += 1
        result = Refused(exc)
    else:
        OUTCOMES[entry]["ok"] += 1
        result = out
    for arr, copy in before:
        assert arr.shape == copy.shape and np.array_equal(
            arr, copy, equal_nan=arr.dtype.kind in "fc"
        ), f"{entry} modified an input array in place"
    return result


def refused(r: Any) -> bool:
    return isinstance(r, Refused)


# ---------------------------------------------------------------------------
# Shared strategies and tolerances.


def result_dtype(x_dtype: Any) -> np.dtype[Any]:
    """The documented dtype of a result for ``x`` of ``x_dtype``.

    Integers and bools become float64, float16 and float32 give float32,
    float64 stays; complex keeps its precision.
    """
    dt = np.dtype(x_dtype)
    if dt.kind in "biu":
        return np.dtype(np.float64)
    if dt == np.float16:
        return np.dtype(np.float32)
    return dt


def finite_or_nan(a: Any) -> bool:
    """No infinities in a result: entries are finite or flagged NaN."""
    a = np.asarray(a)
    return not np.isinf(a).any()


def close_to(
    value: Any,
    exact: Any,
    err: Any,
    *,
    rtol: float,
    scale: Any = None,
    floor: float = 0.0,
) -> tuple[bool, float]:
    """Whether ``|value - exact| <= err + rtol * max(1, scale) + floor``.

    ``scale`` defaults to ``|exact|``.  NaN entries of ``value`` pass (a
    value flagged as untrusted); returns the verdict and the worst excess,
    for the message.
    """
    v = np.asarray(value, dtype=complex if np.iscomplexobj(value) else float)
    e = np.asarray(exact, dtype=v.dtype)
    sc = np.abs(e) if scale is None else np.asarray(scale, dtype=float)
    sc = np.where(np.isfinite(sc), sc, 0.0)
    bound = np.asarray(err, dtype=float) + rtol * np.maximum(1.0, sc) + floor
    with np.errstate(invalid="ignore", over="ignore"):
        miss = np.abs(v - e) - bound
        miss = np.where(np.isinf(v) & np.isinf(e) & (v == e), -1.0, miss)
    # NaN in value: flagged; a non-finite exact value (f overflows): the
    # entry cannot be checked
    miss = np.where(np.isnan(v) | ~np.isfinite(e), -1.0, miss)
    worst = float(np.max(miss, initial=-np.inf))
    return bool(np.all(miss <= 0)), worst
