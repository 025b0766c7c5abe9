"""Criterion validity: do competency scores predict performance criteria?

Pure functions on three aligned tables (rows = respondents, aligned on the index):

* ``scores``   - one numeric column per competency key (predictors);
* ``criteria`` - one numeric column per criterion (outcomes);
* ``controls`` - optional; numeric columns are used as they are, categorical columns (pandas ``category``,
  ``object``/string or ``bool`` dtype) are treatment (dummy) coded with the first level as reference,
  exactly as R's ``lm`` codes a factor (``contr.treatment``).

The analyses and the R functions they reproduce:

1. :func:`correlate` - Pearson r with the Fisher-z confidence interval and the t-test p-value of
   ``cor.test``; Spearman rho with ``cor.test(method = "spearman")``'s p-value (AS 89 when there are no ties
   and n <= 1290, otherwise the t approximation) and a Fisher-z interval with the Bonett & Wright (2000)
   standard error; Benjamini & Hochberg (1995) adjustment across the whole family (``p.adjust(, "BH")``).
2. :func:`correct_attenuation` - Spearman's (1904) correction ``r / sqrt(rxx * ryy)``.
3. :func:`hierarchical_regression` - step 1 controls, step 2 controls + competencies (``lm`` + ``anova``),
   standardized betas, HC3 standard errors (``sandwich::vcovHC(type = "HC3")`` + ``lmtest::coeftest``),
   (generalized) VIFs (``car::vif``).
4. :func:`dominance_analysis` - general dominance weights (Budescu 1993; Azen & Budescu 2003) with seeded
   percentile bootstrap intervals.
5. :func:`known_groups` - top group vs the rest: Welch ``t.test``, Hedges' g, ROC AUC (``pROC::auc``) with
   the DeLong interval (``pROC::ci.auc(method = "delong")``).

:func:`run_criterion` runs everything and returns a :class:`CriterionResult` of tidy DataFrames.
Respondents without a criterion value are counted per criterion (``missing`` table, ``n_missing``), never
silently dropped.

The package has one module per job: :mod:`~compval.criterion.prepare` (checks, transforms, control coding),
:mod:`~compval.criterion.correlations`, :mod:`~compval.criterion.ols` (OLS, HC3, F tests),
:mod:`~compval.criterion.regression`,
:mod:`~compval.criterion.dominance`, :mod:`~compval.criterion.groups` (known groups),
:mod:`~compval.criterion.latent` (latent regression) and :mod:`~compval.criterion.driver` (:func:`run_criterion`);
every public name is importable from ``compval.criterion``.
"""

from .correlations import bh_adjust, correct_attenuation, correlate, spearman_pvalue
from .dominance import MAX_DOMINANCE_PREDICTORS, dominance_analysis, general_dominance
from .driver import RESERVED_NAMES, CriterionResult, run_criterion
from .groups import auc_delong, hedges_g, known_groups, welch_t_test
from .latent import LATENT_FIT_KEYS, latent_regression, latent_regression_syntax, latent_summary
from .prepare import control_design, missing_report, transform_criteria
from .regression import hierarchical_regression

__all__ = [
    "CriterionResult",
    "run_criterion",
    "transform_criteria",
    "missing_report",
    "correlate",
    "correct_attenuation",
    "bh_adjust",
    "spearman_pvalue",
    "hierarchical_regression",
    "control_design",
    "dominance_analysis",
    "general_dominance",
    "known_groups",
    "hedges_g",
    "welch_t_test",
    "auc_delong",
    "latent_regression",
    "latent_regression_syntax",
    "latent_summary",
    "RESERVED_NAMES",
    "MAX_DOMINANCE_PREDICTORS",
    "LATENT_FIT_KEYS",
]
