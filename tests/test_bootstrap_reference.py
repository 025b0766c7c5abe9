"""Bootstrap intervals against R on the very resamples compval draws (tests/reference/bootstrap).

``export_indices.py`` writes the row counts of every resample compval draws (``compval.resampling``) for
alpha, omega total and omega hierarchical (``compval.reliability.reliability_table``), HTMT
(``compval.validity.htmt``) and general dominance weights (``compval.criterion.dominance_analysis``) on small
data sets; ``make_reference.R`` recomputes each statistic on each of those resamples with the R reference
functions (psych::alpha, psych::omega, semTools::htmt, the criterion reference's all-subsets dominance code)
through ``boot::boot`` and stores the replicates and the percentile limits. Here the library's replicates, point
estimates and interval limits are compared with R's, replicate by replicate.

Why the R limits are ``quantile(t, c(.025, .975), type = 7)`` and not ``boot::boot.ci(type = "perc")``: compval
takes ``numpy.quantile`` (default "linear" = R's type 7: position ``h = (B - 1) p + 1``, linear between order
statistics). ``boot.ci``'s percentile interval uses ``norm.inter``: order statistic ``(B + 1) p``, interpolated on
the normal quantile scale when that is not an integer. With B = 200, ``(B + 1) .025 = 5.025`` (close to t(5))
while type 7 gives ``h = 5.975`` (close to t(6)): a different rule, not a rounding difference. The stored
``boot_perc_*`` columns keep boot.ci's limits for comparison (``test_boot_ci_percentile_is_a_different_rule``).

Tolerances are the named entries "boot_alpha", "boot_omega_total", "boot_omega_hierarchical", "boot_htmt" and
"boot_dominance" of tests/tolerances.py (replicates, full-sample estimates and limits alike).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from compval import criterion as C
from compval import reliability as rel
from compval import validity as V
from tolerances import TOLERANCES, assert_close

REF = Path(__file__).parent / "reference" / "bootstrap"
_spec = importlib.util.spec_from_file_location("bootstrap_export_indices", REF / "export_indices.py")
EX = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(EX)

STREAMS = pd.read_csv(REF / "streams.csv")
INTERVALS = pd.read_csv(REF / "intervals.csv")
REL_STREAMS = STREAMS[STREAMS["case"].isin(list(EX.RELIABILITY))]["stream"].tolist()
TOL_NAME = {
    "alpha": "boot_alpha",
    "omega_total": "boot_omega_total",
    "omega_hierarchical": "boot_omega_hierarchical",
}
TABLE_COLUMN = {"alpha": "alpha", "omega_total": "omega_total", "omega_hierarchical": "omega_hierarchical"}


def _replicates(stream: str) -> pd.DataFrame:
    """R's replicates of a stream: row b = 0 is the full data (t0), rows 1..B the resamples."""
    return pd.read_csv(REF / f"replicates_{stream}.csv").set_index("b")


def _interval(stream: str, term: str) -> pd.Series:
    return INTERVALS[(INTERVALS["stream"] == stream) & (INTERVALS["term"] == term)].iloc[0]


# ------------------------------------------------------------------------------------------ the resamples
def test_stored_resamples_are_the_ones_the_library_draws():
    """export_indices.py's streams (drawn through compval.resampling with the library's seeds) equal the stored
    counts R used: a change in the library's random stream or in its order of use fails here first."""
    rows = []
    for s in EX.streams():
        counts = s.pop("counts")
        np.testing.assert_array_equal(EX.read_counts(s["stream"]), counts, err_msg=s["stream"])
        assert counts.shape == (s["B"], s["n"]) and (counts.sum(axis=1) == s["n"]).all()
        rows.append(s)
    pd.testing.assert_frame_equal(pd.DataFrame(rows), STREAMS, check_dtype=False)


# ------------------------------------------------------------------------------------------ reliability
@pytest.fixture(scope="module")
def reliability_runs() -> dict[str, dict]:
    """Per case: reliability_table's row per group, and per stream the BootstrapCI of bootstrap_ci on the
    table's resamples (the first B of ``default_rng(seed)``, the same for every group and statistic)."""
    bfi = EX.bfi400()
    out: dict[str, dict] = {}
    for case, (missing, groups, nf_h, seed) in EX.RELIABILITY.items():
        table = rel.reliability_table(
            bfi, groups, missing=missing, n_boot=EX.B, n_boot_omega_h=EX.B, omega_h_nfactors=nf_h, seed=seed
        ).set_index("key")
        boots = {}
        for key, cols in groups.items():
            x = bfi[cols].astype(float)
            if missing == "listwise":
                x = x.dropna(how="any")
            nf = nf_h.get(key) if nf_h else None
            for stat, nfactors in [("alpha", 1), ("omega_total", 1)] + ([("omega_hierarchical", nf)] if nf else []):
                ci = rel.bootstrap_ci(x, stat, EX.B, seed, missing=missing, nfactors=nfactors)
                boots[f"{case}_{key}_{stat}"] = ci
        out[case] = {"table": table, "boots": boots}
    return out


@pytest.mark.slow
@pytest.mark.parametrize("stream", REL_STREAMS)
def test_reliability_replicates_and_interval_match_psych(reliability_runs, stream):
    """Each resample's alpha / omega total / omega hierarchical equals psych's on the same rows, and so do the
    full-sample estimate and the percentile limits (psych::alpha, psych::omega; pairwise and listwise)."""
    s = STREAMS.set_index("stream").loc[stream]
    b = reliability_runs[s["case"]]["boots"][stream]
    r = _replicates(stream)[s["statistic"]]
    name = TOL_NAME[s["statistic"]]
    assert b.n_failed == 0 and r.notna().all()
    assert_close(b.values, r.loc[1:].to_numpy(), name, "replicates")
    assert_close(b.estimate, r.loc[0], name, "estimate")
    iv = _interval(stream, s["statistic"])
    assert iv["n_valid"] == EX.B
    assert_close([b.lower, b.upper], [iv["lower"], iv["upper"]], name, "limits")
    if s["statistic"] == "omega_hierarchical":
        # psych's Schmid-Leiman solution differs from the library's on 8 of the 200 resamples (by 3e-10 on one,
        # 3e-6 .. 4e-4 on seven); the others agree to ~1e-13, as the full-sample references: keep that count
        d = np.abs(b.values - r.loc[1:].to_numpy())
        assert (d > TOLERANCES["omega_psych"].tol).sum() <= 8


@pytest.mark.slow
@pytest.mark.parametrize("case", list(EX.RELIABILITY))
def test_reliability_table_intervals_are_rs(reliability_runs, case):
    """reliability_table's bootstrap columns are the percentile limits R computes on the exported resamples."""
    table = reliability_runs[case]["table"]
    for stream, s in STREAMS[STREAMS["case"] == case].set_index("stream").iterrows():
        iv = _interval(stream, s["statistic"])
        col = TABLE_COLUMN[s["statistic"]]
        row = table.loc[s["key"]]
        got = [row[f"{col}_boot_lower"], row[f"{col}_boot_upper"]]
        assert_close(got, [iv["lower"], iv["upper"]], TOL_NAME[s["statistic"]], stream)


# ------------------------------------------------------------------------------------------ HTMT
@pytest.mark.parametrize("prefix, kwargs", [("htmt2:", {}), ("htmt:", {"htmt2": False})])
def test_htmt_replicates_and_interval_match_semtools(prefix, kwargs):
    """HTMT2 (geometric means) and the arithmetic HTMT of every resample equal semTools::htmt on the same rows;
    the percentile limits are R's."""
    res = V.htmt(EX.bfi400(), EX.BFI_FACTORS, B=EX.B, seed=EX.HTMT_SEED, **kwargs)
    terms = [prefix + p for p in res.table["pair"]]
    r = _replicates("htmt")[terms]
    assert res.n == STREAMS.set_index("stream").loc["htmt", "n"] and res.n_boot_valid == EX.B
    assert_close(res.boot, r.loc[1:].to_numpy(), "boot_htmt", "replicates")
    assert_close(res.table["htmt"], r.loc[0].to_numpy(), "boot_htmt", "estimate")
    iv = INTERVALS[INTERVALS["stream"] == "htmt"].set_index("term").loc[terms]
    assert_close(res.table["ci_lower"], iv["lower"], "boot_htmt", "lower")
    assert_close(res.table["ci_upper"], iv["upper"], "boot_htmt", "upper")


# ------------------------------------------------------------------------------------------ dominance
def test_dominance_replicates_and_interval_match_r():
    """General dominance weights (controls age and gender in every subset model) of every resample equal the R
    all-subsets code on the same rows; dominance_analysis' percentile limits are R's."""
    sa = EX.satact_complete()
    y, X, always = sa["education"], sa[EX.DOMINANCE_PREDICTORS], sa[EX.DOMINANCE_ALWAYS]
    d = C.dominance_analysis(y, X, always, n_boot=EX.B, seed=EX.DOMINANCE_SEED).set_index("competency")
    r = _replicates("dominance")[EX.DOMINANCE_PREDICTORS]
    reps = []
    for w in EX.read_counts("dominance"):
        idx = np.repeat(np.arange(len(sa)), w)
        reps.append(C.dominance_analysis(y.iloc[idx], X.iloc[idx], always.iloc[idx], n_boot=0)["weight"].to_numpy())
    assert_close(np.array(reps), r.loc[1:].to_numpy(), "boot_dominance", "replicates")
    assert_close(d.loc[EX.DOMINANCE_PREDICTORS, "weight"], r.loc[0].to_numpy(), "boot_dominance", "estimate")
    iv = INTERVALS[INTERVALS["stream"] == "dominance"].set_index("term").loc[EX.DOMINANCE_PREDICTORS]
    assert_close(d.loc[EX.DOMINANCE_PREDICTORS, "weight_ci_lower"], iv["lower"], "boot_dominance", "lower")
    assert_close(d.loc[EX.DOMINANCE_PREDICTORS, "weight_ci_upper"], iv["upper"], "boot_dominance", "upper")


# ------------------------------------------------------------------------------------------ the percentile rule
def test_boot_ci_percentile_is_a_different_rule():
    """R's stored limits are numpy's default quantile of R's replicates; boot.ci's percentile limits are
    norm.inter's (order statistic (B + 1) p on the normal quantile scale) and differ from them."""
    moved = []
    for (stream, term), iv in INTERVALS.set_index(["stream", "term"]).iterrows():
        t = np.sort(_replicates(stream)[term].loc[1:].dropna().to_numpy())
        assert len(t) == iv["n_valid"]
        lo, hi = np.quantile(t, [0.025, 0.975])
        # (R wrote both with write.csv, at most 15 significant digits: 0.000419121771252548 became 0.0004191217712525)
        np.testing.assert_allclose([lo, hi], [iv["lower"], iv["upper"]], rtol=1e-12, atol=0)
        # norm.inter, as boot:::norm.inter: k = floor((B + 1) p), interpolation between t(k) and t(k + 1) with
        # weights from qnorm
        for p, got in ((0.025, iv["boot_perc_lower"]), (0.975, iv["boot_perc_upper"])):
            rk = (len(t) + 1) * p
            k = int(np.floor(rk))
            z = stats.norm.ppf
            want = t[k - 1] + (z(p) - z(k / (len(t) + 1))) / (z((k + 1) / (len(t) + 1)) - z(k / (len(t) + 1))) * (
                t[k] - t[k - 1]
            )
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=0, err_msg=f"{stream} {term} {p}")
        moved.append(max(abs(iv["boot_perc_lower"] - lo), abs(iv["boot_perc_upper"] - hi)))
    assert min(moved) > 0 and max(moved) > 1e-3
