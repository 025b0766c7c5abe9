"""One table of the named tolerances the R reference tests use.

Each tolerance is the agreement measured between this package and R (lavaan 0.6.14, psych, semTools, boot) on the
stored references, times a stated margin of at most 10, so that a real regression fails while the rounding noise
of two optimisers does not. ``kind`` says how a value is compared:

- ``"abs"``: ``|ours - R| <= tol``;
- ``"rel"``: ``|ours - R| <= tol * |R|``;
- ``"logp"``: p-values, ``|log10(ours) - log10(R)| <= tol`` (an absolute difference means nothing near 1e-8);
  below ``P_FLOOR`` both must be below it: lavaan computes p-values as ``1 - pchisq()`` / ``1 - pnorm()``, exact
  only to ~1e-15 absolute (it stores 0 for 1e-169 and 1.7e-14 for an RMSEA p-value of 0).

``measured`` is the largest such difference seen over every stored case when the tolerance was set (rerun the
measurement, never raise a margin, when a reference is regenerated). ``tests/test_tolerances.py`` checks that
no margin exceeds 10.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tol:
    """A named tolerance: ``measured`` agreement times ``margin`` (<= 10), compared as ``kind``."""

    measured: float
    margin: float
    kind: str
    what: str

    @property
    def tol(self) -> float:
        return self.measured * self.margin


#: p-values below this are compared only as "below it" (see the module docstring)
P_FLOOR = 1e-12

#: the largest difference seen per name in this session (for remeasuring after a reference is regenerated)
OBSERVED: dict[str, float] = {}


def _differences(actual: np.ndarray, expected: np.ndarray, kind: str) -> np.ndarray:
    if kind == "abs":
        return np.abs(actual - expected)
    if kind == "rel":
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.abs(actual - expected) / np.abs(expected)
        return np.where(actual == expected, 0.0, d)
    if kind == "logp":
        if np.any((actual < 0) | (actual > 1) | (expected < 0) | (expected > 1)):
            raise ValueError("logp compares p-values in [0, 1]")
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.abs(np.log10(actual) - np.log10(expected))
        return np.where((actual == expected) | ((actual < P_FLOOR) & (expected < P_FLOOR)), 0.0, d)
    raise ValueError(f"unknown kind {kind!r}")


def assert_close(actual, expected, name: str, err_msg: str = "") -> None:
    """Assert ``actual`` (ours) agrees with ``expected`` (R) within the named tolerance ``TOLERANCES[name]``.

    Arrays (or scalars) are compared element by element (same shape); NaN must sit at the same places in both
    (R's NA pattern). With the environment variable ``COMPVAL_TOL_RECORD`` set to a file, the largest difference
    of each call is appended there as a JSON line (``{"name": ..., "max": ...}``): run the tests and take the
    maximum per name to re-measure ``measured`` over every stored case.
    """
    t = TOLERANCES[name]
    a = np.atleast_1d(np.asarray(actual, dtype=float))
    e = np.atleast_1d(np.asarray(expected, dtype=float))
    assert a.shape == e.shape, f"{name}: shape {a.shape} != {e.shape} {err_msg}"
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    assert np.array_equal(nan_a, nan_e), f"{name}: NaN at different places {err_msg}"
    ok = ~nan_e
    d = _differences(a[ok], e[ok], t.kind) if ok.any() else np.zeros(0)
    worst = float(np.max(d)) if d.size else 0.0
    OBSERVED[name] = max(OBSERVED.get(name, 0.0), worst)
    record = os.environ.get("COMPVAL_TOL_RECORD")
    if record:
        with open(record, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"name": name, "max": worst}) + "\n")
    if not worst <= t.tol:
        i = int(np.argmax(d))
        raise AssertionError(
            f"{name} ({t.kind}, tol {t.tol:.3g} = {t.measured:g} x {t.margin:g}): largest difference {worst:.3g} "
            f"(ours {a[ok].ravel()[i]!r}, R {e[ok].ravel()[i]!r}) {err_msg}"
        )


TOLERANCES: dict[str, Tol] = {}

# --- SEM: CFA (ML, MLR, FIML), ordinal (WLSMV), invariance, modification indices, factor scores ---------------
TOLERANCES.update(
    {
        "cfa.est": Tol(2e-05, 5, "abs", "CFA estimates (ML, MLR, FIML; all parameter rows, all groups)"),
        "cfa.se": Tol(2e-05, 5, "abs", "CFA standard errors"),
        "cfa.z": Tol(0.0003, 5, "abs", "CFA z statistics"),
        "cfa.pvalue": Tol(0.0008, 5, "logp", "CFA parameter p-values"),
        "cfa.ci": Tol(6e-05, 5, "abs", "CFA 95% confidence limits"),
        "cfa.std_lv": Tol(1e-05, 5, "abs", "CFA std.lv"),
        "cfa.std_all": Tol(1e-05, 5, "abs", "CFA std.all"),
        "cfa.fit.stat": Tol(
            1e-06, 5, "rel", "CFA chi-squares, scaling factors, log-likelihoods, AIC/BIC, fmin, Hoelter N"
        ),
        "cfa.fit.zero": Tol(2e-13, 5, "abs", "CFA chi-square and fmin of a saturated model (lavaan: exactly 0)"),
        "cfa.fit.index": Tol(
            8e-07, 5, "abs", "CFA fit indices (CFI, TLI, RMSEA and its limits, SRMR, RMR, GFI, ECVI, ...)"
        ),
        "cfa.fit.pvalue": Tol(0.003, 5, "logp", "CFA test and RMSEA p-values"),
        "cfa.r2": Tol(1e-05, 5, "abs", "CFA R-squared (lavInspect r2), every group"),
        "cfa.implied": Tol(8e-06, 5, "abs", "CFA model-implied covariances, every group"),
        "cfa.corlv": Tol(5e-06, 5, "abs", "CFA latent correlations (lavInspect cor.lv), every group"),
        "cfa.lrt.stat": Tol(3e-09, 5, "rel", "lavTestLRT chi-squares, differences, AIC, BIC (ML)"),
        "cfa.lrt.scaled_diff": Tol(8e-06, 5, "rel", "lavTestLRT Satorra-Bentler (2001) scaled differences (MLR)"),
        "cfa.lrt.pvalue": Tol(3e-05, 5, "logp", "lavTestLRT p-values"),
        "cfa.mi": Tol(6e-05, 5, "abs", "modification indices"),
        "cfa.epc": Tol(3e-06, 5, "abs", "expected parameter changes (epc, sepc.lv, sepc.all)"),
        "cfa.fscores": Tol(7e-06, 5, "abs", "factor scores (lavPredict regression; FIML per respondent)"),
        "ordinal.wls_obs": Tol(4e-08, 5, "abs", "thresholds and polychoric correlations (wls.obs)"),
        "ordinal.gamma": Tol(8e-09, 5, "abs", "Gamma (NACOV), divided by its largest absolute element"),
        "ordinal.est": Tol(
            9e-06, 5, "abs", "WLSMV estimates (loadings, (co)variances, thresholds, scale factors, intercepts)"
        ),
        "ordinal.se": Tol(8e-07, 5, "abs", "WLSMV standard errors"),
        "ordinal.z": Tol(8e-05, 5, "abs", "WLSMV z statistics"),
        "ordinal.pvalue": Tol(0.0002, 5, "logp", "WLSMV parameter p-values"),
        "ordinal.ci": Tol(2e-05, 5, "abs", "WLSMV 95% confidence limits"),
        "ordinal.std_lv": Tol(6e-06, 5, "abs", "WLSMV std.lv"),
        "ordinal.std_all": Tol(6e-06, 5, "abs", "WLSMV std.all"),
        "ordinal.r2": Tol(4e-06, 5, "abs", "WLSMV R-squared, every group"),
        "ordinal.implied": Tol(2e-06, 5, "abs", "WLSMV implied polychoric correlations, every group"),
        "ordinal.corlv": Tol(7e-07, 5, "abs", "WLSMV latent correlations, every group"),
        "ordinal.vcov": Tol(
            2e-08, 5, "abs", "WLSMV sampling covariance of the free non-threshold parameters (lavInspect vcov)"
        ),
        "ordinal.catml": Tol(
            8e-07, 5, "rel", "cat-ML statistics behind the robust indices (XX3, c.hat3, XX3.null, c.hat3.null)"
        ),
        "ordinal.fit.stat": Tol(
            9e-08, 5, "rel", "WLSMV chi-squares (standard, scaled-shifted, baseline) and scaling factors"
        ),
        "ordinal.fit.index": Tol(
            1e-07, 5, "abs", "WLSMV fit indices (CFI/TLI/RMSEA standard, scaled, robust; SRMR, RMR, CRMR, fmin)"
        ),
        "ordinal.fit.pvalue": Tol(0.0005, 5, "logp", "WLSMV test and RMSEA p-values"),
        "ordinal.shift": Tol(4e-06, 5, "abs", "scaled-shifted test: shift parameter"),
        "ordinal.trace": Tol(2e-07, 5, "rel", "scaled-shifted test: tr(UGamma), tr((UGamma)^2)"),
        "ordinal.difftest.stat": Tol(2e-07, 5, "rel", "DIFFTEST (satorra.2000) difference, scale, Satterthwaite df"),
        "ordinal.difftest.shift": Tol(2e-08, 5, "abs", "DIFFTEST shift"),
        "ordinal.difftest.pvalue": Tol(3e-06, 5, "logp", "DIFFTEST p-values"),
        "ordinal.semtools": Tol(6e-07, 5, "abs", "compRelSEM / AVE of WLSMV fits"),
        "ordinal.ebm_scores": Tol(
            0.0002, 5, "abs", "EBM factor scores (lavaan's BFGS stops at reltol 1e-8: its scores carry ~1e-4)"
        ),
        "ordinal.mi": Tol(0.002, 5, "abs", "WLSMV modification indices"),
        "ordinal.epc": Tol(3e-05, 5, "abs", "WLSMV expected parameter changes"),
        "demo.cfa.est": Tol(3e-05, 5, "abs", "demo CFA (FIML, 50 items, 7 models) estimates"),
        "demo.cfa.se": Tol(1e-05, 5, "abs", "demo CFA standard errors"),
        "demo.cfa.z": Tol(0.0007, 5, "abs", "demo CFA z statistics"),
        "demo.cfa.pvalue": Tol(0.0005, 5, "logp", "demo CFA parameter p-values"),
        "demo.cfa.std_lv": Tol(2e-05, 5, "abs", "demo CFA std.lv"),
        "demo.cfa.std_all": Tol(3e-05, 5, "abs", "demo CFA std.all"),
        "demo.cfa.fit.stat": Tol(2e-10, 5, "rel", "demo CFA chi-squares, log-likelihoods, AIC/BIC"),
        "demo.cfa.fit.index": Tol(7e-07, 5, "abs", "demo CFA fit indices"),
        "demo.cfa.fit.pvalue": Tol(3e-09, 5, "logp", "demo CFA test and RMSEA p-values"),
        "demo.cfa.corlv": Tol(7e-07, 5, "abs", "demo CFA latent correlations"),
        "demo.cfa.delta_bic": Tol(3e-07, 5, "abs", "demo: BIC difference merged - hypothesized"),
        "demo.cfa.cr_ave": Tol(2e-06, 5, "abs", "demo compRelSEM / AVE of the FIML fit"),
        "demo.wlsmv.est": Tol(
            2e-05, 5, "abs", "demo WLSMV (pairwise) estimates (lavaan's nlminb stops early on a flat DWLS objective)"
        ),
        "demo.wlsmv.se": Tol(2e-06, 5, "abs", "demo WLSMV standard errors"),
        "demo.wlsmv.z": Tol(0.0002, 5, "abs", "demo WLSMV z statistics"),
        "demo.wlsmv.pvalue": Tol(7e-05, 5, "logp", "demo WLSMV parameter p-values"),
        "demo.wlsmv.std_lv": Tol(2e-05, 5, "abs", "demo WLSMV std.lv"),
        "demo.wlsmv.std_all": Tol(2e-05, 5, "abs", "demo WLSMV std.all"),
        "demo.wlsmv.fit.stat": Tol(3e-08, 5, "rel", "demo WLSMV chi-squares and scaling factors"),
        "demo.wlsmv.fit.index": Tol(2e-06, 5, "abs", "demo WLSMV fit indices"),
        "demo.wlsmv.fit.pvalue": Tol(3e-07, 5, "logp", "demo WLSMV test and RMSEA p-values"),
        "demo.wlsmv.difftest": Tol(7e-08, 5, "rel", "demo WLSMV DIFFTEST differences"),
        "demo.wlsmv.cr_ave": Tol(4e-07, 5, "abs", "demo compRelSEM / AVE of the WLSMV fit"),
        "demo.wlsmv.scores": Tol(2e-05, 5, "abs", "demo EBM factor scores (lavaan's BFGS stops at reltol 1e-8)"),
    }
)


# --- EFA and construct validity (psych::fa, fa.parallel, VSS, HTMT, CR/AVE) -----------------------------------
TOLERANCES.update(
    {
        "efa.pearson": Tol(2e-15, 10, "abs", "pairwise Pearson correlations (cor(use = 'pairwise'))"),
        "efa.kmo": Tol(2e-15, 10, "abs", "KMO measure of sampling adequacy, overall and per item"),
        "efa.bartlett": Tol(8e-16, 10, "rel", "Bartlett's sphericity chi-square"),
        "efa.bartlett.pvalue": Tol(
            2e-13, 10, "rel", "Bartlett's sphericity p-value (psych: pchisq(lower.tail = FALSE), exact far below 1e-12)"
        ),
        "efa.map": Tol(4e-12, 10, "abs", "Velicer's MAP (psych::VSS)"),
        "efa.fa_values": Tol(7e-15, 10, "abs", "fa.parallel observed eigenvalues"),
        "efa.fa": Tol(
            3e-13, 10, "abs", "psych::fa loadings, structure, communalities, uniquenesses, Phi, variance accounted for"
        ),
        "efa.rotation": Tol(2e-15, 10, "abs", "rotations of psych's unrotated loadings (GPArotation)"),
        "efa.congruence": Tol(6e-15, 10, "abs", "factor.congruence"),
        "efa.polychoric.tau": Tol(5e-15, 10, "abs", "psych::polychoric thresholds"),
        "efa.polychoric.rho": Tol(6e-12, 10, "abs", "psych::polychoric correlations"),
        "validity.sampstat": Tol(8e-15, 10, "abs", "sample covariance (lavInspect sampstat, divisor N)"),
        "validity.model_matrices": Tol(
            2e-14, 10, "abs", "implied covariances, cov.lv and cor.lv rebuilt from lavaan's parameter table"
        ),
        "validity.cr": Tol(
            4e-15, 10, "abs", "semTools compRelSEM (observed, implied, tau-equivalent) on lavaan's estimates"
        ),
        "validity.single_indicator_cr": Tol(
            4e-08, 5, "abs", "omega of a single-indicator factor: 1 up to lavaan's convergence"
        ),
        "validity.ave": Tol(3e-15, 10, "abs", "semTools AVE (and its square root in the Fornell-Larcker table)"),
        "validity.htmt": Tol(
            4e-15, 10, "abs", "semTools htmt (HTMT2, arithmetic, signed; from data or a covariance matrix)"
        ),
        "validity.factor_correlations": Tol(
            9e-16, 10, "abs", "standardizedSolution factor correlations: r, delta SE, CI"
        ),
        "validity.fisher_ci": Tol(8e-16, 10, "abs", "psych::r.con Fisher-z intervals of the factor correlations"),
        "demo.efa.kmo": Tol(7e-16, 10, "abs", "demo KMO"),
        "demo.efa.bartlett": Tol(6e-16, 10, "rel", "demo Bartlett chi-square"),
        "demo.efa.bartlett.pvalue": Tol(1e-15, 10, "rel", "demo Bartlett p-value (0 in R and here: measured 0)"),
        "demo.efa.map": Tol(3e-17, 10, "abs", "demo Velicer MAP"),
        "demo.efa.fa_values": Tol(3e-14, 10, "abs", "demo fa.parallel observed eigenvalues"),
        "demo.efa.fa": Tol(
            2e-13, 10, "abs", "demo minres/oblimin loadings, Phi, communalities (matched up to order and sign)"
        ),
        "demo.htmt": Tol(2e-15, 10, "abs", "demo semTools htmt"),
    }
)


# --- Reliability, descriptives, careless responding, missingness, criterion validity, power ------------------
TOLERANCES.update(
    {
        # measured over every stored case on 2026-12-02 (COMPVAL_TOL_RECORD, see assert_close)
        "alpha_psych": Tol(
            5e-15, 10, "abs", "psych::alpha totals, alpha.drop, Feldt/Duhachek limits, omega's alpha/G6"
        ),
        "alpha_signal_noise_psych": Tol(3e-15, 10, "rel", "psych::alpha signal/noise ratio S/N"),
        "item_stats_psych": Tol(7e-15, 10, "abs", "psych::alpha item.stats and describe skew/kurtosis (type 3)"),
        "omega_psych": Tol(2e-13, 10, "abs", "psych::omega omega.tot, omega_h, omega.lim, Schmid-Leiman g/h2/u2"),
        "describe_psych": Tol(7e-15, 10, "abs", "psych::describe n, mean, sd, median, min, max, skew, kurtosis"),
        "score_items_psych": Tol(4e-15, 10, "abs", "psych::scoreItems mean scores (impute = 'none')"),
        "careless_r": Tol(4e-13, 10, "abs", "careless 1.2.2 indices (longstring, irv, mahad, evenodd, psychsyn/ant)"),
        "little_mcar_chi2": Tol(3e-15, 10, "rel", "Little's MCAR chi-square (EM estimates, formula in R)"),
        "little_mcar_p": Tol(9e-14, 10, "logp", "Little's MCAR p-value"),
        "em_same_algorithm_r": Tol(3e-14, 10, "abs", "EM mean and covariance against the same EM in R"),
        "em_vs_lavaan_fiml": Tol(4e-6, 2.5, "abs", "EM mean and covariance against lavaan's FIML saturated model"),
        "criterion_cor": Tol(8e-15, 10, "abs", "cor.test r, t, Fisher-z CIs, Spearman rho and CIs, attenuation"),
        "criterion_p": Tol(6e-12, 10, "logp", "p-values: cor.test, p.adjust BH, lm/anova, HC3 waldtest, t.test"),
        "spearman_s": Tol(9e-16, 10, "rel", "cor.test(method = 'spearman') statistic S"),
        "criterion_regression": Tol(5e-12, 10, "abs", "lm R2, F, coefficients, SEs, HC3 SEs, betas, car::vif"),
        "dominance_weights": Tol(2e-15, 10, "abs", "general dominance weights and R2 from all-subsets lm in R"),
        "known_groups": Tol(6e-12, 10, "abs", "Welch t.test, Hedges' g and CI, pROC AUC and DeLong CI"),
        "criterion_latent_lavaan": Tol(
            2e-4, 5, "abs", "latent regression vs lavaan::sem: estimates, SEs, z, CIs, R2, fit"
        ),
        "criterion_latent_lavaan_p": Tol(5e-4, 10, "logp", "latent regression p-values and chi-square p vs lavaan"),
    }
)


# --- Bootstrap intervals (boot::boot.ci percentile, same resampling indices) ---------------------------------
TOLERANCES.update(
    {
        # R on the very resamples the library draws (tests/reference/bootstrap); each name covers the replicates,
        # the full-sample estimate and the percentile limits (R: quantile type 7, as numpy.quantile's default)
        "boot_alpha": Tol(8e-16, 10, "abs", "alpha per resample vs psych::alpha (pairwise, listwise)"),
        "boot_omega_total": Tol(8e-7, 5, "abs", "omega total per resample vs psych::omega (its L-BFGS-B stop)"),
        # 8 of 200 resamples differ (3e-10 .. 4e-4): psych's Schmid-Leiman solution on those rows differs from the
        # library's; the other 192 agree to 1e-13 (test_bootstrap_reference.py keeps that count)
        "boot_omega_hierarchical": Tol(4e-4, 2.5, "abs", "omega_h (3 group factors) per resample vs psych::omega"),
        "boot_htmt": Tol(7e-14, 10, "abs", "HTMT2 and arithmetic HTMT per resample vs semTools::htmt"),
        "boot_dominance": Tol(4e-16, 10, "abs", "general dominance weights per resample vs all-subsets lm in R"),
    }
)
