"""Reliability: Cronbach's alpha, Guttman's lambda-6, item analysis, McDonald's omega, bootstrap CIs.

Every number reproduces the R package **psych 2.2.9** (with GPArotation 2022.10.2 for the oblimin
rotation); the reference values live in ``tests/reference/reliability/`` (``make_reference.R``).

* :func:`cronbach_alpha` -- ``psych::alpha(x, check.keys = FALSE)``: raw and standardised alpha
  (Cronbach 1951), Guttman's (1945) lambda-6 from squared multiple correlations, average and median
  inter-item r, the asymptotic standard error of Duhachek & Iacobucci (2004) and the confidence intervals
  of Feldt, Woodruff & Salih (1987) (``psych::alpha.ci``) and Duhachek (alpha +/- 1.96 ase, as printed
  by psych).
* :func:`item_analysis` -- ``psych::alpha(...)$item.stats`` and ``$alpha.drop`` plus skew and kurtosis
  as ``psych::describe`` (type 3), floor/ceiling shares and a flag for items that hurt reliability.
* :func:`omega` -- ``psych::omega(x, nfactors, fm = "minres", rotate = "oblimin")``: McDonald's (1999)
  omega total and the Schmid & Leiman (1957) omega hierarchical (Zinbarg et al. 2005). The factor
  analysis is the one of :mod:`compval.efa` (single implementation): psych's minres (Harman & Jones
  1966; L-BFGS-B on the off-diagonal residuals, SMC starts, psych's own gradient and ``optim``
  settings -- the same settings in ``psych::fa`` and in ``psych::omega``/``schmid``, which call
  ``fa``), ``stats::varimax`` and ``GPArotation::oblimin`` (Jennrich 2002, gradient projection);
  squared multiple correlations are :func:`compval.efa.smc` and skew / kurtosis
  :func:`compval.descriptives.skew_kurtosis`.
* :func:`bootstrap_ci` -- seeded percentile bootstrap (Efron & Tibshirani 1993) for alpha / omega total /
  omega hierarchical; above ``max_n`` rows (the pipeline's ``bootstrap_max_n``) a bag of little bootstraps
  (Kleiner et al. 2014; :mod:`compval.resampling`); :func:`bootstrap_cis` several of them on the same resamples
  with one pass of weighted moments. :func:`reliability_table` computes every scale and statistic on the same
  resamples of the respondents (:class:`compval.resampling.SharedResamples`).
* :func:`reliability_table`, :func:`item_analysis_table` -- tidy per-group tables for the pipeline.

Missing data
------------
``missing="pairwise"`` (psych's and pingouin's default) estimates the covariance / correlation matrix
from pairwise-complete observations, and -- exactly as psych -- uses the number of rows (including rows
with missing answers) as *n* for the standard error and the Feldt interval. ``missing="listwise"`` first
drops every row with a missing answer on the group's items (= ``psych::alpha(na.omit(x))``).

Modules
-------
One job per module, every public name importable from ``compval.reliability``:
:mod:`~compval.reliability.matrices` (missing-data policy, pairwise covariances and correlations),
:mod:`~compval.reliability.alpha`, :mod:`~compval.reliability.items` (item analysis),
:mod:`~compval.reliability.omegas` (omega total and hierarchical), :mod:`~compval.reliability.bootstrap`
(intervals) and :mod:`~compval.reliability.table` (the per-scale table).
"""

from .alpha import AlphaResult, cronbach_alpha
from .bootstrap import BootstrapCI, bootstrap_ci, bootstrap_cis
from .items import ITEM_ANALYSIS_COLUMNS, item_analysis, item_analysis_table
from .omegas import OmegaResult, omega
from .table import RELIABILITY_COLUMNS, reliability_table

__all__ = [
    "AlphaResult",
    "OmegaResult",
    "BootstrapCI",
    "cronbach_alpha",
    "item_analysis",
    "omega",
    "bootstrap_ci",
    "bootstrap_cis",
    "reliability_table",
    "item_analysis_table",
    "RELIABILITY_COLUMNS",
    "ITEM_ANALYSIS_COLUMNS",
]
