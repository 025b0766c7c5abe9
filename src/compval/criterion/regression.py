"""Hierarchical OLS regression of a criterion on controls, then controls + competencies (R's ``lm``,
``anova``, ``sandwich::vcovHC(type = "HC3")``, ``lmtest`` and ``car::vif``; the fits by :mod:`.ols`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from .ols import nested_f_test, ols, t_interval, wald_f_test
from .prepare import control_design, t_pvalues

__all__ = ["hierarchical_regression"]


def _gvif(vcov: np.ndarray, assign: list[int], n_terms: int) -> list[tuple[float, int]]:
    """car::vif: GVIF_j = det(R_jj) det(R_-j-j) / det(R), R = cov2cor(vcov(beta)) without the intercept."""
    d = np.sqrt(np.diag(vcov))
    R = vcov / np.outer(d, d)
    detR = np.linalg.det(R)
    assign = np.asarray(assign)
    out = []
    for t in range(n_terms):
        sub = np.where(assign == t)[0]
        rest = np.where(assign != t)[0]
        g = np.linalg.det(R[np.ix_(sub, sub)]) * np.linalg.det(R[np.ix_(rest, rest)]) / detR
        out.append((float(g), len(sub)))
    return out


def hierarchical_regression(
    y: pd.Series,
    scores: pd.DataFrame,
    controls: pd.DataFrame | None = None,
    *,
    conf: float = 0.95,
) -> dict:
    """Two-step OLS: step 1 ``y ~ controls``, step 2 ``y ~ controls + competencies``.

    Both steps use the same listwise sample (criterion, all competencies and all controls observed), as
    R's ``anova(m1, m2)`` requires. Without controls step 1 is the intercept-only model (R2 = 0).

    Computed (R function matched):

    * R2, adjusted R2 of both steps, delta R2 and the partial F test of the competency block
      (``anova(m1, m2)``); its HC3-robust counterpart (``lmtest::waldtest(m1, m2, vcov = vcovHC(m2, "HC3"),
      test = "F")``); the overall F of step 2 (``summary.lm``).
    * Step-2 coefficients: b, classical SE, t, p (``summary.lm``); HC3 SE, t, p (``coeftest(m2,
      vcov. = vcovHC(m2, type = "HC3"))``, MacKinnon & White 1985, t on the residual df).
    * Standardized betas: the model refitted with every numeric variable (criterion, competencies, numeric
      controls) z-scored in the regression sample (sd with n - 1, R ``scale``); dummies stay 0/1, so a dummy's
      beta is the standardized group difference. CIs: ``confint`` (classical) and beta +- t_{.975} * HC3 SE.
    * (G)VIFs of step 2 as ``car::vif``: Fox & Monette (1992) generalized VIF per term, equal to 1/(1 - R2_j)
      for one-column terms; a factor's dummies form one term with ``df`` > 1 and ``gvif_adj`` =
      GVIF^(1/(2 df)) is the comparable value (``gvif_adj`` = sqrt(VIF) for 1-df terms).

    Returns
    -------
    dict with ``summary`` (dict), ``coefficients`` (DataFrame), ``vif`` (DataFrame), ``sample`` (the
    analysis index), ``design`` (step-2 design without intercept) and ``control_columns`` (design columns of
    the controls).
    """
    comp = list(scores.columns)
    label = str(y.name) if y.name is not None else "criterion"
    y = pd.to_numeric(y.reindex(scores.index), errors="raise").astype(float).rename("__y__")
    data = pd.concat([y, scores.astype(float)], axis=1)
    ctrl_raw = None
    if controls is not None and controls.shape[1] > 0:
        ctrl_raw = controls.reindex(scores.index)
        data = pd.concat([data, ctrl_raw.notna().all(axis=1).rename("__ctrl_ok__")], axis=1)
        ok = data.drop(columns="__ctrl_ok__").notna().all(axis=1) & data["__ctrl_ok__"]
    else:
        ok = data.notna().all(axis=1)
    idx = data.index[ok]
    at = np.flatnonzero(ok.to_numpy())  # the same rows by position (data, y and the scores share one index)
    del data, ok  # (y and the scores side by side: 100 MB at a million rows)
    design_c, terms = control_design(ctrl_raw, idx) if ctrl_raw is not None else (pd.DataFrame(index=idx), {})
    del ctrl_raw
    ctrl_cols = list(design_c.columns)
    columns = ctrl_cols + comp  # the step-2 design's columns after the intercept
    yv = y.loc[idx]
    n, kc = len(idx), len(ctrl_cols)
    if n <= len(columns) + 1:
        raise ValueError(f"criterion {label}: {n} complete rows for {len(columns) + 1} coefficients")

    # The step-2 design with its intercept, filled column by column into one row-major array: the values and the
    # layout of np.hstack([ones, X]) for X the controls' design beside the scores (so every product below is
    # the same bits), without the frames pd.concat and to_numpy would make of them (100 MB each at a million
    # rows). Step 1's design is its first 1 + kc columns.
    X2 = np.empty((n, 1 + len(columns)))
    X2[:, 0] = 1.0
    for j, c in enumerate(ctrl_cols):
        X2[:, 1 + j] = design_c[c].to_numpy(float)
    del design_c
    for j, c in enumerate(comp):
        X2[:, 1 + kc + j] = scores[c].to_numpy(float)[at]
    if np.linalg.matrix_rank(X2) < X2.shape[1]:
        raise ValueError(f"criterion {label}: the design is rank deficient (aliased coefficients)")
    yarr = yv.to_numpy(float)
    m2 = ols(yarr, X2)
    X1 = np.ascontiguousarray(X2[:, : 1 + kc])
    m1 = ols(yarr, X1)
    del X1  # each design array is an n x k copy: one at a time; the fits are kept
    f_change, df1, p_delta = nested_f_test(m1, m2)
    comp_cols = 1 + kc + np.arange(len(comp))
    f_hc3, p_hc3 = wald_f_test(m2, comp_cols, m2.cov_hc3)
    f_full, f_full_df1, f_full_df2, p_full = m2.overall_f()

    # standardized model: the numeric columns z-scored, each as a contiguous Series (as a column of a frame) so
    # that its mean and sd are pandas' numbers for that column
    num_vars = comp + [c for c in ctrl_cols if c in terms and terms[c] == [c]]
    Xz = X2.copy()
    for c in num_vars:
        j = 1 + columns.index(c)
        v = pd.Series(np.ascontiguousarray(Xz[:, j]))
        Xz[:, j] = ((v - v.mean()) / v.std(ddof=1)).to_numpy()
    yz = (yv - yv.mean()) / yv.std(ddof=1)
    mz = ols(yz.to_numpy(float), Xz)
    del Xz
    # the returned step-2 design without intercept: a view of X2, not a copy
    X = pd.DataFrame(X2[:, 1:], index=idx, columns=columns, copy=False)
    ci_lower, ci_upper = t_interval(mz.b, mz.se, mz.df_resid, conf)
    hc3_lower, hc3_upper = t_interval(mz.b, mz.se_hc3, mz.df_resid, conf)

    names = ["(Intercept)"] + list(X.columns)
    coefs = pd.DataFrame(
        {
            "term": names,
            "type": ["intercept"] + ["control"] * len(ctrl_cols) + ["competency"] * len(comp),
            "b": m2.b,
            "se": m2.se,
            "t": m2.b / m2.se,
            "p": t_pvalues(m2.b / m2.se, m2.df_resid),
            "se_hc3": m2.se_hc3,
            "t_hc3": m2.b / m2.se_hc3,
            "p_hc3": t_pvalues(m2.b / m2.se_hc3, m2.df_resid),
            "beta": mz.b,
            "beta_se": mz.se,
            "beta_ci_lower": ci_lower,
            "beta_ci_upper": ci_upper,
            "beta_se_hc3": mz.se_hc3,
            "beta_ci_lower_hc3": hc3_lower,
            "beta_ci_upper_hc3": hc3_upper,
        }
    )

    # (G)VIF per term, terms in model order: controls (as given), then competencies
    term_cols = {**terms, **{k: [k] for k in comp}}
    term_names = list(term_cols)
    vif = pd.DataFrame(columns=["term", "type", "df", "gvif", "gvif_adj"])
    if len(term_names) >= 2:
        col_term = {c: t for t, cs in term_cols.items() for c in cs}
        assign = [term_names.index(col_term[c]) for c in X.columns]
        V = m2.cov[1:, 1:]
        g = _gvif(V, assign, len(term_names))
        vif = pd.DataFrame(
            {
                "term": term_names,
                "type": ["control" if t in terms else "competency" for t in term_names],
                "df": [d for _, d in g],
                "gvif": [v for v, _ in g],
                "gvif_adj": [v ** (1 / (2 * d)) for v, d in g],
            }
        )

    summary = {
        "n": n,
        "k_controls": len(ctrl_cols),
        "k_competencies": len(comp),
        "r2_controls": m1.r2 if ctrl_cols else 0.0,
        "adj_r2_controls": m1.adj_r2 if ctrl_cols else 0.0,
        "r2_full": m2.r2,
        "adj_r2_full": m2.adj_r2,
        "delta_r2": m2.r2 - (m1.r2 if ctrl_cols else 0.0),
        "f_change": f_change,
        "df1": df1,
        "df2": m2.df_resid,
        "p_delta": p_delta,
        "f_change_hc3": f_hc3,
        "p_delta_hc3": p_hc3,
        "f_full": f_full,
        "f_full_df1": f_full_df1,
        "f_full_df2": f_full_df2,
        "p_full": p_full,
    }
    return {
        "summary": summary,
        "coefficients": coefs,
        "vif": vif,
        "sample": idx,
        "design": X,
        "control_columns": ctrl_cols,
    }
