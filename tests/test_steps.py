"""Unit tests of numderiv._steps: schemes (exact weights), default steps, kinds at bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numderiv._steps import (
    _pref,
    choose_kinds,
    default_rel_step,
    input_noise_gain,
    scheme,
    user_or_default_steps,
)

EPS = float(np.finfo(np.float64).eps)


@pytest.mark.parametrize(
    ("args", "offsets", "weights", "order"),
    [
        (("central", "central", 1, 2), [-1, 1], [-1 / 2, 1 / 2], 2),
        (("central", "central", 1, 4), [-2, -1, 1, 2], [1 / 12, -2 / 3, 2 / 3, -1 / 12], 4),
        (("central", "central", 2, 2), [-1, 0, 1], [1, -2, 1], 2),
        (("forward", "forward", 1, 1), [0, 1], [-1, 1], 1),
        (("forward", "forward", 1, 2), [0, 1, 2], [-3 / 2, 2, -1 / 2], 2),
        (("backward", "backward", 1, 1), [0, -1], [1, -1], 1),
        (("complex", "central", 1, 2), [1j], [-1j], 2),
        # Im f(x + i s h): 2 c_s with the central weights c_1 = 2/3, c_2 = -1/12
        (("complex", "central", 1, 4), [1j, 2j], [-4j / 3, 1j / 6], 4),
    ],
)  # fmt: skip
def test_scheme_offsets_and_weights(args, offsets, weights, order):
    sch = scheme(*args)
    np.testing.assert_allclose(sch.offsets, offsets, rtol=0, atol=1e-15)
    np.testing.assert_allclose(sch.weights, weights, rtol=1e-14, atol=1e-15)
    assert sch.order == order
    assert sch.is_complex == (args[0] == "complex")


def test_scheme_moments_exact_on_polynomials():
    # sum_k w_k z_k^q / q! = [q == deriv] for q <= deriv + order - 1
    for method, kind, m, p in [
        ("central", "central", 3, 4),
        ("forward", "forward", 2, 3),
    ]:
        sch = scheme(method, kind, m, p)
        for q in range(m + sch.order):
            mom = float(np.sum(sch.weights * sch.offsets**q)) / math.factorial(q)
            assert mom == pytest.approx(float(q == m), abs=1e-10)


def test_complex_second_derivative_scheme_order():
    # Re of f(x -+ h + i h) with weights -+ i/2: Im f(x + h + ih) - Im f(x - h + ih)
    # over 2 h^2; the complex moments give order 4 (the order asked for is 2)
    sch = scheme("complex", "central", 2, 2)
    np.testing.assert_allclose(sch.offsets, [-1 + 1j, 1 + 1j])
    np.testing.assert_allclose(sch.weights, [0.5j, -0.5j])
    assert sch.deriv == 2 and sch.order == 4 and sch.requested == 2
    # the sum |w| of the real first difference of the same order (4): 1.5
    assert sch.noise_gain == pytest.approx(1.5)


def test_scheme_unknown_method():
    with pytest.raises(ValueError, match="unknown method 'sideways'"):
        scheme("sideways", "central", 1, 2)


def test_pref():
    assert [_pref(m) for m in ("central", "complex", "forward", "backward")] == [
        "central",
        "central",
        "forward",
        "backward",
    ]


def test_default_rel_step_formula_and_powers_of_two():
    # central first difference: h = (m eps G / (p |C| K))^(1/(p+m)) with
    # m = 1, p = 2, C = 1/6, G = 1, K = (3!/1!)^(3/2); rounded to 2^-18
    h = (EPS * 1.0 / (2 * (1 / 6) * 6.0**1.5)) ** (1 / 3)
    assert default_rel_step(scheme("central", "central", 1, 2), EPS) == 2.0 ** round(
        math.log2(h)
    )
    assert default_rel_step(scheme("central", "central", 1, 2), EPS) == 2.0**-18
    # forward: m = 1, p = 1, C = 1/2, G = 2, K = 2^(3/2)
    hf = (EPS * 2 / (1 * 0.5 * 2.0**1.5)) ** 0.5
    assert default_rel_step(scheme("forward", "forward", 1, 1), EPS) == 2.0 ** round(
        math.log2(hf)
    )
    # the complex step: eps^(3/2), absolute
    assert default_rel_step(scheme("complex", "central", 1, 2), EPS) == 2.0**-78
    for args in [("central", "central", 2, 4), ("backward", "backward", 3, 2)]:
        h = default_rel_step(scheme(*args), EPS)
        assert math.log2(h) == int(math.log2(h))


def test_user_or_default_steps():
    x = np.array([0.0, 3.0, -1e3])
    sch = scheme("central", "central", 1, 2)
    default = user_or_default_steps(x, sch, EPS, None, None)
    assert np.array_equal(default, 2.0**-18 * np.array([1.0, 4.0, 1024.0]))
    rel = user_or_default_steps(x, sch, EPS, np.array(1e-3), None)
    assert np.array_equal(rel, (x + 1e-3 * np.maximum(1, np.abs(x))) - x)
    # a step that vanishes against x is replaced by the default
    ab = user_or_default_steps(np.array([1e20]), sch, EPS, None, np.array(1.0))
    assert np.array_equal(
        ab, user_or_default_steps(np.array([1e20]), sch, EPS, None, None)
    )
    # the complex step honours a tiny step as it is
    cs = scheme("complex", "central", 1, 2)
    tiny = user_or_default_steps(np.array([1e20]), cs, EPS, None, np.array(1e-30))
    assert tiny.tolist() == [1e-30]


def test_choose_kinds_at_bounds():
    h = np.full(4, 0.1)
    # room [tlo, thi] per direction: both sides, none below, none above, little
    tlo = np.array([-1.0, 0.0, -1.0, -0.05])
    thi = np.array([1.0, 1.0, 0.0, 0.08])
    kinds, hnew = choose_kinds("central", 1, 2, h, tlo, thi)
    assert kinds.tolist() == ["central", "forward", "backward", "forward"]
    # the last fits no stencil at h: the forward one shrinks into thi
    assert hnew[:3].tolist() == [0.1, 0.1, 0.1]
    assert hnew[3] == pytest.approx(0.08 / 2)


def test_input_noise_gain():
    assert input_noise_gain("complex", 2, 1, EPS) == 0.0
    assert input_noise_gain("central", 2, 1, EPS) == pytest.approx(EPS)
    assert input_noise_gain("forward", 1, 1, EPS) == pytest.approx(2 * EPS)
