"""Tests for compval.efa against psych 2.2.9 / GPArotation reference values.

Reference values: tests/reference/efa/{bfi,holzinger}.json written by tests/reference/efa/make_reference.R
(psych::bfi 25 items with pairwise correlations, 5 factors; Holzinger-Swineford x1-x9, 3 factors).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from compval import efa
from compval.efa.correlation import pairwise_pearson
from compval.efa.retention import fa_values, map_suggestion
from compval.sem.bivariate import bvnu

from tolerances import assert_close

REF = Path(__file__).parent / "reference"
DATA = REF / "data"
HS_ITEMS = [f"x{i}" for i in range(1, 10)]
HS_GROUPS = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
ROT = {"oblimin": "oblimin", "promax": "promax", "varimax": "varimax", "geominQ": "geomin", "none": "none"}


def _mat(d: dict) -> pd.DataFrame:
    return pd.DataFrame(d["values"], index=d["rownames"], columns=d["colnames"])


@pytest.fixture(scope="module", params=["bfi", "holzinger"])
def ref(request):
    return json.loads((REF / "efa" / f"{request.param}.json").read_text())


@pytest.fixture(scope="module")
def bfi_ref():
    return json.loads((REF / "efa" / "bfi.json").read_text())


@pytest.fixture(scope="module")
def hs_ref():
    return json.loads((REF / "efa" / "holzinger.json").read_text())


@pytest.fixture(scope="module")
def bfi_items(bfi_ref):
    return pd.read_csv(DATA / "bfi.csv")[bfi_ref["items"]]


@pytest.fixture(scope="module")
def hs_items():
    return pd.read_csv(DATA / "HolzingerSwineford1939.csv")[HS_ITEMS]


# ------------------------------------------------------------------------------------------ correlations
def test_pairwise_pearson_matches_r(bfi_ref, bfi_items):
    r = efa.correlation_matrix(bfi_items)
    assert_close(r.to_numpy(), _mat(bfi_ref["r"]).to_numpy(), "efa.pearson")


# ------------------------------------------------------------------------------------------ suitability
def test_kmo_matches_psych(ref):
    k = efa.kmo(_mat(ref["r"]))
    assert_close(k.overall, ref["kmo"]["MSA"], "efa.kmo")
    assert_close(k.per_item.to_numpy(), ref["kmo"]["MSAi"], "efa.kmo")
    assert list(k.per_item.index) == ref["items"]


def test_bartlett_matches_psych(ref):
    b = efa.bartlett_sphericity(_mat(ref["r"]), ref["n"])
    assert_close(b.chi2, ref["bartlett"]["chisq"], "efa.bartlett")
    assert b.df == ref["bartlett"]["df"]
    assert_close(b.p, ref["bartlett"]["p"], "efa.bartlett.pvalue")


# ------------------------------------------------------------------------------------------ number of factors
def test_map_matches_psych_vss(ref):
    tab = efa.velicer_map(_mat(ref["r"]), n_max=8)
    mine = tab.loc[tab["n_factors"] >= 1, "map"].to_numpy()
    assert_close(mine, np.array(ref["map"], dtype=float), "efa.map")
    # suggestion = psych's which.min(map)
    assert map_suggestion(tab) == int(np.nanargmin(np.array(ref["map"], dtype=float))) + 1


def test_map4_is_fourth_power_version(hs_ref):
    tab = efa.velicer_map(_mat(hs_ref["r"]), n_max=3)
    # row 0 is the raw correlations: mean r^2 and mean r^4 over off-diagonal cells
    r = _mat(hs_ref["r"]).to_numpy()
    off = r[~np.eye(9, dtype=bool)]
    assert tab.loc[0, "map"] == pytest.approx(np.mean(off**2), abs=1e-12)
    assert tab.loc[0, "map4"] == pytest.approx(np.mean(off**4), abs=1e-12)


@pytest.mark.parametrize("use_smc,key", [(False, "parallel"), (True, "parallel_smc")])
def test_parallel_observed_eigenvalues_match_psych(ref, use_smc, key):
    obs = fa_values(_mat(ref["r"]).to_numpy(), use_smc)
    assert_close(obs, ref[key]["fa_values"], "efa.fa_values")


def test_parallel_analysis_number_of_factors_matches_psych_hs(hs_ref, hs_items):
    pa = efa.parallel_analysis(hs_items, n_iter=20, seed=11)
    assert pa.n_factors == hs_ref["parallel"]["nfact"] == 3
    assert pa.n_factors_resampled == 3
    assert_close(pa.table["observed"], hs_ref["parallel"]["fa_values"], "efa.fa_values")
    # psych's rule: leading observed eigenvalues above the 95th percentile of the simulated ones
    above = (pa.table["observed"] > pa.table["simulated_quantile"]).to_numpy()
    assert above[:3].all() and not above[3]
    pa_smc = efa.parallel_analysis(hs_items, n_iter=20, seed=11, smc=True)
    assert pa_smc.n_factors == hs_ref["parallel_smc"]["nfact"]


def test_parallel_analysis_number_of_factors_matches_psych_bfi(bfi_ref, bfi_items):
    pa = efa.parallel_analysis(bfi_items, n_iter=8, seed=5)
    assert pa.n_factors == bfi_ref["parallel"]["nfact"] == 6
    # psych's rule, as in fa.parallel: the 6th observed eigenvalue is above, the 7th below the 95th percentile
    assert pa.table["above_simulated"].tolist()[:7] == [True] * 6 + [False]


def test_number_of_factors_table_and_suggestions(hs_ref, hs_items):
    table, sug = efa.number_of_factors(hs_items, n_iter=10, seed=1)
    assert sug["parallel"] == hs_ref["parallel"]["nfact"]
    assert sug["map"] == int(np.nanargmin(np.array(hs_ref["map"], dtype=float))) + 1
    assert sug["kaiser"] == 3  # eigenvalues 3.22, 1.64, 1.37, 0.70, ...
    assert_close(table["map"].iloc[:8], np.array(hs_ref["map"], dtype=float), "efa.map")
    assert len(table) == 9 and {"observed", "eigenvalue", "eigenvalue_smc", "map4"} <= set(table.columns)


def test_parallel_analysis_is_seeded(hs_items):
    a = efa.parallel_analysis(hs_items, n_iter=5, seed=3, resample="permute")
    b = efa.parallel_analysis(hs_items, n_iter=5, seed=3, resample="permute")
    c = efa.parallel_analysis(hs_items, n_iter=5, seed=4, resample="permute")
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not np.allclose(a.table["simulated_mean"], c.table["simulated_mean"])
    assert list(a.table.columns[:6]) == [
        "number",
        "observed",
        "simulated_mean",
        "simulated_quantile",
        "resampled_mean",
        "resampled_quantile",
    ]


# ------------------------------------------------------------------------------------------ extraction + rotation
SOLUTIONS = [
    "minres_oblimin",
    "ml_oblimin",
    "pa_oblimin",
    "minres_promax",
    "minres_varimax",
    "minres_geominQ",
    "minres_none",
]


@pytest.mark.parametrize("key", SOLUTIONS)
def test_fa_matches_psych(ref, key):
    fm, rot = key.split("_")
    sol = ref["fa"][key]
    s = efa.fa(_mat(ref["r"]), ref["nfactors"], method=fm, rotation=ROT[rot], n_obs=ref["n"])
    L = _mat(sol["loadings"]).to_numpy()
    # same factor order and reflection as psych (psych orders by variance accounted for after rotation)
    assert_close(s.loadings.to_numpy(), L, "efa.fa", err_msg=key)
    assert_close(s.structure.to_numpy(), _mat(sol["Structure"]).to_numpy(), "efa.fa", err_msg=key)
    assert_close(s.communalities.to_numpy(), sol["communality"], "efa.fa", err_msg=key)
    assert_close(s.uniquenesses.to_numpy(), sol["uniquenesses"], "efa.fa", err_msg=key)
    if "Phi" in sol:
        assert_close(s.phi.to_numpy(), _mat(sol["Phi"]).to_numpy(), "efa.fa", err_msg=key)
    else:
        np.testing.assert_allclose(s.phi.to_numpy(), np.eye(ref["nfactors"]))
    va = _mat(sol["Vaccounted"])
    cols = {
        "SS loadings": "ss_loadings",
        "Proportion Var": "proportion_var",
        "Cumulative Var": "cumulative_var",
        "Proportion Explained": "proportion_explained",
        "Cumulative Proportion": "cumulative_proportion",
    }
    for rname, col in cols.items():
        assert_close(s.variance[col].to_numpy(), va.loc[rname].to_numpy(), "efa.fa", err_msg=f"{key}: {col}")
    assert list(s.loadings.index) == ref["items"]


@pytest.mark.parametrize("rot", ["oblimin", "promax", "varimax", "geominQ"])
def test_rotation_of_psych_unrotated_loadings_matches_gparotation(ref, rot):
    """factor_analyzer's Rotator applied to psych's own unrotated minres loadings gives psych's rotated ones."""
    L0 = _mat(ref["fa"]["minres_none"]["loadings"]).to_numpy()
    L, phi = efa.rotate(L0, ROT[rot])
    signs = np.sign(L.sum(axis=0))
    L = L * signs
    phi = np.eye(L.shape[1]) if phi is None else phi * np.outer(signs, signs)
    order = np.argsort(-np.diag(phi @ L.T @ L), kind="stable")
    target = ref["fa"][f"minres_{rot}"]
    assert_close(L[:, order], _mat(target["loadings"]).to_numpy(), "efa.rotation", err_msg=rot)
    if "Phi" in target:
        assert_close(phi[np.ix_(order, order)], _mat(target["Phi"]).to_numpy(), "efa.rotation", err_msg=rot)


def test_building_blocks_used_by_reliability_match_psych(ref):
    """minres / fa_loadings / varimax / oblimin (also used by compval.reliability's omega) give psych's numbers."""
    r, nf = _mat(ref["r"]), ref["nfactors"]
    none = ref["fa"]["minres_none"]
    m = efa.minres(r, nf)
    assert_close(m["loadings"], _mat(none["loadings"]).to_numpy(), "efa.fa")
    assert_close(m["communality"], none["communality"], "efa.fa")
    assert m["converged"]
    for rot in ("oblimin", "varimax"):
        L, phi = efa.fa_loadings(r, nf, "minres", rot)
        target = ref["fa"][f"minres_{rot}"]
        assert_close(L, _mat(target["loadings"]).to_numpy(), "efa.fa", err_msg=rot)
        assert_close(phi, _mat(target["Phi"]).to_numpy() if "Phi" in target else np.eye(nf), "efa.fa", err_msg=rot)
    L0 = _mat(none["loadings"]).to_numpy()
    pattern, phi, converged = efa.oblimin(L0)
    rp, rphi = efa.rotate(L0, "oblimin")
    assert converged
    np.testing.assert_array_equal(pattern, rp)
    np.testing.assert_array_equal(phi, rphi)
    np.testing.assert_array_equal(efa.varimax(L0), efa.rotate(L0, "varimax")[0])
    assert not efa.oblimin(L0, max_iter=1)[2]  # GPArotation's convergence flag
    np.testing.assert_array_equal(efa.varimax(L0[:, :1]), L0[:, :1])


def _rotator(L: np.ndarray, method: str, max_iter: int = 1000):
    """factor_analyzer's Rotator (the port of stats::varimax / GPArotation::GPFoblq that efa.varimax and
    efa.oblimin repeat): varimax loadings, or oblimin (pattern, Phi, GPArotation's convergence flag at the final
    rotation)."""
    from factor_analyzer.rotator import Rotator

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        rot = Rotator(method=method, gamma=0, max_iter=max_iter, tol=1e-5)
        lam = rot.fit_transform(L)
    if method == "varimax":
        return lam
    t, k = rot.rotation_, L.shape[1]
    gq = lam * ((lam**2) @ (1.0 - np.eye(k)))
    g = -(lam.T @ gq @ np.linalg.inv(t)).T
    gp = g - t @ np.diag((t * g).sum(axis=0))
    return lam, rot.phi_, bool(np.sqrt((gp**2).sum()) < 1e-5)


def test_stacked_rotations_are_the_one_matrix_rotations_bit_for_bit(bfi_items):
    """varimax_batch / oblimin_batch (the omega bootstrap's rotations; varimax and oblimin are their one-matrix
    cases) give factor_analyzer's Rotator's numbers exactly, matrix by matrix, whatever each matrix's number of
    iterations (resampled bfi correlations, 2 to 4 factors, and an iteration limit that stops some rotations
    before convergence); unrotated_loadings + varimax + reflect_and_order is fa_loadings(..., "varimax")."""
    x = bfi_items.iloc[:, :10].to_numpy(float)
    rng = np.random.default_rng(11)
    rs = [efa.correlation_matrix(pd.DataFrame(x[rng.integers(0, len(x), len(x))])).to_numpy() for _ in range(8)]
    for nf in (2, 3, 4):
        L0 = np.stack([efa.unrotated_loadings(r, nf) for r in rs])
        orth = efa.varimax_batch(L0)
        for b, r in enumerate(rs):
            np.testing.assert_array_equal(orth[b], _rotator(L0[b], "varimax"))
            np.testing.assert_array_equal(orth[b], efa.varimax(L0[b]))
            fa_l = efa.fa_loadings(r, nf, "minres", "varimax")[0]
            np.testing.assert_array_equal(efa.reflect_and_order(orth[b], None)[0], fa_l)
        for max_iter in (1000, 3):
            pattern, phi, converged = efa.oblimin_batch(orth, max_iter=max_iter)
            for b in range(len(rs)):
                p1, phi1, c1 = _rotator(orth[b], "oblimin", max_iter)
                np.testing.assert_array_equal(pattern[b], p1)
                np.testing.assert_array_equal(phi[b], phi1)
                assert converged[b] == c1
                assert efa.oblimin(orth[b], max_iter=max_iter)[2] == c1
                # also the memory layout, whatever the input's (fa's loadings may be in Fortran order): products
                # with the pattern (Schmid-Leiman's g) depend on it
                f_order = np.asfortranarray(orth[b])
                one, two = efa.oblimin(f_order, max_iter=max_iter)[0], _rotator(f_order, "oblimin", max_iter)[0]
                assert one.flags.c_contiguous == np.asarray(two).flags.c_contiguous
                np.testing.assert_array_equal(one @ np.arange(1.0, nf + 1), two @ np.arange(1.0, nf + 1))
            assert converged.all() if max_iter == 1000 else not converged.all()


def _psych_minres_by_optim(r: np.ndarray, nf: int):
    """psych's minres written out from its formulas (``fit.residuals``, ``FAgr.minres``, optim's L-BFGS-B with
    parscale 0.01 through scipy.optimize.minimize, objective and gradient evaluated separately): (loadings,
    objective, iterations)."""
    from scipy import optimize

    eps = np.finfo(float).eps

    def fn(psi):
        m = r.copy()
        np.fill_diagonal(m, 1 - psi)
        vals, vecs = efa.correlation.eig_desc(m)
        vals = np.where(vals < eps, 100 * eps, vals)
        load = vecs[:, :nf] * np.sqrt(vals[:nf])
        return float(((m - load @ load.T)[np.tril_indices(len(r), -1)] ** 2).sum())

    def gr(psi):
        vals, vecs = efa.correlation.eig_desc(r - np.diag(psi))
        load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0))
        return (load**2).sum(axis=1) + psi - np.diag(r)

    ps = 0.01
    start = np.diag(r) - efa.smc(r)
    res = optimize.minimize(
        lambda y: fn(y * ps),
        start / ps,
        jac=lambda y: gr(y * ps) * ps,
        method="L-BFGS-B",
        bounds=[(0.005 / ps, max(efa.smc(r).max(), 1.0) / ps)] * len(r),
        options={"maxcor": 5, "ftol": 1e7 * eps, "gtol": 0.0, "maxiter": 100},
    )
    red = r.copy()
    np.fill_diagonal(red, np.diag(r) - res.x * ps)
    vals, vecs = efa.correlation.eig_desc(red)
    load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0))
    return load * np.where(load.sum(axis=0) < 0, -1, 1), res.fun, res.nit


def test_minres_with_one_decomposition_per_step_follows_psychs_path_exactly(ref):
    """On a unit-diagonal matrix extract() evaluates psych's minres objective (fit.residuals) and gradient
    (FAgr.minres) from one eigen-decomposition per step; the optimiser then takes the steps it takes with the two
    functions evaluated separately (written out here from psych's formulas), to the last bit."""
    r, nf = _mat(ref["r"]).to_numpy(), ref["nfactors"]
    load, fun, nit = _psych_minres_by_optim(r, nf)
    assert np.all(np.diag(r) == 1.0)
    m = efa.minres(r, nf)
    assert m["objective"] == fun and m["iterations"] == nit
    np.testing.assert_array_equal(m["loadings"], load)


@pytest.mark.parametrize("driver", ["setulb", "minimize"])
def test_stacked_minres_fits_are_psychs_path_matrix_by_matrix(bfi_items, monkeypatch, driver):
    """minres_stack / unrotated_loadings_stack (the omega bootstrap's fits: all matrices' optimisers in lockstep,
    one stacked eigen-decomposition per step) give, for every matrix, the loadings, objective and iterations of
    psych's minres run on that matrix alone through scipy.optimize.minimize, bit for bit: bfi bootstrap
    correlations with 1 to 3 factors, and rescaled factor-correlation-like matrices whose diagonal after
    cov2cor is not exactly 1 (the gradient then needs its own decomposition). Also with scipy's driver instead
    of the lockstep one (older scipy). Their SMC starts (smc_stack) are smc's, also for a singular matrix."""
    if driver == "minimize":
        monkeypatch.setattr(efa.extraction, "_setulb", lambda: None)
    x = bfi_items.iloc[:, :8].to_numpy(float)
    rng = np.random.default_rng(5)
    rs = np.stack(
        [efa.correlation_matrix(pd.DataFrame(x[rng.integers(0, len(x), len(x))])).to_numpy() for _ in range(6)]
    )
    a = rng.normal(size=(12, 3, 3))
    t = a / np.sqrt((a**2).sum(axis=1, keepdims=True))
    phis = np.stack([efa.correlation.as_corr(p.T @ p)[0] for p in t])
    assert not all(np.all(np.diag(p) == 1.0) for p in phis)
    dup = np.column_stack([x[:, :5], x[:, 0]])  # a duplicated item: psych's Pinv drops a singular value
    singular = efa.correlation_matrix(pd.DataFrame(dup)).to_numpy()
    for mats in (rs, phis, np.stack([singular, rs[0][:6, :6]])):
        np.testing.assert_array_equal(efa.smc_stack(mats), np.stack([efa.smc(m) for m in mats]))
    for mats, nf in ((rs, 1), (rs, 2), (rs, 3), (phis, 1)):
        stacked = efa.unrotated_loadings_stack(mats, nf)
        load, info = efa.minres_stack(mats, nf)
        np.testing.assert_array_equal(stacked, load)
        for b, r in enumerate(mats):
            want, fun, nit = _psych_minres_by_optim(r, nf)
            np.testing.assert_array_equal(load[b], want)
            assert info["objective"][b] == fun and info["iterations"][b] == nit
            np.testing.assert_array_equal(efa.unrotated_loadings(r, nf), want)


def test_smc_uses_psych_pinv_tolerance_and_nan_policy(hs_items):
    """psych::smc inverts with Pinv (singular values < sqrt(eps) * max dropped); a near-singular matrix shows it.

    R: d <- HolzingerSwineford1939.csv; x <- d[, c("x1","x2","x3")]; x$s <- x$x1 + x$x2 + 1e-6 * (1:301 %% 7 - 3);
    psych::smc(cor(x)) -> 0, 0, 0.242022673860477, 0 (numpy's default pinv tolerance would give 1, 1, .257, 1).
    """
    x = hs_items[["x1", "x2", "x3"]].copy()
    x["s"] = x["x1"] + x["x2"] + 1e-6 * (np.arange(1, len(x) + 1) % 7 - 3)
    np.testing.assert_allclose(efa.smc(x.corr()), [0.0, 0.0, 0.242022673860477, 0.0], atol=1e-8)
    r = hs_items.corr().to_numpy()
    np.testing.assert_allclose(efa.smc(r), 1 - 1 / np.diag(np.linalg.inv(r)), atol=1e-12)
    r[0, 1] = r[1, 0] = np.nan
    with pytest.raises(ValueError):
        efa.smc(r)
    assert np.isnan(efa.smc(r, nan_policy="propagate")).all()


def test_loadings_agree_up_to_order_and_sign_with_simple_truth():
    """Recovery of a known population structure (exact correlation matrix) up to column order and sign."""
    lam = np.zeros((9, 3))
    lam[0:3, 0], lam[3:6, 1], lam[6:9, 2] = 0.7, 0.6, 0.8
    phi = np.array([[1, 0.3, 0.2], [0.3, 1, 0.4], [0.2, 0.4, 1]])
    sigma = lam @ phi @ lam.T
    np.fill_diagonal(sigma, 1.0)
    s = efa.fa(sigma, 3, method="ml", rotation="oblimin")
    c = efa.congruence(s.loadings, pd.DataFrame(lam, index=s.loadings.index, columns=["a", "b", "c"]))
    assert np.allclose(np.sort(np.abs(c.to_numpy()).max(axis=0)), 1.0, atol=1e-3)


def test_factor_analyzer_phi_is_not_reordered_hence_workaround(hs_ref):
    """Documents why FactorAnalyzer.fit is not used: its phi_ does not follow its reordered loadings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from factor_analyzer import FactorAnalyzer

        fa_ = FactorAnalyzer(n_factors=3, rotation="oblimin", method="minres", is_corr_matrix=True)
        fa_.fit(_mat(hs_ref["r"]).to_numpy())
    psych_phi = _mat(hs_ref["fa"]["minres_oblimin"]["Phi"]).to_numpy()
    ours = efa.fa(_mat(hs_ref["r"]), 3).phi.to_numpy()
    assert np.abs(fa_.phi_ - psych_phi).max() > 0.05
    assert_close(ours, psych_phi, "efa.fa")


def test_single_factor_and_bad_arguments(hs_ref):
    r = _mat(hs_ref["r"])
    s = efa.fa(r, 1)
    assert s.loadings.shape == (9, 1) and s.loadings.to_numpy().sum() > 0
    np.testing.assert_allclose(s.phi.to_numpy(), [[1.0]])
    with pytest.raises(ValueError):
        efa.fa(r, 3, rotation="quartimax")
    with pytest.raises(ValueError):
        efa.fa(r, 3, method="alpha")


# ------------------------------------------------------------------------------------------ congruence / matching
def test_congruence_matches_psych_factor_congruence(ref):
    r = _mat(ref["r"])
    a = efa.fa(r, ref["nfactors"], "minres").loadings
    b = efa.fa(r, ref["nfactors"], "ml").loadings
    assert_close(efa.congruence(a, b).to_numpy(), _mat(ref["congruence_minres_ml"]).to_numpy(), "efa.congruence")
    keys = efa.target_matrix(ref["groups"], ref["items"])
    assert_close(efa.congruence(a, keys).to_numpy(), _mat(ref["congruence_minres_keys"]).to_numpy(), "efa.congruence")


def test_match_factors_hs(hs_ref):
    s = efa.fa(_mat(hs_ref["r"]), 3)
    m = efa.match_factors(s.loadings, efa.target_matrix(HS_GROUPS, HS_ITEMS))
    got = dict(zip(m["factor"], m["efa_factor"]))
    # psych order: MR1 (textual), MR3 (visual), MR2 (speed) -> F1, F2, F3
    assert got == {"visual": "F2", "textual": "F1", "speed": "F3"}
    ck = _mat(hs_ref["congruence_minres_keys"])
    assert_close(m.set_index("factor").loc["visual", "congruence"], ck.loc["MR3", "visual"], "efa.congruence")
    assert_close(m.set_index("factor").loc["speed", "congruence"], ck.loc["MR2", "speed"], "efa.congruence")


def test_match_factors_handles_reflection_and_surplus_factors():
    items = [f"i{k}" for k in range(6)]
    L = pd.DataFrame(
        [[-0.8, 0.1, 0.05], [-0.7, 0.0, 0.1], [-0.6, 0.1, 0.0], [0.1, 0.7, 0.0], [0.0, 0.8, 0.1], [0.1, 0.6, 0.2]],
        index=items,
        columns=["F1", "F2", "F3"],
    )
    groups = {"a": items[:3], "b": items[3:]}
    m = efa.match_factors(L, efa.target_matrix(groups, items))
    row = m.set_index("factor").loc["a"]
    assert row["efa_factor"] == "F1" and row["sign"] == -1 and row["congruence"] > 0.9
    assert m["efa_factor"].tolist()[-1] == "F3" and pd.isna(m["factor"].tolist()[-1])


def test_problem_items_flags():
    items = ["a1", "a2", "a3", "b1", "b2", "b3"]
    L = pd.DataFrame(
        [
            [0.70, 0.05],
            [0.35, 0.10],
            [0.10, 0.60],  # a2 weak, a3 on b's factor
            [0.05, 0.75],
            [0.45, 0.50],
            [0.00, 0.65],
        ],  # b2 cross-loads
        index=items,
        columns=["F1", "F2"],
    )
    groups = {"a": items[:3], "b": items[3:]}
    m = efa.match_factors(L, efa.target_matrix(groups, items))
    p = efa.problem_items(L, groups, m).set_index("item")
    assert set(p.index) == {"a2", "a3", "b2"}
    assert p.loc["a2", "flags"] == "low_primary"
    assert p.loc["a3", "flags"] == "wrong_factor" and p.loc["a3", "primary_matched_factor"] == "b"
    assert p.loc["b2", "flags"] == "cross_loading" and p.loc["b2", "n_above_cross"] == 2
    # thresholds are arguments
    p2 = efa.problem_items(L, groups, m, min_loading=0.30, cross_loading=0.55)
    assert set(p2["item"]) == {"a3"}


# ------------------------------------------------------------------------------------------ split half
def test_split_half_is_deterministic_and_partitions(hs_items):
    a1, b1 = efa.split_half(hs_items, seed=7)
    a2, b2 = efa.split_half(hs_items, seed=7)
    a3, _ = efa.split_half(hs_items, seed=8)
    assert a1.equals(a2) and b1.equals(b2) and not a1.equals(a3)
    assert len(a1) == round(0.5 * len(hs_items)) and len(a1) + len(b1) == len(hs_items)
    assert set(a1).isdisjoint(b1) and set(a1) | set(b1) == set(hs_items.index)
    a4, b4 = efa.split_half(hs_items, seed=7, fraction=0.3)
    assert len(a4) == round(0.3 * len(hs_items))


# ------------------------------------------------------------------------------------------ polychoric
def test_polychoric_matches_psych(bfi_ref):
    items = bfi_ref["polychoric"]["items"]
    x = pd.read_csv(DATA / "bfi.csv")[items]
    pc = efa.polychoric(x)
    assert pc["global"] and not pc["smoothed"]
    assert_close(pc["tau"].to_numpy(), _mat(bfi_ref["polychoric"]["tau"]).to_numpy(), "efa.polychoric.tau")
    assert_close(pc["rho"].to_numpy(), _mat(bfi_ref["polychoric"]["rho"]).to_numpy(), "efa.polychoric.rho")


def test_polychoric_unequal_categories_matches_psych_nonglobal():
    """psych sets global = FALSE when items differ in their highest category (here A1 capped at 5)."""
    ref = json.loads((REF / "efa" / "polychoric_nonglobal.json").read_text())
    x = pd.read_csv(DATA / "bfi.csv")[ref["items"]].copy()
    x.loc[x["A1"] > 5, "A1"] = 5
    pc = efa.polychoric(x)
    assert not pc["global"]
    tau_ref = np.array(ref["tau"]["values"], dtype=float)  # "Inf" (unused top category of A1) -> inf
    np.testing.assert_array_equal(np.isinf(pc["tau"].to_numpy()), np.isinf(tau_ref))
    fin = np.isfinite(tau_ref)
    assert_close(pc["tau"].to_numpy()[fin], tau_ref[fin], "efa.polychoric.tau")
    assert_close(pc["rho"].to_numpy(), np.array(ref["rho"]["values"]), "efa.polychoric.rho")


def test_correlation_matrix_polychoric_option(bfi_ref):
    items = bfi_ref["polychoric"]["items"]
    x = pd.read_csv(DATA / "bfi.csv")[items]
    r = efa.correlation_matrix(x, cor="polychoric")
    assert_close(r.to_numpy(), _mat(bfi_ref["polychoric"]["rho"]).to_numpy(), "efa.polychoric.rho")
    with pytest.raises(ValueError):
        efa.correlation_matrix(x, cor="spearman")


def test_bivariate_normal_cdf_against_scipy():
    from scipy import stats

    h = np.array([-1.2, 0.3, 1.5, -0.2])
    k = np.array([0.4, -0.7, 2.0, -2.5])
    for r in (-0.97, -0.5, 0.0, 0.2, 0.6, 0.8, 0.95):
        mine = bvnu(-h, -k, r)
        ref = [stats.multivariate_normal(cov=[[1, r], [r, 1]]).cdf([a, b]) for a, b in zip(h, k)]
        np.testing.assert_allclose(mine, ref, atol=1e-7)


# ------------------------------------------------------------------------------------------ run_efa
def test_run_efa_hs_headline_and_tables(hs_ref, hs_items):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = efa.run_efa(hs_items, HS_GROUPS, seed=1, n_iter=10)
    assert not [w for w in caught if issubclass(w.category, FutureWarning)]
    h = res.headline
    assert_close(h["kmo"], hs_ref["kmo"]["MSA"], "efa.kmo")
    assert_close(h["bartlett_chi2"], hs_ref["bartlett"]["chisq"], "efa.bartlett")
    assert h["bartlett_df"] == 36
    assert h["n_factors_parallel"] == hs_ref["parallel"]["nfact"]
    assert h["n_factors_map"] == int(np.nanargmin(np.array(hs_ref["map"], dtype=float))) + 1
    ck = _mat(hs_ref["congruence_minres_keys"])
    assert_close(h["congruence"]["textual"], ck.loc["MR1", "textual"], "efa.congruence")
    assert set(h["congruence"]) == set(HS_GROUPS)
    # tidy tables
    assert set(res.loadings.columns) == {"item", "factor", "loading", "structure"} and len(res.loadings) == 27
    assert len(res.factor_correlations) == 9 and len(res.communalities) == 9
    assert res.problems["item"].tolist() == ["x9"]  # x9 cross-loads on visual and speed
    assert_close(
        res.solution.loadings.to_numpy(), _mat(hs_ref["fa"]["minres_oblimin"]["loadings"]).to_numpy(), "efa.fa"
    )


def test_run_efa_without_groups_uses_parallel_count(hs_items):
    res = efa.run_efa(hs_items, None, seed=2, n_iter=5, method="pa", rotation="promax")
    assert res.solution.n_factors == res.headline["n_factors_parallel"] == 3
    assert res.headline["congruence"] == {} and res.problems.empty


def test_pairwise_pearson_equals_pandas_pairwise_correlations_edge_cases_included():
    rng = np.random.default_rng(5)
    x = rng.integers(1, 6, (400, 7)).astype(float) + rng.standard_normal((400, 1))
    x[rng.random(x.shape) < 0.15] = np.nan
    x[:, 4] = 2.0  # constant: NaN row and column, as pandas
    x[2:, 6] = np.nan  # two rows only: one joint row with most columns
    x[0, :] = np.nan
    got = pairwise_pearson(x)
    ref = pd.DataFrame(x).corr().to_numpy()
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13, equal_nan=True)
    assert np.isnan(got[4, 4]) and got[0, 0] == 1.0


def test_null_correlation_is_scipys_wishart_draw():
    # Bartlett's decomposition written out: the draws of scipy.stats.wishart, bit for bit, rescaled to correlations
    from scipy import stats

    for n, p in [(602, 50), (10, 3)]:
        mine = efa.null_correlation(np.random.default_rng(5), n, p)
        a = stats.wishart(df=n - 1, scale=np.eye(p)).rvs(random_state=np.random.default_rng(5))
        d = 1.0 / np.sqrt(np.diag(a))
        np.testing.assert_array_equal(mine, a * np.outer(d, d))


def test_null_correlation_has_the_distribution_of_normal_data_correlations():
    # the correlation matrix of n x p standard normal draws (psych's simulated data), without drawing them:
    # the largest eigenvalue's distribution over 4000 draws each (fixed seeds: a deterministic check)
    from scipy import stats

    rng = np.random.default_rng(1)
    n, p = 40, 6
    wishart = [np.linalg.eigvalsh(efa.null_correlation(rng, n, p))[-1] for _ in range(4000)]
    data = [np.linalg.eigvalsh(np.corrcoef(rng.standard_normal((n, p)), rowvar=False))[-1] for _ in range(4000)]
    assert stats.ks_2samp(wishart, data).pvalue > 0.05
    se = np.std(data) * np.sqrt(2 / 4000)
    assert abs(np.mean(wishart) - np.mean(data)) < 3 * se


@pytest.mark.parametrize("resample", ["bootstrap", "permute"])
def test_parallel_analysis_of_rating_scale_answers_resamples_the_rows_values(resample):
    # rating-scale answers are gathered through one-byte codes: the resampled eigenvalues must be those of the
    # rows' own values, gathered column by column with the same random numbers (the draws written out here)
    from compval.efa.retention import null_correlation

    rng = np.random.default_rng(5)
    x = rng.integers(-2, 5, size=(400, 6)).astype(float)
    x[rng.random(x.shape) < 0.08] = np.nan
    x[:, 2] = x[:, 2] * 3 + 100  # a column of other whole numbers
    pa = efa.parallel_analysis(pd.DataFrame(x, columns=list("abcdef")), n_iter=4, seed=11, resample=resample)

    draw = np.random.default_rng(11)
    centre = np.array([np.nanmean(x[:, j]) for j in range(6)])  # as the column-major frame's means
    res = []
    for _ in range(4):
        while True:
            s = np.empty((6, 400))  # the resample's columns, laid out as the library's
            for j in range(6):
                idx = draw.integers(0, 400, 400) if resample == "bootstrap" else draw.permutation(400)
                s[j] = x[idx, j]
            c = pairwise_pearson(s.T, centre=centre)
            if not np.isnan(c).any():
                break
        res.append(fa_values(c, False))
        null_correlation(draw, 400, 6)  # the simulated set's draws come next in the stream
    # the library sums the drawn codes exactly (code_pair_sums), the values' float sums here: rounding apart
    # (1e-15), while any other draw would move the eigenvalues by about 0.1
    np.testing.assert_allclose(pa.table["resampled_mean"].to_numpy(), np.array(res).mean(axis=0), rtol=0, atol=1e-13)


@pytest.mark.parametrize("top", [5, 255])
def test_code_pair_sums_are_the_exact_sums_of_the_codes(top):
    # whole-number codes (0 = missing) in float32 blocks: n, sum u, sum u^2 and sum u_j u_l exactly as in int64,
    # over several blocks (top 255 allows 258 rows a block); the centred sums as the values' own float sums
    from compval.efa.correlation import code_pair_sums, pearson_of_sums

    rng = np.random.default_rng(8)
    p, n = 5, 9000
    codes = rng.integers(1, top + 1, size=(p, n)).astype(np.uint8)
    codes[rng.random(codes.shape) < 0.1] = 0
    zero = np.zeros(p)
    n_pair, s, q, cross = code_pair_sums(codes, zero)
    u = codes.astype(np.int64)
    m = (u > 0).astype(np.int64)
    for got, exact in ((n_pair, m @ m.T), (s, u @ m.T), (q, (u * u) @ m.T), (cross, u @ u.T)):
        assert np.array_equal(got, exact.astype(float))
    values = np.where(codes > 0, codes + 10.0, np.nan).T  # offset 10: the values are the codes + 10
    centre = np.nanmean(values, axis=0)
    got = code_pair_sums(codes, centre - 10.0)
    obs = ~np.isnan(values)
    z = np.where(obs, values - centre, 0.0)
    mf = obs.astype(float)
    for a, b in zip(got, (mf.T @ mf, z.T @ mf, (z * z).T @ mf, z.T @ z)):  # the centred values' sums
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9 * np.abs(b).max())
    np.testing.assert_allclose(pearson_of_sums(*got), pairwise_pearson(values), rtol=0, atol=1e-13)


def test_parallel_analysis_with_fewer_rows_than_items_draws_the_data():
    # n - 1 < p: the Wishart draw is singular, so the simulated sets are normal data as in psych
    x = pd.DataFrame(np.random.default_rng(2).normal(size=(5, 6)), columns=[f"v{i}" for i in range(6)])
    pa = efa.parallel_analysis(x, n_iter=3, seed=0)
    sim = pa.table[["simulated_mean", "simulated_quantile", "resampled_mean"]].to_numpy()
    assert sim.shape == (6, 3) and np.isfinite(sim).all()
    # singular correlation matrices of 5 rows: at most 4 nonzero "fa" eigenvalues before the reduction
    assert pa.table["simulated_mean"].iloc[-1] < pa.table["simulated_mean"].iloc[0]


def test_pairwise_pearson_with_a_given_centre_equals_the_default():
    x = np.random.default_rng(3).normal(2.0, 1.0, size=(500, 7))
    x[np.random.default_rng(4).random(x.shape) < 0.1] = np.nan
    r = pairwise_pearson(x)
    np.testing.assert_allclose(pairwise_pearson(x, centre=np.full(7, 1.7)), r, rtol=0, atol=1e-13)
    pd.testing.assert_frame_equal(pd.DataFrame(r), pd.DataFrame(x).corr(), check_exact=False, rtol=0, atol=1e-13)


def test_pairwise_covariance_equals_pandas_cov():
    from compval.efa.correlation import pairwise_covariance

    rng = np.random.default_rng(8)
    x = rng.integers(1, 6, (300, 6)).astype(float)
    x[rng.random(x.shape) < 0.15] = np.nan
    x[2:, 5] = np.nan  # a column with two answers: pairs with fewer than two joint rows are NaN
    got = pairwise_covariance(x)
    want = pd.DataFrame(x).cov().to_numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=1e-13, atol=0)


@pytest.mark.parametrize("n", [3, 5, 10, 50, 200, 5000])
def test_bartlett_p_value_is_scipy_stats_chi2_sf_bit_for_bit(n):
    """bartlett_sphericity's p value avoids scipy.stats' import: the same bits as stats.chi2.sf, also where the
    statistic falls below the support (few respondents: a negative multiplier) and where it is undefined."""
    from scipy import stats

    rng = np.random.default_rng(n)
    x = rng.normal(size=(max(n, 12), 8))
    x[:, 1] += x[:, 0]
    r = np.corrcoef(x[:n].T) if n > 8 else np.corrcoef(x.T)
    b = efa.bartlett_sphericity(r, n)
    want = stats.chi2.sf(b.chi2, b.df)
    assert np.array_equal(b.p, want, equal_nan=True), (b.chi2, b.p, want)
    singular = np.ones((4, 4))
    s = efa.bartlett_sphericity(singular, n)
    assert np.isnan(s.chi2) and np.isnan(s.p) and np.isnan(stats.chi2.sf(s.chi2, s.df))


def test_pairwise_sums_of_rating_scale_answers_do_not_depend_on_the_other_columns():
    # exact sums of the codes: a scale's sums are those of the whole questionnaire's, bit for bit, so the
    # reliability job's scales and the EFA's items give the same numbers however the columns are grouped
    from compval.efa.correlation import pairwise_sums, small_integer_codes

    rng = np.random.default_rng(12)
    x = rng.integers(1, 6, size=(5000, 9)).astype(float)
    x[rng.random(x.shape) < 0.05] = np.nan
    assert small_integer_codes(x) is not None
    assert small_integer_codes(x + 0.5 * (x == 3)) is None  # a fraction: the float sums
    cols = [7, 2, 4]
    whole, part = pairwise_sums(x), pairwise_sums(x[:, cols])
    for a, b in zip(whole, part):
        assert np.array_equal(a[np.ix_(cols, cols)], b)
