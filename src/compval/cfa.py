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
:func:`fit_verdict` (cut-offs such as Hu & Bentler 1999), :func:`measurement_invariance` (Chen 2007 criteria),
:func:`modification_indices` (``modindices()``), :func:`factor_scores` (``lavPredict(method="regression")``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .sem import fitindices as fi
from .sem.engine import (
    GroupData,
    Model,
    casewise_scores,
    expected_information,
    fit_ml,
    gradient_info,
    delta_in,
    group_data,
    h1_information_missing,
    h1_inverse_missing,
    loglik,
    objective,
    observed_information_analytic,
)
from .sem.partable import ModelStructure, ModelSyntaxError, build_partable, observed_names, parse_syntax

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
    "compare_models",
    "difftest",
    "measurement_invariance",
    "modification_indices",
    "factor_scores",
    "latent_covariance",
    "PARAM_COLUMNS",
    "INVARIANCE_STEPS",
]

PARAM_COLUMNS = [
    "lhs",
    "op",
    "rhs",
    "group",
    "free",
    "est",
    "se",
    "z",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "std_lv",
    "std_all",
]


# =============================================================================================== builders
@dataclass(frozen=True)
class ModelSpec:
    """A CFA model: lavaan syntax text plus the structure the estimator needs.

    Attributes
    ----------
    name : str
        Short model name (``"hypothesized"``, ``"one_factor"``, ...).
    syntax : str
        lavaan model syntax (paste into ``lavaan::cfa()`` to reproduce).
    factors : dict
        First-order factor -> indicators.
    higher : dict
        Higher-order factor -> first-order factors (empty for first-order models).
    orthogonal : bool
        Whether exogenous factor covariances are fixed to zero (``cfa(..., orthogonal = TRUE)``).
    identified : bool
        False when the builder knows the model is not identified (fitting then reports it as the status).
    notes : tuple of str
        Remarks on identification choices (e.g. equality-constrained second-order loadings).
    """

    name: str
    syntax: str
    factors: dict
    higher: dict = field(default_factory=dict)
    orthogonal: bool = False
    identified: bool = True
    notes: tuple = ()


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


# =============================================================================================== results
@dataclass
class CFAResult:
    """A fitted CFA model.

    Attributes
    ----------
    converged : bool
    status : str
        ``"ok"`` or ``"; "``-joined problems: ``not converged``, ``not identified``, ``heywood case: ...``,
        ``latent covariance matrix not positive definite``, ``residual covariance matrix not positive definite``.
    params : DataFrame
        One row per parameter: ``lhs, op, rhs, group, free, est, se, z, pvalue, ci_lower, ci_upper, std_lv,
        std_all`` (lavaan ``parameterEstimates(standardized = TRUE)`` naming; ``group`` 1-based).
    fit : dict
        ``fitMeasures()`` names (chisq, df, pvalue, baseline.chisq, cfi, tli, rmsea, rmsea.ci.lower, srmr,
        logl, aic, bic, npar, ntotal, ...; under MLR also chisq.scaled, chisq.scaling.factor, cfi.robust, ...).
    implied_cov, sample_cov : DataFrame or dict of DataFrame
        Model-implied and sample (divisor N; EM estimate with missing data) covariance matrices; a dict by
        group label for multi-group models.
    r2 : Series
        R-squared of the indicators and endogenous latent variables (``lavInspect(fit, "r2")``); index
        (group, name) for multi-group models.
    warnings : list of str
    """

    converged: bool
    status: str
    params: pd.DataFrame
    fit: dict
    implied_cov: Any
    sample_cov: Any
    r2: pd.Series
    warnings: list = field(default_factory=list)
    model_name: str = ""
    syntax: str = ""
    estimator: str = "ML"
    group_labels: list = field(default_factory=list)
    ov_names: list = field(default_factory=list)
    lv_names: list = field(default_factory=list)
    vcov: np.ndarray | None = field(default=None, repr=False)
    _model: Any = field(default=None, repr=False)
    _groups: Any = field(default=None, repr=False)
    _x: Any = field(default=None, repr=False)
    _options: dict = field(default_factory=dict, repr=False)


# =============================================================================================== fitting
def _prepare_groups(data: pd.DataFrame, ov: list[str], group: str | None, missing: str):
    missing_cols = [c for c in ov if c not in data.columns]
    if missing_cols:
        raise KeyError(f"indicators not in data: {missing_cols}")
    if group is None:
        labels = [None]
        parts = [data]
    else:
        d = data[data[group].notna()]
        labels = list(pd.unique(d[group]))
        parts = [d[d[group] == lab] for lab in labels]
    out = []
    for part in parts:
        sub = part[ov]
        if not all(pd.api.types.is_numeric_dtype(t) for t in sub.dtypes):
            sub = sub.apply(pd.to_numeric, errors="coerce")
        y = sub.to_numpy(dtype=float)
        if missing == "listwise":
            y = y[~np.isnan(y).any(axis=1)]
        else:
            y = y[~np.isnan(y).all(axis=1)]
        out.append(y)
    return labels, out


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
        (see :func:`_fit_wlsmv`); ``missing`` is then "listwise" or "pairwise" ("ml" is read as "pairwise").
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

    Returns
    -------
    CFAResult
        Never raises for estimation problems: they are reported in ``status`` and ``warnings``.
    """
    if isinstance(model, str):
        model = from_syntax(model)
    estimator = estimator.upper()
    if estimator not in ("ML", "MLR", "WLSMV"):
        raise ValueError("estimator must be 'ML', 'MLR' or 'WLSMV'")
    if estimator == "WLSMV":
        return _fit_wlsmv(
            data, model, std_lv=std_lv, missing=missing, group=group, group_equal=group_equal, orthogonal=orthogonal
        )
    if missing not in ("listwise", "ml"):
        raise ValueError("missing must be 'listwise' or 'ml'")
    if meanstructure is None:
        meanstructure = group is not None or missing == "ml"
    orth = model.orthogonal if orthogonal is None else orthogonal
    warnings: list[str] = []
    # groups first (need their number for the table)
    labels, ys = _prepare_groups(data, observed_names(model.syntax), group, missing)
    pt, st = build_partable(
        model.syntax,
        ngroups=len(labels),
        std_lv=std_lv,
        orthogonal=orth,
        meanstructure=meanstructure,
        group_equal=tuple(group_equal),
    )
    m = Model(pt, st)
    opts = {
        "std_lv": std_lv,
        "estimator": estimator,
        "missing": missing,
        "group": group,
        "group_equal": tuple(group_equal),
        "meanstructure": meanstructure,
        "orthogonal": orth,
        "robust_fiml": robust_fiml,
    }
    status: list[str] = []
    if not model.identified:
        status.append("not identified (" + "; ".join(model.notes) + ")")
    p_ = len(st.ov_names)
    df_model = len(ys) * (p_ * (p_ + 1) // 2 + (p_ if meanstructure else 0)) - m.nfree
    if df_model < 0:
        status.append(f"not identified (df = {df_model} < 0)")
        warnings.append(f"model has more free parameters than sample moments (df = {df_model})")
    too_small = [str(g + 1 if labels[g] is None else labels[g]) for g, y in enumerate(ys) if len(y) <= 1]
    if too_small:
        status.append("not estimable: fewer than 2 complete rows in group(s) " + ", ".join(too_small))
        return _failed(model, st, labels, m, status, warnings, estimator, opts)
    try:
        groups = [group_data(y) for y in ys]
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        status.append(f"not estimable: the saturated (h1) model could not be estimated ({exc})")
        return _failed(model, st, labels, m, status, warnings, estimator, opts)
    singular = [
        str(g + 1 if labels[g] is None else labels[g]) for g, gd in enumerate(groups) if not _positive_definite(gd.cov)
    ]
    if singular:
        # lavaan stops here ("sample covariance matrix is not positive-definite")
        what = "sample" if missing == "listwise" else "EM-estimated (h1)"
        status.append(
            f"not estimable: {what} covariance matrix not positive definite in group(s) "
            + ", ".join(singular)
            + " (fewer cases than indicators, or linearly dependent indicators)"
        )
        warnings.append(status[-1])
        return _failed(model, st, labels, m, status, warnings, estimator, opts)
    try:
        res = fit_ml(m, groups)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        status.append(f"estimation failed ({exc})")
        return _failed(model, st, labels, m, status, warnings, estimator, opts)
    x = _reflect(m, res.x) if std_lv else res.x
    converged = res.converged
    if not converged:
        status.insert(0, f"not converged ({res.message})")
    ntot = sum(g.n for g in groups)
    # ------------------------------------------------------------------ information / vcov
    vcov = None
    info = None
    try:
        if estimator == "MLR" or missing == "ml":
            info = observed_information_analytic(m, x, groups)
        else:
            info = expected_information(m, x, groups)
        ev = np.linalg.eigvalsh(info)
        if ev.min() <= 1e-9 * max(ev.max(), 1e-300):
            raise np.linalg.LinAlgError("singular information matrix")
        einv = np.linalg.inv(info)
        if estimator == "MLR":
            B0 = np.zeros_like(info)
            for g, gd in enumerate(groups):
                sc = casewise_scores(m, x, gd, g)
                B0 += gd.n / ntot * (sc.T @ sc / gd.n)
            vcov = einv @ B0 @ einv / ntot
        else:
            vcov = einv / ntot
    except np.linalg.LinAlgError:
        warnings.append(
            "could not compute standard errors: the information matrix could not be inverted "
            "(the model may not be identified)"
        )
        if "not identified" not in " ".join(status):
            status.append("not identified (singular information matrix)")
    # ------------------------------------------------------------------ parameter table
    params, std_extra = _param_table(m, x, vcov, groups)
    out = CFAResult(
        converged=converged,
        status="ok",
        params=params,
        fit={},
        implied_cov=None,
        sample_cov=None,
        r2=pd.Series(dtype=float),
        warnings=warnings,
        model_name=model.name,
        syntax=model.syntax,
        estimator=estimator,
        group_labels=labels,
        ov_names=st.ov_names,
        lv_names=st.lv_names,
        vcov=vcov,
        _model=m,
        _groups=groups,
        _x=x,
        _options=opts,
    )
    imp, samp, r2 = {}, {}, []
    for g, gd in enumerate(groups):
        sigma, mu = m.implied(x, g, gd.mean)
        key = labels[g] if group is not None else None
        imp[key] = pd.DataFrame(sigma, index=st.ov_names, columns=st.ov_names)
        samp[key] = pd.DataFrame(gd.cov, index=st.ov_names, columns=st.ov_names)
        r2.append(std_extra[g]["r2"])
    if group is None:
        out.implied_cov, out.sample_cov, out.r2 = imp[None], samp[None], r2[0]
    else:
        out.implied_cov, out.sample_cov = imp, samp
        out.r2 = pd.concat(r2, keys=list(range(1, len(labels) + 1)), names=["group", "name"])
    # ------------------------------------------------------------------ admissibility
    status += _admissibility(m, x, params, std_extra, warnings)
    if converged and df_model >= 0:
        try:
            out.fit = _fit_measures(m, x, groups, ntot, estimator, info, vcov is not None, st, opts)
        except Exception as exc:  # carried to the output: the fit's status says it failed, and why
            status.append(_fit_measures_failed(exc, warnings))
    for gd in groups:  # saturated-model information matrices ((p(p+3)/2)^2 each): not kept with the result
        gd.__dict__.pop("_h1", None)
    out.status = "ok" if not status else "; ".join(status)
    return out


def _reflect(m: Model, x: np.ndarray) -> np.ndarray:
    """Sign convention of lavaan for factors identified by a fixed variance (std.lv): the first loading is
    positive. A factor whose first free loading (group 1) is negative is reflected: its loadings, its covariances
    with other variables and its regression weights change sign (an equivalent solution). Factors with a fixed
    loading or a parameter shared with another factor's are left alone."""
    x = np.asarray(x, dtype=float).copy()
    pt = m.pt
    fidx = m.free_idx
    for f in m.lv:
        load = pt.index[(pt["op"] == "=~") & (pt["lhs"] == f)]
        if not len(load) or (fidx[load] < 0).any():
            continue
        first = load[pt.loc[load, "group"].to_numpy() == pt.loc[load, "group"].min()][0]
        if x[fidx[first]] >= 0:
            continue
        rows = list(load)
        rows += list(pt.index[(pt["op"] == "~~") & (pt["lhs"] != pt["rhs"]) & ((pt["lhs"] == f) | (pt["rhs"] == f))])
        rows += list(pt.index[(pt["op"] == "~") & ((pt["rhs"] == f) | (pt["lhs"] == f))])
        rows += list(pt.index[(pt["op"] == "~1") & (pt["lhs"] == f)])
        idx = fidx[rows]
        if (idx < 0).any() and np.any(pt.loc[rows, "value"].fillna(0).to_numpy()[idx < 0] != 0):
            continue
        idx = np.unique(idx[idx >= 0])
        others = set(fidx[[k for k in range(len(pt)) if k not in set(rows)]])
        if any(a in others for a in idx):
            continue
        x[idx] = -x[idx]
    return x


def _positive_definite(cov: np.ndarray) -> bool:
    """Whether a covariance matrix is numerically positive definite (eigenvalues above p * eps * largest)."""
    if not np.all(np.isfinite(cov)):
        return False
    ev = np.linalg.eigvalsh(cov)
    return bool(ev.min() > cov.shape[0] * np.finfo(float).eps * max(ev.max(), 0.0) and ev.min() > 0)


FAILED_PREFIX = "failed"


def _fit_measures_failed(exc: Exception, warnings: list) -> str:
    """The status of a fit whose measures could not be computed: it failed (never "ok" with an empty fit); the
    comparison, the verdicts, the tables and the report show it as failed."""
    msg = f"{FAILED_PREFIX}: fit measures could not be computed ({type(exc).__name__}: {exc})"
    warnings.append(msg)
    return msg


def _failed(model, st, labels, m, status, warnings, estimator, opts) -> CFAResult:
    """Result for a model that could not be estimated at all (parameters as in the table, estimates NaN)."""
    pt = m.pt
    params = pd.DataFrame(
        {
            "lhs": pt["lhs"],
            "op": pt["op"],
            "rhs": pt["rhs"],
            "group": pt["group"],
            "free": pt["free"] > 0,
            "est": np.where(pt["free"] > 0, np.nan, pt["value"]),
        }
    )
    for c in PARAM_COLUMNS[6:]:
        params[c] = np.nan
    return CFAResult(
        converged=False,
        status="; ".join(status),
        params=params[PARAM_COLUMNS],
        fit={},
        implied_cov=None,
        sample_cov=None,
        r2=pd.Series(dtype=float),
        warnings=warnings,
        model_name=model.name,
        syntax=model.syntax,
        estimator=estimator,
        group_labels=labels,
        ov_names=st.ov_names,
        lv_names=st.lv_names,
        _model=m,
        _options=opts,
    )


def _param_table(m: Model, x, vcov, groups):
    pt = m.pt
    est = np.where(m.free_idx >= 0, x[np.clip(m.free_idx, 0, None)] if len(x) else 0.0, m.fixed_val)
    se = np.zeros(len(pt))
    if vcov is not None:
        sd = np.sqrt(np.clip(np.diag(vcov), 0, None))
        se = np.where(m.free_idx >= 0, sd[np.clip(m.free_idx, 0, None)] if len(x) else 0.0, 0.0)
    else:
        se = np.where(m.free_idx >= 0, np.nan, 0.0)
    free = m.free_idx >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(free & (se > 0), est / se, np.nan)
    pval = 2 * stats.norm.sf(np.abs(z))
    q = stats.norm.ppf(0.975)
    ci_l = np.where(free, est - q * se, est)
    ci_u = np.where(free, est + q * se, est)
    std_lv = np.full(len(pt), np.nan)
    std_all = np.full(len(pt), np.nan)
    extras = []
    ovi = {v: i for i, v in enumerate(m.ov)}
    lvi = {v: i for i, v in enumerate(m.lv)}
    for g, gd in enumerate(groups):
        M = m.matrices(x, g)
        A = np.linalg.inv(np.eye(m.m) - M["B"])
        veta = A @ M["P"] @ A.T
        sigma, mu = m.implied(x, g, gd.mean)
        with np.errstate(invalid="ignore"):
            sd_lv = np.sqrt(np.diag(veta))
            sd_ov = np.sqrt(np.diag(sigma))
        rows = np.flatnonzero(pt["group"].to_numpy() == g + 1)
        endo = m._endo()
        for k in rows:
            lhs, op, rhs = pt.at[k, "lhs"], pt.at[k, "op"], pt.at[k, "rhs"]
            e = est[k]
            if op == "=~":
                if rhs in ovi:
                    std_lv[k] = e * sd_lv[lvi[lhs]]
                    std_all[k] = std_lv[k] / sd_ov[ovi[rhs]]
                else:
                    std_lv[k] = std_all[k] = e * sd_lv[lvi[lhs]] / sd_lv[lvi[rhs]]
            elif op == "~":
                std_lv[k] = std_all[k] = e * sd_lv[lvi[rhs]] / sd_lv[lvi[lhs]]
            elif op == "~~":
                # lavaan: a (residual) covariance is standardized by the residual variances (a residual
                # correlation); a variance by the total variance
                if lhs in ovi:
                    std_lv[k] = e
                    if lhs == rhs:
                        std_all[k] = e / sd_ov[ovi[lhs]] ** 2
                    else:
                        th = M["T"]
                        i, j = ovi[lhs], ovi[rhs]
                        std_all[k] = e / np.sqrt(th[i, i] * th[j, j])
                else:
                    i, j = lvi[lhs], lvi[rhs]
                    if lhs != rhs and lhs in endo and rhs in endo:
                        std_lv[k] = std_all[k] = e / np.sqrt(M["P"][i, i] * M["P"][j, j])
                    else:
                        std_lv[k] = std_all[k] = e / (sd_lv[i] * sd_lv[j])
            elif op == "~1":
                if lhs in ovi:
                    std_lv[k] = e
                    std_all[k] = e / sd_ov[ovi[lhs]]
                else:
                    std_lv[k] = std_all[k] = e / sd_lv[lvi[lhs]]
        # R-squared (lavInspect "r2"): indicators, then endogenous latent variables
        r2 = {}
        for i, v in enumerate(m.ov):
            r2[v] = 1 - M["T"][i, i] / sigma[i, i]
        for v in m.lv:
            j = lvi[v]
            if v in m._endo():
                r2[v] = 1 - M["P"][j, j] / veta[j, j]
        extras.append({"r2": pd.Series(r2, name="r2"), "veta": veta, "sigma": sigma, "M": M})
    params = pd.DataFrame(
        {
            "lhs": pt["lhs"],
            "op": pt["op"],
            "rhs": pt["rhs"],
            "group": pt["group"],
            "free": free,
            "est": est,
            "se": se,
            "z": z,
            "pvalue": pval,
            "ci_lower": ci_l,
            "ci_upper": ci_u,
            "std_lv": std_lv,
            "std_all": std_all,
        }
    )
    return params[PARAM_COLUMNS], extras


def _admissibility(m: Model, x, params: pd.DataFrame, extras, warnings) -> list[str]:
    status = []
    heywood = []
    neg = params[(params["op"] == "~~") & (params["lhs"] == params["rhs"]) & (params["est"] < 0)]
    for lhs, rhs, est, grp in zip(neg["lhs"], neg["rhs"], neg["est"], neg["group"]):
        heywood.append(f"negative variance {lhs} ~~ {rhs} = {est:.3f} (group {grp})")
    big = params[(params["op"] == "=~") & np.isfinite(params["std_all"]) & (params["std_all"].abs() > 1)]
    for lhs, rhs, std, grp in zip(big["lhs"], big["rhs"], big["std_all"], big["group"]):
        heywood.append(f"standardized loading {lhs} =~ {rhs} = {std:.3f} > 1 (group {grp})")
    if heywood:
        status.append("heywood case: " + "; ".join(heywood))
        warnings.extend(heywood)
    for g, ex in enumerate(extras):
        P = ex["M"]["P"]
        if P.size and np.linalg.eigvalsh(P).min() < -1e-10 * max(1.0, np.abs(P).max()):
            status.append(f"latent covariance matrix not positive definite (group {g + 1})")
            warnings.append(status[-1])
        T = ex["M"]["T"]
        if np.linalg.eigvalsh(T).min() < 0 and not any("negative variance" in h for h in heywood):
            status.append(f"residual covariance matrix (theta) not positive definite (group {g + 1})")
            warnings.append(status[-1])
    return status


# =============================================================================================== fit measures
def _logl(groups, m: Model, x) -> tuple[float, float]:
    """Log-likelihood of the model and of the unrestricted (h1) model, summed over groups (casewise FIML with
    missing data)."""
    ll0 = ll1 = 0.0
    for g, gd in enumerate(groups):
        sigma, mu = m.implied(x, g, gd.mean)
        ll0 += loglik(gd, mu, sigma)
        ll1 += loglik(gd, gd.mean, gd.cov)
    return ll0, ll1


def _rms(x):
    return float(np.sqrt(np.sum(np.square(x)) / len(x))) if len(x) else 0.0


def _residual_summaries(m: Model, x, groups, ntot) -> dict:
    """rmr, srmr (Bentler), crmr, with and without means, as ``lav_residuals_summary`` (group-weighted)."""
    acc = {k: 0.0 for k in ("rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean", "crmr", "crmr_nomean")}
    p = m.p
    il = np.tril_indices(p)
    il_off = np.tril_indices(p, -1)
    for g, gd in enumerate(groups):
        sigma, mu = m.implied(x, g, gd.mean)
        S, ybar = gd.cov, gd.mean
        w = gd.n / ntot

        def rescale(c, mvec, dcov, dmean):
            scale_c = np.outer(1 / np.sqrt(dcov), 1 / np.sqrt(dcov))
            scale_c = np.where(np.abs(c) < 1e-5, 1.0, scale_c)
            scale_m = np.where(np.abs(mvec) < 1e-5, 1.0, 1 / np.sqrt(dmean))
            return c * scale_c, mvec * scale_m

        vo, ve = np.diag(S), np.diag(sigma)
        raw_c, raw_m = S - sigma, ybar - mu
        so_c, so_m = rescale(S, ybar, vo, vo)
        se_c, se_m = rescale(sigma, mu, vo, vo)
        b_c, b_m = so_c - se_c, so_m - se_m
        eo_c, eo_m = rescale(S, ybar, vo, vo)
        ee_c, ee_m = rescale(sigma, mu, ve, vo)
        c_c, c_m = eo_c - ee_c, eo_m - ee_m
        for name, rc, rm, idx in (
            ("rmr", raw_c, raw_m, il),
            ("srmr_bentler", b_c, b_m, il),
            ("crmr", c_c, c_m, il_off),
        ):
            cov_part = rc[idx]
            acc[name + "_nomean"] += w * _rms(cov_part)
            tot = np.concatenate([rm, cov_part]) if m.meanstructure else cov_part
            acc[name] += w * _rms(tot)
    acc["srmr"] = acc["srmr_bentler"]
    return acc


def _h1_mats(gd: GroupData, meanstructure: bool):
    """A1 (expected = observed h1 information at the sample moments) and B1 (first-order) in vech coordinates."""
    S, ybar = gd.cov, gd.mean
    p = len(ybar)
    Si = np.linalg.inv(S)
    K, L = np.tril_indices(p)
    # tr(Si E_kl Si E_mn) for symmetric basis matrices
    t = Si[L][:, K] * Si[K][:, L] + Si[L][:, L] * Si[K][:, K] + Si[K][:, K] * Si[L][:, L] + Si[K][:, L] * Si[L][:, K]
    dk = np.where(K == L, 2.0, 1.0)
    t = t / np.outer(dk, dk)
    A_cov = 0.5 * t
    y = gd.blocks[0].y
    z = y - ybar
    u = z @ Si
    # casewise score wrt vech(Sigma): 0.5*(u u' - Si)_kl * (2 if k != l)
    mult = np.where(K == L, 1.0, 2.0)
    sc_cov = 0.5 * (u[:, K] * u[:, L] - Si[K, L][None, :]) * mult[None, :]
    if meanstructure:
        A1 = np.block([[Si, np.zeros((p, len(K)))], [np.zeros((len(K), p)), A_cov]])
        sc = np.hstack([u, sc_cov])
    else:
        A1, sc = A_cov, sc_cov
    B1 = sc.T @ sc / gd.n
    return A1, B1


def _robust_test(m: Model, x, groups, ntot, info, df):
    """Yuan-Bentler (Mplus variant) scaling: c = (tr(A1^-1 B1) - tr(B0 E^-1)) / df (lavaan's
    ``lav_test_yuan_bentler_mplus_trace``); also returns the h1/h0 average traces and tr(U Gamma).

    A1/B1: observed/first-order information of the unrestricted model (at the sample moments, or the EM
    estimates with missing data), B0: first-order information of the model, E: its observed information.
    """
    einv = np.linalg.inv(info)
    tr_h1 = tr_h0 = 0.0
    ndat = 0
    for g, gd in enumerate(groups):
        if gd.complete:
            A1, B1 = _h1_mats(gd, m.meanstructure)
        else:
            _, A1, B1, _ = h1_information_missing(m.ov, gd)
        A1i = np.linalg.inv(A1) if gd.complete else h1_inverse_missing(m.ov, gd)
        tr_h1 += np.sum(B1 * A1i.T)
        ndat += A1.shape[0]
        sc = casewise_scores(m, x, gd, g)
        B0 = sc.T @ sc / gd.n
        tr_h0 += gd.n / ntot * np.sum(B0 * einv.T)
    c = (tr_h1 - tr_h0) / df if df > 0 else np.nan
    # lavaan divides by nx.free: free parameters counted before equality constraints
    n_unco = max(int((m.free_idx >= 0).sum()), 1)
    return c, tr_h1 / ndat, tr_h0 / n_unco, tr_h1 - tr_h0


def _independence_model(m: Model) -> Model:
    syn_rows = []
    for g in range(m.ngroups):
        for v in m.ov:
            syn_rows.append({"lhs": v, "op": "~~", "rhs": v, "group": g + 1})
            if m.meanstructure:
                syn_rows.append({"lhs": v, "op": "~1", "rhs": "", "group": g + 1})
    bpt = pd.DataFrame(syn_rows)
    bpt["user"] = True
    bpt["free"] = np.arange(1, len(bpt) + 1)
    bpt["value"] = np.nan
    bpt["label"] = ""
    bpt["start"] = np.nan
    bst = ModelStructure(ov_names=list(m.ov), lv_names=[], ngroups=m.ngroups, meanstructure=m.meanstructure)
    return Model(bpt, bst)


def _baseline(m: Model, groups, estimator) -> dict:
    """Independence model (variances, plus means with a mean structure), fitted like the model
    (``lav_object_independence``): chisq, df, estimates and, under MLR, its scaling factor."""
    bm = _independence_model(m)
    ov = m.ov
    x0 = np.zeros(bm.nfree)
    for k, r in enumerate(bm.pt.itertuples()):
        gd = groups[r.group - 1]
        i = ov.index(r.lhs)
        x0[k] = gd.cov[i, i] if r.op == "~~" else gd.mean[i]
    complete = all(gd.complete for gd in groups)
    if complete:
        xb, f = x0, _obj(bm, x0, groups)
    else:
        res = fit_ml(bm, groups, x0=x0)
        xb, f = res.x, res.f
    ntot = sum(g.n for g in groups)
    nmom = sum(len(ov) * (len(ov) + 1) // 2 + (len(ov) if m.meanstructure else 0) for _ in groups)
    out = {"chisq": ntot * f, "df": nmom - bm.nfree, "model": bm, "x": xb}
    if estimator == "MLR":
        info = observed_information_analytic(bm, xb, groups)
        out["c"] = _robust_test(bm, xb, groups, ntot, info, out["df"])[0]
    return out


def _complete_chisq(m: Model, x, groups) -> float:
    """N * F_ML of the model at ``x`` against the EM (h1) moments treated as complete-data statistics."""
    tot = 0.0
    for g, gd in enumerate(groups):
        sigma, mu = m.implied(x, g, gd.mean)
        si = np.linalg.inv(sigma)
        d = gd.mean - mu
        p = len(d)
        tot += gd.n * (
            np.linalg.slogdet(sigma)[1] + np.sum(si * gd.cov) + d @ si @ d - np.linalg.slogdet(gd.cov)[1] - p
        )
    return tot


def _fiml_corrected(m: Model, x, groups, ntot, base, version: str) -> dict:
    """Robust CFI/TLI/RMSEA ingredients with missing data (FIML-C; Zhang & Savalei 2023), as
    ``lavaan:::lav_fit_fiml_corrected`` (V3 for scaled tests, V6 otherwise).

    lavaan's k = tr(U Wm^-1 Wc Wm^-1 U Gamma) (V3) or tr(Wc Wm^-1 U Wm^-1) (V6), with U = Wm - Wm D E^-1 D' Wm,
    E = D' Wm D, Gamma = Wm^-1 Jm Wm^-1 (block-diagonal over groups, weighted by N_g/N), is evaluated in
    factorised form: Wm^-1 U Wm^-1 = Wm^-1 - D E^-1 D', hence
    V3: k = tr(Wm^-1 Wc Wm^-1 Jm) - 2 tr(E^-1 D' Wc Wm^-1 Jm D) + tr(E^-1 D'Wc D E^-1 D'Jm D),
    V6: k = tr(Wc Wm^-1) - tr(E^-1 D' Wc D);
    the saturated-space products are computed once per group and cached, so the model and the baseline model
    only need q-dimensional products.
    """
    fg = [gd.n / ntot for gd in groups]
    v3 = version == "V3"
    parts = []
    for gd in groups:
        coords, Wm, Jm, Wc = h1_information_missing(m.ov, gd, scores=v3)
        Wmi = h1_inverse_missing(m.ov, gd)
        cache = gd.__dict__.setdefault("_h1", {})
        if v3 and "G1" not in cache:
            cache["G1"] = Wc @ Wmi @ Jm
            cache["t0_V3"] = float(np.sum(Wmi * cache["G1"].T))
        if "t0_V6" not in cache:
            cache["t0_V6"] = float(np.sum(Wc * Wmi.T))
        parts.append((coords, Wm, Jm, Wc, cache))

    def k_of(model, xx):
        q = model.nfree
        E, DcD, DjD, DgD = (np.zeros((q, q)) for _ in range(4))
        t0 = 0.0
        for g, (coords, Wm, Jm, Wc, cache) in enumerate(parts):
            act = model.active(g)  # only group g's parameters have non-zero columns in its Jacobian
            ix = np.ix_(act, act)
            D = delta_in(coords, *model.derivatives(xx, g))[:, act]
            f = fg[g]
            E[ix] += f * (D.T @ (Wm @ D))
            DcD[ix] += f * (D.T @ (Wc @ D))
            if v3:
                DjD[ix] += f * (D.T @ (Jm @ D))
                DgD[ix] += f * (D.T @ (cache["G1"] @ D))
                t0 += cache["t0_V3"]
            else:
                t0 += cache["t0_V6"]
        Ei = np.linalg.inv(E)
        if v3:
            return float(t0 - 2.0 * np.sum(Ei * DgD.T) + np.sum((Ei @ DcD) * (Ei @ DjD).T))
        return float(t0 - np.sum(Ei * DcD.T))

    p = m.p
    df = len(groups) * (p * (p + 1) // 2 + p) - m.nfree
    XX3 = _complete_chisq(m, x, groups)
    c3 = k_of(m, x) / df
    bm, xb = base["model"], base["x"]
    XX3n = _complete_chisq(bm, xb, groups)
    c3n = k_of(bm, xb) / base["df"]
    return {
        "XX3": XX3,
        "df3": df,
        "c3": c3,
        "XX3.scaled": XX3 / c3,
        "XX3.null": XX3n,
        "df3.null": base["df"],
        "c3.null": c3n,
    }


def _obj(model, x, groups):
    return objective(model, x, groups)


def _fit_measures(m: Model, x, groups, ntot, estimator, info, have_info, st, opts) -> dict:
    """``fitMeasures()`` (lavaan 0.6.14 ``lav_fit_measures``) for a converged model."""
    G = len(groups)
    f = _obj(m, x, groups)
    X2 = ntot * f
    p = m.p
    nmom = G * (p * (p + 1) // 2 + (p if m.meanstructure else 0))
    npar = m.nfree
    df = nmom - npar
    fm: dict[str, float] = {
        "npar": npar,
        "fmin": f / 2,
        "chisq": X2,
        "df": df,
        "pvalue": float(stats.chi2.sf(X2, df)) if df > 0 else np.nan,
    }
    base = _baseline(m, groups, estimator)
    X2n, dfn = base["chisq"], base["df"]
    scaled = estimator == "MLR" and have_info and df > 0
    fiml = opts.get("missing") == "ml"
    if scaled:
        c, sf_h1, sf_h0, trug = _robust_test(m, x, groups, ntot, info, df)
        c0 = base["c"]
        X2s, X2ns = X2 / c, X2n / c0
        fm.update(
            {
                "chisq.scaled": X2s,
                "df.scaled": df,
                "pvalue.scaled": float(stats.chi2.sf(X2s, df)),
                "chisq.scaling.factor": c,
            }
        )
    # ingredients of the robust indices (lav_fit_cfi_lavobject / lav_fit_rmsea_lavobject)
    robust = scaled or (fiml and df > 0)
    if fiml and opts.get("robust_fiml") is False:
        robust = False
    if robust:
        if fiml:
            fc = _fiml_corrected(m, x, groups, ntot, base, "V3" if scaled else "V6")
            XX3, df3, c3, XX3s = fc["XX3"], fc["df3"], fc["c3"], fc["XX3.scaled"]
            XX3n, c3n = fc["XX3.null"], fc["c3.null"]
        else:
            XX3, df3, c3, XX3s, XX3n, c3n = X2, df, c, X2s, X2n, c0
    fm.update({"baseline.chisq": X2n, "baseline.df": dfn, "baseline.pvalue": float(stats.chi2.sf(X2n, dfn))})
    if scaled:
        fm.update(
            {
                "baseline.chisq.scaled": X2ns,
                "baseline.df.scaled": dfn,
                "baseline.pvalue.scaled": float(stats.chi2.sf(X2ns, dfn)),
                "baseline.chisq.scaling.factor": c0,
            }
        )
    fm["cfi"] = fi.cfi(X2, df, X2n, dfn)
    fm["tli"] = fi.tli(X2, df, X2n, dfn)
    if scaled:
        fm["cfi.scaled"] = fi.cfi(X2s, df, X2ns, dfn)
        fm["tli.scaled"] = fi.tli(X2s, df, X2ns, dfn)
    if robust:
        fm["cfi.robust"] = fi.cfi(XX3, df, XX3n, dfn, c3, c3n)
        fm["tli.robust"] = fi.tli(XX3, df, XX3n, dfn, c3, c3n)
    fm.update(
        {
            "nnfi": fm["tli"],
            "rfi": fi.rfi(X2, df, X2n, dfn),
            "nfi": fi.nfi(X2, df, X2n, dfn),
            "pnfi": fi.pnfi(X2, df, X2n, dfn),
            "ifi": fi.ifi(X2, df, X2n, dfn),
            "rni": fi.rni(X2, df, X2n, dfn),
        }
    )
    if scaled:
        fm.update(
            {
                "nnfi.scaled": fm["tli.scaled"],
                "rfi.scaled": fi.rfi(X2s, df, X2ns, dfn),
                "nfi.scaled": fi.nfi(X2s, df, X2ns, dfn),
                "pnfi.scaled": fi.pnfi(X2s, df, X2ns, dfn),
                "ifi.scaled": fi.ifi(X2s, df, X2ns, dfn),
                "rni.scaled": fi.rni(X2s, df, X2ns, dfn),
            }
        )
    if robust:
        fm.update({"nnfi.robust": fm["tli.robust"], "rni.robust": fi.rni(XX3, df, XX3n, dfn, c3, c3n)})
    ll0, ll1 = _logl(groups, m, x)
    fm.update(
        {
            "logl": ll0,
            "unrestricted.logl": ll1,
            "aic": -2 * ll0 + 2 * npar,
            "bic": -2 * ll0 + npar * np.log(ntot),
            "ntotal": ntot,
            "bic2": -2 * ll0 + npar * np.log((ntot + 2) / 24),
        }
    )
    if scaled:
        fm["scaling.factor.h1"] = sf_h1
        fm["scaling.factor.h0"] = sf_h0
    lo, hi = fi.rmsea_ci(X2, df, ntot, G)
    fm.update(
        {
            "rmsea": fi.rmsea(X2, df, ntot, G),
            "rmsea.ci.lower": lo,
            "rmsea.ci.upper": hi,
            "rmsea.ci.level": 0.90,
            "rmsea.pvalue": fi.rmsea_pvalue(X2, df, ntot, G),
            "rmsea.close.h0": 0.05,
            "rmsea.notclose.pvalue": fi.rmsea_notclose_pvalue(X2, df, ntot, G),
            "rmsea.notclose.h0": 0.08,
        }
    )
    if scaled:
        lo_s, hi_s = fi.rmsea_ci(X2, trug, ntot, G)
        fm.update(
            {
                "rmsea.scaled": fi.rmsea(X2, trug, ntot, G),
                "rmsea.ci.lower.scaled": lo_s,
                "rmsea.ci.upper.scaled": hi_s,
                "rmsea.pvalue.scaled": fi.rmsea_pvalue(X2, trug, ntot, G),
                "rmsea.notclose.pvalue.scaled": fi.rmsea_notclose_pvalue(X2, trug, ntot, G),
            }
        )
    if robust:
        lo_r, hi_r = fi.rmsea_ci(XX3s, df3, ntot, G, c=c3)
        fm.update(
            {
                "rmsea.robust": fi.rmsea(XX3, df3, ntot, G, c=c3),
                "rmsea.ci.lower.robust": lo_r,
                "rmsea.ci.upper.robust": hi_r,
                "rmsea.pvalue.robust": fi.rmsea_pvalue(XX3s, df3, ntot, G, c=c3),
                "rmsea.notclose.pvalue.robust": fi.rmsea_notclose_pvalue(XX3s, df3, ntot, G, c=c3),
            }
        )
    fm.update(_residual_summaries(m, x, groups, ntot))
    fm["mfi"] = float(np.exp(-0.5 * (X2 - df) / ntot))
    fm["ecvi"] = float(X2 / ntot + 2 * npar / ntot) if G == 1 else np.nan
    return fm


# =============================================================================================== comparison
def _fitval(f: CFAResult, key: str) -> float:
    """A fit measure as float, NaN when absent (model not estimated, not converged, ...)."""
    v = f.fit.get(key) if isinstance(f.fit, Mapping) else None
    try:
        return float(v) if v is not None else np.nan
    except (TypeError, ValueError):
        return np.nan


def compare_models(fits: Sequence[CFAResult] | Mapping[str, CFAResult], method: str | None = None) -> pd.DataFrame:
    """Chi-square difference tests of nested models, as ``lavaan::lavTestLRT`` (models sorted by df).

    Under ML the difference of the chi-squares; under MLR the Satorra-Bentler (2001) scaled difference
    ``(T0 - T1) / cd`` with ``cd = (df0 c0 - df1 c1) / (df0 - df1)``; under WLSMV the scaled-and-shifted
    difference test of Satorra (2000) / Asparouhov & Muthen (2006) (:func:`difftest`, lavaan's
    ``method = "satorra.2000"``). Also delta CFI / RMSEA (later row minus
    earlier row in the sorted order) and AIC/BIC ranks (1 = best).

    Models without fit measures (not estimated, not converged) never raise: they are sorted last and get a row
    of NaN (the model name kept), and are left out of the differences and ranks.

    Returns
    -------
    DataFrame with columns model, df, aic, bic, chisq, chisq_diff, df_diff, pvalue, cfi, rmsea, delta_cfi,
    delta_rmsea, aic_rank, bic_rank (ranks as nullable integers, <NA> for models without fit measures).
    """
    items = (
        list(fits.items())
        if isinstance(fits, Mapping)
        else [(f.model_name or f"m{i + 1}", f) for i, f in enumerate(fits)]
    )

    def has_fit(f):
        return np.isfinite(_fitval(f, "df")) and np.isfinite(_fitval(f, "chisq"))

    items = sorted(items, key=lambda kv: (not has_fit(kv[1]), _fitval(kv[1], "df") if has_fit(kv[1]) else 0.0))
    ests = {f.estimator for _, f in items}
    if method is None:
        method = {frozenset({"MLR"}): "satorra.bentler.2001", frozenset({"WLSMV"}): "satorra.2000"}.get(
            frozenset(ests), "standard"
        )
    rows = []
    prev = None
    for name, f in items:
        v = {
            k: _fitval(f, k)
            for k in (
                "df",
                "aic",
                "bic",
                "chisq",
                "cfi",
                "rmsea",
                "cfi.robust",
                "rmsea.robust",
                "cfi.scaled",
                "rmsea.scaled",
                "chisq.scaling.factor",
            )
        }

        def pick(idx):  # robust version under MLR/WLSMV, else scaled (WLSMV), else standard
            order = [f"{idx}.robust", f"{idx}.scaled"] if method != "standard" else []
            return next((v[k] for k in order if np.isfinite(v[k])), v[idx])

        r = {
            "model": name,
            "df": v["df"],
            "aic": v["aic"],
            "bic": v["bic"],
            "chisq": v["chisq"],
            "chisq_diff": np.nan,
            "df_diff": np.nan,
            "pvalue": np.nan,
            "cfi": pick("cfi"),
            "rmsea": pick("rmsea"),
            "delta_cfi": np.nan,
            "delta_rmsea": np.nan,
        }
        if prev is not None and has_fit(f):
            pv = prev[1]
            ddf = v["df"] - pv["df"]
            if method == "standard":
                d = v["chisq"] - pv["chisq"]
            elif method == "satorra.2000":
                dt = difftest(prev[2], f)
                d, ddf = dt["chisq_diff"], dt["df_diff"]
            else:
                c1, c0 = pv["chisq.scaling.factor"], v["chisq.scaling.factor"]
                cd = (v["df"] * c0 - pv["df"] * c1) / ddf if ddf != 0 else np.nan
                d = (v["chisq"] - pv["chisq"]) / cd
            r["chisq_diff"], r["df_diff"] = d, ddf
            r["pvalue"] = float(stats.chi2.sf(d, ddf)) if ddf > 0 and np.isfinite(d) else np.nan
            r["delta_cfi"] = r["cfi"] - prev[0]["cfi"]
            r["delta_rmsea"] = r["rmsea"] - prev[0]["rmsea"]
        rows.append(r)
        if has_fit(f):
            prev = (r, v, f)
    out = pd.DataFrame(
        rows,
        columns=[
            "model",
            "df",
            "aic",
            "bic",
            "chisq",
            "chisq_diff",
            "df_diff",
            "pvalue",
            "cfi",
            "rmsea",
            "delta_cfi",
            "delta_rmsea",
        ],
    )
    for crit in ("aic", "bic"):
        out[f"{crit}_rank"] = out[crit].rank(method="min").astype("Int64")
    return out


def _ordinal_parts(fit: CFAResult) -> tuple[list, list]:
    """Per group: the ordinal sample statistics and the Jacobian of the model statistics with respect to the
    estimated parameters (thresholds and structural parameters), of a WLSMV fit."""
    if "ordinal_mg" in fit._options:
        o = fit._options["ordinal_mg"]
        return o["samples"], o["fit"].jac
    if "ordinal" in fit._options:
        o = fit._options["ordinal"]
        return [o["sample"]], [o["dwls"].delta]
    raise ValueError("difftest needs two WLSMV fits")


def difftest(fit1: CFAResult, fit0: CFAResult, scaled_shifted: bool = True) -> dict:
    """Chi-square difference test of two nested ordinal (WLSMV) models, as ``lavTestLRT(fit1, fit0)`` for DWLS
    (``lavaan:::lav_test_diff_Satorra2000``, ``A.method = "delta"``; Satorra 2000; Asparouhov & Muthen 2006,
    Mplus DIFFTEST).

    With m1 the less restricted model (smaller df) and m0 the other: H = Delta1^+ Delta0, A the orthogonal
    complement of the columns of H (transposed), P = Delta1' W Delta1 (W = 1/diag(Gamma)),
    U = W Delta1 P^-1 A' (A P^-1 A')^+ A P^-1 Delta1' W; with tr1 = tr(U Gamma), tr2 = tr((U Gamma)^2) and
    m = df0 - df1: scaled-and-shifted (default) T = a (T0 - T1) + b, a = sqrt(m / tr2), b = m - a tr1, on m df;
    otherwise (Satterthwaite) T = (T0 - T1) tr1 / tr2 on tr1^2 / tr2 df. T0, T1 are the unscaled DWLS
    chi-squares; Delta0 is evaluated at m0's estimates, everything else at m1's.

    Multiple groups: Gamma = blockdiag(Gamma_g / f_g), W = blockdiag(f_g W_g), Delta stacked over the groups
    (f_g = N_g / N), as lavaan.

    Returns a dict: chisq_diff, df_diff, pvalue, scale (a), shift (b), trace_ugamma, trace_ugamma2.
    """
    from scipy.linalg import null_space

    if fit1.fit.get("df", np.inf) > fit0.fit.get("df", np.inf):
        fit1, fit0 = fit0, fit1
    s1, j1 = _ordinal_parts(fit1)
    s0, j0 = _ordinal_parts(fit0)
    if len(s1) != len(s0) or any(set(a.names) != set(b.names) or a.n != b.n for a, b in zip(s1, s0)):
        raise ValueError("the two models are not fitted to the same groups, thresholds and correlations")
    d0 = []
    for a, b, J in zip(s1, s0, j0):
        pos = {nm: k for k, nm in enumerate(b.names)}
        d0.append(J[[pos[nm] for nm in a.names]])
    ntot = sum(a.n for a in s1)
    fg = [a.n / ntot for a in s1]
    from scipy.linalg import block_diag

    D1, D0 = np.vstack(j1), np.vstack(d0)
    G = block_diag(*[a.gamma / f for a, f in zip(s1, fg)])
    w = np.concatenate([f / np.diag(a.gamma) for a, f in zip(s1, fg)])
    T1, T0 = fit1.fit["chisq"], fit0.fit["chisq"]
    m = int(round(fit0.fit["df"] - fit1.fit["df"]))
    if m == 0:
        return {
            "chisq_diff": T0 - T1,
            "df_diff": 0,
            "pvalue": np.nan,
            "scale": np.nan,
            "shift": np.nan,
            "trace_ugamma": np.nan,
            "trace_ugamma2": np.nan,
        }
    H = np.linalg.pinv(D1) @ D0
    A = null_space(H.T).T
    P = D1.T @ (w[:, None] * D1)
    Pi = np.linalg.inv(P)
    APA = A @ Pi @ A.T
    keep = ~(
        (np.abs(APA.sum(axis=1)) < np.sqrt(np.finfo(float).eps))
        & (np.abs(APA.sum(axis=0)) < np.sqrt(np.finfo(float).eps))
    )
    A = A[keep]
    PAAPAAP = Pi @ A.T @ np.linalg.pinv(A @ Pi @ A.T) @ A @ Pi
    WD = w[:, None] * D1
    UG = WD @ PAAPAAP @ WD.T @ G
    tr1, tr2 = float(np.trace(UG)), float(np.sum(UG * UG.T))
    if scaled_shifted:
        a = np.sqrt(m / tr2)
        b = m - a * tr1
        T, ddf = (T0 - T1) * a + b, m
    else:
        a, b = tr2 / tr1, np.nan
        T, ddf = (T0 - T1) / a, tr1**2 / tr2
    return {
        "chisq_diff": float(T),
        "df_diff": ddf,
        "pvalue": float(stats.chi2.sf(T, ddf)),
        "scale": float(a),
        "shift": float(b),
        "trace_ugamma": tr1,
        "trace_ugamma2": tr2,
    }


INVARIANCE_STEPS = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}


def measurement_invariance(
    data: pd.DataFrame,
    model: ModelSpec | str,
    group: str,
    *,
    std_lv: bool = False,
    estimator: str = "ML",
    missing: str = "listwise",
    steps: Sequence[str] = tuple(INVARIANCE_STEPS),
    delta_cfi: float = 0.010,
    delta_rmsea: float = 0.015,
    robust_fiml: bool | None = None,
    fallback: tuple[str, str] | None = None,
):
    """Configural -> metric -> scalar -> strict invariance across ``group`` (Meredith 1993; Chen 2007 criteria).

    Each step is ``cfa(model, group=, group.equal=, missing=)``; consecutive steps are compared with
    :func:`compare_models` (``lavTestLRT``). A step holds when CFI drops by at most ``delta_cfi`` and RMSEA rises
    by at most ``delta_rmsea`` relative to the previous step (Chen 2007); under MLR the robust CFI/RMSEA and the
    Satorra-Bentler (2001) scaled difference test are used. Under WLSMV (ordinal items, delta parameterisation):
    metric = equal loadings, scalar = equal loadings and thresholds (scale factors and latent means then free in
    the other groups, as lavaan), compared by the DIFFTEST and the scaled CFI/RMSEA; strict is reported as not
    applicable (residual variances are not parameters under the delta parameterisation).

    Parameters
    ----------
    missing : {"listwise", "ml"}
        Passed to every :func:`fit_cfa` call (``"ml"``: FIML).
    robust_fiml : bool, optional
        Passed to :func:`fit_cfa` (with ``missing="ml"``: False skips the FIML-corrected robust indices; under
        MLR the steps are then compared on the normal-theory CFI/RMSEA). Default None: computed under MLR
        (the table uses them), skipped under ML (the table uses the normal-theory CFI/RMSEA).

    fallback : (estimator, missing), optional
        Under WLSMV: when the configural model cannot be estimated because a category is empty in a group (lavaan
        stops there), the whole sequence is fitted with this continuous estimator instead (e.g. ("MLR", "ml")),
        and ``note`` says why.

    Never raises for a step that cannot be estimated (e.g. a group too small, non-convergence): that row keeps
    its ``status``, its fit values are NaN, ``holds`` is NaN, and the next steps are still fitted (a step
    following one without fit measures has NaN differences and ``holds`` NaN). The configural step holds
    (True) when it has fit measures.

    Returns
    -------
    (table, fits, first_failure)
        table: DataFrame (step, estimator, df, chisq, cfi, rmsea, srmr, chisq_diff, df_diff, pvalue, delta_cfi,
        delta_rmsea, holds, status, note); fits: dict step -> CFAResult (None if fitting raised);
        first_failure: name of the first step whose comparison with the previous step fails Chen's criteria,
        or None (steps with ``holds`` NaN are not failures).
    """
    ordinal = estimator.upper() == "WLSMV"
    if missing not in (("listwise", "pairwise", "ml") if ordinal else ("listwise", "ml")):
        raise ValueError("missing must be 'listwise' or 'ml' ('pairwise' with WLSMV)")
    if estimator.upper() not in ("ML", "MLR", "WLSMV"):
        raise ValueError("estimator must be 'ML', 'MLR' or 'WLSMV'")
    unknown = [s for s in steps if s not in INVARIANCE_STEPS]
    if unknown:
        raise ValueError(f"unknown invariance steps {unknown}; known: {list(INVARIANCE_STEPS)}")
    if group not in data.columns:
        raise KeyError(f"grouping column {group!r} not in data")
    rob = estimator.upper() == "MLR"
    if robust_fiml is None:
        robust_fiml = None if rob else False
    fits: dict[str, CFAResult | None] = {}
    errors: dict[str, str] = {}
    for s in steps:
        if ordinal and "residuals" in INVARIANCE_STEPS[s]:
            fits[s] = None
            errors[s] = (
                "not applicable: under the delta parameterisation of ordinal items the residual variances "
                "are not parameters (strict invariance needs the theta parameterisation)"
            )
            continue
        try:
            fits[s] = fit_cfa(
                data,
                model,
                std_lv=std_lv,
                estimator=estimator,
                missing=missing,
                group=group,
                group_equal=INVARIANCE_STEPS[s],
                robust_fiml=robust_fiml,
            )
        except Exception as exc:  # a step that cannot be set up is reported, never raised
            fits[s] = None
            errors[s] = f"estimation failed ({type(exc).__name__}: {exc})"
    rows = []
    prev = None
    first_fail = None
    for s in steps:
        f = fits[s]
        fm = f.fit if f is not None else {}
        ok = bool(fm) and np.isfinite(_fitval(f, "chisq")) and np.isfinite(_fitval(f, "df"))
        if ordinal:  # the scaled indices exist for every step (lavaan has no robust ones with free scales)
            c = _fitval(f, "cfi.scaled") if f is not None else np.nan
            r = _fitval(f, "rmsea.scaled") if f is not None else np.nan
        else:
            c = (
                _fitval(f, "cfi.robust")
                if f is not None and rob and "cfi.robust" in fm
                else (_fitval(f, "cfi") if f is not None else np.nan)
            )
            r = (
                _fitval(f, "rmsea.robust")
                if f is not None and rob and "rmsea.robust" in fm
                else (_fitval(f, "rmsea") if f is not None else np.nan)
            )
        row = {
            "step": s,
            "df": _fitval(f, "df") if f is not None else np.nan,
            "chisq": _fitval(f, "chisq") if f is not None else np.nan,
            "cfi": c,
            "rmsea": r,
            "srmr": _fitval(f, "srmr") if f is not None else np.nan,
            "chisq_diff": np.nan,
            "df_diff": np.nan,
            "pvalue": np.nan,
            "delta_cfi": np.nan,
            "delta_rmsea": np.nan,
            "holds": True if ok else np.nan,
            "status": f.status if f is not None else errors[s],
        }
        if prev is not None:
            pf = fits[prev]
            prev_ok = rows[-1]["_ok"]
            if ok and prev_ok:
                cmp = compare_models({prev: pf, s: f})
                last = cmp.loc[cmp["model"] == s].iloc[0]
                row.update(
                    {
                        "chisq_diff": last["chisq_diff"],
                        "df_diff": last["df_diff"],
                        "pvalue": last["pvalue"],
                        "delta_cfi": c - rows[-1]["cfi"],
                        "delta_rmsea": r - rows[-1]["rmsea"],
                    }
                )
                if np.isfinite(row["delta_cfi"]) and np.isfinite(row["delta_rmsea"]):
                    row["holds"] = bool((-row["delta_cfi"]) <= delta_cfi and row["delta_rmsea"] <= delta_rmsea)
                else:
                    row["holds"] = np.nan
                if row["holds"] is False and first_fail is None:
                    first_fail = s
            else:
                row["holds"] = np.nan
        row["_ok"] = ok
        rows.append(row)
        prev = s
    table = pd.DataFrame(rows).drop(columns="_ok")
    table.insert(1, "estimator", estimator.upper())
    table["note"] = ""
    conf = table.loc[table["step"] == "configural", "status"]
    if ordinal and fallback is not None and len(conf) and "is empty in group" in str(conf.iloc[0]):
        fb_table, fb_fits, fb_fail = measurement_invariance(
            data,
            model,
            group,
            std_lv=std_lv,
            estimator=fallback[0],
            missing=fallback[1],
            steps=steps,
            delta_cfi=delta_cfi,
            delta_rmsea=delta_rmsea,
        )
        fb_table["note"] = (
            f"WLSMV not estimable ({conf.iloc[0].removeprefix('not estimable: ')}); fitted by {fallback[0]}"
        )
        return fb_table, fb_fits, fb_fail
    return table, fits, first_fail


# =============================================================================================== MI / scores
def modification_indices(fit: CFAResult, top: int | None = None, minimum: float = 0.0) -> pd.DataFrame:
    """Univariate score tests for fixed-to-zero parameters, as ``lavaan::modindices()`` (Sorbom 1989).

    Candidates: cross-loadings (every factor -> every indicator it does not load on), residual covariances
    among indicators and covariances among exogenous factors that are not free. ``mi = N * d^2 / v`` with d the
    gradient of F_ML/2 and v the diagonal of I_22 - I_21 I_11^-1 I_12 (expected information, lavaan's default
    also for MLR fits); ``epc`` the expected parameter change and ``sepc.lv``/``sepc.all`` its standardized
    versions. For an ordinal (WLSMV) fit: the score test of the DWLS objective (:func:`_mi_dwls`).
    Candidates with v < sqrt(machine eps) (not identified given the model) are dropped, as lavaan does.
    Single-group models only.

    Returns
    -------
    DataFrame with columns lhs, op, rhs, mi, epc, sepc.lv, sepc.all, sorted by decreasing mi (``top`` rows).
    """
    m, groups, x = fit._model, fit._groups, fit._x
    if m.ngroups != 1:
        raise NotImplementedError("modification indices are implemented for single-group models")
    cand = _mi_candidates(m)
    if not cand:
        return pd.DataFrame(columns=["lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all"])
    # extended model: add candidates as free parameters (value 0)
    pt = m.pt
    ext = pt[
        ~pt.apply(
            lambda r: (
                r["op"] == "~~" and r["lhs"] != r["rhs"] and r["free"] == 0 and (r["lhs"], "~~", r["rhs"]) in cand
            ),
            axis=1,
        )
    ].copy()
    nq = m.nfree
    add = pd.DataFrame(
        [
            {
                "lhs": l,
                "op": o,
                "rhs": r,
                "group": 1,
                "user": False,
                "free": nq + k + 1,
                "value": np.nan,
                "label": "",
                "start": np.nan,
            }
            for k, (l, o, r) in enumerate(cand)
        ]
    )
    ext = pd.concat([ext, add], ignore_index=True)
    em = Model(ext, m.st)
    xe = np.concatenate([x, np.zeros(len(cand))])
    if fit.estimator == "WLSMV":
        mi, epc = _mi_dwls(em, xe, fit._options["ordinal"]["sample"], nq, len(cand))
    else:
        grad, H = gradient_info(em, xe, groups)
        g = 0.5 * grad
        I = 0.5 * H
        I11, I12, I22 = I[:nq, :nq], I[:nq, nq:], I[nq:, nq:]
        V = I22 - I12.T @ np.linalg.solve(I11, I12)
        v = np.diag(V).copy()
        v[v < np.sqrt(np.finfo(float).eps)] = np.nan  # candidate not identified given the model: dropped (lavaan)
        g2 = g[nq:]
        n = fit.fit.get("ntotal", sum(gd.n for gd in groups))
        mi = n * g2**2 / v
        epc = -g2 / v
    # standardized EPCs
    M = m.matrices(x, 0)
    A = np.linalg.inv(np.eye(m.m) - M["B"])
    veta = A @ M["P"] @ A.T
    sd_lv = np.sqrt(np.diag(veta))
    sigma, _ = m.implied(x, 0, groups[0].mean)
    sd_ov = np.sqrt(np.diag(sigma))
    sepc_lv, sepc_all = [], []
    for (l, o, r), e in zip(cand, epc):
        if o == "=~":
            s_lv = e * sd_lv[m.lv.index(l)]
            sepc_lv.append(s_lv)
            sepc_all.append(s_lv / sd_ov[m.ov.index(r)])
        elif l in m.ov:
            sepc_lv.append(e)
            th = M["T"]
            i, j = m.ov.index(l), m.ov.index(r)
            with np.errstate(invalid="ignore"):  # a negative residual variance (Heywood case): NaN, as lavaan
                sepc_all.append(e / np.sqrt(th[i, i] * th[j, j]))
        else:
            i, j = m.lv.index(l), m.lv.index(r)
            sepc_lv.append(e / (sd_lv[i] * sd_lv[j]))
            sepc_all.append(e / (sd_lv[i] * sd_lv[j]))
    out = pd.DataFrame(
        {
            "lhs": [c[0] for c in cand],
            "op": [c[1] for c in cand],
            "rhs": [c[2] for c in cand],
            "mi": mi,
            "epc": epc,
            "sepc.lv": sepc_lv,
            "sepc.all": sepc_all,
        }
    )
    out = (
        out[out["mi"].notna() & (out["mi"] >= minimum)]
        .sort_values("mi", ascending=False, kind="mergesort")
        .reset_index(drop=True)
    )
    return out.head(top) if top else out


def _mi_candidates(m: Model) -> list[tuple[str, str, str]]:
    """Fixed-to-zero parameters tested by :func:`modification_indices`: cross-loadings, residual covariances
    among indicators, covariances among exogenous factors that are not free."""
    pt = m.pt
    have = set(zip(pt["lhs"], pt["op"], pt["rhs"]))
    have |= {(r, "~~", l) for l, o, r in zip(pt["lhs"], pt["op"], pt["rhs"]) if o == "~~"}
    cand = []
    first_lv = [f for f in m.lv if f not in m._endo()]
    for f in m.lv:
        for v in m.ov:
            if (f, "=~", v) not in have:
                cand.append((f, "=~", v))
    for i, a in enumerate(m.ov):
        for b in m.ov[i + 1 :]:
            if (a, "~~", b) not in have:
                cand.append((a, "~~", b))
    for i, a in enumerate(first_lv):
        for b in first_lv[i + 1 :]:
            if (a, "~~", b) not in have or _is_fixed(pt, a, b):
                cand.append((a, "~~", b))
    return cand


def _mi_dwls(em: Model, xe: np.ndarray, samp, nq: int, ncand: int) -> tuple[np.ndarray, np.ndarray]:
    """Score tests of an ordinal (DWLS) fit, as ``modindices()`` for WLSMV: with D the Jacobian of the model
    statistics (thresholds, correlations) of the extended model, W = 1/diag(Gamma), e = s - sigma:
    d = -(N-1)/N D'We (gradient of lavaan's DWLS fmin), I = D'WD, v = diag(I22 - I21 I11^-1 I12);
    mi = N d^2 / v, epc = -d / v (the candidates' residual variances stay implied by the delta
    parameterisation)."""
    from .sem import ordinal as ordm

    _, par = ordm._structural(em)
    dS, _ = em.derivatives(xe, 0)
    nth = samp.nth
    J = dS[par][:, samp.pair_i, samp.pair_j].T
    D = np.zeros((nth + len(samp.pair_i), nth + len(par)))
    D[:nth, :nth] = np.eye(nth)
    D[nth:, nth:] = J
    w = 1.0 / np.diag(samp.gamma)
    sigma, _ = em.implied(xe, 0)
    e = np.concatenate([np.zeros(nth), samp.wls_obs[nth:] - sigma[samp.pair_i, samp.pair_j]])
    n = samp.n
    d = -(n - 1) / n * (D.T @ (w * e))
    I = D.T @ (w[:, None] * D)
    pos = {a: k for k, a in enumerate(par)}
    cc = nth + np.array([pos[nq + k] for k in range(ncand)])
    base = np.setdiff1d(np.arange(D.shape[1]), cc)
    I11, I12, I22 = I[np.ix_(base, base)], I[np.ix_(base, cc)], I[np.ix_(cc, cc)]
    v = np.diag(I22 - I12.T @ np.linalg.solve(I11, I12)).copy()
    v[v < np.sqrt(np.finfo(float).eps)] = np.nan
    d2 = d[cc]
    return n * d2**2 / v, -d2 / v


def _is_fixed(pt, a, b):
    r = pt[(pt["op"] == "~~") & (((pt["lhs"] == a) & (pt["rhs"] == b)) | ((pt["lhs"] == b) & (pt["rhs"] == a)))]
    return len(r) > 0 and (r["free"] == 0).all() and (r["value"].fillna(0) == 0).all()


def latent_covariance(fit: CFAResult, group: int = 1, correlation: bool = True) -> pd.DataFrame:
    """Model-implied covariance (or correlation) matrix of the latent variables, ``Var(eta) = A Psi A'``.

    Matches ``lavInspect(fit, "cor.lv")`` (``correlation=True``) / ``"cov.lv"``; ``group`` is 1-based.
    """
    m, x = fit._model, fit._x
    if x is None:
        raise ValueError("the model was not estimated")
    M = m.matrices(x, group - 1)
    A = np.linalg.inv(np.eye(m.m) - M["B"])
    veta = A @ M["P"] @ A.T
    if correlation:
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(np.diag(veta))
            veta = veta / np.outer(sd, sd)
    return pd.DataFrame(veta, index=m.lv, columns=m.lv)


def factor_scores(fit: CFAResult, data: pd.DataFrame, method: str = "regression") -> pd.DataFrame:
    """Factor scores by the regression method (Thurstone 1935), as ``lavPredict(fit, method = "regression")``.

    ``eta_hat = E(eta) + Var(eta) Lambda' Sigma^-1 (y - mu)`` with the model-implied moments (sample means when
    the model has no mean structure). For a FIML fit (``missing="ml"``) a respondent with missing answers is
    scored from the items they answered, ``Var(eta) Lambda_o' Sigma_oo^-1 (y_o - mu_o)`` (lavaan does the same
    for FIML fits); otherwise rows with missing indicators get NaN. Single-group models only.

    For an ordinal (WLSMV) fit the scores are empirical Bayes modal (EBM) estimates, lavaan's default for
    categorical indicators (``lavPredict(fit)``; Skrondal & Rabe-Hesketh 2004): per respondent the mode of the
    posterior ``phi(eta; 0, Psi) * prod_j P(y_j | eta)`` with ``P(y_j = c | eta) = Phi((tau_c - lambda_j' eta) /
    sqrt(theta_jj)) - Phi((tau_c-1 - lambda_j' eta) / sqrt(theta_jj))``; missing items are left out of the
    product, so respondents with missing answers get scores too (NaN only when every item is missing).
    """
    if fit.estimator == "WLSMV":
        return _factor_scores_ebm(fit, data)
    if method != "regression":
        raise NotImplementedError("only method='regression' is implemented")
    m, x = fit._model, fit._x
    if m.ngroups != 1:
        raise NotImplementedError("factor scores are implemented for single-group models")
    gd = fit._groups[0]
    M = m.matrices(x, 0)
    A = np.linalg.inv(np.eye(m.m) - M["B"])
    sigma, mu = m.implied(x, 0, gd.mean)
    eeta = A @ M["al"] if m.meanstructure else np.zeros(m.m)
    y = data[m.ov].to_numpy(dtype=float)
    LV = M["L"] @ A @ M["P"] @ A.T  # Cov(y, eta)' = Lambda Var(eta)
    fs = np.full((len(y), m.m), np.nan)
    obs = ~np.isnan(y)
    fiml = fit._options.get("missing") == "ml"
    pats, inv = np.unique(obs, axis=0, return_inverse=True)
    inv = inv.ravel()
    for k, pat in enumerate(pats):
        if not pat.any() or (not pat.all() and not fiml):
            continue
        rows = inv == k
        o = np.flatnonzero(pat)
        W = np.linalg.solve(sigma[np.ix_(o, o)], LV[o]).T  # Var(eta) Lambda_o' Sigma_oo^-1
        fs[rows] = eeta[None, :] + (y[rows][:, o] - mu[o][None, :]) @ W.T
    return pd.DataFrame(fs, index=data.index, columns=m.lv)


# =============================================================================================== ordinal (WLSMV)
def _fit_wlsmv(
    data: pd.DataFrame, model: ModelSpec, *, std_lv: bool, missing: str, group, group_equal, orthogonal
) -> CFAResult:
    """Ordinal CFA by DWLS with robust SEs and the scaled-and-shifted test, as ``lavaan::cfa(model, data,
    ordered = TRUE, estimator = "WLSMV")`` (lavaan 0.6.14, delta parameterisation).

    Sample statistics: thresholds and polychoric correlations with their asymptotic covariance Gamma
    (Muthen 1984; :func:`compval.sem.ordinal.ordinal_sample`). Estimates minimise
    F = sum w (s - sigma(theta))^2 with w = 1/diag(Gamma) (Muthen, du Toit & Spisic 1997). Standard errors:
    the sandwich (D'WD)^-1 D'W Gamma W D (D'WD)^-1 / N. Test: T = (N - 1) F (lavaan's DWLS convention) and the
    scaled-and-shifted T_ss = a T + b (Asparouhov & Muthen 2010). Fit indices: CFI/TLI/RMSEA from T
    (``cfi``, ...) and from T_ss against the baseline model's T_ss (``cfi.scaled``, ...); residual summaries on
    the correlation scale (``srmr`` is the mean over the correlations, as lavaan for categorical data; the
    thresholds are fitted exactly). The log-likelihood, AIC and BIC are not defined (NaN, as lavaan).
    Single-group models only.
    """
    from .sem import ordinal as ordm

    orth = model.orthogonal if orthogonal is None else orthogonal
    opts = {
        "std_lv": std_lv,
        "estimator": "WLSMV",
        "missing": missing,
        "group": group,
        "group_equal": tuple(group_equal),
        "meanstructure": False,
        "orthogonal": orth,
        "robust_fiml": None,
    }
    warnings: list[str] = []
    status: list[str] = []
    pt, st = build_partable(model.syntax, std_lv=std_lv, orthogonal=orth)
    m = Model(pt, st)
    labels = [None]
    if missing not in ("listwise", "pairwise", "ml"):
        raise ValueError("missing must be 'listwise' or 'pairwise' with estimator='WLSMV'")
    opts["missing"] = "listwise" if missing == "listwise" else "pairwise"
    if group is not None:
        return _fit_wlsmv_mg(
            data,
            model,
            std_lv=std_lv,
            missing=opts["missing"],
            group=group,
            group_equal=tuple(group_equal),
            orth=orth,
            opts=opts,
        )
    if not model.identified:
        status.append("not identified (" + "; ".join(model.notes) + ")")
    ov = st.ov_names
    _, ys = _prepare_groups(data, ov, None, "listwise" if missing == "listwise" else "ml")
    y = ys[0]
    if len(y) < 2:
        status.append("not estimable: fewer than 2 rows")
        return _failed(model, st, labels, m, status, warnings, "WLSMV", opts)
    try:
        samp = _ordinal_sample_cached(y.tobytes(), y.shape, tuple(ov))
    except ValueError as exc:
        status.append(f"not estimable: {exc}")
        return _failed(model, st, labels, m, status, warnings, "WLSMV", opts)
    if samp.empty_cells:
        warnings.append(f"{len(samp.empty_cells)} item pair(s) have empty cells in their bivariate table")
    n = samp.n
    try:
        resvar_idx, par = ordm._structural(m)
    except ValueError as exc:
        status.append(f"not estimable: {exc}")
        return _failed(model, st, labels, m, status, warnings, "WLSMV", opts)
    nth, pstar = samp.nth, len(samp.pair_i)
    npar = nth + len(par)
    df_model = nth + pstar - npar
    if df_model < 0:
        status.append(f"not identified (df = {df_model} < 0)")
    gd = GroupData(n=n, blocks=[], complete=True, mean=np.zeros(len(ov)), cov=samp.cor)
    try:
        x0 = m.start([gd])
        res = ordm.dwls_fit(m, samp, x0)
        if std_lv:
            res = ordm.reflected(m, samp, res, _reflect(m, res.x))
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        status.append(f"estimation failed ({exc})")
        return _failed(model, st, labels, m, status, warnings, "WLSMV", opts)
    x = res.x
    converged = res.converged
    if not converged:
        status.insert(0, f"not converged ({res.message})")
    w = 1.0 / np.diag(samp.gamma)
    D = res.delta
    vcov_th = None
    vcov = None
    try:
        E = D.T @ (w[:, None] * D)
        Ei = np.linalg.inv(E)
        WD = w[:, None] * D
        V = Ei @ (WD.T @ samp.gamma @ WD) @ Ei / (n - 1)  # lavaan: information scaled by (N - 1) / N
        vcov_th = V
        vcov = np.full((m.nfree, m.nfree), np.nan)
        vcov[np.ix_(par, par)] = V[nth:, nth:]
        for a in resvar_idx:
            vcov[a, :] = vcov[:, a] = np.nan
    except np.linalg.LinAlgError:
        warnings.append("could not compute standard errors: singular information matrix")
        if "not identified" not in " ".join(status):
            status.append("not identified (singular information matrix)")
    params, std_extra = _param_table(m, x, vcov, [gd])
    _implied_residual_variances(params, ov)
    # thresholds
    th_se = np.sqrt(np.clip(np.diag(vcov_th)[:nth], 0, None)) if vcov_th is not None else np.full(nth, np.nan)
    q = stats.norm.ppf(0.975)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = res.th / th_se
    th_rows = pd.DataFrame(
        {
            "lhs": [ov[i] for i in samp.th_var],
            "op": "|",
            "rhs": [nm.split("|")[1] for nm in samp.names[:nth]],
            "group": 1,
            "free": True,
            "est": res.th,
            "se": th_se,
            "z": z,
            "pvalue": 2 * stats.norm.sf(np.abs(z)),
            "ci_lower": res.th - q * th_se,
            "ci_upper": res.th + q * th_se,
            "std_lv": res.th,
            "std_all": res.th,
        }
    )
    params = pd.concat([params, th_rows[PARAM_COLUMNS]], ignore_index=True)
    sigma, _ = m.implied(x, 0)
    out = CFAResult(
        converged=converged,
        status="ok",
        params=params,
        fit={},
        implied_cov=pd.DataFrame(sigma, index=ov, columns=ov),
        sample_cov=pd.DataFrame(samp.cor, index=ov, columns=ov),
        r2=std_extra[0]["r2"],
        warnings=warnings,
        model_name=model.name,
        syntax=model.syntax,
        estimator="WLSMV",
        group_labels=labels,
        ov_names=ov,
        lv_names=st.lv_names,
        vcov=vcov,
        _model=m,
        _groups=[gd],
        _x=x,
        _options=opts,
    )
    out._options["ordinal"] = {"sample": samp, "dwls": res, "vcov_full": vcov_th}
    status += _admissibility(m, x, params[params["op"] != "|"], std_extra, warnings)
    if converged and df_model >= 0 and vcov_th is not None:
        try:
            out.fit = _fit_measures_wlsmv([samp], [res.delta], [res.est_stats], npar, df_model)
        except Exception as exc:  # carried to the output: the fit's status says it failed, and why
            status.append(_fit_measures_failed(exc, warnings))
    out.status = "ok" if not status else "; ".join(status)
    return out


@functools.lru_cache(maxsize=4)
def _ordinal_sample_cached(data: bytes, shape: tuple, ov: tuple):
    """Memoised :func:`compval.sem.ordinal.ordinal_sample`: the rival models of a comparison share the same
    items and rows, so thresholds, polychorics and Gamma are computed once (the result is never modified)."""
    from .sem import ordinal as ordm

    return ordm.ordinal_sample(np.frombuffer(data, dtype=float).reshape(shape), list(ov))


def _implied_residual_variances(params: pd.DataFrame, ov: list) -> None:
    """Mark the indicators' residual variances as fixed (se 0, no test), in place: under the delta
    parameterisation they are implied (1/delta^2 - communality), and lavaan reports them so."""
    rv = params["op"].eq("~~") & params["lhs"].eq(params["rhs"]) & params["lhs"].isin(ov)
    params.loc[rv, "free"] = False
    params.loc[rv, ["se", "z", "pvalue"]] = [0.0, np.nan, np.nan]
    params.loc[rv, "ci_lower"] = params.loc[rv, "est"]
    params.loc[rv, "ci_upper"] = params.loc[rv, "est"]


def _fit_measures_wlsmv(samples: list, jacs: list, ests: list, npar: int, df: int, robust: bool = True) -> dict:
    """``fitMeasures()`` of an ordinal DWLS fit, one or more groups (lavaan 0.6.14 conventions; see
    :func:`_fit_wlsmv`, :func:`_fit_wlsmv_mg`): T = sum_g (N_g - 1) F_g, the scaled-and-shifted test over the
    stacked groups, the baseline (thresholds free, correlations zero), CFI/TLI/... from T and from T_ss, RMSEA
    with N - G, the robust (catML) indices when ``robust``, and residual summaries on the correlation scale
    (group-weighted by N_g / N; the diagonal is fixed at 1 and free thresholds fit exactly).

    ``samples``, ``jacs``, ``ests``: per group the ordinal sample statistics, the Jacobian of the model
    statistics with respect to the estimated parameters, and the model statistics.
    """
    from .sem.ordinal import mg_scaled_shifted

    G = len(samples)
    ntot = sum(s.n for s in samples)
    ws = [1.0 / np.diag(s.gamma) for s in samples]
    es = [s.wls_obs - e for s, e in zip(samples, ests)]
    X2 = float(sum((s.n - 1) * np.sum(w * e * e) for s, w, e in zip(samples, ws, es)))
    ss = mg_scaled_shifted(samples, jacs, X2, df)
    X2n = float(sum((s.n - 1) * np.sum(w[s.nth :] * s.wls_obs[s.nth :] ** 2) for s, w in zip(samples, ws)))
    dfn = sum(len(s.pair_i) for s in samples)
    nth_tot = sum(s.nth for s in samples)
    jb, off = [], 0
    for s in samples:
        J = np.zeros((len(s.wls_obs), nth_tot))
        J[: s.nth, off : off + s.nth] = np.eye(s.nth)
        off += s.nth
        jb.append(J)
    ssn = mg_scaled_shifted(samples, jb, X2n, dfn)
    X2s, X2ns = ss["stat"], ssn["stat"]
    fm: dict[str, float] = {
        "npar": npar,
        "fmin": X2 / (2 * ntot),
        "chisq": X2,
        "df": df,
        "pvalue": float(stats.chi2.sf(X2, df)) if df > 0 else np.nan,
        "chisq.scaled": X2s,
        "df.scaled": df,
        "pvalue.scaled": float(stats.chi2.sf(X2s, df)) if df > 0 else np.nan,
        "chisq.scaling.factor": ss["scaling.factor"],
        "chisq.shift.parameter": ss["shift.parameter"],
        "trace.UGamma": ss["trace.UGamma"],
        "trace.UGamma2": ss["trace.UGamma2"],
        "baseline.chisq": X2n,
        "baseline.df": dfn,
        "baseline.pvalue": float(stats.chi2.sf(X2n, dfn)),
        "baseline.chisq.scaled": X2ns,
        "baseline.df.scaled": dfn,
        "baseline.pvalue.scaled": float(stats.chi2.sf(X2ns, dfn)),
        "baseline.chisq.scaling.factor": ssn["scaling.factor"],
    }
    fm["cfi"] = fi.cfi(X2, df, X2n, dfn)
    fm["tli"] = fi.tli(X2, df, X2n, dfn)
    fm["cfi.scaled"] = fi.cfi(X2s, df, X2ns, dfn)
    fm["tli.scaled"] = fi.tli(X2s, df, X2ns, dfn)
    fm.update(
        {
            "nnfi": fm["tli"],
            "rfi": fi.rfi(X2, df, X2n, dfn),
            "nfi": fi.nfi(X2, df, X2n, dfn),
            "pnfi": fi.pnfi(X2, df, X2n, dfn),
            "ifi": fi.ifi(X2, df, X2n, dfn),
            "rni": fi.rni(X2, df, X2n, dfn),
            "nnfi.scaled": fm["tli.scaled"],
            "rfi.scaled": fi.rfi(X2s, df, X2ns, dfn),
            "nfi.scaled": fi.nfi(X2s, df, X2ns, dfn),
            "pnfi.scaled": fi.pnfi(X2s, df, X2ns, dfn),
            "ifi.scaled": fi.ifi(X2s, df, X2ns, dfn),
            "rni.scaled": fi.rni(X2s, df, X2ns, dfn),
        }
    )
    fm.update(
        {"logl": np.nan, "unrestricted.logl": np.nan, "aic": np.nan, "bic": np.nan, "bic2": np.nan, "ntotal": ntot}
    )
    # RMSEA: lavaan uses ntotal minus the number of groups for DWLS
    nr = ntot - G
    lo, hi = fi.rmsea_ci(X2, df, nr, G)
    fm.update(
        {
            "rmsea": fi.rmsea(X2, df, nr, G),
            "rmsea.ci.lower": lo,
            "rmsea.ci.upper": hi,
            "rmsea.ci.level": 0.90,
            "rmsea.pvalue": fi.rmsea_pvalue(X2, df, nr, G),
            "rmsea.close.h0": 0.05,
            "rmsea.notclose.pvalue": fi.rmsea_notclose_pvalue(X2, df, nr, G),
            "rmsea.notclose.h0": 0.08,
        }
    )
    lo_s, hi_s = fi.rmsea_ci(X2s, df, nr, G)
    fm.update(
        {
            "rmsea.scaled": fi.rmsea(X2s, df, nr, G),
            "rmsea.ci.lower.scaled": lo_s,
            "rmsea.ci.upper.scaled": hi_s,
            "rmsea.pvalue.scaled": fi.rmsea_pvalue(X2s, df, nr, G),
            "rmsea.notclose.pvalue.scaled": fi.rmsea_notclose_pvalue(X2s, df, nr, G),
        }
    )
    if robust:
        fm.update(_catml_robust(samples, jacs, ests, df, nr))
    acc = dict.fromkeys(("rmr", "rmr_nomean", "crmr", "crmr_nomean"), 0.0)
    for s, e in zip(samples, es):
        p, nth, npair = len(s.ov), s.nth, len(s.pair_i)
        ss_r, ss_t = float(np.sum(e[nth:] ** 2)), float(np.sum(e[:nth] ** 2))
        nvech = p * (p + 1) // 2
        f = s.n / ntot
        acc["rmr"] += f * np.sqrt((ss_r + ss_t) / (nvech + nth))
        acc["rmr_nomean"] += f * np.sqrt(ss_r / nvech)
        acc["crmr"] += f * np.sqrt((ss_r + ss_t) / (npair + nth))
        acc["crmr_nomean"] += f * np.sqrt(ss_r / npair)
    fm.update(acc)
    fm.update({"srmr_bentler": acc["rmr"], "srmr_bentler_nomean": acc["rmr_nomean"], "srmr": acc["rmr_nomean"]})
    return fm


def _catml_robust(samples: list, jacs: list, ests: list, df: int, nr: int) -> dict:
    """Robust CFI/TLI/RNI/RMSEA for categorical data (Savalei 2021), as ``lavaan:::lav_fit_catml_dwls``.

    The DWLS solution is evaluated with the normal-theory ML discrepancy on the polychoric correlation matrix R
    (no re-estimation): XX3 = sum_g N_g [log|Sigma_g| - log|R_g| + tr(R_g Sigma_g^-1) - p], baseline
    XX3.null = -sum_g N_g log|R_g| on G p(p-1)/2 df. Scaling: c = tr(WiU' V WiU Gamma_r) / df with V the expected
    ML information of the correlations at Sigma (V_(ij),(kl) = s^ik s^jl + s^il s^jk, s = Sigma^-1),
    WiU = I - D_r (D'WD)^-1 D_r' W_r, and c0 = tr(Gamma_r) / (G p(p-1)/2), the groups stacked with V_g, W_g
    weighted by f_g = N_g/N and Gamma_g divided by f_g; the indices then follow Brosseau-Liard & Savalei (2014)
    with ``nr`` (N - G) in the RMSEA. Empty (lavaan: NA) when an R_g is not positive definite (an eigenvalue
    below sqrt(machine eps)).

    ``samples``, ``jacs``, ``ests``: per group the ordinal sample statistics, the Jacobian of the model
    statistics with respect to the estimated parameters, and the model statistics.
    """
    from scipy.linalg import block_diag

    G = len(samples)
    ntot = sum(s.n for s in samples)
    fg = [s.n / ntot for s in samples]
    if df <= 0 or any(np.linalg.eigvalsh(s.cor).min() < np.sqrt(np.finfo(float).eps) for s in samples):
        return {}
    E = sum(f * J.T @ ((1.0 / np.diag(s.gamma))[:, None] * J) for f, J, s in zip(fg, jacs, samples))
    Ei = np.linalg.inv(E)
    XX3 = XX3n = 0.0
    Vb, Wb, Gb, Db = [], [], [], []
    for f, s, J, est in zip(fg, samples, jacs, ests):
        p = s.cor.shape[0]
        nth = s.nth
        sigma = np.eye(p)
        sigma[s.pair_i, s.pair_j] = sigma[s.pair_j, s.pair_i] = est[nth:]
        si = np.linalg.inv(sigma)
        XX3 += s.n * (np.linalg.slogdet(sigma)[1] - np.linalg.slogdet(s.cor)[1] + np.sum(s.cor * si) - p)
        XX3n += -s.n * np.linalg.slogdet(s.cor)[1]
        i, j = s.pair_i, s.pair_j
        Vb.append(f * (si[np.ix_(i, i)] * si[np.ix_(j, j)] + si[np.ix_(i, j)] * si[np.ix_(j, i)]))
        Wb.append(f / np.diag(s.gamma)[nth:])
        Gb.append(s.gamma[nth:, nth:] / f)
        Db.append(J[nth:])
    V, Gm = block_diag(*Vb), block_diag(*Gb)
    W = np.concatenate(Wb)
    D = np.vstack(Db)
    WiU = np.eye(len(W)) - D @ Ei @ D.T * W[None, :]
    c = float(np.sum((WiU.T @ V @ WiU) * Gm.T)) / df
    dfn = sum(len(s.pair_i) for s in samples)
    c0 = float(np.trace(Gm)) / dfn
    XX3s = XX3 / c
    lo, hi = fi.rmsea_ci(XX3s, df, nr, G, c=c)
    return {
        "cfi.robust": fi.cfi(XX3, df, XX3n, dfn, c, c0),
        "tli.robust": fi.tli(XX3, df, XX3n, dfn, c, c0),
        "nnfi.robust": fi.tli(XX3, df, XX3n, dfn, c, c0),
        "rni.robust": fi.rni(XX3, df, XX3n, dfn, c, c0),
        "rmsea.robust": fi.rmsea(XX3, df, nr, G, c=c),
        "rmsea.ci.lower.robust": lo,
        "rmsea.ci.upper.robust": hi,
        "rmsea.pvalue.robust": fi.rmsea_pvalue(XX3s, df, nr, G, c=c),
        "rmsea.notclose.pvalue.robust": fi.rmsea_notclose_pvalue(XX3s, df, nr, G, c=c),
    }


def _factor_scores_ebm(fit: CFAResult, data: pd.DataFrame, maxit: int = 100, tol: float = 1e-10) -> pd.DataFrame:
    """EBM factor scores of an ordinal fit (see :func:`factor_scores`): Newton's method on the (convex) negative
    log posterior of every respondent at once, with step halving; exact gradient and Hessian."""
    m, x = fit._model, fit._x
    samp = fit._options["ordinal"]["sample"]
    M = m.matrices(x, 0)
    L = M["L"]
    A = np.linalg.inv(np.eye(m.m) - M["B"])
    veta = A @ M["P"] @ A.T
    vinv = np.linalg.inv(veta)
    LA = L @ A
    theta_sd = np.sqrt(np.diag(M["T"]))
    ov = m.ov
    y = data[ov].to_numpy(dtype=float)
    n, p = y.shape
    up = np.full((n, p), np.inf)
    lo = np.full((n, p), -np.inf)
    obs = ~np.isnan(y)
    start = np.concatenate([[0], np.cumsum([len(lv) - 1 for lv in samp.levels])])
    for j in range(p):
        cats = np.asarray(samp.levels[j])
        th = np.concatenate([[-np.inf], samp.th[start[j] : start[j + 1]], [np.inf]])
        c = np.searchsorted(cats, y[obs[:, j], j])
        if np.any(c >= len(cats)) or np.any(cats[np.clip(c, 0, len(cats) - 1)] != y[obs[:, j], j]):
            raise ValueError(f"item {ov[j]!r} has values not seen when the model was fitted")
        up[obs[:, j], j] = th[c + 1]
        lo[obs[:, j], j] = th[c]

    def parts(eta):
        u = eta @ LA.T  # n x p
        zu = np.where(obs, (up - u) / theta_sd, np.inf)
        zl = np.where(obs, (lo - u) / theta_sd, -np.inf)
        P = np.clip(stats.norm.cdf(zu) - stats.norm.cdf(zl), 1e-300, None)
        fu, fl = stats.norm.pdf(zu), stats.norm.pdf(zl)
        zfu = np.where(np.isfinite(zu), np.nan_to_num(zu) * fu, 0.0)
        zfl = np.where(np.isfinite(zl), np.nan_to_num(zl) * fl, 0.0)
        d1 = np.where(obs, -(fu - fl) / (theta_sd * P), 0.0)  # d log P / d u
        d2 = np.where(obs, -(zfu - zfl) / (theta_sd**2 * P) - d1**2, 0.0)
        f = 0.5 * np.einsum("ij,jk,ik->i", eta, vinv, eta) - np.where(obs, np.log(P), 0.0).sum(axis=1)
        g = eta @ vinv - d1 @ LA
        H = vinv[None] - np.einsum("ij,jk,jl->ikl", d2, LA, LA)
        return f, g, H

    eta = np.zeros((n, m.m))
    f, g, H = parts(eta)
    active = obs.any(axis=1)
    for _ in range(maxit):
        step = np.linalg.solve(H[active], g[active][..., None])[..., 0]
        t = np.ones(active.sum())
        cur = eta[active]
        for _ in range(30):
            cand = eta.copy()
            cand[active] = cur - t[:, None] * step
            fn, gn, Hn = parts(cand)
            worse = fn[active] > f[active] + 1e-12 * np.maximum(1.0, np.abs(f[active]))
            if not worse.any():
                break
            t = np.where(worse, t / 2, t)
        eta, f, g, H = cand, fn, gn, Hn
        if np.max(np.abs(t[:, None] * step)) < tol:
            break
    eta[~active] = np.nan
    return pd.DataFrame(eta, index=data.index, columns=m.lv)


def _fit_wlsmv_mg(
    data: pd.DataFrame,
    model: ModelSpec,
    *,
    std_lv: bool,
    missing: str,
    group: str,
    group_equal: tuple,
    orth: bool,
    opts: dict,
) -> CFAResult:
    """Multi-group ordinal CFA (WLSMV), as ``lavaan::cfa(model, data, ordered = TRUE, estimator = "WLSMV",
    group = group, group.equal = group_equal)`` with the delta parameterisation and marker identification
    (:class:`compval.sem.ordinal.MGOrdinal`). ``group_equal``: "loadings" and "thresholds" ("intercepts" is read
    as "thresholds": for ordinal items the thresholds take the intercepts' place; "residuals" is not
    applicable under the delta parameterisation -- the residual variances are not parameters -- and is
    ignored with a warning, as lavaan does). Equal thresholds free the scale factors and latent means of
    groups 2..G. Test: sum_g (N_g - 1) F_g, scaled and shifted over the groups (weights N_g / N); RMSEA with
    N - G; robust (catML) indices when no scale factor is free (lavaan reports none otherwise).
    """
    from .sem import ordinal as ordm

    warnings: list[str] = []
    status: list[str] = []
    eq = set(group_equal)
    if "intercepts" in eq:
        eq = (eq - {"intercepts"}) | {"thresholds"}
    if "residuals" in eq:
        warnings.append("group_equal 'residuals' has no effect under the delta parameterisation (ordinal items)")
    unsupported = eq - {"loadings", "thresholds", "residuals"}
    eng_equal = tuple(e for e in ("loadings",) if e in eq)
    _, probe_st = build_partable(model.syntax, std_lv=std_lv, orthogonal=orth)
    labels, ys = _prepare_groups(data, probe_st.ov_names, group, "listwise" if missing == "listwise" else "ml")
    pt, st = build_partable(model.syntax, ngroups=len(labels), std_lv=std_lv, orthogonal=orth, group_equal=eng_equal)
    m = Model(pt, st)
    opts = dict(opts, group_equal=tuple(group_equal))
    if std_lv or unsupported:
        what = "unit-variance identification" if std_lv else f"group_equal {sorted(unsupported)}"
        status.append(f"not estimable: {what} is not implemented for multi-group ordinal models")
        return _failed(model, st, labels, m, status, warnings, "WLSMV", opts)
    ov = st.ov_names
    try:
        samples = [ordm.ordinal_sample(y, ov) for y in ys]
    except ValueError as exc:
        status.append(f"not estimable: {exc}")
        return _failed(model, st, labels, m, status, warnings, "WLSMV", opts)
    # lavaan stops when a category observed in the data is empty in a group (thresholds are defined on the
    # categories of the whole sample): report which item and group
    for i, v in enumerate(ov):
        cats = sorted(set().union(*[s.levels[i] for s in samples]))
        for lab, s in zip(labels, samples):
            if s.levels[i] != cats:
                empty = [c for c in cats if c not in s.levels[i]]
                status.append(
                    f"not estimable: category {', '.join(f'{c:g}' for c in empty)} of item {v!r} is "
                    f"empty in group {lab} (as lavaan: collapse categories, or use a continuous "
                    "estimator for the invariance analysis)"
                )
                return _failed(model, st, labels, m, status, warnings, "WLSMV", opts)
    mg = ordm.MGOrdinal(m, samples, "thresholds" in eq)
    nstat = sum(len(s.wls_obs) for s in samples)
    df = nstat - mg.nz
    if df < 0:
        status.append(f"not identified (df = {df} < 0)")
    try:
        res = mg.fit()
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        status.append(f"estimation failed ({exc})")
        return _failed(model, st, labels, m, status, warnings, "WLSMV", opts)
    if not res.converged:
        status.insert(0, f"not converged ({res.message})")
    ntot = sum(s.n for s in samples)
    fg = [s.n / ntot for s in samples]
    ws = [1.0 / np.diag(s.gamma) for s in samples]
    vz = None
    try:
        E = sum(f * J.T @ (w[:, None] * J) for f, J, w in zip(fg, res.jac, ws))
        B = sum(f * (w[:, None] * J).T @ s.gamma @ (w[:, None] * J) for f, J, w, s in zip(fg, res.jac, ws, samples))
        Ei = np.linalg.inv(E)
        vz = Ei @ B @ Ei / (ntot - len(samples))
    except np.linalg.LinAlgError:
        warnings.append("could not compute standard errors: singular information matrix")
    # parameter table: the engine's rows per group (x with that group's implied residual variances), then
    # thresholds, scale factors and latent means
    tables, extras, imp, samp_cov, r2 = [], [], {}, {}, []
    for g in range(len(samples)):
        x, th, scales, means, C, LA = res.groups[g]
        vcov = None
        if vz is not None:
            vcov = np.full((m.nfree, m.nfree), np.nan)
            k = len(mg.par)
            vcov[np.ix_(mg.par, mg.par)] = vz[:k, :k]
        gd = GroupData(n=samples[g].n, blocks=[], complete=True, mean=np.zeros(len(ov)), cov=samples[g].cor)
        gds = [gd] * len(samples)
        ptab, ext = _param_table(m, x, vcov, gds)
        ptab = ptab[ptab["group"] == g + 1].copy()
        _implied_residual_variances(ptab, ov)
        s = samples[g]
        sd_z = np.sqrt(np.clip(np.diag(vz), 0, None)) if vz is not None else np.full(mg.nz, np.nan)
        veta = ext[g]["veta"]
        rows = []
        for k_, (i, nm) in enumerate(zip(s.th_var, s.names[: s.nth])):
            zi = mg.th_index[g][k_]
            rows.append((ov[i], "|", nm.split("|")[1], True, th[k_], sd_z[zi], th[k_] * scales[i]))
        for i, v in enumerate(ov):
            zi = mg.scale_index[g][i]
            rows.append((v, "~*~", v, zi >= 0, scales[i], sd_z[zi] if zi >= 0 else 0.0, 1.0))
        for j, lv in enumerate(st.lv_names):
            zi = mg.mean_index[g][j]
            rows.append((lv, "~1", "", zi >= 0, means[j], sd_z[zi] if zi >= 0 else 0.0, means[j] / np.sqrt(veta[j, j])))
        q = stats.norm.ppf(0.975)
        extra = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "free", "est", "se", "std_all"])
        extra["group"] = g + 1
        with np.errstate(divide="ignore", invalid="ignore"):
            extra["z"] = np.where(extra["free"], extra["est"] / extra["se"], np.nan)
        extra["pvalue"] = 2 * stats.norm.sf(np.abs(extra["z"]))
        extra["ci_lower"] = extra["est"] - q * extra["se"]
        extra["ci_upper"] = extra["est"] + q * extra["se"]
        extra["std_lv"] = np.where(extra["op"] == "~1", extra["std_all"], extra["est"])
        tables += [ptab, extra[PARAM_COLUMNS]]
        extras.append(ext[g])
        key = labels[g]
        sigma = C + np.diag(1.0 / scales**2 - np.diag(C))
        imp[key] = pd.DataFrame(sigma, index=ov, columns=ov)
        samp_cov[key] = pd.DataFrame(s.cor, index=ov, columns=ov)
        r2.append(ext[g]["r2"])
    params = pd.concat(tables, ignore_index=True)
    x_last = res.groups[-1][0]
    out = CFAResult(
        converged=res.converged,
        status="ok",
        params=params,
        fit={},
        implied_cov=imp,
        sample_cov=samp_cov,
        r2=pd.concat(r2, keys=list(range(1, len(labels) + 1)), names=["group", "name"]),
        warnings=warnings,
        model_name=model.name,
        syntax=model.syntax,
        estimator="WLSMV",
        group_labels=labels,
        ov_names=ov,
        lv_names=st.lv_names,
        vcov=vz,
        _model=m,
        _groups=None,
        _x=x_last,
        _options=opts,
    )
    out._options["ordinal_mg"] = {"samples": samples, "fit": res, "model": mg}
    adm = []
    for g in range(len(samples)):
        pg = params[(params["group"] == g + 1) & ~params["op"].isin(["|", "~*~", "~1"])]
        adm += [
            a.replace("(group 1)", f"(group {g + 1})")
            for a in _admissibility(m, res.groups[g][0], pg, [extras[g]], warnings)
        ]
    status += list(dict.fromkeys(adm))
    if res.converged and df >= 0 and vz is not None:
        try:
            out.fit = _fit_measures_wlsmv(
                samples, res.jac, res.est, mg.nz, df, robust=all((si < 0).all() for si in mg.scale_index)
            )
        except Exception as exc:  # carried to the output: the fit's status says it failed, and why
            status.append(_fit_measures_failed(exc, warnings))
    out.status = "ok" if not status else "; ".join(status)
    return out
