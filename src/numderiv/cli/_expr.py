"""The safe formula language of the command line: ``EXPR`` in ``x``.

``numderiv gradient "sum(x**2)" --at 1,2`` differentiates a formula typed by
a person, perhaps one pasted from somewhere else.  The formula is parsed by
Python's :mod:`ast` and **interpreted here, node by node**; it is never
compiled or passed to :func:`eval`.  What it may contain is a whitelist:

- numbers (int, float and complex literals; no strings, bytes, ``None``,
  ``...``), the name ``x``, and the functions and constants of
  :data:`FUNCTIONS` and :data:`CONSTANTS`;
- arithmetic ``+ - * / // % **``, unary ``+ -``, comparisons
  ``< <= > >= == !=`` (chains allowed, elementwise);
- calls of a whitelisted function by its bare name, with positional
  arguments only, and their number checked;
- indexing ``x[i]``, ``x[i:j:k]``, ``x[i, j]`` of any value;
- list or tuple displays ``[a, b]`` for vector-valued functions.

Everything else is refused before anything is evaluated: attributes (so no
``().__class__``), any name outside the lists (so no ``__import__``,
``open``, ``eval``, ``exec``, ``getattr``), lambdas, comprehensions,
``and``/``or``/``not``, conditional expressions, f-strings, walrus
assignments, starred arguments, keyword arguments.  Limits: 2000 characters,
500 nodes, a nesting depth of 40, and a constant exponent (one that does not
involve ``x``) of magnitude at most 1000.  Every literal becomes a float
(or complex) before any arithmetic, so no Python integer can grow: ``9**9``
is 387420489.0, never a million-digit number, and ``9**9**9`` is refused by
the exponent limit.  The interpreter's recursion is bounded by the depth
limit.  The values it handles are NumPy arrays and scalars, which have no
way back to the interpreter from arithmetic, indexing or the listed ufuncs.

Libraries weighed (the decision, and why):

- ``asteval`` interprets a large Python subset (loops, ``def``, attribute
  access) and guards attributes with a deny-list; sandbox escapes through
  attributes it had not listed have been reported and fixed (for example
  lmfit/asteval#86, ``__reduce__`` reaching ``getattr``).  It supports NumPy
  and indexing, but its surface is much larger than a formula needs.
- ``simpleeval`` is small and has an exponent limit, but allows attribute
  access on the objects it is given (non-underscore names), which on NumPy
  arrays reaches methods and modules, and has had escapes of its own
  (danthedeckie/simpleeval#138, generator frames); it knows nothing of
  NumPy broadcasting.
- ``numexpr`` evaluates elementwise expressions fast, but has no indexing
  ``x[i]`` and no reductions inside an expression, and its ``evaluate``
  compiles the string with Python: arbitrary code through it was reported
  (PYSEC-2023-163), the regex sanitiser added then was found bypassable
  and has been replaced by an AST allow-list (pydata/numexpr#564).

None is a dependency of numderiv.  An allow-list over ~20 node types,
interpreted directly, is about 200 lines that can be read in one sitting and
has no deny-list to keep up to date, so it is done here.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sc

__all__ = ["CONSTANTS", "FUNCTIONS", "Expression", "ExpressionError"]

MAX_CHARS = 2000
MAX_NODES = 500
MAX_DEPTH = 40
MAX_EXPONENT = 1000.0


class ExpressionError(ValueError):
    """A formula the command line refuses (one line, exit status 2)."""


def _reduce(fn: Callable[..., Any]) -> Callable[[Any], Any]:
    # along the first axis: the components of x, also when a vectorized call
    # hands in x of shape (n, k)
    return lambda a: fn(a, axis=0)


def _dot(a: Any, b: Any) -> Any:
    return np.sum(np.multiply(a, b), axis=0)


def _norm(a: Any) -> Any:
    return np.sqrt(np.sum(np.abs(a) ** 2, axis=0))


#: Functions an EXPR may call: name -> (function, fewest, most arguments).
#: Reductions (``sum``, ``prod``, ``mean``, ``max``, ``min``, ``norm``,
#: ``dot``) run along the first axis, over the components of ``x``.
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    **{
        name: (getattr(np, name), 1, 1)
        for name in (
            "sin",
            "cos",
            "tan",
            "arcsin",
            "arccos",
            "arctan",
            "sinh",
            "cosh",
            "tanh",
            "arcsinh",
            "arccosh",
            "arctanh",
            "exp",
            "expm1",
            "exp2",
            "log",
            "log1p",
            "log2",
            "log10",
            "sqrt",
            "cbrt",
            "square",
            "abs",
            "sign",
            "floor",
            "ceil",
            "real",
            "imag",
            "logical_not",
        )
    },
    **{
        name: (getattr(np, name), 2, 2)
        for name in (
            "arctan2",
            "hypot",
            "maximum",
            "minimum",
            "power",
            "logical_and",
            "logical_or",
        )
    },
    "asin": (np.arcsin, 1, 1),
    "acos": (np.arccos, 1, 1),
    "atan": (np.arctan, 1, 1),
    "atan2": (np.arctan2, 2, 2),
    "where": (np.where, 3, 3),
    "clip": (np.clip, 3, 3),
    "heaviside": (np.heaviside, 2, 2),
    "erf": (sc.erf, 1, 1),
    "erfc": (sc.erfc, 1, 1),
    "gamma": (sc.gamma, 1, 1),
    "sum": (_reduce(np.sum), 1, 1),
    "prod": (_reduce(np.prod), 1, 1),
    "mean": (_reduce(np.mean), 1, 1),
    "max": (_reduce(np.max), 1, 1),
    "min": (_reduce(np.min), 1, 1),
    "norm": (_norm, 1, 1),
    "dot": (_dot, 2, 2),
}

#: Constants an EXPR may use.
CONSTANTS: dict[str, float] = {
    "pi": math.pi,
    "e": math.e,
    "tau": math.tau,
    "inf": math.inf,
    "nan": math.nan,
}

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.FloorDiv: np.floor_divide,
    ast.Mod: np.mod,
    ast.Pow: np.power,
}
_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.UAdd: np.positive,
    ast.USub: np.negative,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}
# the operator and context nodes that may appear inside the allowed ones
_LEAVES = (ast.Load, *_BINOPS, *_UNARY, *_COMPARE)
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.Subscript,
    ast.Slice,
    ast.Tuple,
    ast.List,
)
_HINTS = {
    ast.Attribute: "attribute access (a.b) is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.BoolOp: "'and'/'or' are not allowed; use logical_and(a, b) or logical_or(a, b)",
    ast.IfExp: "'a if c else b' is not allowed; use where(c, a, b)",
    ast.JoinedStr: "strings are not allowed",
    ast.NamedExpr: "assignment (:=) is not allowed",
    ast.Starred: "starred arguments are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
}


def _names_help() -> str:
    return (
        "x, "
        + ", ".join(sorted(CONSTANTS))
        + " and the functions "
        + (", ".join(sorted(FUNCTIONS)))
    )


def _has_x(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "x" for n in ast.walk(node))


class Expression:
    """A checked formula in ``x``, callable as ``f(x)``.

    Parameters
    ----------
    source : str
        The formula, e.g. ``"sin(x[0]) * x[1]"``.

    Raises
    ------
    ExpressionError
        If the formula is not valid Python, uses anything outside the
        whitelist, or breaks a limit; the message says what and where.

    Examples
    --------
    >>> import numpy as np
    >>> from numderiv.cli._expr import Expression
    >>> f = Expression("[sin(x[0] * x[1]), sum(x**3)]")
    >>> f(np.array([0.0, 2.0, 3.0]))
    array([ 0., 35.])
    >>> Expression("().__class__")
    Traceback (most recent call last):
    ...
    numderiv.cli._expr.ExpressionError: EXPR: attribute access (a.b) is not allowed (at column 1)
    """

    def __init__(self, source: str) -> None:
        if not isinstance(source, str):
            raise ExpressionError(f"EXPR must be a string, got {source!r}")
        self.source = source
        self._tree = _check(source)

    def __reduce__(self) -> tuple[Any, ...]:
        # picklable for workers: the formula is checked again where it lands
        return (Expression, (self.source,))

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def __call__(self, x: Any) -> Any:
        with np.errstate(all="ignore"):  # log(0) = -inf: f's value, no warning
            return _Eval(x).visit(self._tree.body)


def _check(source: str) -> ast.Expression:
    if len(source) > MAX_CHARS:
        raise ExpressionError(
            f"EXPR has {len(source)} characters, more than the limit {MAX_CHARS}"
        )
    if not source.strip():
        raise ExpressionError("EXPR is empty; give a formula in x such as 'sum(x**2)'")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"EXPR is not a valid formula: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(
            f"EXPR is too deeply nested to parse (limit depth {MAX_DEPTH})"
        ) from None
    count = 0
    callees: set[int] = set()
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(f"EXPR has more than {MAX_NODES} parts (the limit)")
        if depth > MAX_DEPTH:
            raise ExpressionError(f"EXPR is nested deeper than the limit {MAX_DEPTH}")
        _check_node(node, id(node) in callees)
        if isinstance(node, ast.Call):
            callees.add(id(node.func))
        stack.extend((c, depth + 1) for c in ast.iter_child_nodes(node))
    # the whole tree is made of allowed nodes: now the constant exponents
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Pow)
            and not _has_x(node.right)
        ):
            _check_exponent(node)
    assert isinstance(tree, ast.Expression)
    return tree


def _check_exponent(node: ast.BinOp) -> None:
    try:
        with np.errstate(all="ignore"):
            p = complex(_Eval(np.zeros(0)).visit(node.right))
    except (ExpressionError, TypeError, ValueError, IndexError):
        return  # not a number: the evaluation reports it
    if not abs(p) <= MAX_EXPONENT:
        raise ExpressionError(
            f"EXPR: the exponent {ast.unparse(node.right)} = {abs(p):g} is "
            f"above the limit {MAX_EXPONENT:g}{_where(node)}"
        )


def _where(node: ast.AST) -> str:
    col = getattr(node, "col_offset", None)
    return "" if col is None else f" (at column {col + 1})"


def _check_node(node: ast.AST, callee: bool) -> None:
    if isinstance(node, _LEAVES):
        return
    if not isinstance(node, _ALLOWED):
        hint = _HINTS.get(type(node), f"'{type(node).__name__}' is not allowed")
        raise ExpressionError(f"EXPR: {hint}{_where(node)}")
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float, complex)):
            raise ExpressionError(
                f"EXPR: only numbers are allowed as literals, got {v!r}{_where(node)}"
            )
        if isinstance(v, int) and abs(v) >= 2**1024:  # beyond float64
            raise ExpressionError(
                f"EXPR: the number {str(v)[:20]}... is too large{_where(node)}"
            )
    elif isinstance(node, ast.Name):
        if node.id != "x" and node.id not in CONSTANTS and node.id not in FUNCTIONS:
            raise ExpressionError(
                f"EXPR: unknown name {node.id!r}{_where(node)}; allowed: {_names_help()}"
            )
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else "this"
            raise ExpressionError(
                f"EXPR: {what!s} cannot be called{_where(node)}; callable: "
                + ", ".join(sorted(FUNCTIONS))
            )
        if node.keywords:
            raise ExpressionError(
                f"EXPR: keyword arguments are not allowed{_where(node)}"
            )
        _, lo, hi = FUNCTIONS[node.func.id]
        k = len(node.args)
        if not lo <= k <= hi:
            want = f"{lo}" if lo == hi else f"{lo} to {hi}"
            raise ExpressionError(
                f"EXPR: {node.func.id}() takes {want} argument(s), got {k}{_where(node)}"
            )
    if isinstance(node, ast.Name) and node.id in FUNCTIONS and not callee:
        raise ExpressionError(
            f"EXPR: the function {node.id}() must be called{_where(node)}"
        )


class _Eval:
    """Evaluates a checked tree; ``x`` is the only variable."""

    def __init__(self, x: Any) -> None:
        self.x = x

    def visit(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, complex):
                return np.complex128(v)
            assert isinstance(v, (int, float))  # checked
            return np.float64(v)
        if isinstance(node, ast.Name):
            if node.id == "x":
                return self.x
            if node.id in CONSTANTS:
                return np.float64(CONSTANTS[node.id])
            raise ExpressionError(f"EXPR: the function {node.id}() must be called")
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](self.visit(node.left), self.visit(node.right))
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](self.visit(node.operand))
        if isinstance(node, ast.Compare):
            left = self.visit(node.left)
            out: Any = None
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = self.visit(comp)
                r = _COMPARE[type(op)](left, right)
                out = r if out is None else np.logical_and(out, r)
                left = right
            return out
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            fn = FUNCTIONS[node.func.id][0]
            return fn(*(self.visit(a) for a in node.args))
        if isinstance(node, ast.Subscript):
            return np.asarray(self.visit(node.value))[self._index(node.slice)]
        if isinstance(node, (ast.List, ast.Tuple)):
            parts = [self.visit(e) for e in node.elts]
            if not parts:
                raise ExpressionError("EXPR: an empty list has no value")
            return np.stack(np.broadcast_arrays(*parts))
        raise ExpressionError(f"EXPR: '{type(node).__name__}' is not allowed")

    def _index(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Tuple):
            return tuple(self._index(e) for e in node.elts)
        if isinstance(node, ast.Slice):
            return slice(
                *(
                    None if p is None else self._int(p)
                    for p in (node.lower, node.upper, node.step)
                )
            )
        return self._int(node)

    def _int(self, node: ast.AST) -> int:
        v = self.visit(node)
        if np.ndim(v) != 0 or np.iscomplexobj(v) or not float(v).is_integer():
            raise ExpressionError(
                f"EXPR: an index must be an integer, got {ast.unparse(node)}"
            )
        return int(v)
