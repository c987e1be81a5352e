"""``numderiv jacobian|gradient|hessian|derivative``: the function API as commands."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _functions
from ._expr import Expression, ExpressionError
from ._output import write_csv, write_json, write_table

__all__ = ["load_function", "parse_numbers", "run_function_command"]


class CommandError(ValueError):
    """Bad input to a command (one line, exit status 2)."""


def parse_numbers(text: str, name: str) -> np.ndarray:
    """``"1,2.5,-3"`` as a float array (``inf``, ``nan`` allowed)."""
    parts = [s.strip() for s in text.split(",")]
    try:
        vals = [float(s) for s in parts]
    except ValueError:
        bad = next(s for s in parts if not _is_float(s))
        raise CommandError(
            f"{name} must be comma-separated numbers such as 1,2.5,-3, got {text!r} "
            f"({bad!r} is not a number)"
        ) from None
    return np.array(vals, dtype=np.float64)


def _is_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _scalar_or_vector(text: str | None, name: str) -> Any:
    if text is None:
        return None
    a = parse_numbers(text, name)
    return a[0] if a.size == 1 else a


def _bounds(text: str | None) -> Any:
    if text is None:
        return None
    if text.count(":") != 1:
        raise CommandError(
            f"--bounds must be LB:UB, each a number or comma-separated numbers "
            f"(e.g. 0:inf or 0,0:1,1), got {text!r}"
        )
    lo, hi = text.split(":")
    return (_scalar_or_vector(lo, "--bounds LB"), _scalar_or_vector(hi, "--bounds UB"))


def _matrix(text: str | None, name: str) -> Any:
    if text is None:
        return None
    rows = [parse_numbers(r, name) for r in text.split(";")]
    if len({r.size for r in rows}) != 1:
        raise CommandError(f"{name}: every row must have as many numbers, got {text!r}")
    return np.stack(rows)


def _sparsity(path: str | None) -> Any:
    if path is None:
        return None
    if not os.path.isfile(path):
        raise CommandError(f"--sparsity file {path!r} does not exist")
    try:
        if path.lower().endswith(".npy"):
            return np.load(path, allow_pickle=False)
        return np.loadtxt(path, delimiter=",", ndmin=2)
    except (OSError, ValueError) as exc:
        raise CommandError(f"--sparsity file {path!r} cannot be read: {exc}") from None


def load_function(spec: str) -> Callable[..., Any]:
    """``module:attr`` or ``path/file.py:attr``: user code, imported (not sandboxed)."""
    if (
        spec.count(":") < 1
        or not spec.rpartition(":")[2]
        or not spec.rpartition(":")[0]
    ):
        raise CommandError(f"--func must be MODULE:ATTR or FILE.py:ATTR, got {spec!r}")
    mod_name, _, attr = spec.rpartition(":")
    try:
        if mod_name.endswith(".py"):
            if not os.path.isfile(mod_name):
                raise CommandError(f"--func: file {mod_name!r} does not exist")
            name = "_numderiv_user_" + os.path.splitext(os.path.basename(mod_name))[0]
            loc = importlib.util.spec_from_file_location(name, mod_name)
            assert loc is not None and loc.loader is not None
            module = importlib.util.module_from_spec(loc)
            sys.modules[name] = module  # so that workers can unpickle its functions
            loc.loader.exec_module(module)
        else:
            if os.getcwd() not in sys.path and "" not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(mod_name)
    except CommandError:
        raise
    except ImportError as exc:
        raise CommandError(f"--func: cannot import {mod_name!r}: {exc}") from None
    except Exception as exc:  # the user's module failed while importing
        raise CommandError(
            f"--func: importing {mod_name!r} raised {type(exc).__name__}: {exc}"
        ) from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise CommandError(f"--func: {mod_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise CommandError(
            f"--func: {spec!r} is not callable, it is a {type(obj).__name__}"
        )
    f: Callable[..., Any] = obj
    return f


def make_function(args: argparse.Namespace) -> tuple[Callable[..., Any], str]:
    """The function to differentiate and how to name it."""
    if args.expr is not None and args.func is not None:
        raise CommandError("give EXPR or --func, not both")
    if args.expr is None and args.func is None:
        raise CommandError(
            "give EXPR (a formula in x such as 'sum(x**2)') or --func MODULE:ATTR"
        )
    if args.func is not None:
        return load_function(args.func), args.func
    if (
        getattr(args, "args", None) is not None
        or getattr(args, "kwargs", None) is not None
    ):
        raise CommandError("--args and --kwargs are for --func; EXPR has only x")
    return Expression(args.expr), args.expr


def _json_arg(text: str | None, name: str, kind: type) -> Any:
    if text is None:
        return None
    try:
        v = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{name} must be JSON, got {text!r}: {exc}") from None
    if not isinstance(v, kind):
        raise CommandError(f"{name} must be a JSON {kind.__name__}, got {text!r}")
    return v


def _options(args: argparse.Namespace, command: str) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "method": args.method,
        "order": args.order,
        "rel_step": _scalar_or_vector(args.rel_step, "--rel-step"),
        "abs_step": _scalar_or_vector(args.abs_step, "--abs-step"),
        "bounds": _bounds(args.bounds),
        "f0": _scalar_or_vector(args.f0, "--f0"),
        "chunk_size": args.chunk_size,
        "workers": args.workers,
        "timeout": args.timeout,
        "progress": args.progress,
        "maxiter": args.maxiter,
        "initial_step": args.initial_step,
        "step_factor": args.step_factor,
        "noise": _scalar_or_vector(args.noise, "--noise"),
        "full_output": True,
    }
    if args.vectorized is not None:
        opts["vectorized"] = args.vectorized
    if args.atol is not None or args.rtol is not None:
        tol = {}
        if args.atol is not None:
            tol["atol"] = args.atol
        if args.rtol is not None:
            tol["rtol"] = args.rtol
        opts["tolerances"] = tol
    a = _json_arg(args.args, "--args", list)
    if a is not None:
        opts["args"] = tuple(a)
    k = _json_arg(args.kwargs, "--kwargs", dict)
    if k is not None:
        opts["kwargs"] = k
    if command == "derivative":
        opts["n"] = args.n
    else:
        opts["directions"] = _matrix(args.directions, "--directions")
        if args.sparsity is not None:
            if command == "gradient":
                raise CommandError("--sparsity is an option of jacobian and hessian")
            opts["sparsity"] = _sparsity(args.sparsity)
    return opts


def _dense(a: Any) -> Any:
    return a.toarray() if hasattr(a, "toarray") else np.asarray(a)


def run_function_command(args: argparse.Namespace, out: Any) -> None:
    """Compute, then write the table, JSON or CSV."""
    command = args.command
    precision = args.precision  # checked by main
    f, name = make_function(args)
    x = parse_numbers(args.at, "--at")
    opts = _options(args, command)
    if isinstance(f, Expression):
        # the formula at the point: an index out of range or a shape that
        # cannot work is a usage error, found before any differencing
        try:
            y = np.asarray(f(x))
        except (ExpressionError, IndexError, ValueError, TypeError) as exc:
            raise CommandError(
                f"EXPR at x = {_short(x)}: {type(exc).__name__}: {exc}"
            ) from None
        if command == "gradient" and y.size != 1:
            raise CommandError(
                f"gradient needs a scalar EXPR, got {y.size} values at x = {_short(x)}; "
                f"use jacobian for a vector f"
            )
    fn = getattr(_functions, command)
    value, info = fn(f, x, **opts)  # derivative: one value per point, also for one
    value = _dense(value)
    error = _dense(info.error)
    step = np.asarray(info.step)
    record = {
        "command": command,
        "f": name,
        "x": x,
        "value": value,
        "error": error,
        "step": step,
        "nfev": int(info.nfev),
        "ncalls": int(info.ncalls),
        "status": int(info.status),
        "message": info.message,
        "method": info.method,
        "order": int(info.order),
    }
    if args.json:
        write_json(out, record, precision)
    elif args.csv:
        header, rows = _csv_rows(command, x, value, error, step, int(info.status))
        write_csv(out, header, rows, precision)
    else:
        what = f"derivative (n={args.n})" if command == "derivative" else command
        title = f"{what} of {name} at x = {_short(x)}"
        notes = [
            f"method {info.method}, order {info.order}: {info.nfev} evaluations of f "
            f"in {info.ncalls} calls",
            f"status {info.status}: {info.message}",
        ]
        if info.status < 0:
            notes.append(
                "WARNING: some entries are not to be trusted to their error estimate"
            )
        sections = [("value", value), ("error estimate", error), ("step", step)]
        write_table(out, title, sections, notes, precision)


def _short(x: Any) -> str:
    a = np.asarray(x).ravel()
    s = ", ".join(f"{float(v):.17g}" for v in a[:8])
    return f"[{s}{', ...' if a.size > 8 else ''}]"


def _csv_rows(
    command: str, x: Any, value: Any, error: Any, step: Any, status: int
) -> tuple[list[str], list[list[Any]]]:
    v = np.asarray(value)
    e = np.asarray(error)
    if command == "derivative":
        xs = np.asarray(x).reshape(-1)
        vv, ee = v.reshape(-1), e.reshape(-1)
        ss = np.broadcast_to(step, v.shape).reshape(-1)
        header = ["x", "value", "error", "step", "status"]
        return header, [
            [float(xs[i]), vv[i], ee[i], ss[i], status] for i in range(vv.size)
        ]
    names = {1: ["j"], 2: ["i", "j"], 3: ["k", "i", "j"]}[v.ndim]
    header = [*names, "value", "error", "step", "status"]
    rows = []
    for idx in np.ndindex(*v.shape):
        rows.append([*idx, v[idx], e[idx], step[idx[-1]], status])
    return header, rows
