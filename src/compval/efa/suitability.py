"""Suitability of a correlation matrix for factor analysis: KMO (``psych::KMO``) and Bartlett's test
(``psych::cortest.bartlett``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special
import pandas as pd

from .correlation import as_corr

__all__ = ["KMOResult", "kmo", "BartlettResult", "bartlett_sphericity"]


@dataclass(frozen=True)
class KMOResult:
    """Kaiser-Meyer-Olkin measure: ``overall`` MSA and ``per_item`` MSAi (a Series indexed by item)."""

    overall: float
    per_item: pd.Series

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"item": self.per_item.index, "msa": self.per_item.to_numpy()})


def kmo(r) -> KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy (Kaiser 1970; Kaiser & Rice 1974).

    ``MSA = sum r_ij^2 / (sum r_ij^2 + sum q_ij^2)`` over i != j, with ``q`` the anti-image (partial)
    correlations from ``R^-1``; per item the sums run over column j.  Matches ``psych::KMO(r)``.

    Parameters
    ----------
    r : DataFrame or array
        Correlation matrix.
    """
    m, names = as_corr(r)
    try:
        q = np.linalg.inv(m)
    except np.linalg.LinAlgError:  # psych: "matrix is not invertible, image not found" -> Q <- r
        q = m.copy()
    dq = np.sqrt(np.diag(q))
    q = q / np.outer(dq, dq)
    np.fill_diagonal(q, 0.0)
    r0 = m.copy()
    np.fill_diagonal(r0, 0.0)
    r2, q2 = r0**2, q**2
    overall = r2.sum() / (r2.sum() + q2.sum())
    per = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return KMOResult(float(overall), pd.Series(per, index=names, name="msa"))


@dataclass(frozen=True)
class BartlettResult:
    """Bartlett's test of sphericity: chi-square, degrees of freedom, p value."""

    chi2: float
    df: int
    p: float


def bartlett_sphericity(r, n: int) -> BartlettResult:
    """Bartlett's (1950) test that the correlation matrix is an identity matrix.

    ``chi2 = -ln|R| (n - 1 - (2p + 5)/6)``, ``df = p(p - 1)/2``.  Matches ``psych::cortest.bartlett(R, n)``
    (the diagonal is set to 1, as psych's default ``diag = TRUE``).

    Parameters
    ----------
    r : DataFrame or array
        Correlation matrix (p x p).
    n : int
        Number of observations.
    """
    m, _ = as_corr(r)
    np.fill_diagonal(m, 1.0)
    p = m.shape[0]
    sign, logdet = np.linalg.slogdet(m)
    # R: -log(det(R)); a non-positive determinant (not a proper correlation matrix) gives NaN there too
    stat = -logdet * (n - 1 - (2 * p + 5) / 6) if sign > 0 else np.nan
    df = p * (p - 1) // 2
    # scipy.stats.chi2.sf(stat, df) without scipy.stats' import (about half a second per process): its function
    # chdtrc, and 1 below the support as the distribution's sf gives (tests/test_efa.py compares them)
    return BartlettResult(float(stat), int(df), 1.0 if stat < 0 else float(special.chdtrc(df, stat)))
