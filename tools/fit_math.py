"""Fits the polynomial coefficients of constnet's f32 `tanh` (src/math.rs)
and prints them as Rust literals.

    python3 tools/fit_math.py

Each polynomial is a weighted least-squares fit on Chebyshev nodes of the
interval it serves, in float64 (numpy only), weighted so that the error
being minimised is the relative error of the final result; on these
intervals that is close to the minimax polynomial, and far below f32's
rounding (the printed figure, in units of 2^-24). The measured error of
the f32 functions built from these coefficients is checked by the tests in
src/math.rs.

- EXP2_P: 2^f = 1 + f P(f) on |f| <= 1/2, P of degree 4: tanh's e^(-2|x|),
  written as 2^(n + f).
- TANH_Q: tanh(x) = x + x^3 Q(x^2) on |x| <= 1, Q of degree 6: below 1,
  (1 - e^(-2x)) / (1 + e^(-2x)) loses bits to cancellation.
"""

import numpy as np


def chebyshev_nodes(a, b, n):
    k = np.arange(n)
    return (a + b) / 2 + (b - a) / 2 * np.cos((2 * k + 1) * np.pi / (2 * n))


def weighted_fit(t, target, weight, degree):
    """Coefficients c[0..=degree] of sum c[i] t^i minimising
    sum (weight * (poly(t) - target))^2."""
    a = np.vander(t, degree + 1, increasing=True) * weight[:, None]
    c, *_ = np.linalg.lstsq(a, target * weight, rcond=None)
    return c


def exp2_coefficients():
    f = chebyshev_nodes(-0.5, 0.5, 4000)
    f = f[np.abs(f) > 1e-6]
    target = (2**f - 1) / f
    # error of 2^f = f * error of P; relative to 2^f
    c = weighted_fit(f, target, f / 2**f, 4)
    check = np.linspace(-0.5, 0.5, 100001)
    error = np.abs((1 + check * np.polyval(c[::-1], check)) / 2**check - 1)
    return c, error.max()


def tanh_coefficients():
    x = chebyshev_nodes(0, 1, 4000)
    x = x[x > 1e-4]
    z = x * x
    target = (np.tanh(x) - x) / x**3
    # error of tanh(x) = x^3 * error of Q; relative to tanh(x)
    c = weighted_fit(z, target, x**3 / np.tanh(x), 6)
    check = np.linspace(1e-4, 1, 100001)
    error = np.abs((check + check**3 * np.polyval(c[::-1], check**2)) / np.tanh(check) - 1)
    return c, error.max()


def rust(name, fit):
    c, error = fit
    # Highest degree first; the shortest decimal that reads back as the
    # same f32.
    values = ", ".join(
        np.format_float_positional(np.float32(v), unique=True) for v in c[::-1]
    )
    return f"const {name}: [f32; {len(c)}] = [{values}]; // fit error {error / 2**-24:.3f} x 2^-24"


if __name__ == "__main__":
    print(rust("EXP2_P", exp2_coefficients()))
    print(rust("TANH_Q", tanh_coefficients()))
