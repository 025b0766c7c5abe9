"""A fit's result: :class:`CFAResult`, and the one place its fields are built (:class:`FitRecord`), for every
estimator and for models that could not be estimated (the front end, :func:`compval.cfa.fit_cfa`, turns the
fields into the dataclass)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .params import PARAM_COLUMNS

__all__ = ["CFAResult", "FitRecord", "FAILED_PREFIX", "without_rows", "groups_of"]

FAILED_PREFIX = "failed"


@dataclass
class FitRecord:
    """What a fit collects on its way to a result: the model specification, the options (``CFAResult._options``),
    the group labels, the parameter table's structure ``st`` and engine model ``m``, and the problems found
    (``status``) and ``warnings``."""

    model: Any
    opts: dict
    labels: list = field(default_factory=lambda: [None])
    st: Any = None
    m: Any = None
    status: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    def result(self, converged: bool, params: pd.DataFrame, fit: dict, **fields: Any) -> dict:
        """The fields of a fit result; what ``fields`` leaves out is empty (moments, vcov, estimates)."""
        parts: dict[str, Any] = {
            "converged": converged,
            "status": "ok" if not self.status else "; ".join(self.status),
            "params": params,
            "fit": fit,
            "implied_cov": None,
            "sample_cov": None,
            "r2": pd.Series(dtype=float),
            "warnings": self.warnings,
            "model_name": self.model.name,
            "syntax": self.model.syntax,
            "estimator": self.opts["estimator"],
            "group_labels": self.labels,
            "ov_names": self.st.ov_names,
            "lv_names": self.st.lv_names,
            "vcov": None,
            "_model": self.m,
            "_groups": None,
            "_x": None,
            "_options": self.opts,
        }
        parts.update(fields)
        return parts

    def failed(self, problem: str | None = None) -> dict:
        """Result of a model that could not be estimated at all (``problem`` added to the status; parameters as
        in the table, estimates NaN)."""
        if problem is not None:
            self.status.append(problem)
        pt = self.m.pt
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
        return self.result(False, params[PARAM_COLUMNS], {}, status="; ".join(self.status))

    def measure(self, fit_measures, *args, **kwargs) -> dict:
        """``fit_measures(*args, **kwargs)``; when it raises, the fit is marked failed in ``status`` (never "ok"
        with an empty fit: the comparison, the verdicts, the tables and the report show it as failed) and the
        fit measures are empty."""
        try:
            return fit_measures(*args, **kwargs)
        except Exception as exc:  # carried to the output: the fit's status says it failed, and why
            msg = f"{FAILED_PREFIX}: fit measures could not be computed ({type(exc).__name__}: {exc})"
            self.warnings.append(msg)
            self.status.append(msg)
            return {}


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


def without_rows(fit: CFAResult) -> CFAResult:
    """The fit without its copy of the data (the per-group sample statistics and rows, ``_groups``): what can be
    sent to another process cheaply. Estimates, fit measures and comparisons (``compare_models``, ``difftest``)
    are unchanged; modification indices and factor scores need the full fit."""
    return dataclasses.replace(fit, _groups=None)


def groups_of(fit: CFAResult, what: str) -> list:
    """The fit's per-group sample statistics (``_groups``), which ``what`` needs; raises ValueError for a fit that
    came back from another process :func:`without_rows`."""
    if fit._groups is None:
        raise ValueError(
            f"{what} need the fit with its data; model {fit.model_name!r} came back without it "
            "(compval.cfa.without_rows: fitted in another process, or not named in fit_models' keep_data): fit it "
            "in this process, or name it in keep_data"
        )
    return fit._groups
