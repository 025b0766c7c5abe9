"""Convergent and discriminant validity of a measurement model.

Everything here works from a fitted CFA's *parameter table* (see below), the sample covariance matrix
and/or the item responses; no function knows item names or the number of factors in advance.

Computed
--------
* composite reliability (omega) per factor, as ``semTools::compRelSEM`` (Raykov 1997);
* average variance extracted, as ``semTools::AVE`` (Fornell & Larcker 1981);
* the Fornell-Larcker table: sqrt(AVE) against the latent correlations (Fornell & Larcker 1981);
* the heterotrait-monotrait ratio of correlations, as ``semTools::htmt`` (Henseler, Ringle & Sarstedt
  2015; Roemer, Schuberth & Henseler 2021 for the geometric-mean HTMT2), with seeded percentile
  bootstrap confidence intervals;
* factor correlations with confidence intervals (delta method as ``lavaan::standardizedSolution``, or a
  Fisher-z interval when no standard errors are available);
* :func:`validity_summary`, the compact dict written to ``summary.json``.

The parameter table
-------------------
A tidy DataFrame with one row per parameter and lavaan's naming, i.e. ``lavaan::parameterEstimates(fit,
standardized = TRUE)`` with the dots in column names replaced by underscores: columns ``lhs, op, rhs,
group, free, est, se, z, pvalue, ci_lower, ci_upper, std_lv, std_all`` and optionally ``std_all_se``
(the ``se`` column of ``lavaan::standardizedSolution(fit)``). ``op`` is one of ``"=~"`` (loading),
``"~~"`` (variance/covariance), ``"~1"`` (intercept), ``"~"`` (regression). Only ``lhs, op, rhs, est``
are required by the reliability functions; :func:`factor_correlations` needs ``std_all``.

References
----------
Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with unobservable variables
and measurement error. *Journal of Marketing Research, 18*(1), 39-50.

Franke, G., & Sarstedt, M. (2019). Heuristics versus statistics in discriminant validity testing: a
comparison of four procedures. *Internet Research, 29*(3), 430-447.

Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing discriminant validity
in variance-based structural equation modeling. *Journal of the Academy of Marketing Science, 43*(1),
115-135.

Raykov, T. (1997). Estimation of composite reliability for congeneric measures. *Applied Psychological
Measurement, 21*(2), 173-184.

Roemer, E., Schuberth, F., & Henseler, J. (2021). HTMT2 - an improved criterion for assessing
discriminant validity in structural equation modeling. *Industrial Management & Data Systems, 121*(12),
2637-2650.

Modules
-------
:mod:`~compval.validity.matrices` (the parameter table as matrices), :mod:`~compval.validity.convergent` (CR,
AVE), :mod:`~compval.validity.discriminant` (Fornell-Larcker, HTMT, factor correlations) and
:mod:`~compval.validity.summary`; every public name is importable from ``compval.validity``.
"""

from __future__ import annotations

from .convergent import average_variance_extracted, composite_reliability
from .discriminant import (
    HTMT_LIBERAL,
    HTMT_STRICT,
    FornellLarckerResult,
    HTMTResult,
    factor_correlations,
    fornell_larcker,
    htmt,
    htmt_from_correlation,
)
from .matrices import ModelMatrices, factor_items, model_matrices, sample_covariance
from .summary import validity_summary

__all__ = [
    "HTMT_STRICT",
    "HTMT_LIBERAL",
    "ModelMatrices",
    "model_matrices",
    "factor_items",
    "sample_covariance",
    "composite_reliability",
    "average_variance_extracted",
    "FornellLarckerResult",
    "fornell_larcker",
    "HTMTResult",
    "htmt",
    "htmt_from_correlation",
    "factor_correlations",
    "validity_summary",
]
