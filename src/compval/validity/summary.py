"""The compact validity summary written to ``summary.json``."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .convergent import average_variance_extracted, composite_reliability
from .discriminant import htmt
from .matrices import factor_items

__all__ = ["validity_summary"]


def _json_num(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def validity_summary(
    params: pd.DataFrame,
    sample_cov: pd.DataFrame | None,
    data: pd.DataFrame,
    factors: Mapping[str, Sequence[str]] | None = None,
    *,
    implied: bool = False,
    absolute: bool = True,
    htmt2: bool = True,
    group=None,
) -> dict:
    """Compact validity summary for ``summary.json``.

    Parameters
    ----------
    params : pandas.DataFrame
        CFA parameter table (module docstring).
    sample_cov : pandas.DataFrame or None
        Sample covariance matrix of the indicators, divided by N (lavaan ``sampstat``); may be None
        when ``implied=True``.
    data : pandas.DataFrame
        Item responses (reverse-keyed items recoded) for the HTMT.
    factors : mapping, optional
        Factor (competency) -> items for the HTMT; default: the indicators of each factor in ``params``
        (:func:`factor_items`), which must then be disjoint.
    implied, group
        Passed to :func:`composite_reliability` and :func:`average_variance_extracted`.
    absolute, htmt2
        Passed to :func:`htmt`.

    Returns
    -------
    dict
        ``{factor: {"cr": omega, "ave": AVE}, ..., "htmt": {"a~~b": value, ...}}``; undefined values are
        ``None`` (AVE of a factor with cross-loaded indicators; CR and AVE of a single-indicator factor,
        which semTools drops). Factors in model order. CR is ``semTools::compRelSEM``, AVE
        ``semTools::AVE`` (both with observed variances unless ``implied``), HTMT ``semTools::htmt``
        (HTMT2 by default).
    """
    cr = composite_reliability(params, sample_cov, implied=implied, group=group)
    ave = average_variance_extracted(params, sample_cov, implied=implied, group=group)
    if factors is None:
        factors = factor_items(params, group)
    if "htmt" in factors or "htmt" in set(cr["factor"]):
        raise ValueError("a factor named 'htmt' would collide with the summary's 'htmt' key")
    out: dict = {}
    cr_map = dict(zip(cr["factor"], cr["cr"]))
    ave_map = dict(zip(ave["factor"], ave["ave"]))
    for fn in factor_items(params, group):  # every factor with indicators; single-indicator ones get None
        out[fn] = {"cr": _json_num(cr_map.get(fn, np.nan)), "ave": _json_num(ave_map.get(fn, np.nan))}
    out["htmt"] = htmt(data, factors, absolute=absolute, htmt2=htmt2).as_dict() if len(factors) > 1 else {}
    return out
