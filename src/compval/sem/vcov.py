"""Covariance matrices of the estimates (lavaan's ``lav_model_vcov``): ML from the expected or observed
information, the Huber-White sandwich under MLR, and the robust sandwich of DWLS (one or more groups)."""

from __future__ import annotations

import numpy as np

from .engine import GroupData, Model, expected_information, first_order_information, observed_information_analytic

__all__ = ["check_identified", "check_nonsingular", "ml_information", "ml_vcov", "dwls_vcov"]


def check_nonsingular(info: np.ndarray) -> None:
    """Raise :class:`numpy.linalg.LinAlgError` when an information matrix is singular: its smallest eigenvalue
    at most 1e-9 times its largest (the rule every fit applies before inverting one)."""
    ev = np.linalg.eigvalsh(info)
    if ev.min() <= 1e-9 * max(ev.max(), 1e-300):
        raise np.linalg.LinAlgError("singular information matrix")


def ml_information(m: Model, x: np.ndarray, groups: list[GroupData], estimator: str, missing: str) -> np.ndarray:
    """The information per observation that the standard errors of an ML/MLR fit come from (lavaan's
    ``information``): the observed one under MLR or with missing data (``missing = "ml"``), the expected one
    otherwise.

    Raises
    ------
    numpy.linalg.LinAlgError
        When it is singular (:func:`check_nonsingular`: the model may not be identified).
    """
    if estimator == "MLR" or missing == "ml":
        info = observed_information_analytic(m, x, groups)
    else:
        info = expected_information(m, x, groups)
    check_nonsingular(info)
    return info


def check_identified(m: Model, x: np.ndarray, groups: list[GroupData]) -> None:
    """Local identification at ``x`` without standard errors (lavaan's ``se = "none"``): the expected information,
    sum_g N_g/N Delta_g' W_g Delta_g with W_g positive definite, is singular exactly when the Jacobian of the
    model's moments, Delta, loses rank (Rothenberg 1971).

    It is the optimiser's scoring matrix and costs a small part of the observed information that a fit with
    standard errors inverts (with missing data, that one takes a pass over the missing-data patterns); the two
    are singular together at a minimum of a model that is not identified.

    Raises
    ------
    numpy.linalg.LinAlgError
        When it is singular (:func:`check_nonsingular`).
    """
    check_nonsingular(expected_information(m, x, groups))


def ml_vcov(m: Model, x: np.ndarray, groups: list[GroupData], estimator: str, missing: str):
    """(information, vcov) of an ML/MLR fit.

    The information per observation is :func:`ml_information`; vcov = I^-1 / N, or under MLR the sandwich
    I^-1 B0 I^-1 / N with B0 the group-weighted first-order (outer product of casewise scores) information
    (Huber-White).

    Raises
    ------
    numpy.linalg.LinAlgError
        When the information matrix is singular (the model may not be identified).
    """
    ntot = sum(g.n for g in groups)
    info = ml_information(m, x, groups, estimator, missing)
    einv = np.linalg.inv(info)
    if estimator == "MLR":
        B0 = np.zeros_like(info)
        for g, gd in enumerate(groups):
            B0 += gd.n / ntot * first_order_information(m, x, gd, g)
        return info, einv @ B0 @ einv / ntot
    return info, einv / ntot


def dwls_vcov(samples: list, jacs: list) -> np.ndarray:
    """Robust covariance matrix of DWLS estimates: (D'WD)^-1 D'W Gamma W D (D'WD)^-1 / (N - G), summed over the
    groups with weights f_g = N_g / N (W_g = 1/diag(Gamma_g), D_g the Jacobian of group g's model statistics
    with respect to the estimated parameters; lavaan scales the information by (N - G) / N).

    Raises
    ------
    numpy.linalg.LinAlgError
        When D'WD is singular.
    """
    ntot = sum(s.n for s in samples)
    fg = [s.n / ntot for s in samples]
    ws = [1.0 / np.diag(s.gamma) for s in samples]
    E = sum(f * J.T @ (w[:, None] * J) for f, J, w in zip(fg, jacs, ws))
    B = sum(f * (w[:, None] * J).T @ s.gamma @ (w[:, None] * J) for f, J, w, s in zip(fg, jacs, ws, samples))
    Ei = np.linalg.inv(E)
    return Ei @ B @ Ei / (ntot - len(samples))
