"""Discriminant validity: the Fornell-Larcker criterion (Fornell & Larcker 1981), the heterotrait-monotrait ratio
(``semTools::htmt``; Henseler, Ringle & Sarstedt 2015; HTMT2 of Roemer, Schuberth & Henseler 2021) with bootstrap
intervals, and the latent factor correlations with confidence intervals."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtri  # stats.norm.ppf's own function, without scipy.stats' import
from threadpoolctl import threadpool_limits

from ..resampling import PERCENTILE_BOOTSTRAP, blb_counts, blb_interval, blb_plan, correlations, use_blb
from .convergent import average_variance_extracted
from .matrices import check_cov, model_matrices, select_group

# the HTMT thresholds live with the other cut-offs; importable from here as before
from compval.present.rules import HTMT_LIBERAL, HTMT_STRICT, fornell_larcker_holds, htmt_class

__all__ = [
    "FornellLarckerResult",
    "fornell_larcker",
    "HTMT_STRICT",
    "HTMT_LIBERAL",
    "HTMTResult",
    "htmt_from_correlation",
    "htmt",
    "factor_correlations",
]


def _pair_key(a: str, b: str) -> str:
    return f"{a}~~{b}"


# ------------------------------------------------------------------------------------- Fornell-Larcker
@dataclass(frozen=True)
class FornellLarckerResult:
    """Fornell-Larcker criterion.

    Attributes
    ----------
    matrix : pandas.DataFrame
        Factors x factors: sqrt(AVE) on the diagonal, latent correlations off the diagonal (symmetric).
    table : pandas.DataFrame
        One row per factor pair (model order, ``a`` before ``b``): ``pair`` ("a~~b"), ``factor_a``,
        ``factor_b``, ``r`` (latent correlation), ``r2``, ``ave_a``, ``ave_b``, ``sqrt_ave_a``,
        ``sqrt_ave_b`` and ``discriminant`` (nullable boolean: both AVEs exceed r^2, i.e. both sqrt(AVE)
        exceed |r|; ``<NA>`` when an AVE is undefined).
    """

    matrix: pd.DataFrame
    table: pd.DataFrame


def fornell_larcker(
    params: pd.DataFrame,
    sample_cov: pd.DataFrame | None = None,
    *,
    implied: bool = False,
    group=None,
) -> FornellLarckerResult:
    """Fornell-Larcker criterion: sqrt(AVE) of each factor against its correlations with the others.

    Discriminant validity holds for a pair when each factor's AVE exceeds the squared correlation
    between them (Fornell & Larcker 1981), equivalently sqrt(AVE) > |r| for both factors.

    AVE is :func:`average_variance_extracted` (``semTools::AVE``); the correlations are the model-implied
    latent correlations, ``cov2cor(lavInspect(fit, "cov.lv"))`` (``lavInspect(fit, "cor.lv")``), which for
    a CFA equal the ``std_all`` of the factor covariances. No single R function produces this table;
    its entries match ``semTools::AVE`` and ``lavInspect(fit, "cor.lv")``.

    Parameters
    ----------
    params : pandas.DataFrame
        Parameter table (module docstring).
    sample_cov : pandas.DataFrame, optional
        Sample covariance matrix for the AVE (required unless ``implied=True``).
    implied : bool
        Use model-implied indicator variances in the AVE.
    group : optional
        Group to use when the table holds several groups.

    Returns
    -------
    FornellLarckerResult
    """
    ave = average_variance_extracted(params, sample_cov, implied=implied, group=group)
    ave_map = dict(zip(ave["factor"], ave["ave"]))
    facs = list(ave["factor"])
    cov_lv = model_matrices(params, group).cov_lv().loc[facs, facs].to_numpy()
    sd = np.sqrt(np.diag(cov_lv))
    cor = cov_lv / np.outer(sd, sd)
    mat = pd.DataFrame(cor, index=facs, columns=facs)
    for fn in facs:
        mat.loc[fn, fn] = np.sqrt(ave_map[fn])
    rows = []
    for i, a in enumerate(facs):
        for b in facs[i + 1 :]:
            r = float(mat.loc[a, b])
            ave_a, ave_b = ave_map[a], ave_map[b]
            ok = pd.NA if np.isnan(ave_a) or np.isnan(ave_b) else fornell_larcker_holds(ave_a, ave_b, r)
            rows.append(
                {
                    "pair": _pair_key(a, b),
                    "factor_a": a,
                    "factor_b": b,
                    "r": r,
                    "r2": r * r,
                    "ave_a": ave_a,
                    "ave_b": ave_b,
                    "sqrt_ave_a": float(np.sqrt(ave_a)),
                    "sqrt_ave_b": float(np.sqrt(ave_b)),
                    "discriminant": ok,
                }
            )
    cols = ["pair", "factor_a", "factor_b", "r", "r2", "ave_a", "ave_b", "sqrt_ave_a", "sqrt_ave_b", "discriminant"]
    table = pd.DataFrame(rows, columns=cols)
    table["discriminant"] = table["discriminant"].astype("boolean")
    return FornellLarckerResult(matrix=mat, table=table)


# -------------------------------------------------------------------------------------------------- HTMT
@dataclass(frozen=True)
class HTMTResult:
    """Heterotrait-monotrait ratios.

    Attributes
    ----------
    matrix : pandas.DataFrame
        Factors x factors HTMT matrix as ``semTools::htmt`` (diagonal 1, or -1/NaN for a factor whose
        mean within-factor correlation is negative with ``absolute=False``).
    table : pandas.DataFrame
        One row per factor pair (``a`` before ``b`` in the order of ``factors``): ``pair`` ("a~~b"),
        ``factor_a``, ``factor_b``, ``htmt``, ``ci_lower``, ``ci_upper`` (percentile bootstrap; NaN when
        ``B=0``), ``below_085``, ``below_090`` (point estimate below :data:`HTMT_STRICT` /
        :data:`HTMT_LIBERAL`), ``ci_below_085``, ``ci_below_090`` (upper confidence limit below the
        threshold, the inferential test of Franke & Sarstedt 2019; ``<NA>`` without bootstrap),
        ``verdict`` ("discriminant" below .85, "questionable" in [.85, .90), "not discriminant" from .90,
        "undefined" for NaN) and ``ci_method`` (:attr:`method`).
    n : int
        Respondents used (listwise complete on the items); ``None`` when computed from a matrix.
    B : int
        Bootstrap replicates drawn (``s r`` for the bag of little bootstraps).
    n_boot_valid : int
        Replicates with a finite value for every pair (the CIs use, per pair, its finite replicates).
    boot : numpy.ndarray or None
        Bootstrap replicates, shape (B, n_pairs), columns in ``table`` order (subset after subset for the bag
        of little bootstraps).
    method : str
        How the intervals were formed: "percentile bootstrap", "bag of little bootstraps (b = ..., s = ...,
        r = ...)" (above ``max_n`` respondents), or "" without intervals.
    """

    matrix: pd.DataFrame
    table: pd.DataFrame
    n: int | None
    B: int
    n_boot_valid: int
    boot: np.ndarray | None = None
    method: str = ""

    def as_dict(self) -> dict[str, float | None]:
        """``{"a~~b": htmt}`` (JSON-safe: NaN -> None)."""
        return {k: (None if not np.isfinite(v) else float(v)) for k, v in zip(self.table["pair"], self.table["htmt"])}


def _check_factors(factors: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str], list[np.ndarray]]:
    names = list(factors)
    if len(names) < 2:
        raise ValueError("HTMT needs at least two factors")
    items: list[str] = []
    blocks = []
    for fn in names:
        its = list(factors[fn])
        if not its:
            raise ValueError(f"factor {fn!r} has no items")
        dup = [i for i in its if i in items]
        if dup or len(set(its)) != len(its):
            raise ValueError(f"item(s) {dup or its} assigned to more than one factor; HTMT needs disjoint item sets")
        blocks.append(np.arange(len(items), len(items) + len(its)))
        items.extend(its)
    return names, items, blocks


def _htmt_matrix(r: np.ndarray, blocks: list[np.ndarray], absolute: bool, htmt2: bool) -> np.ndarray:
    """HTMT from an item correlation matrix (items ordered block by block); semTools' algorithm.

    ``r`` is one matrix (p x p) or a stack of them (resamples x p x p; the result is then stacked too). The
    mean of a block ignores the diagonal and undefined correlations (NaN); a block without any is NaN.
    """
    r = np.array(r, dtype=float, copy=True)
    single = r.ndim == 2
    if single:
        r = r[None]
    if absolute or htmt2:
        r = np.abs(r)
    d = np.arange(r.shape[1])
    r[:, d, d] = np.nan
    nf = len(blocks)
    m = np.empty((r.shape[0], nf, nf))
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # mean of an empty block: NaN
        for i in range(nf):
            for j in range(i, nf):
                sub = r[:, blocks[i][:, None], blocks[j][None, :]]
                val = np.exp(np.nanmean(np.log(sub), axis=(1, 2))) if htmt2 else np.nanmean(sub, axis=(1, 2))
                m[:, i, j] = m[:, j, i] = val
        w = np.diagonal(m, axis1=1, axis2=2)
        out = m / np.sqrt(w[:, :, None] * w[:, None, :])
    return out[0] if single else out


def htmt_from_correlation(
    corr: pd.DataFrame,
    factors: Mapping[str, Sequence[str]],
    *,
    absolute: bool = True,
    htmt2: bool = True,
) -> pd.DataFrame:
    """HTMT matrix from an item correlation (or covariance) matrix.

    A covariance matrix is first converted to correlations. See :func:`htmt` for the formula.
    Matches ``semTools::htmt(model, sample.cov = corr, absolute = absolute, htmt2 = htmt2)``
    (semTools 0.5-6).

    Parameters
    ----------
    corr : pandas.DataFrame
        Item correlation or covariance matrix with item names as index and columns.
    factors : mapping
        Factor -> item names (disjoint sets).
    absolute : bool
        Use absolute correlations (semTools default ``TRUE``; always on when ``htmt2``).
    htmt2 : bool
        Geometric means (HTMT2, Roemer et al. 2021; semTools 0.5-6 default) instead of arithmetic means
        (the original HTMT of Henseler et al. 2015).

    Returns
    -------
    pandas.DataFrame
        Factors x factors HTMT matrix.
    """
    names, items, blocks = _check_factors(factors)
    c = check_cov(corr, items, "corr").to_numpy()
    sd = np.sqrt(np.diag(c))
    c = c / np.outer(sd, sd)
    return pd.DataFrame(_htmt_matrix(c, blocks, absolute, htmt2), index=names, columns=names)


def htmt(
    data: pd.DataFrame,
    factors: Mapping[str, Sequence[str]],
    *,
    absolute: bool = True,
    htmt2: bool = True,
    B: int = 0,
    seed: int | np.random.Generator | None = None,
    level: float = 0.95,
    max_n: int | None = None,
) -> HTMTResult:
    """Heterotrait-monotrait ratio of correlations (Henseler, Ringle & Sarstedt 2015) per factor pair.

    From the item correlation matrix of the listwise-complete responses::

        HTMT_ab = mean(r_ij : i in a, j in b) / sqrt(mean(r_ij : i<j in a) * mean(r_ij : i<j in b))

    With ``htmt2=True`` (the semTools 0.5-6 default) the means are geometric means of the absolute
    correlations (HTMT2, Roemer, Schuberth & Henseler 2021); with ``htmt2=False`` arithmetic means, of
    absolute correlations when ``absolute=True`` (default) or of the signed correlations otherwise (the
    original HTMT, which assumes all items keyed in the same direction).

    Matches ``semTools::htmt(model, data, missing = "listwise", absolute = absolute, htmt2 = htmt2)``
    (semTools 0.5-6) exactly (closed form). Ordinal (polychoric) correlations are not implemented.

    Confidence intervals (``B > 0``) are percentile intervals over ``B`` nonparametric bootstrap
    resamples of respondents (rows drawn with replacement from the complete cases, ``rng.integers(0, n, n)``
    per resample), reproducible through ``seed``; a pair whose upper limit is below .85 / .90 passes the
    inferential HTMT test (Henseler et al. 2015; Franke & Sarstedt 2019). semTools has no bootstrap;
    quantiles use numpy's default (R's ``quantile`` type 7).

    Above ``max_n`` complete cases the intervals come from a bag of little bootstraps (Kleiner et al. 2014)
    with ``B`` resamples in all (:func:`compval.resampling.blb_plan`): each subset's b rows and resample counts
    (:func:`compval.resampling.blb_counts`) give the correlation matrices of all its resamples at once as
    weighted cross-products on b rows (:func:`compval.resampling.correlations`, BLAS on one thread), combined by
    :func:`compval.resampling.blb_interval`. (The weighted cross-products' rounding makes an exactly-zero
    correlation ~1e-17, which HTMT2's geometric mean does not forgive -- see the comment in the code -- but at
    tens of thousands of respondents an item correlation of exactly 0 in a resample does not occur.)

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses (reverse-keyed items already recoded), one row per respondent.
    factors : mapping
        Factor -> item names; item sets must be disjoint (order defines the output order).
    absolute : bool
        Use absolute item correlations.
    htmt2 : bool
        Geometric (True) or arithmetic (False) means.
    B : int
        Bootstrap replicates (0: no confidence intervals).
    seed : int or numpy.random.Generator, optional
        Seed for ``numpy.random.default_rng``.
    level : float
        Confidence level of the percentile intervals.
    max_n : int, optional
        Above this many complete cases, the bag of little bootstraps (the pipeline's ``bootstrap_max_n``);
        None (default) = always the full bootstrap.

    Returns
    -------
    HTMTResult
    """
    names, items, blocks = _check_factors(factors)
    missing = [i for i in items if i not in data.columns]
    if missing:
        raise ValueError(f"data lacks item column(s) {missing}")
    complete = np.ones(len(data), dtype=bool)  # the complete cases, found column by column
    for item in items:
        complete &= data[item].notna().to_numpy()
    # the complete cases first, then their items (data[items].dropna() and data.loc[complete, items] copy every
    # row's items first: 380 MB at 10^6 x 50); the same array, in the same layout
    x = data.loc[complete][items].to_numpy(dtype=float)
    n = x.shape[0]
    if n < 3:
        raise ValueError(f"only {n} complete cases")
    mat = _htmt_matrix(np.corrcoef(x, rowvar=False), blocks, absolute, htmt2)
    iu = np.triu_indices(len(names), 1)
    est = mat[iu]
    ci_lo = np.full(est.shape, np.nan)
    ci_hi = np.full(est.shape, np.nan)
    boot = None
    n_valid = 0
    method = ""
    if B and B > 0 and use_blb(n, max_n):
        rng = np.random.default_rng(seed)
        plan = blb_plan(n, int(B))
        method = plan.method
        sub_est = np.full((plan.s, est.size), np.nan)
        reps = np.full((plan.s, plan.r, est.size), np.nan)
        ones = np.ones((1, plan.b))
        with threadpool_limits(limits=1, user_api="blas"), np.errstate(divide="ignore", invalid="ignore"):
            for j, (rows, w) in enumerate(blb_counts(rng, plan)):
                h = _htmt_matrix(correlations(x[rows], np.vstack([ones, w])), blocks, absolute, htmt2)[:, iu[0], iu[1]]
                sub_est[j], reps[j] = h[0], h[1:]
        for k in range(est.size):
            ci_lo[k], ci_hi[k] = blb_interval(est[k], sub_est[:, k], reps[:, :, k], level)
        boot = reps.reshape(-1, est.size)
        n_valid = int(np.isfinite(boot).all(axis=1).sum())
    elif B and B > 0:
        rng = np.random.default_rng(seed)
        method = PERCENTILE_BOOTSTRAP
        boot = np.empty((int(B), est.size))
        # resample b = rows rng.integers(0, n, n), correlations by numpy.corrcoef of the resampled rows. (A batched
        # version from row counts and weighted cross-products was tried: it agrees to rounding, except that an
        # item correlation that is exactly 0 in a resample of integer answers comes out as ~1e-17, and HTMT2's
        # geometric mean then differs from 0 by a lot: on the demo's 154 complete cases the lower CI limits moved
        # by up to .27. HTMT costs well under a second on the demo, so the exact arithmetic stays.)
        # the resamples' matrices are stacked a batch at a time (about 16 MB), and each block mean is one nanmean
        # over the stack, without a Python loop over block pairs per resample (10 factors and 1,000 resamples:
        # 55,000 nanmean calls). The same arithmetic as one resample at a time; numpy's vectorised log and exp
        # may round an element differently by its position in the array, so a replicate can differ in the last
        # bit (below 1e-15; tests/test_validity.py)
        batch = max(1, int(2e6 // (x.shape[1] ** 2)))
        with np.errstate(divide="ignore", invalid="ignore"):
            for b0 in range(0, int(B), batch):
                stack = [
                    np.corrcoef(x[rng.integers(0, n, size=n)], rowvar=False) for _ in range(min(batch, int(B) - b0))
                ]
                boot[b0 : b0 + len(stack)] = _htmt_matrix(np.stack(stack), blocks, absolute, htmt2)[:, iu[0], iu[1]]
        finite = np.isfinite(boot)
        n_valid = int(finite.all(axis=1).sum())
        alpha = (1.0 - level) / 2.0
        for k in range(est.size):
            v = boot[finite[:, k], k]
            if v.size:
                ci_lo[k], ci_hi[k] = np.quantile(v, [alpha, 1.0 - alpha])
    has_ci = boot is not None
    rows = []
    for k, (i, j) in enumerate(zip(*iu)):
        a, b_ = names[i], names[j]
        rows.append(
            {
                "pair": _pair_key(a, b_),
                "factor_a": a,
                "factor_b": b_,
                "htmt": float(est[k]),
                "ci_lower": float(ci_lo[k]),
                "ci_upper": float(ci_hi[k]),
                "below_085": bool(est[k] < HTMT_STRICT),
                "below_090": bool(est[k] < HTMT_LIBERAL),
                "ci_below_085": bool(ci_hi[k] < HTMT_STRICT) if has_ci and np.isfinite(ci_hi[k]) else pd.NA,
                "ci_below_090": bool(ci_hi[k] < HTMT_LIBERAL) if has_ci and np.isfinite(ci_hi[k]) else pd.NA,
                "verdict": htmt_class(est[k]),
                "ci_method": method,
            }
        )
    table = pd.DataFrame(rows)
    for c in ("ci_below_085", "ci_below_090"):
        table[c] = table[c].astype("boolean")
    return HTMTResult(
        matrix=pd.DataFrame(mat, index=names, columns=names),
        table=table,
        n=n,
        B=0 if boot is None else len(boot),
        n_boot_valid=n_valid,
        boot=boot,
        method=method,
    )


# --------------------------------------------------------------------------------- factor correlations
def factor_correlations(
    params: pd.DataFrame,
    *,
    n: int | None = None,
    level: float = 0.95,
    group=None,
) -> pd.DataFrame:
    """Latent factor correlations with confidence intervals, from the parameter table.

    The correlation of factors *a* and *b* is the ``std_all`` of the ``a ~~ b`` row (for a CFA the
    standardized factor covariance; with latent regressions it is a residual correlation, as in lavaan).
    Confidence interval, per row:

    * ``ci_method = "delta"`` when the table has a finite ``std_all_se`` (the ``se`` of
      ``lavaan::standardizedSolution``, delta method): ``r -/+ z_(1-alpha/2) * se``, identical to
      ``standardizedSolution(fit, level = level)``'s ``ci.lower``/``ci.upper``;
    * otherwise ``ci_method = "fisher_z"`` when ``n`` is given: ``tanh(atanh(r) -/+ z / sqrt(n - 3))``
      (Fisher 1921), which treats r like a Pearson correlation of n observations and ignores the
      estimation of the measurement model (so it is usually somewhat too narrow); ``se`` is then NaN;
    * otherwise no interval (``ci_method = "none"``).

    Parameters
    ----------
    params : pandas.DataFrame
        Parameter table with ``std_all`` and optionally ``std_all_se``.
    n : int, optional
        Number of observations for the Fisher-z fallback.
    level : float
        Confidence level.
    group : optional
        Group to use when the table holds several groups.

    Returns
    -------
    pandas.DataFrame
        Columns ``pair`` ("a~~b", as in the table), ``factor_a``, ``factor_b``, ``r``, ``se``,
        ``ci_lower``, ``ci_upper``, ``ci_method``, ``level``.
    """
    p = select_group(params, group)
    if "std_all" not in p.columns:
        raise ValueError("parameter table lacks column 'std_all'")
    lv = set(p.loc[p["op"] == "=~", "lhs"])
    sel = p[(p["op"] == "~~") & (p["lhs"] != p["rhs"]) & p["lhs"].isin(lv) & p["rhs"].isin(lv)]
    z = ndtri(1.0 - (1.0 - level) / 2.0)
    rows = []
    for _, row in sel.iterrows():
        r = float(row["std_all"])
        se = float(row["std_all_se"]) if "std_all_se" in sel.columns and pd.notna(row["std_all_se"]) else np.nan
        if np.isfinite(se):
            lo, hi, method = r - z * se, r + z * se, "delta"
        elif n is not None and n > 3 and abs(r) < 1:
            h = z / np.sqrt(n - 3)
            lo, hi, method = float(np.tanh(np.arctanh(r) - h)), float(np.tanh(np.arctanh(r) + h)), "fisher_z"
        else:
            lo, hi, method = np.nan, np.nan, "none"
        rows.append(
            {
                "pair": _pair_key(row["lhs"], row["rhs"]),
                "factor_a": row["lhs"],
                "factor_b": row["rhs"],
                "r": r,
                "se": se,
                "ci_lower": lo,
                "ci_upper": hi,
                "ci_method": method,
                "level": level,
            }
        )
    cols = ["pair", "factor_a", "factor_b", "r", "se", "ci_lower", "ci_upper", "ci_method", "level"]
    return pd.DataFrame(rows, columns=cols)
