"""Demo data from a stated truth: a simulated survey export, an HR/CRM criterion file and the population model.

The simulator is driven by a codebook (any codebook: the number of competencies, their items, the scale and
which items are reverse-keyed all come from it) and by a dictionary of population parameters
(``config/simulation.yaml``). The data-generating model is the ordinal common-factor model used by
categorical CFA (Muthen 1984; lavaan's ``ordered=`` estimation):

* one standard-normal latent trait ``eta`` per competency; traits in the same module of the codebook
  correlate ``within_module_correlation``, traits in different modules ``between_module_correlation``;
* each item has a standardized latent response ``y* = lambda * eta + sqrt(1 - lambda^2) * e`` that is cut at
  the item's thresholds into the categories of the scale; a reverse-keyed item is answered
  ``(min + max) - category``, so a respondent high on the trait answers it low;
* optionally (``model_error``, :func:`~compval.simulate.model.model_error`) what real self-ratings have beyond
  the competencies: a wording factor of the reverse-keyed items, cross-loadings, correlated unique parts of named
  item pairs and many minor factors (Tucker, Koopman & Linn 1969), so that the hypothesised model fits well but
  not perfectly; the competencies and their primary loadings stay the truth the pipeline should recover;
* each criterion has a standardized linear predictor
  ``z = sum_k beta_k * eta_k + gamma * tenure + residual`` that is mapped to its observed scale (log-normal,
  Poisson with log-linear rate, normal, or ordinal).

On top of that the survey export gets the defects real exports have: item non-response that is not at
random (more skipping by respondents low on the item's trait and on reverse-keyed items), careless
responders (straight-lining / long strings and uniformly random answers, with short completion times),
out-of-range codes, and duplicate submissions.

:func:`simulate` is pure (no I/O; randomness only from ``numpy.random.default_rng(params["seed"])``);
:func:`main` is the command-line entry point that writes the files::

    python -m compval.simulate --codebook config/codebook.yaml --params config/simulation.yaml --out data/raw

Modules: :mod:`~compval.simulate.model` (the population model and the moments it implies),
:mod:`~compval.simulate.survey` (:func:`simulate`), :mod:`~compval.simulate.identities` (names, e-mail addresses,
phone numbers) and :mod:`~compval.simulate.cli` (the command line, :func:`write_outputs`); every public name is
importable from ``compval.simulate``.  The bivariate normal CDF of the implied moments lives in
:mod:`compval.sem.bivariate` (shared with the polychoric correlations).
"""

from __future__ import annotations

from .cli import main, write_outputs
from .model import (
    implied_item_covariance,
    implied_score_correlations,
    item_thresholds,
    latent_correlation,
    model_error,
    population_arrays,
    tkl_minor_loadings,
)
from .survey import SimulationResult, simulate

__all__ = [
    "SimulationResult",
    "simulate",
    "latent_correlation",
    "item_thresholds",
    "implied_score_correlations",
    "implied_item_covariance",
    "model_error",
    "tkl_minor_loadings",
    "population_arrays",
    "write_outputs",
    "main",
]
