"""Exploratory factor analysis (EFA) that reproduces psych 2.2.9 / GPArotation 2022.10.2.

What is computed, and which R function each piece matches:

* Suitability: Kaiser-Meyer-Olkin measure of sampling adequacy (Kaiser 1970; Kaiser & Rice 1974), overall
  and per item (``psych::KMO``), and Bartlett's (1950) test of sphericity (``psych::cortest.bartlett``).
* Number of factors: Horn's (1965) parallel analysis as ``psych::fa.parallel(fa = "fa")``; Velicer's (1976)
  minimum average partial (MAP) as ``psych::vss(...)$map`` plus the fourth-power revision of Velicer, Eaton &
  Fava (2000); scree eigenvalues.
* Extraction (``psych::fa``): minimum residual (``fm = "minres"``), maximum likelihood (``fm = "ml"``) and
  iterated principal axis (``fm = "pa"``); rotations oblimin (``GPArotation::oblimin``), promax
  (``psych::kaiser(rotate = "Promax")``, m = 4), geomin (``GPArotation::geominQ``, delta = .01), varimax
  (``stats::varimax``) and none.  Factors are reflected so that column sums are positive and ordered by
  the variance they account for after rotation, as ``psych::fac`` does.
* Building blocks shared with :mod:`compval.reliability` (``psych::omega``/``schmid`` call ``psych::fa`` with
  the same optimiser settings, so there is one implementation): :func:`smc` (``psych::smc`` with psych's
  ``Pinv``), :func:`minres` (unrotated minres), :func:`varimax`, :func:`oblimin` and :func:`fa_loadings`
  (the arrays of :func:`fa` without tables, cheap enough for bootstrap loops).
* Agreement with a hypothesised structure: Tucker's congruence coefficient (``psych::factor.congruence``),
  Hungarian matching of EFA factors to hypothesised factors, and a list of problem items.
* Cross-validation split and (optionally) polychoric correlations (``psych::polychoric``, global thresholds).

Use of factor_analyzer 0.5.1 (and where it had to be worked around)
--------------------------------------------------------------------
* **Rotations: used.** ``factor_analyzer.Rotator`` implements the same algorithms as R for the rotations we
  offer: ``"oblimin"`` (gamma = 0) and ``"geomin_obl"`` are ports of ``GPArotation::GPFoblq`` (identity start,
  gradient projection, eps = 1e-5), ``"varimax"`` is ``stats::varimax`` (Kaiser normalisation, eps = 1e-5)
  and ``"promax"`` with ``normalize=True`` is ``psych::kaiser(rotate = "Promax")``.  The tests rotate psych's
  own unrotated loadings and agree with psych's rotated loadings to 1e-6.  We pass ``max_iter=1000``
  (GPArotation's ``maxit``; factor_analyzer defaults to 500).  Not used: its oblimin with ``gamma != 0``
  (the gamma branch of ``_oblimin_obj`` is wrong in 0.5.1), so only quartimin-type oblimin (gamma = 0, which
  is what psych calls) is offered.
* **Extraction: reimplemented (factor_analyzer's is close but not exact).**  ``FactorAnalyzer(method="minres")``
  minimises the squared residuals of the *whole* matrix (diagonal included) with numerical gradients and
  scipy's default L-BFGS-B settings; psych minimises the lower triangle with its own gradient
  ``FAgr.minres``, ``parscale = 0.01``, bounds [0.005, 1] and R's optim defaults (factr = 1e7, m = 5).  The two
  objectives share the minimiser, and on psych::bfi (5 factors) and Holzinger-Swineford (3 factors)
  factor_analyzer's minres and ml loadings agree with psych to about 5e-6 -- within the 1e-3 requirement.
  We nevertheless port psych's objective, gradient and optimiser settings (scipy's L-BFGS-B is the same
  Fortran algorithm as R's), which reproduces psych's loadings to ~1e-13 and its behaviour at the bounds
  (Heywood cases); there is also no iterated principal-axis method in factor_analyzer (its ``"principal"``
  is principal components), and psych's SMC-based ``fm = "pa"`` is ported as well.
* **Post-processing: not used (bug).** ``FactorAnalyzer.fit`` reorders the loading columns by the sum of
  squared *pattern* loadings and does not apply that order to ``phi_``; its ``phi_`` is then out of step with
  its loadings (max. difference from psych's Phi 0.42 on bfi, 0.11 on Holzinger-Swineford), and its factor
  order differs from psych whenever ``diag(Phi L'L)`` orders differently (bfi, ml).  psych orders by
  ``diag(Phi %*% t(L) %*% L)`` and permutes Phi too; we do the reflection and ordering ourselves.
  ``fit`` also median-imputes missing data instead of using pairwise correlations (psych's default
  ``use = "pairwise"``), so we always work from a correlation matrix.
* **KMO / Bartlett: not used.** ``calculate_kmo`` and ``calculate_bartlett_sphericity`` take raw data
  (listwise/complete-case correlations); psych works from the (pairwise) correlation matrix.  The formulas
  are the same; ours take a correlation matrix and n.
* scikit-learn 1.7 makes factor_analyzer 0.5.1 emit a ``FutureWarning`` about ``force_all_finite`` (from
  ``FactorAnalyzer.fit``); we only use ``Rotator``, which does not call scikit-learn, and import it inside
  a local ``warnings.catch_warnings`` block.

Parallel analysis: psych's defaults, not the textbook variant
--------------------------------------------------------------
``psych::fa.parallel`` (2.2.9) with its default ``SMC = FALSE`` does *not* put SMCs on the diagonal: the
"fa" eigenvalues are those of the correlation matrix with the communalities of a one-factor minres solution
on the diagonal (``fa(r, nfactors = 1, rotate = "none")$values``), for the observed, the simulated (normal)
and the resampled data alike.  ``smc=True`` gives the SMC-reduced variant (``fa.parallel(SMC = TRUE)``).
psych's "resampled" data draw each column independently *with replacement* (a column-wise bootstrap, which
destroys the correlations); ``resample="permute"`` gives the permutation variant instead.  psych's
suggested number of factors counts the leading observed eigenvalues that exceed the ``quantile`` (95th
percentile) of the *simulated* eigenvalues; the count against the resampled ones is also reported.
Random numbers differ from R, so the simulated eigenvalues agree with R only in distribution; the tests
check the observed eigenvalues (1e-6) and the suggested number of factors.  Note that psych's one-factor
minres fit of pure-noise data occasionally ends in a Heywood case (one communality near 1, first "fa"
eigenvalue near 1); this happens in psych too (identical solutions for the same matrix) and inflates the
mean, less so the 95th percentile, of the first simulated eigenvalue.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.optimize import linear_sum_assignment
from threadpoolctl import threadpool_limits

from .sem.bivariate import brent_fmin, bvn_cell_probs

__all__ = [
    "correlation_matrix",
    "smc",
    "kmo",
    "bartlett_sphericity",
    "velicer_map",
    "parallel_analysis",
    "scree",
    "number_of_factors",
    "fa",
    "fa_loadings",
    "minres",
    "rotate",
    "varimax",
    "oblimin",
    "FactorSolution",
    "ParallelAnalysis",
    "congruence",
    "match_factors",
    "target_matrix",
    "KMOResult",
    "BartlettResult",
    "problem_items",
    "split_half",
    "polychoric",
    "run_efa",
    "EFAResult",
]

_EPS = np.finfo(float).eps
ROTATIONS = ("oblimin", "promax", "geomin", "varimax", "none")
METHODS = ("minres", "ml", "pa")


def _rotator_class():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        from factor_analyzer.rotator import Rotator
    return Rotator


# ---------------------------------------------------------------------------------------------- correlations
def correlation_matrix(items: pd.DataFrame, cor: str = "pearson") -> pd.DataFrame:
    """Correlation matrix of the item columns.

    Parameters
    ----------
    items : DataFrame
        One column per item (numeric; missing values allowed).
    cor : {"pearson", "polychoric"}
        ``"pearson"``: pairwise-complete Pearson correlations, as ``cor(x, use = "pairwise")`` (psych's
        default).  ``"polychoric"``: :func:`polychoric` (``psych::polychoric``).

    Returns
    -------
    DataFrame
        Items x items correlation matrix.
    """
    if cor == "pearson":
        return items.astype(float).corr(method="pearson", min_periods=1)
    if cor == "polychoric":
        return polychoric(items)["rho"]
    raise ValueError(f"unknown correlation type {cor!r}; use 'pearson' or 'polychoric'")


def _as_corr(r, allow_nan: bool = False) -> tuple[np.ndarray, list[str]]:
    if isinstance(r, pd.DataFrame):
        names = [str(c) for c in r.columns]
        m = r.to_numpy(dtype=float)
    else:
        m = np.asarray(r, dtype=float)
        names = [f"V{i + 1}" for i in range(m.shape[1])]
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError("expected a square correlation matrix")
    if not allow_nan and np.isnan(m).any():
        raise ValueError("the correlation matrix has missing values (an item pair without joint observations?)")
    with np.errstate(invalid="ignore", divide="ignore") if allow_nan else contextlib.nullcontext():
        d = np.sqrt(np.diag(m))
        return m / np.outer(d, d), names


def _pinv(x: np.ndarray) -> np.ndarray:
    """``psych::Pinv``: Moore-Penrose inverse with tolerance sqrt(eps) * largest singular value."""
    u, d, vt = np.linalg.svd(x)
    keep = d > max(np.sqrt(_EPS) * d[0], 0.0)
    return (vt[keep].T / d[keep]) @ u[:, keep].T


def _smc(m: np.ndarray) -> np.ndarray:
    """:func:`smc` of a correlation matrix without input checks; NaN in ``m`` gives all-NaN SMCs."""
    if not np.isfinite(m).all():
        return np.full(m.shape[0], np.nan)
    s = 1.0 - 1.0 / np.diag(_pinv(m))
    return np.clip(s, 0.0, 1.0)


def smc(r, *, nan_policy: str = "raise") -> np.ndarray:
    """Squared multiple correlations ``1 - 1/diag(R^-1)`` (Guttman 1956), as ``psych::smc``.

    The input is rescaled to a correlation matrix (``cov2cor``), inverted with psych's Moore-Penrose
    inverse ``Pinv`` (singular values below sqrt(eps) times the largest are dropped) and the result is
    clipped to [0, 1], as psych does.

    Parameters
    ----------
    r : DataFrame or array
        Correlation (or covariance) matrix.
    nan_policy : {"raise", "propagate"}
        A matrix with missing entries raises a ValueError (default) or gives all-NaN SMCs
        (``"propagate"``; used for lambda-6 in :mod:`compval.reliability`).  psych instead estimates
        SMCs from sub-matrices without NAs, with a warning.
    """
    if nan_policy not in ("raise", "propagate"):
        raise ValueError("nan_policy must be 'raise' or 'propagate'")
    m, _ = _as_corr(r, allow_nan=nan_policy == "propagate")
    return _smc(m)


# ---------------------------------------------------------------------------------------------- suitability
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
    m, names = _as_corr(r)
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
    m, _ = _as_corr(r)
    np.fill_diagonal(m, 1.0)
    p = m.shape[0]
    sign, logdet = np.linalg.slogdet(m)
    # R: -log(det(R)); a non-positive determinant (not a proper correlation matrix) gives NaN there too
    stat = -logdet * (n - 1 - (2 * p + 5) / 6) if sign > 0 else np.nan
    df = p * (p - 1) // 2
    return BartlettResult(float(stat), int(df), float(stats.chi2.sf(stat, df)))


# ---------------------------------------------------------------------------------------------- n factors
def velicer_map(r, n_max: int = 8) -> pd.DataFrame:
    """Velicer's minimum average partial (MAP) test.

    For m = 1..n_max principal components are partialled out of R and the mean squared off-diagonal partial
    correlation is computed (Velicer 1976; ``map``, exactly ``psych::vss(...)$map``) together with the mean
    fourth power (Velicer, Eaton & Fava 2000; ``map4``).  Row m = 0 (the raw correlations) is included for
    reference as in Velicer's original; psych (and our suggestion) take the minimum over m >= 1.  As in psych,
    m stops at p - 1 (later rows are NaN).

    Returns
    -------
    DataFrame
        Columns ``n_factors``, ``map``, ``map4``.
    """
    m, _ = _as_corr(r)
    p = m.shape[0]
    n_max = min(n_max, p)
    vals, vecs = np.linalg.eigh(m)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    comp = vecs * np.sqrt(np.maximum(vals, 0))
    rows = []
    for i in range(0, n_max + 1):
        if i >= p:
            rows.append((i, np.nan, np.nan))
            continue
        c = m - comp[:, :i] @ comp[:, :i].T
        d = 1 / np.sqrt(np.diag(c))
        rs = c * np.outer(d, d)
        np.fill_diagonal(rs, 0.0)
        rows.append((i, (rs**2).sum() / (p * (p - 1)), (rs**4).sum() / (p * (p - 1))))
    return pd.DataFrame(rows, columns=["n_factors", "map", "map4"])


def _map_suggestion(tab: pd.DataFrame, col: str = "map") -> int:
    t = tab[tab["n_factors"] >= 1].dropna(subset=[col])
    return int(t.loc[t[col].idxmin(), "n_factors"])


def scree(r) -> pd.DataFrame:
    """Eigenvalues of R (principal components) and of R with SMCs on the diagonal, in decreasing order."""
    m, _ = _as_corr(r)
    reduced = m.copy()
    np.fill_diagonal(reduced, smc(m))
    return pd.DataFrame(
        {
            "number": np.arange(1, m.shape[0] + 1),
            "eigenvalue": np.sort(np.linalg.eigvalsh(m))[::-1],
            "eigenvalue_smc": np.sort(np.linalg.eigvalsh(reduced))[::-1],
        }
    )


def _fa_values(m: np.ndarray, smc_diag: bool) -> np.ndarray:
    """Eigenvalues psych::fa.parallel uses for "fa": reduced by SMCs, or by a 1-factor minres solution."""
    red = m.copy()
    if smc_diag:
        np.fill_diagonal(red, smc(m))
    else:
        load = _extract(m, 1, "minres")[0]
        np.fill_diagonal(red, (load**2).sum(axis=1))
    return np.sort(np.linalg.eigvalsh(red))[::-1]


@dataclass(frozen=True)
class ParallelAnalysis:
    """Result of :func:`parallel_analysis`.

    ``table`` has one row per factor number: observed eigenvalue, mean and quantile of the simulated and of
    the resampled eigenvalues.  ``n_factors`` follows psych (observed > simulated quantile), and
    ``n_factors_resampled`` is the same rule against the resampled quantile.
    """

    table: pd.DataFrame
    n_factors: int
    n_factors_resampled: int
    n_iter: int
    quantile: float


def _leading_above(obs: np.ndarray, crit: np.ndarray) -> int:
    below = np.flatnonzero(~(obs > crit))
    return int(below[0]) if below.size else int(obs.size)


def _parallel_draws(arr, columns, n_iter, rng, smc_diag, resample, cor):
    n, p = arr.shape
    sim_vals = np.empty((n_iter, p))
    res_vals = np.empty((n_iter, p))
    for it in range(n_iter):
        while True:
            if resample == "bootstrap":
                samp = np.column_stack([arr[rng.integers(0, n, n), j] for j in range(p)])
            else:
                samp = np.column_stack([arr[rng.permutation(n), j] for j in range(p)])
            c = correlation_matrix(pd.DataFrame(samp, columns=columns), cor).to_numpy()
            if not np.isnan(c).any():
                break
        res_vals[it] = _fa_values(c, smc_diag)
        sim = rng.standard_normal((n, p))
        sim_vals[it] = _fa_values(np.corrcoef(sim, rowvar=False), smc_diag)
    return sim_vals, res_vals


def parallel_analysis(
    items: pd.DataFrame,
    n_iter: int = 20,
    seed: int | None = None,
    quantile: float = 0.95,
    smc: bool = False,
    resample: str = "bootstrap",
    cor: str = "pearson",
) -> ParallelAnalysis:
    """Horn's (1965) parallel analysis for common factors, as ``psych::fa.parallel(x, fa = "fa")``.

    The observed "fa" eigenvalues (see the module note: by default, R with the communalities of a one-factor
    minres solution on the diagonal, as psych's ``SMC = FALSE``; ``smc=True`` puts SMCs on the diagonal) are
    compared with those of ``n_iter`` data sets of the same size drawn from independent standard normal
    variables (``simulated``) and of ``n_iter`` data sets whose columns are resampled independently
    (``resampled``).  Suggested number of factors (psych's rule): the number of leading observed eigenvalues
    greater than the ``quantile`` of the simulated ones.

    Parameters
    ----------
    items : DataFrame
        Raw item responses (missing values allowed; pairwise correlations).
    n_iter : int
        Number of simulated and of resampled data sets (psych default 20).
    seed : int, optional
        Seed for ``numpy.random.default_rng``.
    quantile : float
        Quantile of the random eigenvalues used as criterion (psych ``quant = .95``).
    smc : bool
        Use SMCs on the diagonal (psych ``SMC = TRUE``).
    resample : {"bootstrap", "permute"}
        How columns are resampled: with replacement (psych) or permuted.
    cor : {"pearson", "polychoric"}
        Correlation type for the observed and resampled data (simulated data: Pearson, as psych).
    """
    if resample not in ("bootstrap", "permute"):
        raise ValueError("resample must be 'bootstrap' or 'permute'")
    rng = np.random.default_rng(seed)
    x = items.astype(float)
    n, p = x.shape
    obs_r, _ = _as_corr(correlation_matrix(x, cor))
    obs = _fa_values(obs_r, smc)
    arr = x.to_numpy()
    # many small eigen-decompositions: multi-threaded BLAS only adds overhead (x7 slower on a busy machine)
    with threadpool_limits(limits=1, user_api="blas"):
        sim_vals, res_vals = _parallel_draws(arr, list(x.columns), n_iter, rng, smc, resample, cor)
    sim_q = np.quantile(sim_vals, quantile, axis=0)
    res_q = np.quantile(res_vals, quantile, axis=0)
    table = pd.DataFrame(
        {
            "number": np.arange(1, p + 1),
            "observed": obs,
            "simulated_mean": sim_vals.mean(axis=0),
            "simulated_quantile": sim_q,
            "resampled_mean": res_vals.mean(axis=0),
            "resampled_quantile": res_q,
        }
    )
    table["above_simulated"] = table["observed"] > table["simulated_quantile"]
    table["above_resampled"] = table["observed"] > table["resampled_quantile"]
    return ParallelAnalysis(table, _leading_above(obs, sim_q), _leading_above(obs, res_q), n_iter, quantile)


def number_of_factors(
    items: pd.DataFrame,
    n_iter: int = 20,
    seed: int | None = None,
    cor: str = "pearson",
    map_max: int = 8,
    quantile: float = 0.95,
) -> tuple[pd.DataFrame, dict]:
    """All number-of-factors criteria in one tidy table plus the suggested counts.

    Combines :func:`parallel_analysis` (psych's ``fa.parallel(fa = "fa")``), :func:`velicer_map`
    (``psych::vss(...)$map`` and the 2000 fourth-power version) and :func:`scree`.

    Returns
    -------
    table : DataFrame
        One row per factor number: observed/simulated/resampled "fa" eigenvalues, scree eigenvalues
        (``eigenvalue``, ``eigenvalue_smc``), ``map`` and ``map4``.
    suggested : dict
        ``parallel`` (psych's rule), ``parallel_resampled``, ``map`` (psych), ``map4``, ``kaiser``
        (eigenvalues of R > 1, for reference only).
    """
    pa = parallel_analysis(items, n_iter=n_iter, seed=seed, quantile=quantile, cor=cor)
    r = correlation_matrix(items.astype(float), cor)
    mp = velicer_map(r, n_max=map_max)
    sc = scree(r)
    table = pa.table.merge(sc, on="number", how="left").merge(
        mp.rename(columns={"n_factors": "number"}), on="number", how="left"
    )
    suggested = {
        "parallel": pa.n_factors,
        "parallel_resampled": pa.n_factors_resampled,
        "map": _map_suggestion(mp, "map"),
        "map4": _map_suggestion(mp, "map4"),
        "kaiser": int((sc["eigenvalue"] > 1).sum()),
    }
    return table, suggested


# ---------------------------------------------------------------------------------------------- extraction
def _eig_desc(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vals, vecs = np.linalg.eigh(m)
    return vals[::-1], vecs[:, ::-1]


@functools.lru_cache(maxsize=32)
def _lower_triangle(p: int) -> tuple[np.ndarray, np.ndarray]:
    # indices of the strict lower triangle, built once per size (the objective is called thousands of times)
    return np.tril_indices(p, -1)


def _minres_fn(psi, s, nf):
    # psych fac(): fit.residuals(fm = "minres") -- squared residuals of the lower triangle
    m = s.copy()
    np.fill_diagonal(m, 1 - psi)
    vals, vecs = _eig_desc(m)
    vals = np.where(vals < _EPS, 100 * _EPS, vals)
    load = vecs[:, :nf] * np.sqrt(vals[:nf])
    res = (m - load @ load.T)[_lower_triangle(m.shape[0])]
    return float((res**2).sum())


def _minres_gr(psi, s, nf):
    # psych fac(): FAgr.minres (psych's gradient, used as is so that optim follows the same path)
    m = s - np.diag(psi)
    vals, vecs = _eig_desc(m)
    load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0))
    return (load**2).sum(axis=1) + psi - np.diag(s)


def _ml_fn(psi, s, nf):
    # psych fac(): FAfn
    sc = 1 / np.sqrt(psi)
    e = np.sort(np.linalg.eigvalsh(s * np.outer(sc, sc)))[::-1][nf:]
    return float(-(np.sum(np.log(e) - e) - nf + s.shape[0]))


def _ml_gr(psi, s, nf):
    # psych fac(): FAgr
    sc = 1 / np.sqrt(psi)
    vals, vecs = _eig_desc(s * np.outer(sc, sc))
    load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1, 0))
    load = np.sqrt(psi)[:, None] * load
    g = (load**2).sum(axis=1) + psi - np.diag(s)
    return g / psi**2


def _r_lbfgsb(fn, gr, start, args, lower, upper, parscale=0.01, maxit=100):
    """R's optim(method = "L-BFGS-B") with parscale, factr = 1e7, pgtol = 0, lmm = 5, maxit = 100."""
    ps = np.full(len(start), parscale)

    def f(y):
        return fn(y * ps, *args)

    def g(y):
        return gr(y * ps, *args) * ps

    bounds = list(zip(np.full(len(start), lower) / ps, np.full(len(start), upper) / ps))
    res = optimize.minimize(
        f,
        np.asarray(start) / ps,
        jac=g,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxcor": 5, "ftol": 1e7 * _EPS, "gtol": 0.0, "maxiter": maxit},
    )
    return res.x * ps, res


def _extract(m: np.ndarray, nf: int, method: str, max_iter: int = 50, min_err: float = 0.001):
    """Unrotated loadings as psych::fac; returns (loadings, info dict)."""
    start_smc = smc(m)
    info: dict = {}
    if method in ("minres", "ml"):
        upper = max(start_smc.max(), 1.0)
        start = np.diag(m) - start_smc
        if method == "minres":
            psi, res = _r_lbfgsb(_minres_fn, _minres_gr, start, (m, nf), 0.005, upper)
            red = m.copy()
            np.fill_diagonal(red, np.diag(m) - psi)
            vals, vecs = _eig_desc(red)
            load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0))
        else:
            psi, res = _r_lbfgsb(_ml_fn, _ml_gr, start, (m, nf), 0.005, upper)
            sc = 1 / np.sqrt(psi)
            vals, vecs = _eig_desc(m * np.outer(sc, sc))
            load = np.sqrt(psi)[:, None] * (vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1, 0)))
        info.update(
            converged=bool(res.success), iterations=int(res.nit), objective=float(res.fun), message=str(res.message)
        )
    elif method == "pa":
        red = m.copy()
        np.fill_diagonal(red, start_smc)
        comm = float(np.trace(red))
        err, i = comm, 1
        while err > min_err:
            vals, vecs = _eig_desc(red)
            with np.errstate(invalid="ignore"):
                load = vecs[:, :nf] * np.sqrt(vals[:nf])
            new = (load**2).sum(axis=1)
            comm1 = float(new.sum())
            np.fill_diagonal(red, new)
            err = abs(comm - comm1)
            if np.isnan(err):
                raise FloatingPointError("imaginary eigenvalue in principal axis iterations (psych: SMC=FALSE)")
            comm = comm1
            i += 1
            if i > max_iter:
                err = 0.0
        info.update(converged=i <= max_iter, iterations=i - 1)
    else:
        raise ValueError(f"unknown extraction method {method!r}; use one of {METHODS}")
    signs = np.sign(load.sum(axis=0))
    signs[signs == 0] = 1
    load = load * signs
    load[load == 0] = 1e-15
    return load, info


def minres(r, nfactors: int) -> dict:
    """Unrotated minres factor analysis, as ``psych::fa(r, nfactors, fm = "minres", rotate = "none")``.

    Minres (Harman & Jones 1966) exactly as psych 2.2.9 fits it: uniquenesses psi start at 1 - SMC and
    minimise the sum of squared lower-triangle residuals (``fit.residuals``) with psych's gradient
    ``FAgr.minres`` and ``optim(method = "L-BFGS-B", lower = 0.005, upper = max(smc, 1),
    control = list(parscale = 0.01))`` with optim's defaults (lmm = 5, factr = 1e7, pgtol = 0,
    maxit = 100; scipy's L-BFGS-B is the same Fortran code); loadings from the eigen-decomposition of R
    with 1 - psi on the diagonal, each column reflected to a positive sum, exact zeros set to 1e-15.
    This is the extraction step of :func:`fa` (``method="minres"``) without rotation or tables; it
    is cheap enough to be called inside bootstrap loops (used by :mod:`compval.reliability`).

    Parameters
    ----------
    r : DataFrame or array
        Correlation matrix (rescaled with ``cov2cor``); missing values raise a ValueError.
    nfactors : int

    Returns
    -------
    dict
        ``loadings`` (p x nfactors array), ``communality`` (row sums of squared loadings),
        ``converged``, ``iterations``, ``objective``, ``message`` (from the optimiser).
    """
    m, _ = _as_corr(r)
    load, info = _extract(m, int(nfactors), "minres")
    return {"loadings": load, "communality": (load**2).sum(axis=1), **info}


def varimax(loadings: np.ndarray, normalize: bool = True, eps: float = 1e-5, max_iter: int = 1000) -> np.ndarray:
    """Varimax rotation (Kaiser 1958), as ``stats::varimax(x, normalize, eps)``; returns the rotated loadings.

    Computed by ``factor_analyzer.Rotator(method="varimax")``, which is a line-by-line port of R's
    ``varimax`` (Kaiser row normalisation, stop when the criterion grows by less than a factor 1 + eps).
    No reflection or reordering is done here.  One column is returned unchanged.
    """
    L = np.asarray(loadings, dtype=float)
    if L.shape[1] < 2:
        return L.copy()
    rot = _rotator_class()(method="varimax", normalize=normalize, max_iter=max_iter, tol=eps)
    return np.asarray(rot.fit_transform(L), dtype=float)


def oblimin(loadings: np.ndarray, max_iter: int = 1000, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, bool]:
    """Oblimin rotation with gamma = 0 (quartimin), as ``GPArotation::oblimin(x)``: (pattern, Phi, converged).

    Gradient projection algorithm ``GPFoblq`` (Jennrich 2002; Bernaards & Jennrich 2005): identity start,
    unnormalised, at most ``max_iter`` iterations (GPArotation's ``maxit = 1000``), stop when the norm of
    the projected gradient is below ``eps``.  Computed by ``factor_analyzer.Rotator(method="oblimin")``
    (a port of ``GPFoblq``).  ``converged`` is GPArotation's ``convergence`` flag, recomputed from the
    final rotation matrix because the Rotator does not report it (when the iteration limit is hit,
    GPArotation tests the rotation before the last step instead).  No reflection or reordering here.
    """
    A = np.asarray(loadings, dtype=float)
    k = A.shape[1]
    if k < 2:
        return A.copy(), np.eye(k), True
    rot = _rotator_class()(method="oblimin", gamma=0, max_iter=max_iter, tol=eps)
    lam = np.asarray(rot.fit_transform(A), dtype=float)
    tmat = np.asarray(rot.rotation_, dtype=float)
    # GPFoblq's projected gradient at the final T (vgQ.oblimin, gamma = 0)
    gq = lam * ((lam**2) @ (1.0 - np.eye(k)))
    g = -(lam.T @ gq @ np.linalg.inv(tmat)).T
    gp = g - tmat @ np.diag((tmat * g).sum(axis=0))
    converged = bool(np.sqrt((gp**2).sum()) < eps)
    return lam, np.asarray(rot.phi_, dtype=float), converged


def rotate(loadings: np.ndarray, method: str = "oblimin", max_iter: int = 1000) -> tuple[np.ndarray, np.ndarray | None]:
    """Rotate a loading matrix as psych::fa does; returns (pattern, Phi or None).

    ``oblimin``: ``GPArotation::oblimin`` (quartimin, gamma = 0, identity start, gradient projection of
    Bernaards & Jennrich 2005, eps = 1e-5).  ``geomin``: ``GPArotation::geominQ`` (delta = .01).
    ``varimax``: ``stats::varimax`` (Kaiser normalisation; Kaiser 1958).  ``promax``: psych's
    ``kaiser(rotate = "Promax")``, i.e. rows normalised, ``psych::Promax`` (varimax then power m = 4;
    Hendrickson & White 1964), rows de-normalised.  The computations are done by ``factor_analyzer.Rotator``
    (see module note; :func:`varimax` and :func:`oblimin` are the entry points for those two).  No
    reflection or reordering is done here.
    """
    L = np.asarray(loadings, dtype=float)
    if method == "none" or L.shape[1] < 2:
        return L.copy(), None
    if method == "oblimin":
        out, phi, _ = oblimin(L, max_iter=max_iter)
        return out, phi
    if method == "varimax":
        return varimax(L), None
    Rotator = _rotator_class()
    if method == "geomin":
        rot = Rotator(method="geomin_obl", delta=0.01, max_iter=max_iter, tol=1e-5)
    elif method == "promax":
        rot = Rotator(method="promax", normalize=True, power=4, max_iter=1000, tol=1e-5)
    else:
        raise ValueError(f"unknown rotation {method!r}; use one of {ROTATIONS}")
    out = rot.fit_transform(L)
    phi = None if rot.phi_ is None else np.asarray(rot.phi_, dtype=float)
    return np.asarray(out, dtype=float), phi


@dataclass(frozen=True)
class FactorSolution:
    """An EFA solution, with factors ordered and reflected as psych::fa.

    Attributes
    ----------
    loadings : DataFrame
        Pattern loadings (items x factors; factor labels ``F1``... in psych's order).
    structure : DataFrame
        Structure matrix ``loadings @ phi``.
    phi : DataFrame
        Factor correlations (identity for orthogonal or unrotated solutions).
    communalities : Series
        ``diag(L0 L0')`` of the unrotated loadings (psych ``$communality``).
    uniquenesses : Series
        ``1 - communality`` (psych ``$uniquenesses``).
    variance : DataFrame
        psych's ``Vaccounted``: rows per factor with ``ss_loadings``, ``proportion_var``, ``cumulative_var``,
        ``proportion_explained``, ``cumulative_proportion``.
    unrotated : DataFrame
        Loadings before rotation.
    method, rotation : str
    n_obs : int or None
    info : dict
        Optimiser information (convergence, iterations, objective).
    """

    loadings: pd.DataFrame
    structure: pd.DataFrame
    phi: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    variance: pd.DataFrame
    unrotated: pd.DataFrame
    method: str
    rotation: str
    n_obs: int | None = None
    info: dict = field(default_factory=dict)

    @property
    def n_factors(self) -> int:
        return self.loadings.shape[1]

    def loadings_table(self) -> pd.DataFrame:
        """Tidy loadings: item, factor, loading, structure."""
        t = self.loadings.rename_axis("item").reset_index().melt("item", var_name="factor", value_name="loading")
        s = self.structure.rename_axis("item").reset_index().melt("item", var_name="factor", value_name="structure")
        return t.merge(s, on=["item", "factor"])


def _fa_fit(m: np.ndarray, n_factors: int, method: str, rotation: str, max_iter: int = 50, limit_threads: bool = True):
    """Numbers of :func:`fa` for a correlation matrix: (unrotated L0, info, pattern L, Phi, ss loadings)."""
    if not 1 <= n_factors <= m.shape[0]:
        raise ValueError(f"n_factors must be between 1 and {m.shape[0]}")
    if rotation not in ROTATIONS:
        raise ValueError(f"unknown rotation {rotation!r}; use one of {ROTATIONS}")
    # small matrices: threading only adds overhead (limit_threads=False when the caller already limits)
    with threadpool_limits(limits=1, user_api="blas") if limit_threads else contextlib.nullcontext():
        L0, info = _extract(m, n_factors, method, max_iter=max_iter)
    L, phi = rotate(L0, rotation if n_factors > 1 else "none")
    signs = np.sign(L.sum(axis=0))
    signs[signs == 0] = 1
    L = L * signs
    if phi is not None:
        phi = phi * np.outer(signs, signs)
    k = n_factors
    phi_m = np.eye(k) if phi is None else phi
    ev = np.diag(phi_m @ L.T @ L)
    if k > 1:
        order = np.argsort(-ev, kind="stable")
        L, phi_m, ev = L[:, order], phi_m[np.ix_(order, order)], ev[order]
    return L0, info, L, phi_m, ev


def fa_loadings(
    r, n_factors: int, method: str = "minres", rotation: str = "oblimin", max_iter: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Rotated pattern loadings and factor correlations of :func:`fa`, as plain arrays (pattern, Phi).

    Same computation, reflection and ordering as :func:`fa` (``psych::fa(r, nfactors, fm, rotate)``)
    without the tables and without limiting BLAS threads, for callers that fit many small models
    (bootstrap loops; :mod:`compval.reliability` uses it for psych's ``schmid``).  Phi is the identity
    for orthogonal and unrotated solutions.
    """
    m, _ = _as_corr(r)
    _, _, L, phi_m, _ = _fa_fit(m, int(n_factors), method, rotation, max_iter, limit_threads=False)
    return L, phi_m


def fa(
    r,
    n_factors: int,
    method: str = "minres",
    rotation: str = "oblimin",
    n_obs: int | None = None,
    max_iter: int = 50,
) -> FactorSolution:
    """Exploratory factor analysis of a correlation matrix, as ``psych::fa(r, nfactors, fm, rotate)``.

    Extraction: ``"minres"`` (Harman & Jones 1966; psych's L-BFGS-B on the lower-triangle residuals started
    at 1 - SMC), ``"ml"`` (Joreskog 1967; psych's ``FAfn``/``FAgr``), ``"pa"`` (principal axis with
    iterated communalities from SMCs, stopping when the sum of communalities changes by < .001 or after
    ``max_iter`` iterations, as psych).  Rotation: see :func:`rotate`.  After rotation each factor is
    reflected to a positive column sum and the factors are ordered by decreasing ``diag(Phi L'L)``
    (variance accounted for), as psych.

    Parameters
    ----------
    r : DataFrame or array
        Correlation matrix.
    n_factors : int
    method : {"minres", "ml", "pa"}
    rotation : {"oblimin", "promax", "geomin", "varimax", "none"}
    n_obs : int, optional
        Stored for reference only.
    """
    m, names = _as_corr(r)
    L0, info, L, phi_m, ev = _fa_fit(m, n_factors, method, rotation, max_iter)
    k = n_factors
    labels = [f"F{i + 1}" for i in range(k)]
    h2 = (L0**2).sum(axis=1)
    vtotal = float(np.sum(h2 + (np.diag(m) - h2)))
    variance = pd.DataFrame(
        {
            "factor": labels,
            "ss_loadings": ev,
            "proportion_var": ev / vtotal,
            "cumulative_var": np.cumsum(ev / vtotal),
            "proportion_explained": ev / ev.sum(),
            "cumulative_proportion": np.cumsum(ev / ev.sum()),
        }
    )
    return FactorSolution(
        loadings=pd.DataFrame(L, index=names, columns=labels),
        structure=pd.DataFrame(L @ phi_m, index=names, columns=labels),
        phi=pd.DataFrame(phi_m, index=labels, columns=labels),
        communalities=pd.Series(h2, index=names, name="communality"),
        uniquenesses=pd.Series(np.diag(m) - h2, index=names, name="uniqueness"),
        variance=variance,
        unrotated=pd.DataFrame(L0, index=names, columns=labels),
        method=method,
        rotation=rotation,
        n_obs=n_obs,
        info=info,
    )


# ---------------------------------------------------------------------------------------------- agreement
def congruence(a, b) -> pd.DataFrame:
    """Tucker's (1951) congruence coefficients between the columns of two loading matrices.

    ``phi_jk = sum_i a_ij b_ik / sqrt(sum_i a_ij^2 sum_i b_ik^2)``; rows of ``a`` and ``b`` are aligned by
    index when both are DataFrames.  Matches ``psych::factor.congruence(a, b, digits = Inf)`` (psych rounds
    to 2 digits by default).

    Returns
    -------
    DataFrame
        Columns of ``a`` x columns of ``b``.
    """
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        b = b.loc[a.index]
    A = pd.DataFrame(a)
    B = pd.DataFrame(b)
    x, y = A.to_numpy(float), B.to_numpy(float)
    num = x.T @ y
    den = np.sqrt(np.outer((x**2).sum(axis=0), (y**2).sum(axis=0)))
    return pd.DataFrame(num / den, index=A.columns, columns=B.columns)


def target_matrix(groups: dict[str, list[str]], items: list[str]) -> pd.DataFrame:
    """0/1 indicator pattern: item x hypothesised factor (1 where the item belongs to the factor)."""
    t = pd.DataFrame(0.0, index=list(items), columns=list(groups))
    for key, its in groups.items():
        for it in its:
            if it in t.index:
                t.loc[it, key] = 1.0
    return t


def match_factors(loadings: pd.DataFrame, target: pd.DataFrame) -> pd.DataFrame:
    """Match EFA factors to hypothesised factors by the Hungarian algorithm (Kuhn 1955).

    The assignment maximises the sum of |Tucker congruence| between EFA loading columns and the target
    columns (a 0/1 indicator pattern from :func:`target_matrix` or any target loading matrix).  With more
    EFA factors than targets the surplus factors stay unmatched, and vice versa.

    Returns
    -------
    DataFrame
        One row per hypothesised factor: ``factor`` (hypothesised key), ``efa_factor`` (or NA), ``sign``
        (+1/-1, the sign that makes the congruence positive), ``congruence`` (signed so it is >= 0 when
        reflected), plus rows for unmatched EFA factors with ``factor`` NA.
    """
    items = [i for i in target.index if i in loadings.index]
    c = congruence(loadings.loc[items], target.loc[items])
    absc = np.nan_to_num(np.abs(c.to_numpy()))
    ri, ci = linear_sum_assignment(-absc)
    rows = []
    matched_efa = set()
    for i, j in zip(ri, ci):
        val = float(c.iat[i, j])
        rows.append(
            {"factor": c.columns[j], "efa_factor": c.index[i], "sign": 1 if val >= 0 else -1, "congruence": abs(val)}
        )
        matched_efa.add(c.index[i])
    for j, key in enumerate(c.columns):
        if key not in {r["factor"] for r in rows}:
            rows.append({"factor": key, "efa_factor": None, "sign": np.nan, "congruence": np.nan})
    for f in c.index:
        if f not in matched_efa:
            rows.append({"factor": None, "efa_factor": f, "sign": np.nan, "congruence": np.nan})
    order = {k: n for n, k in enumerate(c.columns)}
    out = pd.DataFrame(rows)
    out["_o"] = out["factor"].map(order).fillna(len(order))
    return out.sort_values(["_o", "efa_factor"], na_position="last").drop(columns="_o").reset_index(drop=True)


def problem_items(
    loadings: pd.DataFrame,
    groups: dict[str, list[str]],
    matching: pd.DataFrame,
    min_loading: float = 0.40,
    cross_loading: float = 0.30,
) -> pd.DataFrame:
    """Items whose EFA loadings contradict the hypothesised structure.

    Flags per item (an item may have several): ``low_primary`` -- largest |loading| below ``min_loading``;
    ``wrong_factor`` -- the largest |loading| is on an EFA factor matched to another hypothesised factor
    (or to none); ``cross_loading`` -- |loading| above ``cross_loading`` on two or more factors.

    Parameters
    ----------
    loadings : DataFrame
        Pattern loadings (items x EFA factors).
    groups : dict
        Hypothesised factor key -> items.
    matching : DataFrame
        Output of :func:`match_factors`.

    Returns
    -------
    DataFrame
        One row per flagged item: item, hypothesised factor, primary EFA factor, the hypothesised factor it is
        matched to, primary loading (signed after reflection by the matching sign), loading on the factor
        matched to the hypothesised one, number of |loadings| above ``cross_loading``, and the flags.
    """
    efa_to_hyp = {
        r.efa_factor: r.factor for r in matching.itertuples() if r.efa_factor is not None and r.factor is not None
    }
    hyp_to_efa = {v: k for k, v in efa_to_hyp.items()}
    sign = {
        r.efa_factor: (r.sign if r.sign == r.sign else 1) for r in matching.itertuples() if r.efa_factor is not None
    }
    rows = []
    for key, its in groups.items():
        for it in its:
            if it not in loadings.index:
                continue
            row = loadings.loc[it]
            absrow = row.abs()
            prim = absrow.idxmax()
            n_cross = int((absrow > cross_loading).sum())
            prim_hyp = efa_to_hyp.get(prim)
            own = hyp_to_efa.get(key)
            flags = []
            if absrow[prim] < min_loading:
                flags.append("low_primary")
            if prim_hyp != key:
                flags.append("wrong_factor")
            if n_cross >= 2:
                flags.append("cross_loading")
            if flags:
                rows.append(
                    {
                        "item": it,
                        "factor": key,
                        "primary_efa_factor": prim,
                        "primary_matched_factor": prim_hyp,
                        "primary_loading": float(row[prim] * sign.get(prim, 1)),
                        "own_factor_loading": float(row[own] * sign.get(own, 1)) if own is not None else np.nan,
                        "n_above_cross": n_cross,
                        "flags": ";".join(flags),
                    }
                )
    cols = [
        "item",
        "factor",
        "primary_efa_factor",
        "primary_matched_factor",
        "primary_loading",
        "own_factor_loading",
        "n_above_cross",
        "flags",
    ]
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------------------------- cross-validation
def split_half(df: pd.DataFrame, seed: int, fraction: float = 0.5) -> tuple[pd.Index, pd.Index]:
    """Random split of the rows of ``df`` into two disjoint index sets (for EFA/CFA cross-validation).

    The first set has ``round(fraction * n)`` rows, drawn without replacement with
    ``numpy.random.default_rng(seed)``; both sets keep the original row order.  Deterministic for a seed.
    """
    if not 0 < fraction < 1:
        raise ValueError("fraction must be in (0, 1)")
    n = len(df)
    k = int(round(fraction * n))
    rng = np.random.default_rng(seed)
    pick = np.zeros(n, dtype=bool)
    pick[rng.choice(n, size=k, replace=False)] = True
    return df.index[pick], df.index[~pick]


# ---------------------------------------------------------------------------------------------- polychoric
def _poly_pair(tab: np.ndarray, rc: np.ndarray, cc: np.ndarray) -> float:
    def negll(rho):
        P = bvn_cell_probs(rc, cc, rho)
        ok = P > 0
        return float(-(tab[ok] * np.log(P[ok])).sum())

    return brent_fmin(negll, -1.0, 1.0)


def _cor_smooth(m: np.ndarray, eig_tol: float = 1e-12) -> tuple[np.ndarray, bool]:
    """psych::cor.smooth: if R is not positive definite, raise small eigenvalues and rescale."""
    vals, vecs = _eig_desc(m)
    if vals.min() >= _EPS:
        return m, False
    vals = np.where(vals < eig_tol, 100 * eig_tol, vals)
    vals = vals * m.shape[0] / vals.sum()
    s = (vecs * vals) @ vecs.T
    d = np.sqrt(np.diag(s))
    return s / np.outer(d, d), True


def polychoric(
    items: pd.DataFrame, correct: float = 0.5, smooth: bool = True, global_: bool = True, max_cat: int = 8
) -> dict:
    """Polychoric correlations, as ``psych::polychoric(x)`` in psych 2.2.9.

    Two-step estimation (Olsson 1979): thresholds from the marginal proportions, then for each item pair the
    correlation maximising the bivariate-normal likelihood of the pair's contingency table (pairwise-complete
    cases), found with R's ``optimize`` on [-1, 1] (Brent 1973; ported, including its tolerance
    ``.Machine$double.eps^0.25``).  As psych's default ``global = TRUE``, the thresholds of each item come from
    all of its non-missing responses (not re-estimated per pair) and no continuity correction is applied;
    psych turns ``global`` off when the items do not all have the same highest category, and so do we
    (then zero rows/columns are dropped, empty cells get ``correct / n`` and thresholds come from the pair's
    table).  Cell probabilities use Genz's (2004) bivariate normal algorithm (psych: ``mnormt::sadmvn``,
    absolute error 1e-6); because the Brent iterations are the same, estimates agree with psych far more
    closely than the ``optimize`` tolerance (to ~1e-11 on psych::bfi, global and non-global).  If the
    result is not positive definite it is smoothed as ``psych::cor.smooth``.

    Returns
    -------
    dict
        ``rho`` (DataFrame), ``tau`` (DataFrame, items x thresholds), ``smoothed`` (bool), ``global`` (bool).
    """
    x = items.astype(float).to_numpy()
    names = [str(c) for c in items.columns]
    nvalues = int(np.nanmax(x) - np.nanmin(x) + 1)
    if nvalues > max_cat:
        raise ValueError(f"more than {max_cat} categories; polychoric correlations are probably not needed")
    x = x - np.nanmin(x)  # categories 0 .. nvalues-1
    if np.any((x[~np.isnan(x)] % 1) != 0):
        raise ValueError("polychoric correlations need integer-coded items")
    sd = np.nanstd(x, axis=0)
    if np.any(~(sd > 0)):
        raise ValueError("items without variance: " + ", ".join(np.array(names)[~(sd > 0)]))
    colmax = np.nanmax(x, axis=0)
    use_global = global_ and colmax.min() == colmax.max()
    p = x.shape[1]
    freq = np.stack([np.bincount(x[~np.isnan(x[:, j]), j].astype(int), minlength=nvalues) for j in range(p)], 1)
    with np.errstate(divide="ignore"):  # cumulative counts / n: an unused top category gives exactly +Inf, as R
        tau = stats.norm.ppf((np.cumsum(freq, axis=0) / freq.sum(axis=0))[: nvalues - 1, :])
    rho = np.eye(p)
    for i in range(1, p):
        for j in range(i):
            ok = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            tab = np.zeros((nvalues, nvalues))
            np.add.at(tab, (x[ok, i].astype(int), x[ok, j].astype(int)), 1.0)
            tot = tab.sum()
            if tot == 0:
                rho[i, j] = rho[j, i] = np.nan
                continue
            tab = tab / tot
            if use_global:
                val = _poly_pair(tab, tau[:, i], tau[:, j])
            else:
                tab = tab[tab.sum(axis=1) > 0][:, tab.sum(axis=0) > 0]
                if min(tab.shape) < 2:
                    val = np.nan
                else:
                    if correct > 0 and (tab == 0).any():
                        tab[tab == 0] = correct / tot
                    with np.errstate(divide="ignore"):
                        rc = stats.norm.ppf(np.cumsum(tab.sum(axis=1))[:-1])
                        cc = stats.norm.ppf(np.cumsum(tab.sum(axis=0))[:-1])
                    val = _poly_pair(tab, rc, cc)
            rho[i, j] = rho[j, i] = val
    smoothed = False
    if smooth and not np.isnan(rho).any():
        rho, smoothed = _cor_smooth(rho)
    return {
        "rho": pd.DataFrame(rho, index=names, columns=names),
        "tau": pd.DataFrame(tau.T, index=names, columns=[str(i + 1) for i in range(nvalues - 1)]),
        "smoothed": smoothed,
        "global": use_global,
    }


# ---------------------------------------------------------------------------------------------- convenience
@dataclass(frozen=True)
class EFAResult:
    """Everything :func:`run_efa` computes, as tidy DataFrames, plus ``headline`` numbers."""

    correlation: pd.DataFrame
    suitability: pd.DataFrame
    n_factors: pd.DataFrame
    parallel: ParallelAnalysis
    map: pd.DataFrame
    solution: FactorSolution
    loadings: pd.DataFrame
    factor_correlations: pd.DataFrame
    variance: pd.DataFrame
    communalities: pd.DataFrame
    matching: pd.DataFrame
    congruence: pd.DataFrame
    problems: pd.DataFrame
    headline: dict

    def tables(self) -> dict[str, pd.DataFrame]:
        """Name -> tidy DataFrame, ready to be written as CSV files by the pipeline."""
        return {
            "suitability": self.suitability,
            "n_factors": self.n_factors,
            "loadings": self.loadings,
            "factor_correlations": self.factor_correlations,
            "variance": self.variance,
            "communalities": self.communalities,
            "matching": self.matching,
            "problems": self.problems,
        }


def run_efa(
    items_df: pd.DataFrame,
    groups: dict[str, list[str]] | None = None,
    n_factors: int | None = None,
    method: str = "minres",
    rotation: str = "oblimin",
    cor: str = "pearson",
    seed: int | None = None,
    n_iter: int = 20,
    target: pd.DataFrame | None = None,
    min_loading: float = 0.40,
    cross_loading: float = 0.30,
    map_max: int = 8,
) -> EFAResult:
    """Run the whole EFA stage on item responses.

    Steps: correlation matrix (Pearson, pairwise; or polychoric), KMO and Bartlett's test, parallel
    analysis and MAP, extraction and rotation with ``n_factors`` factors (default: the number of
    hypothesised factors in ``groups``; if no groups, the parallel-analysis suggestion), matching of EFA to
    hypothesised factors, congruence and problem items.

    Parameters
    ----------
    items_df : DataFrame
        Item responses, one column per item (already reverse-scored if needed).
    groups : dict, optional
        Hypothesised factor key -> item ids.
    n_factors : int, optional
    method, rotation, cor : str
        See :func:`fa` and :func:`correlation_matrix`.
    seed : int, optional
        Seed for parallel analysis.
    n_iter : int
        Parallel-analysis iterations.
    target : DataFrame, optional
        Target loading matrix (items x hypothesised factors) instead of the 0/1 pattern from ``groups``.
    min_loading, cross_loading : float
        Thresholds for :func:`problem_items`.
    """
    x = items_df.astype(float)
    n = len(x)
    r = correlation_matrix(x, cor)
    k = kmo(r)
    b = bartlett_sphericity(r, n)
    suitability = k.table()
    pa = parallel_analysis(x, n_iter=n_iter, seed=seed, cor=cor)
    mp = velicer_map(r, n_max=map_max)
    n_map = _map_suggestion(mp, "map")
    n_map4 = _map_suggestion(mp, "map4")
    sc = scree(r)
    nf_table = pa.table.merge(sc, on="number", how="left").merge(
        mp.rename(columns={"n_factors": "number"}), on="number", how="left"
    )
    if n_factors is None:
        if target is not None:
            n_factors = target.shape[1]
        elif groups:
            n_factors = len(groups)
        else:
            n_factors = max(pa.n_factors, 1)
    sol = fa(r, n_factors, method=method, rotation=rotation, n_obs=n)
    if target is None and groups:
        target = target_matrix(groups, list(x.columns))
    if target is not None:
        matching = match_factors(sol.loadings, target)
        cong = congruence(sol.loadings, target.loc[[i for i in target.index if i in sol.loadings.index]])
        if groups is None:
            groups = {c: list(target.index[target[c].abs() > 0]) for c in target.columns}
        problems = problem_items(sol.loadings, groups, matching, min_loading, cross_loading)
        cong_head = {row.factor: float(row.congruence) for row in matching.itertuples() if row.factor is not None}
    else:
        matching = pd.DataFrame(columns=["factor", "efa_factor", "sign", "congruence"])
        cong = pd.DataFrame()
        problems = pd.DataFrame()
        cong_head = {}
    comm = pd.DataFrame(
        {
            "item": sol.communalities.index,
            "communality": sol.communalities.to_numpy(),
            "uniqueness": sol.uniquenesses.to_numpy(),
        }
    )
    phi_t = sol.phi.rename_axis("factor").reset_index().melt("factor", var_name="factor2", value_name="phi")
    headline = {
        "kmo": k.overall,
        "bartlett_chi2": b.chi2,
        "bartlett_df": b.df,
        "bartlett_p": b.p,
        "n_factors_parallel": pa.n_factors,
        "n_factors_parallel_resampled": pa.n_factors_resampled,
        "n_factors_map": n_map,
        "n_factors_map4": n_map4,
        "n_factors_extracted": int(n_factors),
        "congruence": cong_head,
    }
    return EFAResult(
        correlation=r,
        suitability=suitability,
        n_factors=nf_table,
        parallel=pa,
        map=mp,
        solution=sol,
        loadings=sol.loadings_table(),
        factor_correlations=phi_t,
        variance=sol.variance,
        communalities=comm,
        matching=matching,
        congruence=cong,
        problems=problems,
        headline=headline,
    )
