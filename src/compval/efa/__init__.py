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
  ``Pinv``), :func:`minres` (unrotated minres), :func:`varimax`, :func:`oblimin` and :func:`fa_loadings` (the
  arrays of :func:`fa` without tables, cheap enough for bootstrap loops); for bootstraps of many small models
  also :func:`unrotated_loadings`, :func:`reflect_and_order`, the stacked minres fits :func:`minres_stack` /
  :func:`unrotated_loadings_stack` and the stacked rotations :func:`varimax_batch` and :func:`oblimin_batch`
  (own code: many matrices at once, the same numbers).
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
  (GPArotation's ``maxit``; factor_analyzer defaults to 500).  Varimax (normalised) and oblimin are computed by
  own stacked code that repeats the Rotator's arithmetic operation by operation (:func:`varimax_batch`,
  :func:`oblimin_batch`; the tests compare them with the Rotator bit for bit): many matrices at once for the
  bootstraps, and no import of factor_analyzer / scikit-learn (about a second) in the processes that only need
  these two; promax and geomin are the Rotator's.  Not used: its oblimin with ``gamma != 0``
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

Modules
-------
:mod:`~compval.efa.correlation` (correlation matrices, SMC, polychoric), :mod:`~compval.efa.suitability`
(KMO, Bartlett), :mod:`~compval.efa.retention` (parallel analysis, MAP, scree), :mod:`~compval.efa.extraction`
(psych's ``fa``), :mod:`~compval.efa.rotation`, :mod:`~compval.efa.agreement` (congruence, matching, problem
items) and :mod:`~compval.efa.run` (:func:`run_efa`, the cross-validation split); every public name is
importable from ``compval.efa``.  The bivariate normal probabilities and R's ``optimize`` behind the polychoric
correlations are shared with the ordinal SEM branch in :mod:`compval.sem.bivariate`.
"""

from __future__ import annotations

from .agreement import congruence, match_factors, problem_items, target_matrix
from .correlation import correlation_matrix, polychoric, smc, smc_stack
from .extraction import (
    METHODS,
    FactorSolution,
    fa,
    fa_loadings,
    minres,
    minres_stack,
    reflect_and_order,
    unrotated_loadings,
    unrotated_loadings_stack,
)
from .retention import ParallelAnalysis, null_correlation, number_of_factors, parallel_analysis, scree, velicer_map
from .rotation import ROTATIONS, oblimin, oblimin_batch, rotate, varimax, varimax_batch
from .run import EFAResult, run_efa, split_half
from .suitability import BartlettResult, KMOResult, bartlett_sphericity, kmo

__all__ = [
    "correlation_matrix",
    "smc",
    "smc_stack",
    "kmo",
    "bartlett_sphericity",
    "velicer_map",
    "parallel_analysis",
    "null_correlation",
    "scree",
    "number_of_factors",
    "fa",
    "fa_loadings",
    "unrotated_loadings",
    "unrotated_loadings_stack",
    "reflect_and_order",
    "minres",
    "minres_stack",
    "rotate",
    "varimax",
    "varimax_batch",
    "oblimin",
    "oblimin_batch",
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
    "ROTATIONS",
    "METHODS",
]
