"""The model a CFA fits: lavaan syntax text plus the structure the estimator needs (built by the model builders
of :mod:`compval.cfa`)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ModelSpec"]


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
