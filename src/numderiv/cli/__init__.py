"""The ``numderiv`` command line (also ``python -m numderiv``).

Commands:

- ``numderiv demo``: the main job on Scilab's and NumPy's examples;
- ``numderiv jacobian|gradient|hessian|derivative EXPR --at 1,2,3``: a
  derivative of a formula in ``x`` (parsed safely, see
  :mod:`numderiv.cli._expr`) or of user code (``--func module:attr``), with
  every option of the function API as a flag;
- ``numderiv grid FILE``: derivatives of the columns of a CSV or NPY file,
  streamed in blocks with halos (:mod:`numderiv.cli._grid`);
- ``numderiv steps EXPR --at X``: the error against the step, as a table and
  with ``--plot out.png`` as the V-shaped plot.

Exit status: 0 success (also when the reader of the output goes away, as
``| head`` does), 1 when ``f`` raises (one line naming the point), 2 for a
usage error (one line on stderr, never a traceback), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ._demo import correct_digits, run_demo

__all__ = ["correct_digits", "main"]


class _UserError(Exception):
    """Bad input from the user: one line on stderr, exit status 2."""


class _FunctionError(Exception):
    """``f`` raised: one line on stderr, exit status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2, no usage dump
        raise _UserError(f"{message} (see: {self.prog} --help)")


_METHODS = ("central", "forward", "backward", "complex", "adaptive")
_FUNCTION_COMMANDS = {
    "jacobian": "the Jacobian (m x n) of f: R^n -> R^m",
    "gradient": "the gradient (n) of a scalar f: R^n -> R",
    "hessian": "the Hessian (n x n, or m x n x n) of f: R^n -> R^m",
    "derivative": "the n-th derivative of a scalar f, elementwise at each point",
}
_EXPR_HELP = (
    "a formula in x, e.g. 'sum(x**2)' or '[sin(x[0]*x[1]), exp(x[2])]' (a list "
    "for a vector f); x[i] indexing, + - * / // %% **, comparisons, numbers, "
    "pi e tau inf nan and the functions listed at the end of this help"
)
# options whose value may start with '-' (a negative number): "--at -1,2"
# becomes "--at=-1,2" before argparse sees it
_NUMERIC_OPTIONS = {
    "--at",
    "--rel-step",
    "--abs-step",
    "--bounds",
    "--f0",
    "--noise",
    "--directions",
    "--exact",
    "--initial-step",
    "--atol",
    "--rtol",
    "--period",
}


def _one_line(text: str, limit: int = 600) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _function_options(p: argparse.ArgumentParser, command: str) -> None:
    p.add_argument("expr", nargs="?", metavar="EXPR", help=_EXPR_HELP)
    p.add_argument(
        "--func",
        metavar="MODULE:ATTR",
        help="differentiate user code instead of EXPR: a function ATTR of an "
        "importable module (the current directory is searched first) or of a "
        "file path/to/file.py.  This imports and runs that code with your "
        "rights: it is not sandboxed",
    )
    p.add_argument(
        "--at",
        required=True,
        metavar="X",
        help="the point, comma-separated: 1,2,3 (a negative first value as "
        "--at -1,2 or --at=-1,2)"
        + ("; for derivative, the points" if command == "derivative" else ""),
    )
    if command == "derivative":
        p.add_argument("--n", type=int, default=1, help="derivative order (default 1)")
    p.add_argument(
        "--method", choices=_METHODS, default="central", help="difference scheme"
    )
    p.add_argument("--order", type=int, help="accuracy order of the stencil")
    p.add_argument(
        "--rel-step", metavar="H", help="relative step: one number or one per component"
    )
    p.add_argument(
        "--abs-step", metavar="H", help="absolute step: one number or one per component"
    )
    p.add_argument(
        "--bounds",
        metavar="LB:UB",
        help="f is never evaluated outside: e.g. 0:inf or 0,0:1,1 (per component)",
    )
    if command != "derivative":
        p.add_argument(
            "--directions",
            metavar="Q",
            help="orthogonal matrix of differencing directions, rows separated by ';': '1,0;0,1'",
        )
        p.add_argument(
            "--sparsity",
            metavar="FILE",
            help="structure of the Jacobian (or Hessian), a .npy or CSV (no header) "
            "file of 0/1; the result is printed dense",
        )
    p.add_argument(
        "--f0", metavar="Y", help="the known value f(x) (saves an evaluation)"
    )
    p.add_argument(
        "--vectorized",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="f takes many points at once (x of shape (n, k)); every EXPR does. "
        "Default: as the Python function (on for derivative, off otherwise)",
    )
    p.add_argument(
        "--chunk-size", type=int, metavar="K", help="most points per vectorized call"
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="evaluate in a pool of N processes (-1: all cores)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="with --workers: most seconds to wait",
    )
    p.add_argument(
        "--progress",
        action="store_true",
        help="show a progress bar on stderr (needs tqdm)",
    )
    p.add_argument(
        "--args",
        metavar="JSON",
        help="--func only: extra positional arguments, a JSON list",
    )
    p.add_argument(
        "--kwargs",
        metavar="JSON",
        help="--func only: extra keyword arguments, a JSON object",
    )
    g = p.add_argument_group("method adaptive")
    g.add_argument("--atol", type=float, help="absolute tolerance")
    g.add_argument("--rtol", type=float, help="relative tolerance")
    g.add_argument(
        "--maxiter", type=int, help="most levels of the ladder per component"
    )
    g.add_argument(
        "--initial-step", type=float, metavar="H", help="the first step, relative"
    )
    g.add_argument(
        "--step-factor", type=float, metavar="Q", help="ratio of successive steps"
    )
    g.add_argument("--noise", metavar="S", help="absolute noise of f (per output)")
    _output_options(p)
    p.epilog = _expr_epilog()


def _expr_epilog() -> str:
    from ._expr import CONSTANTS, FUNCTIONS

    return (
        "EXPR functions: "
        + ", ".join(sorted(FUNCTIONS))
        + "; constants: "
        + ", ".join(sorted(CONSTANTS))
        + ".  Reductions (sum, prod, mean, max, min, norm, dot) run over the "
        "components of x."
    )


def _output_options(p: argparse.ArgumentParser, *, csv_only: bool = False) -> None:
    if not csv_only:
        fmt = p.add_mutually_exclusive_group()
        fmt.add_argument(
            "--json", action="store_true", help='one JSON object (NaN as "NaN")'
        )
        fmt.add_argument("--csv", action="store_true", help="CSV, one row per entry")
    p.add_argument(
        "--precision",
        type=int,
        metavar="P",
        help="significant digits (default: all for --json/--csv, 10 for the table)",
    )


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="numderiv",
        description="Numerical differentiation with honest error estimates.",
        epilog="Exit status: 0 success, 1 f raised, 2 usage error.  Shell "
        "completion: argparse offers none, and none is installed.",
    )
    p.add_argument("--version", action="version", version=f"numderiv {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.add_parser(
        "demo", help="derivatives of Scilab's and NumPy's examples, every method"
    )
    for name, text in _FUNCTION_COMMANDS.items():
        sp = sub.add_parser(name, help=text, description=text + ".")
        _function_options(sp, name)
    g = sub.add_parser(
        "grid",
        help="derivatives of the columns of a CSV (with header) or NPY file",
        description="Derivatives of every column of FILE but the x column; "
        "prints CSV: the x column (or the row index i), then d<name>/d<x> "
        "(d<n><name>/d<x><n> for --n above 1).",
    )
    g.add_argument(
        "file", metavar="FILE", help="a .npy file, or CSV with a header line"
    )
    g.add_argument(
        "--x",
        metavar="COLUMN",
        help="the coordinate column (name or 0-based index); default: the row index",
    )
    g.add_argument("--n", type=int, default=1, help="derivative order (default 1)")
    g.add_argument(
        "--accuracy", type=int, default=2, help="even accuracy order (default 2)"
    )
    g.add_argument(
        "--periodic", action="store_true", help="the row after the last is the first"
    )
    g.add_argument(
        "--period",
        type=float,
        metavar="T",
        help="--periodic on a non-uniform x: the period",
    )
    g.add_argument(
        "--smooth",
        choices=("savgol", "spline", "spectral"),
        help="derivative of noisy data (reads the whole file)",
    )
    g.add_argument("--window", type=int, help="--smooth savgol: window length (odd)")
    g.add_argument("--polyorder", type=int, help="--smooth savgol: polynomial degree")
    g.add_argument("--lam", type=float, help="--smooth spline: smoothing penalty")
    g.add_argument(
        "--cutoff", type=float, help="--smooth spectral: cut-off, a fraction of Nyquist"
    )
    g.add_argument("--chunk-rows", type=int, help=argparse.SUPPRESS)  # tests
    _output_options(g, csv_only=True)
    s = sub.add_parser(
        "steps",
        help="error against step size (the V-shaped curve), table and plot",
        description="The error of the n-th derivative of a scalar f against the "
        "step, for each method, with the step numderiv chooses marked '*'.",
    )
    s.epilog = _expr_epilog()
    s.add_argument("expr", nargs="?", metavar="EXPR", help=_EXPR_HELP)
    s.add_argument(
        "--func",
        metavar="MODULE:ATTR",
        help="user code instead of EXPR (not sandboxed)",
    )
    s.add_argument("--at", required=True, metavar="X", help="the point, one number")
    s.add_argument("--n", type=int, default=1, help="derivative order (default 1)")
    s.add_argument(
        "--methods",
        default="forward,central,complex",
        help="comma-separated, among forward, backward, central, complex",
    )
    s.add_argument(
        "--orders",
        metavar="P",
        help="accuracy order(s) for every method, comma-separated",
    )
    s.add_argument(
        "--exact",
        metavar="EXPR",
        help="the exact derivative, a number or a formula in x (e.g. '0.5/sqrt(x)'); "
        "without it the error is the change between successive steps",
    )
    s.add_argument(
        "--steps", metavar="N", type=int, help="number of steps (default 30)"
    )
    s.add_argument(
        "--plot", metavar="OUT.png", help="also write the plot (needs matplotlib)"
    )
    _output_options(s)
    return p


def _prepare(argv: list[str]) -> list[str]:
    out: list[str] = []
    it = iter(range(len(argv)))
    for i in it:
        a = argv[i]
        if a in _NUMERIC_OPTIONS and i + 1 < len(argv) and argv[i + 1][:1] == "-":
            nxt = argv[i + 1]
            if len(nxt) > 1 and (nxt[1].isdigit() or nxt[1] in ".i"):
                out.append(f"{a}={nxt}")
                next(it, None)
                continue
        out.append(a)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 success, 1 ``f`` raised, 2 usage error, 130 interrupted.

    Examples
    --------
    >>> from numderiv.cli import main
    >>> main(["gradient", "x[0]**2 * x[1]", "--at", "1,2", "--csv", "--precision", "8"])
    j,value,error,step,status
    0,4,...,0
    1,1,...,0
    0
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser()
    out = sys.stdout
    try:
        try:
            args = parser.parse_args(_prepare(args_list))
            if args.command is None:
                raise _UserError(
                    "a command is required: demo, jacobian, gradient, hessian, "
                    "derivative, grid or steps (see: numderiv --help)"
                )
            _dispatch(args, out)
            out.flush()
            return 0
        except BrokenPipeError:
            _quiet_stdout()
            return 0
    except _UserError as exc:
        print(f"numderiv: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except _FunctionError as exc:
        print(f"numderiv: error: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("numderiv: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # --help and --version: their status, returned
        return exc.code if isinstance(exc.code, int) else 0


def _quiet_stdout() -> None:
    # the reader has gone (| head): what is still buffered cannot be written,
    # and Python's flush at exit must not report it
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _dispatch(args: argparse.Namespace, out: Any) -> None:
    if args.command == "demo":
        run_demo(out)
        return
    _precision(args.precision)  # every other command has --precision
    try:
        if args.command in _FUNCTION_COMMANDS:
            from ._calls import run_function_command

            run_function_command(args, out)
        elif args.command == "grid":
            from ._grid import run_grid

            run_grid(
                out,
                args.file,
                x=args.x,
                n=args.n,
                accuracy=args.accuracy,
                periodic=args.periodic,
                period=args.period,
                smooth=args.smooth,
                window=args.window,
                polyorder=args.polyorder,
                lam=args.lam,
                cutoff=args.cutoff,
                precision=args.precision,
                chunk_rows=args.chunk_rows,
            )
        elif args.command == "steps":
            from ._steps import run_steps

            run_steps(args, out)
    except BrokenPipeError:
        raise
    except Exception as exc:
        _classify(exc)
        raise


def _precision(p: int | None) -> int | None:
    if p is not None and not 1 <= p <= 17:
        raise _UserError(
            f"--precision must be from 1 to 17 significant digits, got {p}"
        )
    return p


def _raised_by_f(exc: BaseException) -> str | None:
    for note in getattr(exc, "__notes__", ()):
        if isinstance(note, str) and note.startswith(
            "numderiv: raised while evaluating f at "
        ):
            return note[len("numderiv: raised while evaluating f at ") :]
    return None


def _classify(exc: Exception) -> None:
    """Turn an exception into the exit status it deserves (or let a bug through)."""
    where = _raised_by_f(exc)
    if where is not None:
        raise _FunctionError(
            f"f raised {type(exc).__name__}: {exc} (at {where})"
        ) from None
    if isinstance(exc, (_UserError, _FunctionError)):
        return
    if isinstance(exc, (ValueError, TypeError)):
        # argument checking (ours and the library's): the message names the
        # argument and the value
        raise _UserError(str(exc)) from None
    if isinstance(exc, TimeoutError):
        raise _FunctionError(f"timeout: {exc}") from None
    if isinstance(exc, ImportError):
        raise _UserError(str(exc)) from None
