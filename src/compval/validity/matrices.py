"""The parameter table of a fitted measurement model, rebuilt as LISREL matrices, and the covariance
matrices the validity measures use (see :mod:`compval.validity` for the table's columns)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["select_group", "ModelMatrices", "model_matrices", "factor_items", "sample_covariance", "check_cov"]


def select_group(params: pd.DataFrame, group) -> pd.DataFrame:
    """Rows of ``params`` for one group (lavaan 'block'); single-group tables need no ``group``.

    Parameters
    ----------
    params : pandas.DataFrame
        Parameter table (see :mod:`compval.validity`); needs ``lhs, op, rhs, est``.
    group : optional
        Value of the ``group`` column; required when the table holds several groups.

    Returns
    -------
    pandas.DataFrame
        The group's rows (the whole table when it has one group or no ``group`` column).
    """
    missing = {"lhs", "op", "rhs", "est"} - set(params.columns)
    if missing:
        raise ValueError(f"parameter table lacks column(s) {sorted(missing)}")
    if "group" not in params.columns:
        if group is not None:
            raise ValueError("group given but the parameter table has no 'group' column")
        return params
    groups = pd.unique(params["group"].dropna())
    if group is None:
        if len(groups) > 1:
            raise ValueError(f"parameter table has {len(groups)} groups {list(groups)}; pass group=")
        return params
    out = params[params["group"] == group]
    if out.empty:
        raise ValueError(f"group {group!r} not in parameter table (groups: {list(groups)})")
    return out


@dataclass(frozen=True)
class ModelMatrices:
    """LISREL-style matrices of a measurement model, rebuilt from a parameter table.

    Attributes
    ----------
    lambda_ : pandas.DataFrame
        Loadings, observed indicators x latent variables (zeros where no loading), like
        ``lavInspect(fit, "est")$lambda``.
    psi : pandas.DataFrame
        (Residual) latent variances/covariances.
    beta : pandas.DataFrame
        Latent regressions, ``beta.loc[a, b]`` = effect of ``b`` on ``a`` (higher-order loadings and
        ``a ~ b``).
    theta : pandas.DataFrame
        Residual variances/covariances of the indicators.
    """

    lambda_: pd.DataFrame
    psi: pd.DataFrame
    beta: pd.DataFrame
    theta: pd.DataFrame

    @property
    def latent_names(self) -> list[str]:
        return list(self.lambda_.columns)

    @property
    def observed_names(self) -> list[str]:
        return list(self.lambda_.index)

    def cov_lv(self) -> pd.DataFrame:
        """Model-implied latent covariance matrix ``(I - B)^-1 Psi (I - B)^-T`` (lavaan's ``cov.lv``)."""
        ib_inv = np.linalg.inv(np.eye(len(self.beta)) - self.beta.to_numpy())
        v = ib_inv @ self.psi.to_numpy() @ ib_inv.T
        return pd.DataFrame(v, index=self.latent_names, columns=self.latent_names)

    def implied_cov(self) -> pd.DataFrame:
        """Model-implied covariance of the indicators ``Lambda cov_lv Lambda' + Theta`` (lavaan ``fitted``)."""
        lam = self.lambda_.to_numpy()
        s = lam @ self.cov_lv().to_numpy() @ lam.T + self.theta.to_numpy()
        return pd.DataFrame(s, index=self.observed_names, columns=self.observed_names)


def model_matrices(params: pd.DataFrame, group=None) -> ModelMatrices:
    """Rebuild Lambda, Psi, Beta and Theta from a lavaan-style parameter table.

    Parameters
    ----------
    params : pandas.DataFrame
        Parameter table (see the module docstring); uses ``lhs, op, rhs, est`` (and ``group``).
    group : optional
        Value of the ``group`` column to use; required when the table holds several groups.

    Returns
    -------
    ModelMatrices
        Latent variables are the left-hand sides of ``=~`` (in order of appearance); indicators are the
        right-hand sides of ``=~`` that are not latent. A latent ``rhs`` of ``=~`` is a higher-order
        loading (stored in ``beta``), as in lavaan.

    Notes
    -----
    Reproduces lavaan's ``lavInspect(fit, "est")`` matrices (``lambda``, ``psi``, ``beta``, ``theta``);
    :meth:`ModelMatrices.cov_lv` is ``lavInspect(fit, "cov.lv")`` and :meth:`ModelMatrices.implied_cov`
    is ``lavInspect(fit, "fitted")$cov`` (tested to 1e-10 on the reference fits).

    Raises
    ------
    NotImplementedError
        For regressions involving observed variables (not a measurement model).
    """
    p = select_group(params, group)
    load = p[p["op"] == "=~"]
    if load.empty:
        raise ValueError("parameter table has no '=~' (loading) rows")
    lv = list(dict.fromkeys(load["lhs"]))
    lv_set = set(lv)
    ov = [v for v in dict.fromkeys(load["rhs"]) if v not in lv_set]
    lam = pd.DataFrame(0.0, index=ov, columns=lv)
    beta = pd.DataFrame(0.0, index=lv, columns=lv)
    psi = pd.DataFrame(0.0, index=lv, columns=lv)
    theta = pd.DataFrame(0.0, index=ov, columns=ov)
    for lhs, rhs, est in zip(load["lhs"], load["rhs"], load["est"].astype(float)):
        if rhs in lv_set:
            beta.loc[rhs, lhs] = est
        else:
            lam.loc[rhs, lhs] = est
    for lhs, rhs, est in p.loc[p["op"] == "~", ["lhs", "rhs", "est"]].itertuples(index=False):
        if lhs in lv_set and rhs in lv_set:
            beta.loc[lhs, rhs] = float(est)
        else:
            raise NotImplementedError(f"regression {lhs} ~ {rhs} involves an observed variable")
    ov_set = set(ov)
    for lhs, rhs, est in p.loc[p["op"] == "~~", ["lhs", "rhs", "est"]].itertuples(index=False):
        if lhs in lv_set and rhs in lv_set:
            psi.loc[lhs, rhs] = psi.loc[rhs, lhs] = float(est)
        elif lhs in ov_set and rhs in ov_set:
            theta.loc[lhs, rhs] = theta.loc[rhs, lhs] = float(est)
    return ModelMatrices(lambda_=lam, psi=psi, beta=beta, theta=theta)


def factor_items(params: pd.DataFrame, group=None) -> dict[str, list[str]]:
    """Factor -> observed indicators with a non-zero loading, from a parameter table.

    Higher-order factors (no observed indicators) are omitted. An indicator loading on several factors
    is listed under each. The per-factor indicator sets semTools derives from the ``=~`` rows of the
    model (``lavaan::lavaanify(model)`` in ``semTools::htmt``, non-zero rows of ``lambda`` in
    ``compRelSEM``/``AVE``).
    """
    lam = model_matrices(params, group).lambda_
    out = {fn: [i for i in lam.index if lam.loc[i, fn] != 0] for fn in lam.columns}
    return {fn: items for fn, items in out.items() if items}


def sample_covariance(data: pd.DataFrame, items: Sequence[str] | None = None, ddof: int = 0) -> pd.DataFrame:
    """Listwise-complete sample covariance matrix of ``items``, by default divided by N.

    With ``ddof=0`` this is lavaan's ``lavInspect(fit, "sampstat")$cov`` for an ML fit with
    ``missing = "listwise"`` (lavaan's default ``likelihood = "normal"`` divides by N, not N - 1), i.e.
    the matrix :func:`composite_reliability` and :func:`average_variance_extracted` expect. (For a FIML
    fit, lavaan uses the EM-estimated saturated covariance instead; pass that matrix directly.)

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses, one row per respondent.
    items : sequence of str, optional
        Columns to use (default: all columns).
    ddof : int
        Delta degrees of freedom (0: divide by N as lavaan; 1: divide by N - 1 as ``stats::cov``).
    """
    x = data[list(items) if items is not None else list(data.columns)].dropna().astype(float)
    return x.cov(ddof=ddof)


def check_cov(cov: pd.DataFrame, names: Sequence[str], what: str) -> pd.DataFrame:
    """The ``names`` x ``names`` block of a covariance matrix given by the caller, checked.

    Parameters
    ----------
    cov : pandas.DataFrame
        Covariance or correlation matrix with item names as index and columns.
    names : sequence of str
        The indicators needed, in the order wanted.
    what : str
        The argument's name, for the error messages.

    Returns
    -------
    pandas.DataFrame
        The block, as floats.
    """
    if not isinstance(cov, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame with item names as index and columns")
    missing = [n for n in names if n not in cov.index or n not in cov.columns]
    if missing:
        raise ValueError(f"{what} lacks indicator(s) {missing}")
    return cov.loc[list(names), list(names)].astype(float)
