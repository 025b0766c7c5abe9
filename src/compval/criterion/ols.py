"""Ordinary least squares as R's ``lm`` (QR decomposition), with the classical and the HC3 covariance of the
coefficients, and the F tests of ``summary.lm``, ``anova(m1, m2)`` and ``lmtest::waldtest``.

Written with numpy rather than statsmodels' ``OLS``: importing statsmodels imports ``scipy.stats``, which costs
each criterion job about 0.8 s (the demo runs eight), while these formulas are a few lines each. The numbers are
R's to about 1e-13 (``tests/reference/criterion``, the R script beside them): ``lm`` solves by Householder QR,
as here (LAPACK ``dgeqrf`` instead of LINPACK ``dqrdc2``), where statsmodels uses a pseudo-inverse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.special import fdtrc, stdtrit  # the t and F distributions' own functions

__all__ = ["OLSFit", "ols", "nested_f_test", "wald_f_test", "t_interval"]


@dataclass(frozen=True)
class OLSFit:
    """An OLS fit: coefficients ``b``, residuals, residual df, residual and total (about the mean) sums of
    squares, R2 and adjusted R2 (about the mean: the
    design has an intercept), the classical covariance ``cov`` = s^2 (X'X)^-1 and the HC3 covariance ``cov_hc3``
    (MacKinnon & White 1985): (X'X)^-1 X' diag(e_i^2 / (1 - h_i)^2) X (X'X)^-1, h_i the leverages."""

    b: np.ndarray
    resid: np.ndarray
    df_resid: int
    rss: float
    tss: float
    r2: float
    adj_r2: float
    cov: np.ndarray
    cov_hc3: np.ndarray

    @property
    def se(self) -> np.ndarray:
        """Classical standard errors (``summary.lm``)."""
        return np.sqrt(np.diag(self.cov))

    @property
    def se_hc3(self) -> np.ndarray:
        """HC3 standard errors (``sqrt(diag(sandwich::vcovHC(m, type = "HC3")))``)."""
        return np.sqrt(np.diag(self.cov_hc3))

    def overall_f(self) -> tuple[float, int, int, float]:
        """``summary.lm``'s F test of all coefficients but the intercept: (F, df1, df2, p)."""
        k = len(self.b) - 1
        f = ((self.tss - self.rss) / k) / (self.rss / self.df_resid)
        return float(f), k, self.df_resid, float(fdtrc(k, self.df_resid, f))


def ols(y: np.ndarray, X: np.ndarray) -> OLSFit:
    """OLS of ``y`` on the full-rank design ``X`` whose first column is the intercept (R's ``lm(y ~ X)``).

    With X = QR (thin): b = R^-1 Q'y, (X'X)^-1 = R^-1 R^-T, the leverages h_i = |Q_i|^2, s^2 = RSS / (n - k),
    R2 = 1 - RSS / sum (y - mean y)^2 and adjusted R2 = 1 - (1 - R2)(n - 1) / (n - k).

    The QR decomposition is scipy.linalg.qr's on a column-major copy of X that it overwrites (Q takes the
    copy's memory, then row-major as numpy gives it): the LAPACK dgeqrf and dorgqr of numpy.linalg.qr, whose Q
    and R it gives bit for bit (checked up to 10^6 x 13; tests/test_criterion.py), with two arrays of X's size
    at a time where numpy.linalg.qr holds three or four (at a million rows, 100 MB each).

    Examples
    --------
    In R::

        m <- lm(y ~ x1 + x2); coef(m); vcov(m); sandwich::vcovHC(m, type = "HC3"); summary(m)$r.squared
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    n, k = X.shape
    Q, R = linalg.qr(np.array(X, order="F"), mode="economic", overwrite_a=True, check_finite=False)  # a copy
    Q = np.ascontiguousarray(Q)  # numpy's layout, so that the products below are numpy's bit for bit
    b = np.linalg.solve(R, Q.T @ y)
    resid = y - X @ b
    df = n - k
    rss = float(resid @ resid)
    Rinv = np.linalg.inv(R)
    xtx_inv = Rinv @ Rinv.T
    h = np.einsum("ij,ij->i", Q, Q)
    omega = (resid / (1 - h)) ** 2
    meat = (Q * omega[:, None]).T @ Q  # Q' diag(omega) Q
    cov_hc3 = Rinv @ meat @ Rinv.T
    yc = y - y.mean()
    tss = float(yc @ yc)
    r2 = 1 - rss / tss
    return OLSFit(
        b=b,
        resid=resid,
        df_resid=df,
        rss=rss,
        tss=tss,
        r2=r2,
        adj_r2=1 - (1 - r2) * (n - 1) / df,
        cov=rss / df * xtx_inv,
        cov_hc3=(cov_hc3 + cov_hc3.T) / 2,
    )


def t_interval(est: np.ndarray, se: np.ndarray, df: float, conf: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """``est -+ t_{(1 + conf)/2, df} se`` (R's ``confint`` of an ``lm``)."""
    q = stdtrit(df, (1 + conf) / 2)
    return est - q * se, est + q * se


def nested_f_test(small: OLSFit, large: OLSFit) -> tuple[float, int, float]:
    """``anova(small, large)`` of two nested fits to the same rows: F = ((RSS_s - RSS_l) / df1) / (RSS_l / df2),
    df1 = df_s - df_l, df2 = df_l. Returns (F, df1, p)."""
    df1 = small.df_resid - large.df_resid
    f = ((small.rss - large.rss) / df1) / (large.rss / large.df_resid)
    return float(f), int(df1), float(fdtrc(df1, large.df_resid, f))


def wald_f_test(fit: OLSFit, columns: np.ndarray, cov: np.ndarray) -> tuple[float, float]:
    """Wald F test that the coefficients at ``columns`` are zero, with the covariance ``cov`` of the
    coefficients (e.g. HC3): F = b_c' cov_cc^-1 b_c / q on (q, residual df), as
    ``lmtest::waldtest(m1, m2, vcov = vcovHC(m2, type = "HC3"), test = "F")``. Returns (F, p)."""
    columns = np.asarray(columns)
    bc = fit.b[columns]
    f = float(bc @ np.linalg.solve(cov[np.ix_(columns, columns)], bc)) / len(columns)
    return f, float(fdtrc(len(columns), fit.df_resid, f))
