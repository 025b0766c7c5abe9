"""McDonald's omega total and the Schmid-Leiman omega hierarchical as ``psych::omega`` (the factor analysis
is :mod:`compval.efa`'s: minres, varimax, oblimin)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..efa import fa_loadings, minres, oblimin, smc
from .matrices import listwise_rows, no_variance, pairwise_cor, prepare_items

__all__ = [
    "OmegaResult",
    "schmid_leiman",
    "schmid_leiman_rotated",
    "omega_from_correlations",
    "omega_of_array",
    "omega",
]


def schmid_leiman(r: np.ndarray, nfactors: int) -> dict:
    """``psych::schmid(r, nfactors, fm = "minres", rotate = "oblimin", option = "equal")``.

    Schmid & Leiman (1957): minres + varimax, GPArotation's oblimin, a one-factor minres of the factor
    correlations (nfactors > 2) or psych's ``option = "equal"`` general loadings sqrt(|phi12|)
    (nfactors = 2, not identified), g loadings = oblique pattern %*% g. The last steps are
    :func:`schmid_leiman_rotated`.
    """
    orth, _ = fa_loadings(r, nfactors, method="minres", rotation="varimax")
    return schmid_leiman_rotated(r, orth, oblimin(orth) if nfactors > 1 else None)


def schmid_leiman_rotated(
    r: np.ndarray, orth: np.ndarray, oblique: tuple | None, gload: np.ndarray | None = None
) -> dict:
    """:func:`schmid_leiman` from its varimax loadings ``orth`` and their oblimin rotation ``oblique``.

    Parameters
    ----------
    r : ndarray
        The correlation matrix.
    orth : ndarray
        ``fa_loadings(r, nfactors, method="minres", rotation="varimax")[0]``.
    oblique : tuple or None
        ``oblimin(orth)`` (pattern, Phi, converged); None for one factor. The bootstrap rotates the
        loadings of many resamples at once (:func:`compval.efa.oblimin_batch`) and finishes each here.
    gload : ndarray, optional
        With more than two factors: the general factor's loadings on the group factors,
        ``minres(Phi, 1)["loadings"][:, 0]``, when already computed (the bootstrap fits those of all its
        resamples at once with :func:`compval.efa.unrotated_loadings_stack`, the same numbers); None = fitted here.
    """
    nfactors = orth.shape[1]
    if nfactors == 1:
        fload = orth
        gload = np.array([1.0])
        phi = np.array([[1.0]])
        converged = True
    else:
        fload, phi, converged = oblique
        if nfactors > 2:  # psych: fa(phi, fm = "minres"), one factor
            if gload is None:
                gload = minres(phi, 1)["loadings"][:, 0]
        else:
            g = np.sqrt(abs(phi[0, 1]))
            gload = np.array([g, np.sign(phi[0, 1]) * g])
    g = fload @ gload
    h2 = (orth**2).sum(axis=1)
    u2 = np.diag(r) - h2
    uniq2 = np.clip(fload**2 - (fload * gload) ** 2, 0.0, None)
    sm = np.sign(fload) * np.sqrt(uniq2)
    return {
        "g": g,
        "group": sm,
        "h2": h2,
        "u2": u2,
        "oblique": fload,
        "phi": phi,
        "gload": gload,
        "converged": converged,
    }


@dataclass(frozen=True)
class OmegaResult:
    """Result of :func:`omega` (names follow ``psych::omega``).

    Attributes
    ----------
    omega_total : float
        ``omega.tot`` = (1'R1 - sum u2) / 1'R1 (McDonald 1999).
    omega_hierarchical : float
        ``omega_h`` = (sum g)^2 / 1'R1 from the Schmid-Leiman solution (Zinbarg et al. 2005). Only
        meaningful with >= 3 group factors; psych still reports it for 1 or 2 factors and so does this.
    omega_limit : float
        ``omega.lim`` = (sum g)^2 / (1'R1 - sum u2).
    alpha, lambda6 : float
        Standardised alpha and lambda-6 of the (sign-adjusted) correlation matrix (``alpha``, ``G6``).
    nfactors, k, n : int
        Number of group factors, items and rows.
    loadings : DataFrame
        Schmid-Leiman solution: g, F1*..Fk*, h2, u2, p2 (= g^2 / h2), one row per item (``$schmid$sl``).
    key : ndarray
        +1 / -1 per item: items with a negative g loading were reversed, as psych's ``flip = TRUE``.
    converged : bool
        Oblimin rotation converged (always True for 1 factor).
    """

    omega_total: float
    omega_hierarchical: float
    omega_limit: float
    alpha: float
    lambda6: float
    nfactors: int
    k: int
    n: int
    loadings: pd.DataFrame = field(repr=False)
    key: np.ndarray = field(repr=False)
    converged: bool = True


# OmegaResult field -> key of omega_from_correlations
_OMEGA_FIELDS = dict(
    omega_total="omega_total", omega_hierarchical="omega_h", omega_limit="omega_lim", alpha="alpha", lambda6="g6"
)


def omega_from_correlations(r: np.ndarray, nfactors: int, sl: dict | None = None, lambda6: bool = True) -> dict:
    """Omega statistics of a correlation matrix: ``omega_total``, ``omega_h``, ``omega_lim``, ``alpha``, ``g6``
    (standardised alpha and lambda-6 of the sign-adjusted matrix), the Schmid-Leiman solution ``sl``
    (:func:`schmid_leiman`, or the one passed in), the reversal ``key`` and the sign-adjusted general loadings
    ``g``. ``lambda6=False`` leaves ``g6`` NaN (saves its matrix inverse where only the omegas are wanted, as in
    the bootstrap)."""
    if sl is None:
        sl = schmid_leiman(r, nfactors)
    key = np.sign(sl["g"])
    key[key == 0] = 1.0
    m = r * key[:, None] * key[None, :]
    g = sl["g"] * key
    vt = m.sum()
    uniq = sl["u2"].sum()
    gsq = g.sum() ** 2
    p = r.shape[0]
    tr = np.trace(m)
    return {
        "omega_total": (vt - uniq) / vt,
        "omega_h": gsq / vt,
        "omega_lim": gsq / (vt - uniq),
        "alpha": ((vt - tr) / vt) * (p / (p - 1)),
        "g6": (vt + smc(m).sum() - tr) / vt if lambda6 else np.nan,
        "sl": sl,
        "key": key,
        "g": g,
    }


def omega_of_array(arr: np.ndarray, nfactors: int, missing: str) -> dict:
    """Omega statistics of a float array (listwise deletion applied here)."""
    arr = listwise_rows(arr, missing)
    if arr.shape[1] < 3:
        raise ValueError("omega needs at least 3 items")
    if no_variance(arr).any():
        raise ValueError("items without variance")
    return omega_from_correlations(pairwise_cor(arr), nfactors)


def omega(items: pd.DataFrame, nfactors: int = 3, fm: str = "minres", missing: str = "pairwise") -> OmegaResult:
    """McDonald's omega total and omega hierarchical, as ``psych::omega(x, nfactors)`` (psych defaults).

    Parameters
    ----------
    items : DataFrame
        One column per item, one row per respondent (raw data; correlations are Pearson,
        ``cor(x, use = "pairwise")``).
    nfactors : int
        Number of group factors (psych's default 3). The pipeline uses ``nfactors=1`` per competency:
        then ``omega_total`` equals ``psych::omega(x, nfactors = 1)$omega.tot``.
    fm : {"minres"}
        Factoring method; only psych's default minres is implemented.
    missing : {"pairwise", "listwise"}
        Pairwise correlations on all rows (psych) or listwise deletion first (``omega(na.omit(x))``).

    Returns
    -------
    OmegaResult

    Notes
    -----
    Schmid-Leiman transformation (Schmid & Leiman 1957) of a minres solution rotated with oblimin
    (GPArotation, gamma = 0); for ``nfactors > 2`` the general loadings come from a one-factor minres of
    the factor correlations; for ``nfactors == 2`` psych's ``option = "equal"`` is used (g loadings set
    equal, not identified: ``omega_hierarchical`` is then psych's number, not an estimate); for
    ``nfactors == 1`` psych reports omega_h = (sum of loadings)^2 / 1'R1 although it "is not
    meaningful" -- mirrored here. Items with negative general loadings are reversed before summing
    (psych's ``flip = TRUE``). Omega total needs at least 3 items with one factor (a one-factor model of
    2 items is not identified): ValueError otherwise.
    """
    if fm != "minres":
        raise NotImplementedError("only fm='minres' (psych's default) is implemented")
    x = prepare_items(items, missing)
    p = x.shape[1]
    nfactors = int(nfactors)
    if nfactors < 1:
        raise ValueError("nfactors must be >= 1")
    res = omega_of_array(x.to_numpy(), nfactors, missing)
    sl = res["sl"]
    names = list(x.columns)
    h2 = sl["h2"]
    load = pd.DataFrame({"item": names, "g": res["g"]})
    group = sl["group"] * res["key"][:, None]
    for j in range(nfactors):
        load[f"F{j + 1}*"] = group[:, j]
    load["h2"] = h2
    load["u2"] = sl["u2"]
    load["p2"] = res["g"] ** 2 / h2
    return OmegaResult(
        **{name: float(res[key]) for name, key in _OMEGA_FIELDS.items()},
        nfactors=nfactors,
        k=p,
        n=int(x.shape[0]),
        loadings=load,
        key=res["key"],
        converged=bool(sl["converged"]),
    )
