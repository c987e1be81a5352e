"""The safe EXPR language: what it computes, and the escapes it refuses."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from numderiv.cli import main
from numderiv.cli._expr import MAX_DEPTH, Expression, ExpressionError

X = np.array([0.5, 2.0, 3.0])


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("sum(x**2)", np.sum(X**2)),
        ("x[0] * x[1] - x[2] / 4", X[0] * X[1] - X[2] / 4),
        ("x[-1] // 2 + x[1] % 1.5", X[-1] // 2 + X[1] % 1.5),
        (
            "exp(x[0]) * log(x[1]) + sqrt(x[2])",
            np.exp(X[0]) * np.log(X[1]) + np.sqrt(X[2]),
        ),
        ("where(x > 1, x, -x)", np.where(X > 1, X, -X)),
        ("1 < x <= 2", (X > 1) & (X <= 2)),
        ("dot(x, x) + prod(x) + mean(x)", X @ X + np.prod(X) + np.mean(X)),
        ("max(x) - min(x) + norm(x)", X.max() - X.min() + np.linalg.norm(X)),
        ("sum(x[1:])", X[1:].sum()),
        ("x[::2]", X[::2]),
        ("pi * e + tau", np.pi * np.e + 2 * np.pi),
        (
            "arctan2(x[0], x[1]) + hypot(x[0], x[1])",
            np.arctan2(X[0], X[1]) + np.hypot(X[0], X[1]),
        ),
        ("erf(x[0]) + gamma(x[2])", 0.5204998778130465 + 2.0),
        ("-x[0] ** 2", -(X[0] ** 2)),
        ("2 ** -3 + 9 ** 9", 0.125 + 387420489.0),
        ("[x[0] ** 2, x[0] * x[1]]", np.array([X[0] ** 2, X[0] * X[1]])),
        ("[x[0], 1]", np.array([X[0], 1.0])),
    ],
)
def test_values_against_numpy(src, expected):
    assert np.allclose(Expression(src)(X), expected, rtol=1e-15, atol=0)


def test_vectorized_points_as_columns():
    # x of shape (n, k): reductions run over the components, one value per point
    P = np.arange(6.0).reshape(3, 2)
    f = Expression("[sum(x**2), x[0] * x[1], dot(x, x)]")
    assert np.array_equal(
        f(P), np.stack([np.sum(P**2, axis=0), P[0] * P[1], np.sum(P * P, axis=0)])
    )


def test_complex_input_for_the_complex_step():
    z = np.array([1.0 + 1e-20j, 2.0])
    v = Expression("sin(x[0]) * x[1]")(z)
    assert v.imag == pytest.approx(np.cos(1.0) * 2 * 1e-20, rel=1e-12)


def test_pickles_for_workers():
    f = Expression("sum(x**3)")
    g = pickle.loads(pickle.dumps(f))
    assert g(X) == f(X) and g.source == f.source


def test_no_warning_for_log_zero():
    # f's own non-finite value, for the library to handle; pytest turns
    # warnings into errors, so a RuntimeWarning would fail here
    assert Expression("log(x[0])")(np.array([0.0])) == -np.inf


def test_depth_limit_checked_before_evaluation():
    with pytest.raises(ExpressionError, match="nested deeper"):
        Expression("-" * (MAX_DEPTH + 5) + "x")
    Expression("-" * (MAX_DEPTH - 5) + "x")  # within the limit


ESCAPES = [
    "__import__('os').system('touch {p}')",
    "().__class__.__bases__[0].__subclasses__()",
    "open('{p}', 'w')",
    "exec(\"open('{p}', 'w')\")",
    "eval(\"open('{p}', 'w')\")",
    "getattr(x, '__class__')",
    "compile('1', 'f', 'eval')",
    "globals()",
    "'{{0.__class__}}'.format(x)",
    "f'{{x}}'",
    "'%s' % x",
    "9**9**9",
    "10**10000",
    "sum(" * 60 + "x" + ")" * 60,
    "(" * 300 + "x" + ")" * 300,
    "-" * 100 + "x",
    "lambda: open('{p}', 'w')",
    "[c for c in ().__class__.__mro__]",
    "x.__class__",
    "x.tofile('{p}')",
    "__builtins__",
    "(y := 1)",
    "sum(*x)",
    "sum(x, axis=0)",
    "sin",
    "x if x else 1",
    "x and 1",
    "{{1: 2}}",
    "b'abc'",
    "None",
    "x[...]",
    "1" * 2100,
    "9" * 400,
    "sin(x)(1)",
    "breakpoint()",
    "print(1)",
]


@pytest.mark.parametrize("template", ESCAPES)
def test_escape_exits_2_one_line_no_effect(template, tmp_path, capsys):
    target = tmp_path / "pwned"
    expr = template.format(p=target)
    assert main(["gradient", "--at", "1,2", "--", expr]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    assert cap.err.startswith("numderiv: error: EXPR")
    assert cap.err.count("\n") == 1
    assert not target.exists()


def test_escape_count():
    assert len(ESCAPES) >= 15
