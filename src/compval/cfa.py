"""Confirmatory factor analysis that reproduces lavaan 0.6.14 (``cfa()``), driven by plain dicts.

Models are built from a dict factor -> indicators (:func:`hypothesized`, :func:`one_factor`, :func:`modules`,
:func:`second_order`, :func:`orthogonal`, :func:`parcels`) or given as lavaan syntax (:func:`from_syntax`);
each builder returns a :class:`ModelSpec` holding the lavaan syntax text and the structure.
:func:`fit_cfa` estimates the model by normal-theory maximum likelihood (Joreskog 1969), as ``lavaan::cfa()``
with its defaults (ML, marker-variable identification, expected information, ``likelihood = "normal"``), or
with ``estimator="MLR"`` (Huber-White sandwich standard errors from the observed information and the
Yuan-Bentler scaled chi-square, ``test = "yuan.bentler.mplus"``; Yuan & Bentler 2000), optionally with full
information ML for missing data (``missing="ml"``; Arbuckle 1996) and multiple groups with ``group_equal``
constraints (measurement invariance; Meredith 1993). Results: a tidy parameter table with lavaan naming,
``fitMeasures()``-named fit indices, standardized solutions, R-squared, a status string (convergence,
Heywood cases, non-positive-definite matrices, identification).

Also: :func:`compare_models` (``lavTestLRT``, Satorra & Bentler 2001 scaled difference under MLR),
:func:`measurement_invariance` (Chen 2007 criteria; the cut-offs and verdicts themselves are in
:mod:`compval.present.rules`),
:func:`modification_indices` (``modindices()``), :func:`factor_scores` (``lavPredict(method="regression")``).

This module is the front end: the model builders, :class:`CFAResult` and :func:`fit_cfa`; the estimator and the
functions that work on a fit live in :mod:`compval.sem` and are importable from here.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from .parallel import forked_map
from .present.rules import CHEN_DELTA_CFI, CHEN_DELTA_RMSEA
from .sem.compare import compare_models, difftest
from .sem.dwlsfit import fit_dwls_model
from .sem import invariance, samplestats
from .sem.invariance import INVARIANCE_STEPS
from .sem.mlfit import fit_ml_model, ml_sample_statistics
from .sem.modindices import modification_indices
from .sem.params import PARAM_COLUMNS
from .sem.partable import ModelSyntaxError, parse_syntax
from .sem.predict import factor_scores, latent_covariance
from .sem.result import CFAResult, without_rows
from .sem.spec import ModelSpec

__all__ = [
    "ModelSpec",
    "ModelSyntaxError",
    "CFAResult",
    "hypothesized",
    "one_factor",
    "modules",
    "second_order",
    "orthogonal",
    "parcels",
    "make_parcels",
    "from_syntax",
    "fit_cfa",
    "prepare_sample_statistics",
    "fit_models",
    "without_rows",
    "fit_options",
    "compare_models",
    "difftest",
    "measurement_invariance",
    "modification_indices",
    "factor_scores",
    "latent_covariance",
    "PARAM_COLUMNS",
    "INVARIANCE_STEPS",
]


# =============================================================================================== builders
def _clean(factors: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    out = {str(k): [str(i) for i in v] for k, v in factors.items()}
    if not out:
        raise ValueError("no factors given")
    for k, v in out.items():
        if not v:
            raise ValueError(f"factor {k!r} has no indicators")
    return out


def _syntax(factors: dict[str, list[str]], extra: Sequence[str] = ()) -> str:
    lines = [f"{f} =~ {' + '.join(items)}" for f, items in factors.items()]
    return "\n".join(list(lines) + list(extra)) + "\n"


def _first_order_notes(factors: dict[str, list[str]]) -> tuple[bool, list[str]]:
    notes = []
    identified = True
    for f, items in factors.items():
        if len(items) == 1:
            notes.append(f"factor {f!r} has a single indicator: not identified without further constraints")
            identified = False
        elif len(items) == 2 and len(factors) == 1:
            notes.append(f"factor {f!r} has two indicators and no other factor: not identified")
            identified = False
        elif len(items) == 2:
            notes.append(f"factor {f!r} has two indicators: identified only through its covariances")
    return identified, notes


def hypothesized(factors: Mapping[str, Sequence[str]], name: str = "hypothesized") -> ModelSpec:
    """Correlated first-order factors, one per key of ``factors`` (factor -> indicators)."""
    f = _clean(factors)
    ok, notes = _first_order_notes(f)
    return ModelSpec(name=name, syntax=_syntax(f), factors=f, identified=ok, notes=tuple(notes))


def orthogonal(factors: Mapping[str, Sequence[str]], name: str = "orthogonal") -> ModelSpec:
    """Uncorrelated first-order factors (factor covariances fixed to 0, as ``orthogonal = TRUE``)."""
    f = _clean(factors)
    ok, notes = _first_order_notes(f)
    extra = []
    keys = list(f)
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            extra.append(f"{keys[i]} ~~ 0*{keys[j]}")
    return ModelSpec(
        name=name,
        syntax=_syntax(f, extra),
        factors=f,
        orthogonal=True,
        identified=ok and all(len(v) >= 3 for v in f.values()),
        notes=tuple(notes),
    )


def one_factor(
    factors: Mapping[str, Sequence[str]], name: str = "one_factor", factor_name: str = "general"
) -> ModelSpec:
    """A single factor measured by all indicators of all factors (the Harman-type competitor model)."""
    f = _clean(factors)
    items = list(dict.fromkeys(i for v in f.values() for i in v))
    g = {factor_name: items}
    ok, notes = _first_order_notes(g)
    return ModelSpec(name=name, syntax=_syntax(g), factors=g, identified=ok, notes=tuple(notes))


def modules(factors: Mapping[str, Sequence[str]], factor_module: Mapping[str, str], name: str = "modules") -> ModelSpec:
    """One correlated factor per higher group (module), measured by the items of its factors."""
    f = _clean(factors)
    missing = [k for k in f if k not in factor_module]
    if missing:
        raise ValueError(f"factors without a module: {missing}")
    g: dict[str, list[str]] = {}
    for k, items in f.items():
        g.setdefault(str(factor_module[k]), []).extend(items)
    ok, notes = _first_order_notes(g)
    return ModelSpec(name=name, syntax=_syntax(g), factors=g, identified=ok, notes=tuple(notes))


def second_order(
    factors: Mapping[str, Sequence[str]],
    factor_module: Mapping[str, str] | None = None,
    name: str = "second_order",
    general_name: str = "general",
) -> ModelSpec:
    """First-order factors loading on second-order factors (one per module, or one general factor).

    Identification: a second-order factor with three or more first-order factors is identified with the
    marker loading. One with exactly two first-order factors has its two loadings constrained equal in the
    standardized metric (Kline 2016, ch. 12): the two first-order factors get unit disturbance variances and
    free loadings, the second-order factor unit variance, and its two loadings one label -- so the constraint
    does not depend on which item is a marker (an equality of unstandardized loadings under marker
    identification would), noted in ``notes``; a module with a single first-order
    factor gets no second-order factor (the first-order factor is kept and correlated with the second-order
    factors), also noted. If only one second-order factor would have fewer than two first-order factors, the
    model is flagged ``identified = False``.
    """
    f = _clean(factors)
    if factor_module is not None and any(k not in factor_module for k in f):
        raise ValueError(f"factors without a module: {[k for k in f if k not in factor_module]}")
    if factor_module is None or len(set(factor_module[k] for k in f)) == 1:
        groups = {general_name: list(f)}
    else:
        groups = {}
        for k in f:
            groups.setdefault(str(factor_module[k]), []).append(k)
    ok, notes = _first_order_notes(f)
    extra, higher = [], {}
    standardized: set[str] = set()
    for h, members in groups.items():
        if len(members) >= 3:
            extra.append(f"{h} =~ {' + '.join(members)}")
            higher[h] = members
        elif len(members) == 2:
            lab = f"eq_{h}"
            a, b = members
            extra.append(f"{h} =~ NA*{a} + {lab}*{a} + {lab}*{b}")
            extra.append(f"{h} ~~ 1*{h}")
            standardized.update(members)
            higher[h] = members
            notes.append(
                f"second-order factor {h!r} has two first-order factors: their loadings are constrained "
                f"equal in the standardized metric (first-order factors and {h!r} with unit variance)"
            )
        else:
            notes.append(f"module {h!r} has a single first-order factor: no second-order factor for it")
    if not higher:
        ok = False
        notes.append("no second-order factor can be identified (each module has a single first-order factor)")
    elif len(higher) == 1 and len(next(iter(higher.values()))) == 2 and len(groups) == 1:
        notes.append("one second-order factor on two first-order factors is equivalent to correlated factors")
    lines = []
    for k, items in f.items():
        if k in standardized:  # unit (disturbance) variance, every loading free
            lines.append(f"{k} =~ NA*{items[0]}" + "".join(f" + {i}" for i in items[1:]))
            lines.append(f"{k} ~~ 1*{k}")
        else:
            lines.append(f"{k} =~ {' + '.join(items)}")
    syntax = "\n".join(lines + extra) + "\n"
    return ModelSpec(name=name, syntax=syntax, factors=f, higher=higher, identified=ok, notes=tuple(notes))


def parcels(parcel_factors: Mapping[str, Sequence[str]], name: str = "parcels") -> ModelSpec:
    """Factors measured by parcels (e.g. dimension means made with :func:`make_parcels`): factor -> parcels."""
    f = _clean(parcel_factors)
    ok, notes = _first_order_notes(f)
    return ModelSpec(name=name, syntax=_syntax(f), factors=f, identified=ok, notes=tuple(notes))


def make_parcels(data: pd.DataFrame, groups: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Parcel scores: the row mean of each group's items (parcel name -> items), NaN-aware."""
    return pd.DataFrame({k: data[list(v)].mean(axis=1) for k, v in groups.items()}, index=data.index)


def from_syntax(syntax: str, name: str = "user") -> ModelSpec:
    """A user model in lavaan syntax (``=~``, ``~~``, ``~``, ``~ 1``, fixed values, labels)."""
    stmts = parse_syntax(syntax)
    factors: dict[str, list[str]] = {}
    for s in stmts:
        if s["op"] == "=~":
            factors.setdefault(s["lhs"], []).append(s["rhs"])
    lv = set(factors)
    higher = {k: v for k, v in factors.items() if any(i in lv for i in v)}
    first = {k: v for k, v in factors.items() if k not in higher}
    return ModelSpec(name=name, syntax=syntax if syntax.endswith("\n") else syntax + "\n", factors=first, higher=higher)


# =============================================================================================== fitting
def fit_options(settings: dict, estimator: str | None = None) -> dict:
    """The keyword arguments of :func:`fit_cfa` that the pipeline's CFA settings (config ``cfa`` as the workflow
    prepares it: ``identification``, ``estimator``, ``missing``, ``continuous_missing``) give for one model.

    ``estimator`` defaults to the configured one; another (e.g. MLR for parcels under WLSMV) takes the continuous
    missing-data treatment. MLR with FIML uses lavaan's robust FIML corrections.
    """
    est = settings["estimator"] if estimator is None else estimator
    return {
        "std_lv": settings["identification"] == "unit_variance",
        "estimator": est,
        "missing": settings["missing"] if est == settings["estimator"] else settings["continuous_missing"],
        "robust_fiml": est == "MLR",
    }


def fit_cfa(
    data: pd.DataFrame,
    model: ModelSpec | str,
    *,
    std_lv: bool = False,
    estimator: str = "ML",
    missing: str = "listwise",
    group: str | None = None,
    group_equal: Sequence[str] = (),
    meanstructure: bool | None = None,
    orthogonal: bool | None = None,
    robust_fiml: bool | None = None,
    se: str = "standard",
) -> CFAResult:
    """Fit a CFA model by maximum likelihood, matching ``lavaan::cfa()`` (lavaan 0.6.14).

    Parameters
    ----------
    data : DataFrame
        Raw item responses (one column per indicator; extra columns ignored).
    model : ModelSpec or str
        A model from a builder, or lavaan syntax.
    std_lv : bool
        False (default): marker-variable identification (first loading fixed to 1). True: factor variances
        fixed to 1 (``std.lv = TRUE``).
    estimator : {"ML", "MLR", "WLSMV"}
        ``"ML"``: expected-information standard errors, normal-theory chi-square. ``"MLR"``: Huber-White
        sandwich standard errors (observed information) and Yuan-Bentler scaled test (``yuan.bentler.mplus``),
        with robust CFI/TLI (Brosseau-Liard & Savalei 2014) and robust RMSEA (Brosseau-Liard, Savalei & Li 2012).
        ``"WLSMV"``: the indicators are treated as ordinal (``ordered = TRUE, estimator = "WLSMV"``): DWLS on
        thresholds and polychoric correlations with robust standard errors and the scaled-and-shifted test
        (see :mod:`compval.sem.dwlsfit`); ``missing`` is then "listwise" or "pairwise" ("ml" is read as "pairwise").
    missing : {"listwise", "ml"}
        Listwise deletion (lavaan default) or full-information ML (``missing = "ml"``: EM saturated model as h1,
        observed-information SEs, mean structure added; robust CFI/TLI/RMSEA by FIML-C as lavaan). Works with
        both estimators.
    group : str, optional
        Grouping column for a multi-group model (mean structure added, as lavaan).
    group_equal : sequence of str
        Cross-group equality constraints: "loadings", "intercepts", "residuals", "lv.variances",
        "lv.covariances", "means", "residual.covariances" (``group.equal``).
    meanstructure : bool, optional
        Force a mean structure (default: only for multi-group or FIML models, as lavaan).
    orthogonal : bool, optional
        Override the model's orthogonality.
    robust_fiml : bool, optional
        Only with ``missing="ml"``. None (default, as lavaan) or True: compute the robust CFI/TLI/RNI/RMSEA
        (``cfi.robust``, ``rmsea.robust``, ...) with the FIML-corrected test (FIML-C; Zhang & Savalei 2023;
        ``lavaan:::lav_fit_fiml_corrected``), which needs the saturated-model information matrices
        (dimension p(p+3)/2) and is the most expensive part of a FIML fit with many items. False: skip them
        (the ``*.robust`` keys are then absent from ``fit``; all other fit measures, the estimates, standard
        errors and, under MLR, the scaled test are unchanged) -- e.g. under ``estimator="ML"`` when robust
        indices are not reported.
    se : {"standard", "none"}
        ``"standard"`` (default): standard errors as the estimator defines them. ``"none"`` (lavaan's
        ``se = "none"``): no standard errors -- ``se``, ``z``, ``pvalue`` and the confidence limits of ``params``
        are NaN (0 for fixed parameters) and ``vcov`` is None -- for a fit whose estimates and fit measures are
        all that is read (an invariance step, a holdout part, a revision's refit). The estimates, the test and
        every fit measure are unchanged; under MLR the observed information is still formed for the scaled test.
        With missing data (FIML) this skips the observed information, the largest part of the fit after the
        estimation. A model that is not locally identified is still reported in ``status`` ("singular information
        matrix"): from the expected information (:func:`compval.sem.vcov.check_identified`) under ML, from the
        observed one under MLR, from the DWLS sandwich under WLSMV.

    Returns
    -------
    CFAResult
        Never raises for estimation problems: they are reported in ``status`` and ``warnings``.
    """
    model = from_syntax(model) if isinstance(model, str) else model
    given = {"std_lv": std_lv, "estimator": estimator, "missing": missing, "group": group, "group_equal": group_equal}
    given.update(meanstructure=meanstructure, orthogonal=orthogonal, robust_fiml=robust_fiml, se=se)
    opts = _engine_options(model, given)
    fit = fit_dwls_model if opts["estimator"] == "WLSMV" else fit_ml_model
    return CFAResult(**fit(data, model, opts))


def _engine_options(model: ModelSpec, options: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`fit_cfa`'s keyword options (its defaults where not given) as the SEM engine's fit functions take
    them."""
    params = inspect.signature(fit_cfa).parameters.values()
    o = {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY}
    unknown = sorted(set(options) - set(o))
    if unknown:
        raise TypeError(f"unknown fit_cfa options: {unknown}; known: {sorted(o)}")
    o.update(options)
    o["estimator"] = o["estimator"].upper()
    if o["estimator"] not in ("ML", "MLR", "WLSMV"):
        raise ValueError("estimator must be 'ML', 'MLR' or 'WLSMV'")
    if o["se"] not in ("standard", "none"):
        raise ValueError(f"se must be 'standard' or 'none', not {o['se']!r}")
    o["group_equal"] = tuple(o["group_equal"])
    if o["orthogonal"] is None:
        o["orthogonal"] = model.orthogonal
    return o


def prepare_sample_statistics(data: pd.DataFrame, model: ModelSpec | str, **options: Any) -> None:
    """Compute the sample statistics of a :func:`fit_cfa` of ``model`` to ``data`` with ``options`` ahead of the fit
    (ML and MLR: the missing-data patterns and the EM saturated model, which dominate a FIML fit's set-up); they are
    kept for the fits that follow on the same values (:func:`compval.sem.samplestats.group_data`), in this process
    and in processes forked from it. WLSMV statistics are computed by each fit. A problem with the data is left for
    the fit to report."""
    model = from_syntax(model) if isinstance(model, str) else model
    opts = _engine_options(model, options)
    if opts["estimator"] != "WLSMV":
        ml_sample_statistics(data, model, opts)


def fit_models(
    jobs: Mapping[str, tuple[pd.DataFrame | Callable[[], pd.DataFrame], ModelSpec | str, Mapping[str, Any]]],
    *,
    workers: int = 1,
    keep_data: Sequence[str] = (),
) -> dict[str, CFAResult]:
    """:func:`fit_cfa` of several models, ``{name: fit_cfa(data, model, **options)}`` for ``jobs`` of
    ``{name: (data, model, options)}``, shared by up to ``workers`` processes (:func:`compval.parallel.forked_map`).

    Each fit is the same as alone, whatever ``workers`` is. The models named in ``keep_data`` are fitted in this
    process and keep everything (for :func:`modification_indices` and :func:`factor_scores`); every other fit
    comes back :func:`without_rows`, wherever it was made, so that no rival's copy of its rows outlives its fit.
    A job's data may be given as a function without arguments that returns it (e.g. parcels built from the
    items): it is called in the process that fits the model, just before the fit, and its frame is dropped after
    it, so a derived data set is never held beside the others. With more than one process, the sample
    statistics of the first model fitted here (:func:`prepare_sample_statistics`) are computed before the workers
    are forked, and the workers inherit them. The sample statistics of every data set the fits use are kept until
    all are done (:func:`compval.sem.samplestats.kept_together`).
    """

    def frame(data):
        return data() if callable(data) else data

    def one(name: str) -> CFAResult:
        data, model, options = jobs[name]
        fit = fit_cfa(frame(data), model, **options)
        return fit if name in keep_data else without_rows(fit)

    def prelude() -> None:
        # the sample statistics of the first model fitted here (in the pipeline the hypothesised one, whose
        # indicators its rivals share), computed before the workers are forked, so that they inherit them
        data, model, options = jobs[next(iter(keep_data), next(iter(jobs)))]
        prepare_sample_statistics(frame(data), model, **options)

    # the models' data sets (the items, their parcels) stay kept while the fits alternate between them
    with samplestats.kept_together():
        return forked_map(one, list(jobs), workers, here=keep_data, detach=without_rows, prelude=prelude)


def measurement_invariance(
    data: pd.DataFrame,
    model: ModelSpec | str,
    group: str,
    *,
    delta_cfi: float = CHEN_DELTA_CFI,
    delta_rmsea: float = CHEN_DELTA_RMSEA,
    workers: int = 1,
    **options: Any,
):
    """Configural -> metric -> scalar -> strict invariance of ``model`` across ``group``, each step fitted by
    :func:`fit_cfa`: :func:`compval.sem.invariance.measurement_invariance` (its parameters and returns). A step
    holds by Chen's (2007) criteria, :data:`compval.present.rules.CHEN_DELTA_CFI` / ``CHEN_DELTA_RMSEA`` unless
    given (the pipeline passes ``validity.delta_cfi`` / ``validity.delta_rmsea``). The steps are fitted by up to
    ``workers`` processes (the same numbers whatever ``workers`` is; the fits come back :func:`without_rows`), which
    inherit the groups' sample statistics (:func:`prepare_sample_statistics`)."""
    return invariance.measurement_invariance(
        data,
        model,
        group,
        fit=fit_cfa,
        prepare=prepare_sample_statistics,
        delta_cfi=delta_cfi,
        delta_rmsea=delta_rmsea,
        workers=workers,
        **options,
    )
