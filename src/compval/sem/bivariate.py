"""The bivariate normal distribution and the one-dimensional optimiser of the polychoric correlation.

One home for what several stages share:

* :func:`bvnu` -- the upper orthant probability P(X > h, Y > k) of a standard bivariate normal, Genz's (2004)
  BVNU algorithm (absolute error about 1e-15).  Used by the polychoric correlations of the EFA
  (:func:`compval.efa.polychoric`, as ``psych::polychoric``) and of the ordinal SEM branch
  (:mod:`compval.sem.ordinal`, as lavaan), and by the ordinal composite reliability of
  :func:`compval.validity.composite_reliability` (``semTools:::omegaCat``).
* :func:`bivariate_normal_cdf` -- P(X <= h, Y <= k) from :func:`bvnu`, infinite limits allowed: the
  deterministic CDF of the demo-data simulator (:mod:`compval.simulate`) and of the power analysis
  (:mod:`compval.power`).
* :func:`bvn_cell_probs` -- the cell probabilities of a bivariate normal cut at two sets of thresholds (the
  model of a polychoric contingency table).
* :func:`brent_fmin` -- R's ``optimize`` (Brent 1973), ported line by line, so that the polychoric
  correlations follow R's iterations.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["bvnu", "bvn_cell_probs", "brent_fmin", "bivariate_normal_cdf"]

_EPS = np.finfo(float).eps

_GL = {
    # Gauss-Legendre half-sets used by Genz's BVNU (Genz 2004, "Numerical computation of rectangular bivariate
    # and trivariate normal and t probabilities"): weights, abscissae for n = 6, 12, 20.
    0: (
        np.array([0.1713244923791705, 0.3607615730481384, 0.4679139345726904]),
        np.array([0.9324695142031522, 0.6612093864662647, 0.2386191860831970]),
    ),
    1: (
        np.array(
            [
                0.04717533638651177,
                0.1069393259953183,
                0.1600783285433464,
                0.2031674267230659,
                0.2334925365383547,
                0.2491470458134029,
            ]
        ),
        np.array(
            [
                0.9815606342467191,
                0.9041172563704750,
                0.7699026741943050,
                0.5873179542866171,
                0.3678314989981802,
                0.1252334085114692,
            ]
        ),
    ),
    2: (
        np.array(
            [
                0.01761400713915212,
                0.04060142980038694,
                0.06267204833410906,
                0.08327674157670475,
                0.1019301198172404,
                0.1181945319615184,
                0.1316886384491766,
                0.1420961093183821,
                0.1491729864726037,
                0.1527533871307259,
            ]
        ),
        np.array(
            [
                0.9931285991850949,
                0.9639719272779138,
                0.9122344282513259,
                0.8391169718222188,
                0.7463319064601508,
                0.6360536807265150,
                0.5108670019508271,
                0.3737060887154196,
                0.2277858511416451,
                0.07652652113349733,
            ]
        ),
    ),
}


def bvnu(dh: np.ndarray, dk: np.ndarray, r: float) -> np.ndarray:
    """Upper orthant probability P(X > dh, Y > dk) of a standard bivariate normal (Genz's BVNU).

    Genz (2004), "Numerical computation of rectangular bivariate and trivariate normal and t probabilities":
    Gauss-Legendre quadrature of Drezner & Wesolowsky's formula for |r| < .925, Genz's series with a
    quadrature correction above; absolute error about 1e-15.

    Parameters
    ----------
    dh, dk : array
        Finite lower limits (same shape).
    r : float
        Correlation, -1 <= r <= 1.

    Returns
    -------
    ndarray
        The probabilities, clipped to [0, 1].  P(X < a, Y < b) is ``bvnu(-a, -b, r)``.
    """
    phid = special.ndtr  # = stats.norm.cdf (which calls it), without the per-call overhead
    h, k = np.asarray(dh, float), np.asarray(dk, float)
    w, x = _GL[0 if abs(r) < 0.3 else (1 if abs(r) < 0.75 else 2)]
    hk = h * k
    if abs(r) < 0.925:
        hs = (h * h + k * k) / 2
        asr = np.arcsin(r)
        bvn = np.zeros_like(h)
        for wi, xi in zip(w, x):
            for sgn in (-1.0, 1.0):
                sn = np.sin(asr * (1 + sgn * xi) / 2)
                bvn = bvn + wi * np.exp((sn * hk - hs) / (1 - sn * sn))
        bvn = bvn * asr / (4 * np.pi) + phid(-h) * phid(-k)
    else:
        if r < 0:
            k = -k
            hk = -hk
        bvn = np.zeros_like(h)
        if abs(r) < 1:
            as_ = (1 - r) * (1 + r)
            a = np.sqrt(as_)
            bs = (h - k) ** 2
            c = (4 - hk) / 8
            d = (12 - hk) / 16
            asr = -(bs / as_ + hk) / 2
            bvn = np.where(
                asr > -100, a * np.exp(asr) * (1 - c * (bs - as_) * (1 - d * bs / 5) / 3 + c * d * as_ * as_ / 5), 0.0
            )
            b = np.sqrt(bs)
            sp = np.sqrt(2 * np.pi) * phid(-b / a)
            bvn = bvn - np.where(hk > -100, np.exp(-hk / 2) * sp * b * (1 - c * bs * (1 - d * bs / 5) / 3), 0.0)
            a = a / 2
            for wi, xi in zip(w, x):
                for sgn in (-1.0, 1.0):
                    xs = (a + a * sgn * xi) ** 2
                    rs = np.sqrt(1 - xs)
                    asr = -(bs / xs + hk) / 2
                    sp = 1 + c * xs * (1 + d * xs)
                    ep = np.exp(-hk * xs / (2 * (1 + rs) ** 2)) / rs
                    bvn = bvn + np.where(asr > -100, a * wi * np.exp(asr) * (ep - sp), 0.0)
            bvn = -bvn / (2 * np.pi)
        if r > 0:
            bvn = bvn + phid(-np.maximum(h, k))
        else:
            low = np.where(h < 0, phid(k) - phid(h), phid(-h) - phid(-k))
            bvn = np.where(h >= k, -bvn, low - bvn)
    return np.clip(bvn, 0.0, 1.0)


def bivariate_normal_cdf(h, k, rho: float) -> np.ndarray:
    """P(X <= h, Y <= k) for a standard bivariate normal (X, Y) with correlation ``rho``.

    :func:`bvnu` at (-h, -k) where both limits are finite; P(X <= h) or P(Y <= k) where the other limit is
    +inf; 0 where either is -inf.  Deterministic (no quasi-Monte Carlo as ``mvtnorm::pmvnorm``), so that the
    demo data's population model is byte-identical across runs; agrees with ``pbivnorm::pbivnorm`` in R to
    about 1e-15.

    Parameters
    ----------
    h, k : array
        Upper limits (broadcast against each other; +-inf allowed).
    rho : float
        Correlation, -1 <= rho <= 1.

    Returns
    -------
    ndarray
        The probabilities, in the broadcast shape (NaN where a limit is NaN).
    """
    h, k = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float))
    F = np.full(h.shape, np.nan)
    fin = np.isfinite(h) & np.isfinite(k)
    F[fin] = bvnu(-h[fin], -k[fin], rho)  # P(X < h, Y < k) = P(-X > -h, -Y > -k)
    F[np.isposinf(h) & ~np.isneginf(k)] = special.ndtr(k[np.isposinf(h) & ~np.isneginf(k)])
    F[np.isposinf(k) & ~np.isneginf(h)] = special.ndtr(h[np.isposinf(k) & ~np.isneginf(h)])
    F[np.isneginf(h) | np.isneginf(k)] = 0.0
    return F


def bvn_cell_probs(rc: np.ndarray, cc: np.ndarray, rho: float) -> np.ndarray:
    """Probabilities of the cells of a standard bivariate normal cut at thresholds ``rc`` and ``cc``.

    The model of a polychoric contingency table (Olsson 1979): cell (a, b) holds
    P(rc[a-1] < X < rc[a], cc[b-1] < Y < cc[b]) with rc[-1] = cc[-1] = -inf and an upper end +inf;
    thresholds may be infinite (an unused category).  Corner probabilities by :func:`bivariate_normal_cdf`.

    Parameters
    ----------
    rc, cc : array
        Increasing thresholds of the row and of the column variable.
    rho : float
        Correlation.

    Returns
    -------
    ndarray
        ``(len(rc) + 1) x (len(cc) + 1)`` cell probabilities.
    """
    a = np.concatenate([[-np.inf], rc, [np.inf]])
    b = np.concatenate([[-np.inf], cc, [np.inf]])
    A, B = np.meshgrid(a, b, indexing="ij")
    F = bivariate_normal_cdf(A, B, rho)
    return F[1:, 1:] - F[:-1, 1:] - F[1:, :-1] + F[:-1, :-1]


def brent_fmin(f, ax: float, bx: float, tol: float = _EPS**0.25) -> float:
    """Minimum of ``f`` on [ax, bx] by R's ``optimize`` (``Brent_fmin`` in R's stats/src/optimize.c).

    Brent's (1973) golden-section search with parabolic interpolation, ported line by line so that the
    iterations (and hence the estimates) are R's.

    Parameters
    ----------
    f : callable
        Function of one float.
    ax, bx : float
        The interval.
    tol : float
        R's ``tol`` (default ``.Machine$double.eps^0.25``, as ``optimize``).

    Returns
    -------
    float
        The abscissa of the minimum.
    """
    c = (3.0 - np.sqrt(5.0)) * 0.5
    eps = np.sqrt(_EPS)
    a, b = ax, bx
    v = w = x = a + c * (b - a)
    d = e = 0.0
    fx = fv = fw = f(x)
    tol3 = tol / 3.0
    while True:
        xm = (a + b) * 0.5
        tol1 = eps * abs(x) + tol3
        t2 = tol1 * 2.0
        if abs(x - xm) <= t2 - (b - a) * 0.5:
            break
        p = q = r = 0.0
        if abs(e) > tol1:
            r = (x - w) * (fx - fv)
            q = (x - v) * (fx - fw)
            p = (x - v) * q - (x - w) * r
            q = (q - r) * 2.0
            if q > 0.0:
                p = -p
            else:
                q = -q
            r = e
            e = d
        if abs(p) >= abs(q * 0.5 * r) or p <= q * (a - x) or p >= q * (b - x):
            e = (b - x) if x < xm else (a - x)
            d = c * e
        else:
            d = p / q
            u = x + d
            if u - a < t2 or b - u < t2:
                d = tol1 if x < xm else -tol1
        if abs(d) >= tol1:
            u = x + d
        elif d > 0.0:
            u = x + tol1
        else:
            u = x - tol1
        fu = f(u)
        if fu <= fx:
            if u < x:
                b = x
            else:
                a = x
            v, w, x = w, x, u
            fv, fw, fx = fw, fx, fu
        else:
            if u < x:
                a = u
            else:
                b = u
            if fu <= fw or w == x:
                v, fv = w, fw
                w, fw = u, fu
            elif fu <= fv or v == x or v == w:
                v, fv = u, fu
    return x
