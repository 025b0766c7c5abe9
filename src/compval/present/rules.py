"""Every cut-off and verdict of the validation, written once.

The pipeline's configuration (``src/compval/schemas/config.schema.yaml``) holds the cut-offs a study may change -
``cfa.cutoffs`` (fit indices) and ``validity.delta_cfi`` / ``validity.delta_rmsea`` (invariance) - and their
defaults equal the constants here (a test checks it). The other conventions are fixed by the literature:

* fit indices: Hu & Bentler (1999), CFI and TLI >= .95, RMSEA <= .06, SRMR <= .08 (:data:`DEFAULT_CUTOFFS`);
  a bare number as a cut-off means ``<=`` for RMSEA/SRMR-like indices and ``>=`` otherwise
  (:func:`cutoff_rule`); acceptable fit (:data:`ACCEPTABLE_FIT`): CFI/TLI >= .90, RMSEA <= .08;
* measurement invariance: Chen (2007), a step holds when CFI drops by at most .010 and RMSEA rises by at most
  .015 (:data:`CHEN_DELTA_CFI`, :data:`CHEN_DELTA_RMSEA`);
* discriminant validity: HTMT below .85 (conceptually distinct) or .90 (similar constructs; Henseler et al.
  2015) and the Fornell & Larcker (1981) criterion (:func:`fornell_larcker_holds`);
* convergent validity: composite reliability >= .70 and AVE >= .50 (Fornell & Larcker 1981; Hair et al. 2019);
* reliability: .70 acceptable, .80 good (Nunnally 1978); standardized loadings >= .50 (Hair et al. 2019);
  EFA loadings salient from .30;
* factorability: Kaiser's (1974) KMO labels; factor similarity: Tucker congruence (Lorenzo-Seva & ten Berge 2006);
* revision suggestions (:mod:`compval.revision.suggest`): corrected item-total r below .30 (Nunnally & Bernstein
  1994), a modification index of 10 or more, two items correlating .80 or more (near-redundant), a dimension
  whose mean inter-item correlation is below .15 (Clark & Watson 1995).

The verdict functions return ``(text, ok)``: a plain-language sentence in the active output language
(:mod:`compval.i18n`) and True/False, or None when the value is missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from compval.i18n import N_
from compval.i18n import gettext as _
from compval.present.formatting import finite, fmt_r, index_label

__all__ = [
    "DEFAULT_CUTOFFS",
    "ACCEPTABLE_FIT",
    "GLANCE_INDICES",
    "LOWER_IS_BETTER",
    "CHEN_DELTA_CFI",
    "CHEN_DELTA_RMSEA",
    "HTMT_STRICT",
    "HTMT_LIBERAL",
    "CR_MIN",
    "AVE_MIN",
    "LOADING_MIN",
    "SALIENT_LOADING",
    "RELIABILITY_ACCEPTABLE",
    "RELIABILITY_GOOD",
    "KMO_ADEQUATE",
    "ALPHA",
    "ITEM_REST_MIN",
    "MI_MIN",
    "REDUNDANT_R",
    "COHERENCE_MIN",
    "cutoff_rule",
    "cutoff_rules",
    "meets",
    "meets_minimum",
    "significant",
    "fit_value",
    "judged_key",
    "judge_cutoffs",
    "fit_verdict",
    "htmt_class",
    "fornell_larcker_holds",
    "index_verdict",
    "reliability_verdict",
    "kmo_verdict",
    "congruence_verdict",
    "htmt_verdict",
]

# ============================================================================ cut-offs
#: Hu & Bentler (1999): index -> (direction, cut-off); the default of the config's ``cfa.cutoffs``.
DEFAULT_CUTOFFS = {"cfi": (">=", 0.95), "tli": (">=", 0.95), "rmsea": ("<=", 0.06), "srmr": ("<=", 0.08)}
#: Acceptable (not good) fit: the lighter band of the model-comparison figure.
ACCEPTABLE_FIT = {"cfi": (">=", 0.90), "tli": (">=", 0.90), "rmsea": ("<=", 0.08)}
#: The indices the report's "at a glance" list judges when the summary names no cut-offs.
GLANCE_INDICES = ("cfi", "rmsea")
#: Fit indices for which lower is better (a bare-number cut-off is an upper limit).
LOWER_IS_BETTER = ("rmsea", "srmr", "rmr")
#: Chen (2007): largest drop in CFI and rise in RMSEA from one invariance step to the next.
CHEN_DELTA_CFI = 0.010
CHEN_DELTA_RMSEA = 0.015
#: HTMT threshold for conceptually distinct constructs (Henseler et al. 2015, "HTMT.85", after Kline 2011).
HTMT_STRICT = 0.85
#: HTMT threshold for conceptually similar constructs (Henseler et al. 2015, "HTMT.90", after Gold et al. 2001).
HTMT_LIBERAL = 0.90
#: Convergent validity: composite reliability and average variance extracted (Fornell & Larcker 1981).
CR_MIN = 0.70
AVE_MIN = 0.50
#: Standardized CFA loadings (Hair et al. 2019) and salient EFA pattern loadings.
LOADING_MIN = 0.50
SALIENT_LOADING = 0.30
#: Nunnally (1978): reliability acceptable for research and group comparisons / good for decisions.
RELIABILITY_ACCEPTABLE = 0.70
RELIABILITY_GOOD = 0.80
#: Kaiser (1974): the smallest KMO with which the data are suitable for factor analysis ("mediocre").
KMO_ADEQUATE = 0.6
#: Significance level of the tests the report judges (Bartlett, Little's MCAR, criterion correlations, ΔR²).
ALPHA = 0.05
#: Revision suggestions: corrected item-total (item-rest) correlation (Nunnally & Bernstein 1994), the smallest
#: modification index worth a suggestion, near-redundant item pairs, and the smallest mean inter-item correlation
#: of a coherent dimension (Clark & Watson 1995: .15 to .50 for a broad construct).
ITEM_REST_MIN = 0.30
MI_MIN = 10.0
REDUNDANT_R = 0.80
COHERENCE_MIN = 0.15


def cutoff_rule(index: str, rule) -> tuple[str, float]:
    """``(">=" | "<=", value)`` of a cut-off given as such a pair or as a bare number (then ``<=`` for the
    :data:`LOWER_IS_BETTER` indices, e.g. ``rmsea.robust``, and ``>=`` otherwise)."""
    if isinstance(rule, (list, tuple)):
        return str(rule[0]), float(rule[1])
    return ("<=" if any(s in index for s in LOWER_IS_BETTER) else ">="), float(rule)


def cutoff_rules(cutoffs: Mapping) -> dict[str, tuple[str, float]]:
    """Index -> ``(direction, value)`` for every cut-off (:func:`cutoff_rule`)."""
    return {k: cutoff_rule(k, v) for k, v in cutoffs.items()}


def meets(value, op: str, cutoff: float) -> bool:
    """Whether ``value`` meets ``op cutoff`` (``>=`` or ``<=``); a missing value never does."""
    return finite(value) and (float(value) >= cutoff if op == ">=" else float(value) <= cutoff)


def significant(p, alpha: float = ALPHA) -> bool:
    """Whether a p value is below ``alpha`` (:data:`ALPHA`); a missing p value never is."""
    return finite(p) and float(p) < alpha


def meets_minimum(value, minimum: float) -> bool:
    """Whether ``value`` is a number of at least ``minimum`` (e.g. :data:`CR_MIN`, :data:`AVE_MIN`)."""
    return meets(value, ">=", minimum)


# ============================================================================ fit-index verdicts
def fit_value(fit: Mapping, key: str) -> float:
    """``fit[key]`` as a float (NaN when absent or not a number)."""
    try:
        return float(fit.get(key, np.nan))
    except (TypeError, ValueError):
        return np.nan


def judged_key(fit: Mapping, index: str, robust: bool) -> str:
    """The version of a fit index judged against the cut-offs: the robust one when the estimator is robust
    (MLR, WLSMV) and it is available, else the scaled one (WLSMV), else the standard one."""
    for key in ([f"{index}.robust", f"{index}.scaled"] if robust else []) + [index]:
        if key in fit and np.isfinite(fit_value(fit, key)):
            return key
    return index


def judge_cutoffs(fit: Mapping, rules: Mapping, *, robust: bool, usable: bool = True) -> list[dict]:
    """One verdict per cut-off rule (from :func:`cutoff_rules`): ``index`` (the version judged,
    :func:`judged_key`), ``value``, ``rule``, ``cutoff``, ``ok``. An unusable solution (not converged, improper)
    never meets a cut-off."""
    rows = []
    for idx, (op, val) in rules.items():
        key = judged_key(fit, idx, robust)
        v = fit.get(key, np.nan)
        ok = bool(usable and np.isfinite(v) and (v >= val if op == ">=" else v <= val))
        rows.append({"index": key, "value": v, "rule": op, "cutoff": val, "ok": ok})
    return rows


def fit_verdict(
    fit: Mapping[str, float], cutoffs: Mapping[str, object] | None = None, robust: bool = False
) -> pd.DataFrame:
    """Compare fit indices with cut-offs (default: Hu & Bentler 1999: CFI/TLI >= .95, RMSEA <= .06, SRMR <= .08).

    ``cutoffs`` maps an index name to ``(">=" or "<=", value)``, or to a bare number (then ``<=`` for
    rmsea/srmr-like indices and ``>=`` otherwise). With ``robust=True`` the ``.robust`` versions are used when
    present. Returns a DataFrame: index, value, rule, cutoff, ok.
    """
    cutoffs = DEFAULT_CUTOFFS if cutoffs is None else cutoffs
    rows = []
    for k, (op, val) in cutoff_rules(cutoffs).items():
        key = f"{k}.robust" if robust and f"{k}.robust" in fit else k
        v = fit.get(key, np.nan)
        ok = bool(v >= val) if op == ">=" else bool(v <= val)
        rows.append({"index": key, "value": v, "rule": op, "cutoff": val, "ok": ok if np.isfinite(v) else False})
    return pd.DataFrame(rows)


def index_verdict(index: str, value, rule, digits: int = 3) -> tuple[str, bool | None]:
    """``("CFI = .998 meets the ≥ .95 criterion", True)``; ``rule`` is ``(">=", .95)`` or a bare number (the
    direction then follows the index: RMSEA/SRMR lower is better). ``None`` when the value is missing."""
    op, cut = cutoff_rule(index, rule)
    base, _sep, version = index.partition(".")
    name = index_label(base) + (f" ({version})" if version else "")
    sym = "≥" if op == ">=" else "≤"
    if not finite(value):
        return _("{index} not available").format(index=name), None
    ok = meets(value, op, cut)
    text = (
        _("{index} = {value} meets the {sym} {cutoff} criterion")
        if ok
        else _("{index} = {value} does not meet the {sym} {cutoff} criterion")
    )
    return text.format(index=name, value=fmt_r(float(value), digits), sym=sym, cutoff=fmt_r(cut, 2)), ok


# ============================================================================ banded verdicts
def _band(value, bands):
    """The first ``(lower limit, ...)`` band of ``bands`` (highest first, the last one open below) that a
    number reaches; None when ``value`` is missing."""
    if not finite(value):
        return None
    return next(b for b in bands if float(value) >= b[0])


_RELIABILITY_BANDS = (
    (RELIABILITY_GOOD, N_("meets the .80 criterion (good)"), True),
    (RELIABILITY_ACCEPTABLE, N_("meets the .70 criterion (acceptable) but not .80"), True),
    (-math.inf, N_("does not meet the .70 criterion"), False),
)
_CONGRUENCE_BANDS = (
    (0.95, N_("the factors can be considered equal (≥ .95)"), True),
    (0.85, N_("fair similarity (.85–.94)"), True),
    (-math.inf, N_("not similar (< .85)"), False),
)
_KMO_BANDS = (
    (0.9, N_("marvelous")),
    (0.8, N_("meritorious")),
    (0.7, N_("middling")),
    (KMO_ADEQUATE, N_("mediocre")),
    (0.5, N_("miserable")),
    (-math.inf, None),
)
_HTMT_BANDS = (
    (HTMT_LIBERAL, "not discriminant", N_("at least .90: not discriminant"), False),
    (HTMT_STRICT, "questionable", N_("between .85 and .90: questionable"), False),
    (-math.inf, "discriminant", N_("below .85: discriminant"), True),
)


def _text_verdict(value, bands) -> tuple[str, bool | None]:
    band = _band(value, bands)
    return (_("not available"), None) if band is None else (_(band[-2]), band[-1])


def reliability_verdict(value) -> tuple[str, bool | None]:
    """Nunnally (1978) conventions: ≥ .80 good (decisions about groups and research), ≥ .70 acceptable,
    below .70 insufficient."""
    return _text_verdict(value, _RELIABILITY_BANDS)


def kmo_verdict(value) -> tuple[str, bool | None]:
    """Kaiser (1974) labels for the Kaiser-Meyer-Olkin measure of sampling adequacy."""
    band = _band(value, _KMO_BANDS)
    if band is None:
        return _("not available"), None
    if band[1] is None:
        return _("unacceptable (Kaiser, 1974); the data are not suitable for factor analysis"), False
    text = _("{label} (Kaiser, 1974); the data are suitable for factor analysis").format(label=_(band[1]))
    return text, float(value) >= KMO_ADEQUATE


def congruence_verdict(value) -> tuple[str, bool | None]:
    """Tucker congruence (Lorenzo-Seva & ten Berge 2006): ≥ .95 equal, .85-.94 fair similarity, else not."""
    return _text_verdict(value, _CONGRUENCE_BANDS)


def htmt_class(value) -> str:
    """Henseler et al. (2015): "discriminant" below .85, "questionable" in [.85, .90), "not discriminant" from
    .90, "undefined" when the ratio is missing."""
    band = _band(value, _HTMT_BANDS)
    return "undefined" if band is None else band[1]


def htmt_verdict(value) -> tuple[str, bool | None]:
    """Henseler et al. (2015): below .85 discriminant, .85-.90 questionable, from .90 not discriminant."""
    return _text_verdict(value, _HTMT_BANDS)


# ============================================================================ Fornell-Larcker
def fornell_larcker_holds(ave_a: float, ave_b: float, r: float) -> bool:
    """Fornell & Larcker (1981): both factors' AVE exceed their squared latent correlation."""
    return bool(min(ave_a, ave_b) > r * r)


# ============================================================================ codebook variants
def variant_preferred(*, same_items: bool, nested: str, delta_bic, p_diff, holds, alpha: float = ALPHA) -> bool | None:
    """Whether a codebook variant is preferred over the original (the verdict of the variants comparison).

    * A variant whose CFI gain over the original does not hold out on the holdout part (``holds`` False) is not
      preferred, whatever else.
    * A variant on other items than the original is not judged (None): information criteria and chi-square
      differences compare models of the same data only; its own fit indices are shown instead.
    * Nested in the original (e.g. two competencies merged: a constraint): preferred when the chi-square
      difference test is not significant at ``alpha`` and its BIC is lower.
    * Containing the original (e.g. a competency split: a freer model): preferred when the difference is
      significant and its BIC is lower.
    * Otherwise (same items, not nested): preferred when its BIC is lower.
    """
    if holds is not None and str(holds).lower() == "false":
        return False
    if not same_items or not np.isfinite(fit_value({"d": delta_bic}, "d")):
        return None
    lower_bic = float(delta_bic) < 0
    p = fit_value({"p": p_diff}, "p")
    if nested == "in_original" and np.isfinite(p):
        return lower_bic and p >= alpha
    if nested == "contains_original" and np.isfinite(p):
        return lower_bic and p < alpha
    return lower_bic
