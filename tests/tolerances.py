"""One table of the named tolerances the R reference tests use.

Each tolerance is the agreement measured between this package and R (lavaan 0.6.14, psych, semTools, boot) on the
stored references, times a stated margin of at most 10, so that a real regression fails while the rounding noise
of two optimisers does not. ``kind`` says how a value is compared:

- ``"abs"``: ``|ours - R| <= tol``;
- ``"rel"``: ``|ours - R| <= tol * |R|``;
- ``"logp"``: p-values, ``|log10(ours) - log10(R)| <= tol`` (an absolute difference means nothing near 1e-8).

``measured`` is the largest such difference seen over every stored case when the tolerance was set (rerun the
measurement, never raise a margin, when a reference is regenerated). ``tests/test_tolerances.py`` checks that
no margin exceeds 10.
"""

from __future__ import annotations

from dataclasses import dataclass


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


TOLERANCES: dict[str, Tol] = {}

# --- SEM: CFA (ML, MLR, FIML), ordinal (WLSMV), invariance, modification indices, factor scores ---------------


# --- EFA and construct validity (psych::fa, fa.parallel, VSS, HTMT, CR/AVE) -----------------------------------


# --- Reliability, descriptives, careless responding, missingness, criterion validity, power ------------------
TOLERANCES.update(
    {
        # measured over every stored case on 2026-12-02 (COMPVAL_TOL_RECORD, see check_close)
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


def check_close(got, want, name: str, err_msg: str = "") -> None:
    """Assert ``got`` agrees with ``want`` (R) within the named tolerance ``TOLERANCES[name]``.

    Arrays (or scalars) of the same shape; NaN must be NaN on both sides (R's NA pattern). ``kind`` "abs":
    ``|got - want|``; "rel": ``|got - want| / |want|`` (0 where both are 0); "logp": ``|log10 got - log10 want|``
    (0 where both are 0). With the environment variable ``COMPVAL_TOL_RECORD`` set to a file, the largest
    difference of each call is appended there as a JSON line (``{"name": ..., "max": ...}``): that is how
    ``measured`` is re-measured over every stored case (run the tests, take the maximum per name).
    """
    import json  # local imports keep this section independent of the file's header (merges cleanly)
    import os

    import numpy as np

    tol = TOLERANCES[name]
    g = np.atleast_1d(np.asarray(got, dtype=float))
    w = np.atleast_1d(np.asarray(want, dtype=float))
    assert g.shape == w.shape, f"{name}: shapes {g.shape} and {w.shape} {err_msg}"
    nan = np.isnan(w)
    np.testing.assert_array_equal(np.isnan(g), nan, err_msg=f"{name}: NaN pattern differs from R {err_msg}")
    g, w = g[~nan], w[~nan]
    with np.errstate(divide="ignore", invalid="ignore"):
        if tol.kind == "abs":
            d = np.abs(g - w)
        elif tol.kind == "rel":
            d = np.where(g == w, 0.0, np.abs(g - w) / np.abs(w))
        elif tol.kind == "logp":
            d = np.where(g == w, 0.0, np.abs(np.log10(g) - np.log10(w)))
        else:
            raise ValueError(f"unknown kind {tol.kind!r}")
    d = np.where(np.isnan(d), np.inf, d)
    worst = float(d.max()) if d.size else 0.0
    record = os.environ.get("COMPVAL_TOL_RECORD")
    if record:
        with open(record, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"name": name, "max": worst}) + "\n")
    if worst > tol.tol:
        i = int(np.argmax(d))
        raise AssertionError(
            f"{name} ({tol.what}): {tol.kind} difference {worst:.3g} > {tol.tol:.3g} "
            f"(measured {tol.measured:g} x margin {tol.margin:g}); got {g[i]!r}, R {w[i]!r} {err_msg}"
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
