"""Writes estimates.csv, outcomes.csv and truth.csv beside this file: a small Monte Carlo run of compval.power
(continuous answers, 2 factors x 4 items, lambda = .6, phi = .7, N = 60 and 120, 30 replications each). The R
script simsem_style.R summarises the same estimates with simsem's definitions; tests/test_power.py compares.

    .venv/bin/python tests/reference/power/make_estimates.py
"""

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # tests/ for conftest

from conftest import small_codebook_dict  # noqa: E402

from compval import power  # noqa: E402
from compval.codebook import Codebook  # noqa: E402

DESIGN = {
    "population": {
        "loadings": 0.6,
        "factor_correlations": {"within_module": 0.7, "between_module": 0.7},
        "thresholds": None,
    },
    "response": "continuous",
    "missing": {"mechanism": "none", "rate": 0.0},
    "careless_share": 0.0,
}
RUN = {
    "estimator": "ML",
    "identification": "unit_variance",
    "missing": "listwise",
    "continuous_missing": "listwise",
    "cutoffs": {"cfi": 0.95, "tli": 0.95, "rmsea": 0.06, "srmr": 0.08},
    "alpha": 0.05,
    "cleaning": {"missing": "listwise", "careless": "flag"},
}


def design_codebook() -> Codebook:
    return Codebook.from_dict(small_codebook_dict(n_factors=2, items_per_factor=4, scale=(1, 5), n_modules=1))


if __name__ == "__main__":
    cb = design_codebook()
    pop = power.population_from_config(cb, DESIGN)
    models = power.power_models(cb, ["one_factor"])
    truth = power.population_values(pop, models["hypothesized"], estimator="ML", std_lv=True)
    outs, ests = [], []
    for n in (60, 120):
        o, e = power.run_chunk(pop, cb, models, RUN, n=n, replications=range(30), seed=20261202)
        outs.append(o)
        ests.append(e)
    pd.concat(ests).to_csv(HERE / "estimates.csv", index=False, float_format="%.10g", lineterminator="\n")
    pd.concat(outs).to_csv(HERE / "outcomes.csv", index=False, float_format="%.10g", lineterminator="\n")
    truth.to_csv(HERE / "truth.csv", index=False, float_format="%.10g", lineterminator="\n")
