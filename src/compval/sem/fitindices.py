"""Fit indices exactly as lavaan 0.6.14 computes them (``lavaan:::lav_fit_*``)."""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = [
    "cfi",
    "tli",
    "rmsea",
    "rmsea_ci",
    "rmsea_pvalue",
    "rmsea_notclose_pvalue",
    "nfi",
    "rfi",
    "ifi",
    "rni",
    "pnfi",
    "incremental",
    "pchisq",
    "chisq_sf",
]


def pchisq(x, df, ncp=0.0):
    """P(X <= x) for a (non-central) chi-square, like R's ``pchisq``.

    Inside the support the non-central case calls ``scipy.special.chndtr`` directly -- the function
    ``scipy.stats.ncx2.cdf`` evaluates there, without the distribution wrapper's argument handling, which
    dominated the root finding of :func:`rmsea_ci`.
    """
    if ncp <= 0:
        if x >= 0 and df > 0:  # what stats.chi2.cdf evaluates there
            return float(special.chdtr(df, x))
        from scipy import stats  # outside the support only: scipy.stats is slow to import

        return float(stats.chi2.cdf(x, df))
    if np.isfinite(x) and x > 0 and df > 0 and np.isfinite(ncp):
        return float(special.chndtr(x, df, ncp))
    from scipy import stats

    return float(stats.ncx2.cdf(x, df, ncp))


def chisq_sf(x, df) -> float:
    """P(X > x) for a central chi-square with ``df`` degrees of freedom, like R's
    ``pchisq(x, df, lower.tail = FALSE)``: Q(df/2, x/2), the regularized upper incomplete gamma function.

    For x >= 0 and df > 0 this is ``scipy.special.chdtrc`` -- what ``scipy.stats.chi2.sf`` evaluates there --
    without the distribution wrapper's argument handling; elsewhere (a negative or NaN statistic, df <= 0) the
    wrapper's answer.
    """
    if x >= 0 and df > 0:
        return float(special.chdtrc(df, x))
    from scipy import stats

    return float(stats.chi2.sf(x, df))


def _robust(df, c, c0):
    return df > 0 and c is not None and c0 is not None and c != 1 and c0 != 1


def cfi(X2, df, X2n, dfn, c=None, c0=None):
    """Comparative fit index (Bentler 1990); with ``c``/``c0`` the robust CFI (Brosseau-Liard & Savalei 2014)."""
    if _robust(df, c, c0):
        t1 = max(X2 - c * df, 0)
        t2 = max(X2 - c * df, X2n - c0 * dfn, 0)
    else:
        t1 = max(X2 - df, 0)
        t2 = max(X2 - df, X2n - dfn, 0)
    if np.isclose(t1, 0) and np.isclose(t2, 0):
        return 1.0
    return 1 - t1 / t2


def tli(X2, df, X2n, dfn, c=None, c0=None):
    """Tucker-Lewis index / NNFI (Tucker & Lewis 1973); robust version with ``c``/``c0``."""
    if _robust(df, c, c0):
        t1 = (X2 - c * df) * dfn
        t2 = (X2n - c0 * dfn) * df
    else:
        t1 = (X2 - df) * dfn
        t2 = (X2n - dfn) * df
    if df > 0 and abs(t2) > 0:
        return 1 - t1 / t2
    return 1.0


def rni(X2, df, X2n, dfn, c=None, c0=None):
    if _robust(df, c, c0):
        t1, t2 = X2 - c * df, X2n - c0 * dfn
    else:
        t1, t2 = X2 - df, X2n - dfn
    if np.isclose(t2, 0):
        return np.nan
    return 1 - t1 / t2


def nfi(X2, df, X2n, dfn):
    if df > dfn or np.isclose(X2n, 0):
        return np.nan
    return (X2n - X2) / X2n if df > 0 else 1.0


def rfi(X2, df, X2n, dfn):
    if df > dfn:
        return np.nan
    if df > 0 and dfn > 0:
        t1 = X2n / dfn - X2 / df
        t2 = X2n / dfn
        return 1.0 if (t1 < 0 or t2 < 0) else t1 / t2
    return 1.0


def pnfi(X2, df, X2n, dfn):
    if dfn > 0 and X2n > 0:
        return (df / dfn) * (X2n - X2) / X2n
    return np.nan


def ifi(X2, df, X2n, dfn):
    t1, t2 = X2n - X2, X2n - df
    if t2 < 0:
        return 1.0
    if np.isclose(t2, 0):
        return np.nan
    return t1 / t2


def rmsea(X2, df, N, G=1, c=1.0):
    """RMSEA (Steiger & Lind 1980) as ``lav_fit_rmsea``: sqrt(max(X2/N/df - c/N, 0)) * sqrt(G)."""
    if df <= 0:
        return 0.0
    return float(np.sqrt(max(X2 / N / df - c / N, 0.0)) * np.sqrt(G))


def rmsea_ci(X2, df, N, G=1, c=1.0, level=0.90):
    """Confidence interval of the RMSEA by inverting the non-central chi-square (``lav_fit_rmsea_ci``).

    The non-centrality lambda with ``pchisq(X2, df, lambda) = 1 - (1 - level)/2`` (lower limit) or
    ``(1 - level)/2`` (upper limit), where lavaan calls ``uniroot`` on the same brackets and rules; here
    ``scipy.special.chndtrinc``, the inverse of the non-central chi-square CDF in lambda (the CDF falls as lambda
    grows, so the root is unique). It agrees with a root search to xtol 1e-12 (``scipy.optimize.brentq``, used
    before) to within 1e-15 relative, from X2 of 5 to 10^9, and spares the fit's processes importing
    scipy.optimize (with scipy.sparse and scipy.linalg, about 0.15 s each).

    Examples
    --------
    In R (lavaan)::

        fitMeasures(fit, c("rmsea.ci.lower", "rmsea.ci.upper"))
    """
    up, lo = 1 - (1 - level) / 2, (1 - level) / 2

    def lower_f(lam):
        return pchisq(X2, df, lam) - up

    def upper_f(lam):
        return pchisq(X2, df, lam) - lo

    if df < 1 or lower_f(0) < 0:
        ci_l = 0.0
    else:
        lam = _ncp_root(X2, df, up)
        ci_l = np.sqrt(c * lam / (N * df)) * np.sqrt(G)
    n_rmsea = max(N, X2 * 4)
    if df < 1 or upper_f(n_rmsea) > 0 or upper_f(0) < 0:
        ci_u = 0.0
    else:
        lam = _ncp_root(X2, df, lo)
        ci_u = np.sqrt(c * lam / (N * df)) * np.sqrt(G)
    return float(ci_l), float(ci_u)


def _ncp_root(X2, df, prob) -> float:
    """The non-centrality lambda >= 0 with ``pchisq(X2, df, lambda) = prob`` (inside the brackets
    :func:`rmsea_ci` checked first)."""
    lam = float(special.chndtrinc(X2, df, prob))
    if not np.isfinite(lam):
        raise FloatingPointError(f"no non-centrality with pchisq({X2}, {df}, ncp) = {prob}")
    return lam


def rmsea_pvalue(X2, df, N, G=1, c=1.0, h0=0.05):
    """Test of close fit, P(RMSEA <= h0) (Browne & Cudeck 1993), as ``lav_fit_rmsea_closefit``."""
    if df <= 0:
        return np.nan
    ncp = N * df / c * h0**2 / G
    return 1 - pchisq(X2, df, ncp)


def rmsea_notclose_pvalue(X2, df, N, G=1, c=1.0, h0=0.08):
    """Test of not-close fit (MacCallum, Browne & Sugawara 1996), as ``lav_fit_rmsea_notclosefit``."""
    if df <= 0:
        return np.nan
    ncp = N * df / c * h0**2 / G
    return pchisq(X2, df, ncp)


def incremental(X2, df, X2n, dfn, suffix: str = "") -> dict:
    """The incremental indices lavaan reports beside CFI/TLI -- ``rfi``, ``nfi``, ``pnfi``, ``ifi``, ``rni`` (in
    ``fitMeasures()`` order) -- of one test statistic and its baseline, named with ``suffix`` (e.g. ".scaled")."""
    return {
        f"rfi{suffix}": rfi(X2, df, X2n, dfn),
        f"nfi{suffix}": nfi(X2, df, X2n, dfn),
        f"pnfi{suffix}": pnfi(X2, df, X2n, dfn),
        f"ifi{suffix}": ifi(X2, df, X2n, dfn),
        f"rni{suffix}": rni(X2, df, X2n, dfn),
    }
