"""The SEM engine's sample statistics are computed once per data set and shared by the fits that use it."""

from __future__ import annotations

import numpy as np
import pytest

from compval import cfa
from compval.sem import samplestats


def _data(seed: int, n: int = 300) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((n, 6)) + rng.standard_normal((n, 1))
    y[rng.random(y.shape) < 0.1] = np.nan
    return y


def test_the_same_values_share_one_set_of_statistics_and_other_values_do_not():
    y = _data(1)
    first = samplestats.group_data(y)
    assert samplestats.group_data(y.copy()) is first  # same values, another array: shared
    other = _data(2)
    assert samplestats.group_data(other) is not first
    samplestats.clear_cache()
    fresh = samplestats.group_data(y)  # what a first computation gives
    assert fresh is not first
    assert np.array_equal(first.cov, fresh.cov) and np.array_equal(first.mean, fresh.mean)
    assert first.h1_f == fresh.h1_f and len(first.blocks) == len(fresh.blocks)


def test_the_kept_statistics_are_bounded_in_memory(monkeypatch):
    monkeypatch.setattr(samplestats, "CACHE_BYTES", 2 * _data(3).nbytes)
    samplestats.clear_cache()
    kept = [samplestats.group_data(_data(s)) for s in (3, 4, 5)]
    assert samplestats.group_data(_data(5)) is kept[-1]  # the newest is kept
    assert samplestats.group_data(_data(3)) is not kept[0]  # the oldest was let go
    assert samplestats.clear_cache() <= 2


def test_rival_fits_to_the_same_data_give_the_numbers_of_separate_fits():
    import pandas as pd

    data = pd.DataFrame(_data(7, 400), columns=[f"x{i}" for i in range(6)])
    model = "f =~ x0 + x1 + x2 + x3 + x4 + x5\n"
    samplestats.clear_cache()
    a = cfa.fit_cfa(data, cfa.from_syntax(model), estimator="ML", missing="ml")
    b = cfa.fit_cfa(data, cfa.from_syntax(model), estimator="ML", missing="ml")  # statistics shared with a
    samplestats.clear_cache()
    c = cfa.fit_cfa(data, cfa.from_syntax(model), estimator="ML", missing="ml")  # computed afresh
    assert a.fit == b.fit == c.fit and a.params.equals(c.params)


@pytest.mark.parametrize("chunk, row_chunk", [(128, samplestats.ROW_CHUNK), (2, samplestats.ROW_CHUNK), (128, 7)])
def test_heavy_patterns_by_their_moments_give_the_row_by_row_sums(chunk, row_chunk, monkeypatch):
    # patterns with at least p rows enter the sweeps through their mean and cross-products; the sums (objective,
    # gradient pieces and the EM's filled moments) must equal those of the rows one by one (whose observed masks
    # are taken chunk by chunk: row_chunk 7 starts chunks inside patterns)
    monkeypatch.setattr(samplestats, "PATTERN_CHUNK", chunk)  # heavy patterns a few at a time, too
    monkeypatch.setattr(samplestats, "ROW_CHUNK", row_chunk)
    rng = np.random.default_rng(11)
    y = rng.standard_normal((2000, 6)) @ rng.standard_normal((6, 6)) + rng.standard_normal(6)
    y[rng.random(y.shape) < 0.08] = np.nan
    y[:40, :3] = np.nan  # a pattern with three unobserved variables and 40 rows
    pt = samplestats.row_patterns(y)
    assert pt.heavy.any() and not pt.heavy.all()
    assert (pt.n[pt.heavy] >= y.shape[1]).all() and (pt.n[~pt.heavy] < y.shape[1]).all()
    plain = samplestats.Patterns.from_rows(pt.Y, pt.obs, pt.n.astype(int))  # every row one by one
    assert not plain.heavy.any()
    mu = np.nanmean(y, axis=0) + 0.1
    sigma = np.cov(np.where(np.isnan(y), np.nanmean(y, axis=0), y).T) + 0.2 * np.eye(6)
    for em in (False, True):
        a, b = pt.sweep(sigma, mu, em=em), plain.sweep(sigma, mu, em=em)
        keys = ["f", "G", "UU", "u"] + (["T1", "T2"] if em else [])
        for key in keys:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-9, err_msg=key)
    rows = pt.sweep(sigma, mu, rows=True)  # the rows' u_i are still given row by row
    np.testing.assert_allclose(rows["UU"], rows["U"].T @ rows["U"], rtol=1e-12, atol=1e-9)


def _heavy_data(seed: int = 11, n: int = 2000) -> np.ndarray:
    """Six variables, 8% of the values missing, and a 40-row pattern with three unobserved: heavy and light
    patterns at one, two and three unobserved variables."""
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((n, 6)) @ rng.standard_normal((6, 6)) + rng.standard_normal(6)
    y[rng.random(y.shape) < 0.08] = np.nan
    y[:40, :3] = np.nan
    return y


@pytest.mark.parametrize("row_chunk", [samplestats.ROW_CHUNK, 7])
def test_letting_the_heavy_patterns_rows_go_changes_no_sum(row_chunk, monkeypatch):
    """rows=False keeps only the rows of the patterns that are not heavy (above LET_GO_BYTES; 0 here): every sum
    of a sweep, the patterns' covariances and the observed moments are the same bits as with every row kept; the
    sweep on a Sigma that is not positive definite (every Sigma_oo factorised) takes the heavy patterns' terms
    from their moments, equal up to rounding; what needs every row says so."""
    monkeypatch.setattr(samplestats, "ROW_CHUNK", row_chunk)
    monkeypatch.setattr(samplestats, "LET_GO_BYTES", 0)
    y = _heavy_data()
    full, part = samplestats.row_patterns(y), samplestats.row_patterns(y.copy(), consume=True, rows=False)
    assert full.rows_kept and not part.rows_kept
    assert len(part.rows_array) == int(full.n[~full.heavy].sum()) < len(y)
    np.testing.assert_array_equal(part.rows_array, full.Y[np.repeat(~full.heavy, full.n.astype(int))])
    np.testing.assert_array_equal(part.S, full.S)
    np.testing.assert_array_equal(part.observed_means(), full.observed_means())
    np.testing.assert_array_equal(part.observed_variances(), full.observed_variances())
    light, heavy = int(np.flatnonzero(~full.heavy)[0]), int(np.flatnonzero(full.heavy)[-1])
    samplestats.clear_cache()
    whole = samplestats.group_data(y)
    samplestats.clear_cache()
    some = samplestats.group_data(y, rows=False)
    assert samplestats.has_rows(whole) and not samplestats.has_rows(some)
    np.testing.assert_array_equal(some.blocks[light].y, whole.blocks[light].y)
    np.testing.assert_array_equal(some.blocks[heavy].cov, whole.blocks[heavy].cov)
    assert some.h1_f == whole.h1_f and np.array_equal(some.cov, whole.cov)
    samplestats.clear_cache()
    mu = np.nanmean(y, axis=0) + 0.1
    sigma = np.cov(np.where(np.isnan(y), np.nanmean(y, axis=0), y).T) + 0.2 * np.eye(6)
    keys = ["f", "G", "UU", "u", "T1", "T2"]
    a, b = full.sweep(sigma, mu, em=True), part.sweep(sigma, mu, em=True)
    for key in keys:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    monkeypatch.setattr(samplestats.Patterns, "partitioned", lambda self, s: None)  # every Sigma_oo directly
    a, b = full.sweep(sigma, mu, em=True), part.sweep(sigma, mu, em=True)
    for key in keys:
        np.testing.assert_allclose(b[key], a[key], rtol=1e-12, atol=1e-9, err_msg=key)
    with pytest.raises(ValueError, match="rows=True"):
        part.Y
    with pytest.raises(ValueError, match="rows=True"):
        part.sweep(sigma, mu, rows=True)
    with pytest.raises(ValueError, match="rows=True"):
        some.blocks[heavy].y
    arrays = [y.copy()]
    samplestats.clear_cache()
    samplestats.group_data_sets(arrays, consume=True, rows=False)
    assert arrays == []  # the caller's references go: what the patterns do not keep is freed before the EM
    monkeypatch.setattr(samplestats, "LET_GO_BYTES", 10**12)  # below the bound every row stays
    assert samplestats.row_patterns(y, rows=False).rows_kept


@pytest.mark.parametrize("complete", [False, True])
def test_an_ml_fit_keeps_no_heavy_rows_and_an_mlr_fit_makes_them_again(complete, monkeypatch):
    """A FIML fit under ML keeps the sample statistics without the heavy patterns' rows (above LET_GO_BYTES) and
    gives the numbers of a fit that kept them (complete data: without its rows); an MLR fit to the same data
    needs every row (casewise scores): it computes the statistics again, with the numbers of an MLR fit from
    scratch."""
    import pandas as pd

    from compval.sem import data as semdata

    y = _heavy_data(5, 3000)
    data = pd.DataFrame(np.nan_to_num(y, nan=0.5) if complete else y, columns=[f"x{i}" for i in range(6)])
    model = cfa.from_syntax("f =~ x0 + x1 + x2\ng =~ x3 + x4 + x5\n")
    samplestats.clear_cache()
    kept = cfa.fit_cfa(data, model, estimator="ML", missing="ml")
    assert samplestats.has_rows(kept._groups[0])
    monkeypatch.setattr(samplestats, "LET_GO_BYTES", 0)
    samplestats.clear_cache()
    ml = cfa.fit_cfa(data, model, estimator="ML", missing="ml")
    assert not samplestats.has_rows(ml._groups[0])
    assert ml.fit == kept.fit and ml._groups[0].complete is complete
    pd.testing.assert_frame_equal(ml.params, kept.params, check_exact=True)
    again = cfa.fit_cfa(data, model, estimator="ML", missing="ml")
    assert again._groups[0] is ml._groups[0]  # shared while no fit needs the rows
    made = []
    real = semdata.prepare_groups
    monkeypatch.setattr(semdata, "prepare_groups", lambda *a, **k: made.append(1) or real(*a, **k))
    mlr = cfa.fit_cfa(data, model, estimator="MLR", missing="ml")
    assert made == [1] and samplestats.has_rows(mlr._groups[0])
    assert cfa.fit_cfa(data, model, estimator="ML", missing="ml")._groups[0] is mlr._groups[0]
    samplestats.clear_cache()
    fresh = cfa.fit_cfa(data, model, estimator="MLR", missing="ml")
    assert mlr.fit == fresh.fit
    pd.testing.assert_frame_equal(mlr.params, fresh.params, check_exact=True)
    samplestats.clear_cache()


@pytest.mark.parametrize("n", [1500, 9000])  # one group below colstats.ROW_BLOCK rows, the other above
def test_statistics_from_a_tables_columns_are_the_bits_of_those_from_its_rows(n, monkeypatch):
    """An ML fit under FIML to a large table of float columns (above LET_GO_BYTES; 0 here) finds the patterns
    from the columns and copies only the rows that are not in heavy patterns (column_group_data_sets): the EM
    start, the patterns' means, covariances and observed moments, the h1 estimates and every number of the fit
    are the same bits as from the array of every row, in one group or two; rows with every value missing are
    left out in both; a later MLR fit makes the rows."""
    import pandas as pd

    from compval.sem import data as semdata

    y = np.vstack([_heavy_data(3, n), _heavy_data(4, n)])
    y[5] = np.nan  # left out
    frame = pd.DataFrame(y, columns=[f"x{i}" for i in range(6)])
    frame["g"] = np.random.default_rng(0).integers(1, 3, len(frame))
    model = cfa.from_syntax("f =~ x0 + x1 + x2\ng =~ x3 + x4 + x5\n")
    for group in (None, "g"):
        samplestats.clear_cache()
        monkeypatch.setattr(samplestats, "LET_GO_BYTES", 10**12)
        want = cfa.fit_cfa(frame, model, estimator="ML", missing="ml", group=group)
        samplestats.clear_cache()
        monkeypatch.setattr(samplestats, "LET_GO_BYTES", 0)
        made = []
        real = semdata.prepare_groups
        monkeypatch.setattr(semdata, "prepare_groups", lambda *a, **k: made.append(1) or real(*a, **k))
        got = cfa.fit_cfa(frame, model, estimator="ML", missing="ml", group=group)
        monkeypatch.setattr(semdata, "prepare_groups", real)
        assert made == [] and not samplestats.has_rows(got._groups[0])
        assert got.fit == want.fit
        pd.testing.assert_frame_equal(got.params, want.params, check_exact=True)
        for a, b in zip(got._groups, want._groups):
            assert a.n == b.n and a.h1_f == b.h1_f and a.complete == b.complete
            np.testing.assert_array_equal(a.cov, b.cov)
            np.testing.assert_array_equal(a.mean, b.mean)
            if not a.complete:
                pa, pb = samplestats.patterns(a), samplestats.patterns(b)
                np.testing.assert_array_equal(pa.ybar, pb.ybar)
                np.testing.assert_array_equal(pa.S, pb.S)
                np.testing.assert_array_equal(pa.observed_means(), pb.observed_means())
                np.testing.assert_array_equal(pa.observed_variances(), pb.observed_variances())
                np.testing.assert_array_equal(pa.rows_array, pb.Y[np.repeat(~pb.heavy, pb.n.astype(int))])
        assert cfa.fit_cfa(frame, model, estimator="ML", missing="ml", group=group)._groups[0] is got._groups[0]
        mlr = cfa.fit_cfa(frame, model, estimator="MLR", missing="ml", group=group)
        assert samplestats.has_rows(mlr._groups[0])
    samplestats.clear_cache()


def test_row_patterns_consume_sorts_the_rows_in_place_to_the_same_bits():
    """consume=True sorts and zero-fills the caller's array itself (no copy of the rows) and gives the patterns of
    the copying path bit for bit; group_data(consume=True) the same sample statistics."""
    rng = np.random.default_rng(11)
    y = rng.standard_normal((4000, 6)) + 0.3
    y[rng.random(y.shape) < 0.15] = np.nan
    y = y[~np.isnan(y).all(axis=1)]
    want = samplestats.row_patterns(y)
    own = y.copy()
    got = samplestats.row_patterns(own, consume=True)
    assert got.Y is own
    np.testing.assert_array_equal(got.Y, want.Y)
    np.testing.assert_array_equal(got.obs, want.obs)
    np.testing.assert_array_equal(got.n, want.n)
    np.testing.assert_array_equal(got.ybar, want.ybar)
    samplestats.clear_cache()
    a = samplestats.group_data(y)
    samplestats.clear_cache()
    b = samplestats.group_data(y.copy(), consume=True)
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.cov, b.cov)
    assert a.h1_f == b.h1_f
    with pytest.raises(ValueError, match="C-ordered float64"):
        samplestats.row_patterns(np.asfortranarray(y), consume=True)


def _three_with_missing(seed: int) -> list[np.ndarray]:
    """Three data sets of 300 rows x 4 variables, 10% of the values missing."""
    rng = np.random.default_rng(seed)
    out = [rng.standard_normal((300, 4)) for _ in range(3)]
    for y in out:
        y[rng.random(y.shape) < 0.1] = np.nan
    return out


def test_a_fits_groups_are_kept_together_beyond_the_cache_bound(monkeypatch):
    """The groups of one fit stay in the cache together even when they exceed its bound (each group pushing out
    the one before it would make every invariance step compute every group's statistics again); the next fit's
    data sets push them out."""
    monkeypatch.setattr(samplestats, "CACHE_BYTES", 1)
    a, b, c = _three_with_missing(12)
    samplestats.clear_cache()
    first = samplestats.group_data_sets([a, b])
    again = samplestats.group_data_sets([a.copy(), b.copy()])
    assert again[0] is first[0] and again[1] is first[1]
    other = samplestats.group_data(c)
    assert samplestats.clear_cache() == 1 and other is not first[0]


def test_data_sets_used_in_a_kept_together_block_outlast_the_bound(monkeypatch):
    """Inside samplestats.kept_together() no data set used in the block is let go (a model on the items, one on
    their parcels, the items again: their statistics are not computed twice); once the block ends, the bound
    applies again."""
    monkeypatch.setattr(samplestats, "CACHE_BYTES", 1)
    a, b, c = _three_with_missing(14)
    samplestats.clear_cache()
    with samplestats.kept_together():
        first = samplestats.group_data(a)
        with samplestats.kept_together():  # nested: kept until the outermost block ends
            samplestats.group_data(b)
        assert samplestats.group_data(a.copy()) is first
        samplestats.group_data(c)
        assert samplestats.group_data(a.copy()) is first
    assert samplestats.clear_cache() == 3
    first = samplestats.group_data(a)
    samplestats.group_data(b)
    assert samplestats.group_data(a.copy()) is not first  # outside a block the bound lets the older one go
    samplestats.clear_cache()


def test_observed_moments_are_computed_once_and_handed_out_as_copies(monkeypatch):
    """observed_variances / observed_means (the EM's start and the independence model) are computed once per data
    set: one variance per variable however often they are asked for, the same numbers as numpy's nanvar / nanmean
    of the variables, and a caller changing the array it got changes nothing kept."""
    rng = np.random.default_rng(13)
    y = rng.standard_normal((500, 5)) * 2 + 1
    y[rng.random(y.shape) < 0.2] = np.nan
    y = y[~np.isnan(y).all(axis=1)]
    pt = samplestats.row_patterns(y)
    calls = []
    var_of = np.var
    monkeypatch.setattr(np, "var", lambda a, *args, **kw: calls.append(1) or var_of(a, *args, **kw))
    var, mean = pt.observed_variances(), pt.observed_means()
    pt.observed_variances(), pt.observed_means()
    monkeypatch.undo()
    assert len(calls) == y.shape[1]
    np.testing.assert_allclose(var, np.nanvar(y, axis=0), rtol=1e-13)
    np.testing.assert_allclose(mean, np.nanmean(y, axis=0), rtol=1e-13)
    kept_var, kept_mean = var.copy(), mean.copy()
    var[:] = -1.0
    mean[:] = -1.0
    np.testing.assert_array_equal(pt.observed_variances(), kept_var)
    np.testing.assert_array_equal(pt.observed_means(), kept_mean)
