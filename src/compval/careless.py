"""Careless / insufficient-effort responding indices per respondent.

Re-implements, with the same definitions and the same handling of missing values, the functions of the R
package ``careless`` 1.2.2 (Yentes & Wilhelm; reviewed in Curran 2016 and Meade & Craig 2012):

=====================  ==========================  ===================================================
compval                R                           data it expects
=====================  ==========================  ===================================================
:func:`longstring`     ``careless::longstring``    RAW answers in questionnaire order
:func:`irv`            ``careless::irv``           RAW answers (straight-lining gives a low SD only
                                                   before reverse-keyed items are recoded)
:func:`mahad`          ``careless::mahad``         scored or raw: D² is invariant to reverse-keying
                       (``psych::outlier``)
:func:`evenodd`        ``careless::evenodd``       SCORED answers (reverse-keyed items recoded),
                                                   grouped by scale
:func:`psychsyn`       ``careless::psychsyn``      SCORED answers
:func:`psychant`       ``careless::psychant``      RAW answers (antonyms are mostly pairs of a
                                                   reverse-keyed and a regular item)
:func:`seconds_per_item`  --                       duration in seconds and RAW answers
=====================  ==========================  ===================================================

:func:`careless_indices` computes all of them into one tidy table indexed like the answers and
:func:`flag_careless` turns the table into flags with a reason per flagged respondent. Every function is
pure (no I/O, no printing); the only randomness (``careless``' optional re-sampling in ``psychsyn``) goes
through an explicit ``seed``.

References
----------
Curran, P. G. (2016). Methods for the detection of carelessly invalid responses in survey data. *Journal of
Experimental Social Psychology, 66*, 4-19.
Dunn, A. M., Heggestad, E. D., Shanock, L. R., & Theilgard, N. (2018). Intra-individual response variability as an
indicator of insufficient effort responding. *Journal of Business and Psychology, 33*, 105-121.
Huang, J. L., Curran, P. G., Keeney, J., Poposki, E. M., & DeShon, R. P. (2012). Detecting and deterring
insufficient effort responding to surveys. *Journal of Business and Psychology, 27*, 99-114.
Johnson, J. A. (2005). Ascertaining the validity of individual protocols from web-based personality inventories.
*Journal of Research in Personality, 39*, 103-129.
Meade, A. W., & Craig, S. B. (2012). Identifying careless responses in survey data. *Psychological Methods, 17*,
437-455.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import chdtrc  # stats.chi2.sf's own function, without scipy.stats' import

from .efa.correlation import pairwise_covariance, pairwise_pearson

__all__ = [
    "longstring",
    "irv",
    "mahad",
    "evenodd",
    "item_pairs",
    "psychsyn",
    "psychant",
    "declared_synonym_pairs",
    "seconds_per_item",
    "careless_indices",
    "flag_careless",
    "DEFAULT_THRESHOLDS",
    "numeric_items",
]


# --------------------------------------------------------------------------------------------- helpers
def numeric_items(items: pd.DataFrame) -> pd.DataFrame:
    """Float version of an answers table after checking it (shared by :mod:`compval.missingness`).

    Raises ``TypeError`` unless ``items`` is a DataFrame, ``ValueError`` when it has no columns or a value is not
    numeric (``pandas.to_numeric(errors="raise")``: nothing is turned into a missing value silently). A table whose
    columns are all float64 already is returned without copying its values (a million respondents x 50 items is
    400 MB, and every index calls this), so callers must not modify the result in place.
    """
    if not isinstance(items, pd.DataFrame):
        raise TypeError("items must be a pandas DataFrame (respondents x items)")
    if items.shape[1] == 0:
        raise ValueError("items has no columns")
    if all(isinstance(t, np.dtype) and t == np.float64 for t in items.dtypes):
        return items.astype(float, copy=False)
    return items.apply(pd.to_numeric, errors="raise").astype(float)


_ROW_BLOCK = 100_000  # rows per block of the row-wise indices: their temporaries are blocks, not whole tables


def _by_row_blocks(fn, *arrays: np.ndarray):
    """``fn(*arrays)`` of a function that treats every row on its own, computed block of rows by block of rows.

    Each row's result is the same arithmetic on the same values (a row slice keeps the array's layout, so numpy
    reduces each row in the same order), but the temporaries (several copies of the answers in the index
    formulas) are one block in size, not the whole table: at a million respondents x 50 items each full
    temporary is 400 MB. ``fn`` returns an array or a tuple of arrays with one entry per row.
    """
    n = arrays[0].shape[0]
    if n <= _ROW_BLOCK:
        return fn(*arrays)
    parts = [fn(*(x[i : i + _ROW_BLOCK] for x in arrays)) for i in range(0, n, _ROW_BLOCK)]
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate(p) for p in zip(*parts))
    return np.concatenate(parts)


def _rowwise_corr(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise Pearson r between ``a[i]`` and ``b[i]`` over the positions where both are observed.

    Matches ``stats::cor(a, b, use = "pairwise.complete.obs")`` for one pair of vectors: NaN when fewer than
    two complete positions or when either vector has zero variance; clamped to [-1, 1] as R does.
    Returns (r, number of complete positions). Computed by blocks of rows (:func:`_by_row_blocks`).
    """
    return _by_row_blocks(_rowwise_corr_block, a, b)


def _pair_columns(values: np.ndarray, ia: np.ndarray, ib: np.ndarray, order: str) -> tuple[np.ndarray, np.ndarray]:
    """The pairs' first and second items of a block of rows (rows x pairs each) in ``order``: the layout of the
    whole table, which a selection of a DataFrame's columns keeps, so that :func:`_rowwise_corr_block` reduces
    each row in the same order as on such a selection. Gathered block by block: the whole table's two
    selections are 200 MB each at a million respondents."""
    return np.asarray(values[:, ia], order=order), np.asarray(values[:, ib], order=order)


def _rowwise_corr_block(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mask = ~(np.isnan(a) | np.isnan(b))
    n = mask.sum(axis=1)
    a0 = np.where(mask, a, 0.0)
    b0 = np.where(mask, b, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma = a0.sum(axis=1) / n
        mb = b0.sum(axis=1) / n
        da = np.where(mask, a0 - ma[:, None], 0.0)
        db = np.where(mask, b0 - mb[:, None], 0.0)
        sxy = (da * db).sum(axis=1)
        sxx = (da * da).sum(axis=1)
        syy = (db * db).sum(axis=1)
        # zero variance (up to rounding of the mean): R returns NA
        # a0, b0 are zero where the pair is incomplete and have no NaN: their largest absolute value
        scale_a = np.abs(a0).max(axis=1, initial=0.0) ** 2 * np.maximum(n, 1)
        scale_b = np.abs(b0).max(axis=1, initial=0.0) ** 2 * np.maximum(n, 1)
        zero = (sxx <= 1e-24 * np.maximum(scale_a, 1e-300)) | (syy <= 1e-24 * np.maximum(scale_b, 1e-300))
        r = sxy / np.sqrt(sxx * syy)
    r = np.clip(r, -1.0, 1.0)
    r[(n < 2) | zero] = np.nan
    return r, n


# --------------------------------------------------------------------------------------------- longstring
def longstring(items: pd.DataFrame) -> pd.DataFrame:
    """Longest and average run of identical consecutive answers per respondent (Johnson 2005).

    Matches ``careless::longstring(x, avg = TRUE)`` (careless 1.2.2), which applies ``rle()`` to each row:
    runs are taken over the columns in the given order; a missing answer never equals its neighbour, so it
    breaks a run and counts as a run of length 1 (``rle`` semantics).

    Parameters
    ----------
    items : DataFrame
        RAW answers (respondents x items) in the order the items were presented. Do not reverse-key first:
        straight-lining shows in the raw answers.

    Returns
    -------
    DataFrame
        Indexed like ``items`` with columns ``longstring`` (length of the longest run; careless ``longstr``)
        and ``avgstr`` (mean run length = number of items / number of runs).
    """
    x = numeric_items(items).to_numpy()
    n, p = x.shape
    cur = np.ones(n)
    best = np.ones(n)
    breaks = np.zeros(n)
    for j in range(1, p):
        same = x[:, j] == x[:, j - 1]  # False whenever either is NaN, as in rle()
        cur = np.where(same, cur + 1.0, 1.0)
        best = np.maximum(best, cur)
        breaks += ~same
    return pd.DataFrame({"longstring": best, "avgstr": p / (breaks + 1.0)}, index=items.index)


# --------------------------------------------------------------------------------------------- irv
def _r_cut_chunks(p: int, k: int) -> list[np.ndarray]:
    """Column positions of ``split(x, cut(seq_along(x), k, labels = FALSE))`` in R (equal-width intervals)."""
    if k < 1 or k > p:
        raise ValueError(f"num_split must be between 1 and the number of items ({p}), got {k}")
    pos = np.arange(1, p + 1, dtype=float)
    if k == 1:
        return [np.arange(p)]
    lo, hi = 1.0, float(p)
    dx = hi - lo
    breaks = lo + np.arange(k + 1) * (dx / k)  # seq.int(rx[1], rx[2], length.out = k + 1)
    breaks[0], breaks[-1] = lo - dx / 1000, hi + dx / 1000
    code = np.searchsorted(breaks, pos, side="left")  # right-closed intervals (a, b]
    return [np.flatnonzero(code == c) for c in range(1, k + 1) if np.any(code == c)]


def _row_sd(x: np.ndarray) -> np.ndarray:
    """SD of each row over its observed values (denominator n - 1; NaN below two), by blocks of rows."""
    return _by_row_blocks(_row_sd_block, x)


def _row_sd_block(x: np.ndarray) -> np.ndarray:
    obs = ~np.isnan(x)
    n = obs.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(obs, x, 0.0).sum(axis=1) / n
        ss = np.where(obs, x - m[:, None], 0.0)
        var = (ss * ss).sum(axis=1) / (n - 1)
    out = np.sqrt(var)
    out[n < 2] = np.nan
    return out


def irv(items: pd.DataFrame, num_split: int | None = None) -> pd.DataFrame:
    """Intra-individual response variability: the SD of a respondent's answers (Dunn et al. 2018).

    Matches ``careless::irv(x, na.rm = TRUE, split, num.split)``: ``sd()`` of each row (denominator n - 1)
    over the answered items; NaN with fewer than two answers. With ``num_split`` the items are also cut,
    in the given order, into ``num_split`` consecutive chunks exactly as R's ``cut(seq_along(x), k)`` does
    and the SD is computed within each chunk (``irv1`` ... ``irvK``), e.g. to see effort fade towards the end.

    Parameters
    ----------
    items : DataFrame
        RAW answers in presentation order (a straight-liner has IRV 0 only before reverse-keying).
    num_split : int, optional
        Number of chunks; None (default) computes the total only.

    Returns
    -------
    DataFrame
        Column ``irv`` (careless ``irvTotal``) and, with ``num_split``, ``irv1`` ... ``irv<num_split>``.
    """
    x = numeric_items(items).to_numpy()
    out = pd.DataFrame({"irv": _row_sd(x)}, index=items.index)
    if num_split is not None:
        for k, cols in enumerate(_r_cut_chunks(x.shape[1], int(num_split)), start=1):
            out[f"irv{k}"] = _row_sd(x[:, cols])
    return out


# --------------------------------------------------------------------------------------------- mahad
def mahad(items: pd.DataFrame) -> pd.Series:
    """Squared Mahalanobis distance of each respondent from the item means (Meade & Craig 2012).

    Matches ``careless::mahad(x)`` (careless 1.2.2), i.e. ``psych::outlier(x, bad = 0, na.rm = TRUE)``:
    the covariance matrix is ``cov(x, use = "pairwise")`` (denominator n - 1), the answers are centred at the
    column means of the available answers, and a missing answer contributes 0 to the quadratic form (it is in
    effect replaced by the item mean). Respondents with no answer get NaN. On complete data this is the usual
    D² = (x - mean)' S^-1 (x - mean). D² is invariant to reverse-keying (an affine recode of a column).

    Parameters
    ----------
    items : DataFrame
        Answers (raw or scored).

    Returns
    -------
    Series ``mahad`` indexed like ``items``. Under multivariate normality D² ~ chi²(number of items); careless
    flags ``D² > qchisq(confidence, ncol(x))`` (default confidence .99), see :func:`careless_indices`
    (``mahad_p``) and :func:`flag_careless` (``mahad_alpha``).
    """
    df = numeric_items(items)
    # one array for everything below: to_numpy copies a frame of several blocks (e.g. after reverse-keying) every
    # time; column-major like pandas' own (so the sums below run in the same order as on the frame)
    x = df.to_numpy()
    all_na = np.isnan(x).all(axis=1)
    xs = np.asfortranarray(x[~all_na]) if all_na.any() else x
    cov = pairwise_covariance(xs)  # cov(x, use = "pairwise")
    if np.isnan(cov).any():
        raise ValueError("some item pairs have fewer than two joint answers; the covariance is undefined")
    inv = np.linalg.solve(cov, np.eye(cov.shape[0]))
    # column means a few columns at a time: nanmean copies its input (400 MB for a million x 50); a column slice
    # keeps the layout, so each column is summed in the same order as in one call
    means = np.concatenate([np.nanmean(xs[:, j : j + 5], axis=0) for j in range(0, xs.shape[1], 5)])

    def quadratic_form(x: np.ndarray) -> np.ndarray:
        xc = x - means
        xc = np.where(np.isnan(xc), 0.0, xc)
        return np.einsum("ij,jk,ik->i", xc, inv, xc)

    d2 = np.full(len(df), np.nan)
    d2[~all_na] = _by_row_blocks(quadratic_form, xs)  # the centred answers a block at a time
    return pd.Series(d2, index=items.index, name="mahad")


# --------------------------------------------------------------------------------------------- even-odd
def evenodd(items: pd.DataFrame, scales: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Even-odd consistency (Johnson 2005), with careless' sign: higher = more likely careless.

    Matches ``careless::evenodd(x, factors, diag = TRUE)`` (careless >= 1.2.0): within each scale the items are
    split by their position in the scale's item list into the even (2nd, 4th, ...) and odd (1st, 3rd, ...)
    halves; the respondent's mean over the answered items of each half is taken (NaN if none answered); the
    within-person Pearson correlation r between the even and the odd half-means across scales (pairwise
    complete) is stepped up with Spearman-Brown, 2r / (1 + r), values below -1 are set to -1, and the result is
    negated. NaN when fewer than two scales have both halves, or when either half-mean vector has no variance.

    Parameters
    ----------
    items : DataFrame
        SCORED answers (reverse-keyed items already recoded).
    scales : dict
        Scale key -> item ids in the order that defines even/odd positions (careless' ``factors`` are the
        lengths of consecutive column blocks; pass the blocks here explicitly). At least two scales.

    Returns
    -------
    DataFrame
        ``evenodd`` (= -(Spearman-Brown corrected r)) and ``evenodd_n`` (number of scales with both halves
        answered; careless ``eo_missing``).
    """
    if len(scales) < 2:
        raise ValueError("even-odd consistency needs at least two scales (careless::evenodd stops too)")
    df = numeric_items(items)
    for key, its in scales.items():
        missing = [i for i in its if i not in df.columns]
        if missing:
            raise KeyError(f"scale {key!r}: items not in the data: {missing}")
    # block of rows by block of rows (the half-means of every scale are two 370 MB arrays at a million
    # respondents x 23 scales); each row's numbers are those of the whole table at once
    parts = [_evenodd_block(df.iloc[r0 : r0 + _ROW_BLOCK], scales) for r0 in range(0, max(len(df), 1), _ROW_BLOCK)]
    r, n = (np.concatenate(x) for x in zip(*parts))
    with np.errstate(invalid="ignore", divide="ignore"):
        sb = 2 * r / (1 + r)
    sb = np.where(sb < -1, -1.0, sb)
    return pd.DataFrame({"evenodd": 0.0 - sb, "evenodd_n": n.astype(int)}, index=items.index)


def _evenodd_block(df: pd.DataFrame, scales: Mapping[str, Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`evenodd`'s r and number of scales for a block of rows: the half-means of each scale filled into two
    rows x scales arrays, then their row-wise correlation."""
    even, odd = np.empty((len(df), len(scales))), np.empty((len(df), len(scales)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # mean of an empty half: NaN, as R
        for k, its in enumerate(scales.values()):
            its = list(its)
            e = df[its[1::2]].to_numpy()
            o = df[its[0::2]].to_numpy()
            even[:, k] = np.nanmean(e, axis=1) if e.shape[1] else np.nan
            odd[:, k] = np.nanmean(o, axis=1)
    return _rowwise_corr_block(even, odd)


# --------------------------------------------------------------------------------------------- synonyms
def item_pairs(items: pd.DataFrame, critval: float = 0.60, anto: bool = False) -> pd.DataFrame:
    """Psychometric synonym (r > critval) or antonym (r < -critval) item pairs (Meade & Craig 2012).

    Matches careless' internal ``get_item_pairs``: correlations ``cor(x, use = "pairwise.complete.obs")``,
    lower triangle only, listed column by column (``as.data.frame(as.table(.))``); ``first`` is the later
    item (row), ``second`` the earlier one (column). ``abs(critval)`` is used, as in careless.

    Returns
    -------
    DataFrame with columns ``first``, ``second``, ``r`` (possibly empty; careless stops with an error then).
    """
    df = numeric_items(items)
    c = abs(float(critval))
    r = pairwise_pearson(df.to_numpy())  # pairwise complete, Pearson
    cols = list(df.columns)
    rows = []
    p = len(cols)
    for j in range(p):
        for i in range(j + 1, p):
            v = r[i, j]
            if (not anto and v > c) or (anto and v < -c):
                rows.append((cols[i], cols[j], v))
    return pd.DataFrame(rows, columns=["first", "second", "r"])


def psychsyn(
    items: pd.DataFrame,
    critval: float = 0.60,
    anto: bool = False,
    pairs: Iterable[tuple[str, str]] | pd.DataFrame | None = None,
    resample_na: bool = False,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Psychometric synonym score: within-person correlation across highly correlated item pairs.

    Matches ``careless::psychsyn(x, critval, anto, diag = TRUE, resample_na)`` (careless 1.2.2): item pairs
    from :func:`item_pairs` (or the given ``pairs``); for each respondent the number of pairs with both items
    answered is counted and, when it is greater than 2, the Pearson correlation between the vector of first
    items and the vector of second items over those pairs is returned (NaN otherwise, and NaN when either
    vector is constant). Higher = more consistent = less likely careless.

    Parameters
    ----------
    items : DataFrame
        SCORED answers for synonyms; RAW answers for antonyms (see :func:`psychant`).
    critval : float
        Minimum |r| for a pair (careless default .60; Meade & Craig 2012).
    anto : bool
        Use pairs with r < -critval (psychometric antonyms) instead.
    pairs : list of (first, second) or DataFrame with columns first/second, optional
        Use these pairs instead of empirical ones, e.g. :func:`declared_synonym_pairs` from the codebook.
    resample_na : bool
        careless' option: when the result is NaN, randomly swap the two items within each pair (each pair
        independently with probability 1/2) and recompute, up to 10 times. Off by default (careless' default is
        on) because it makes the score random; needs ``seed`` when on.
    seed : int or numpy Generator, optional
        Randomness for ``resample_na``.

    Returns
    -------
    DataFrame
        ``psychsyn`` (or ``psychant`` when ``anto``) and ``psychsyn_n`` / ``psychant_n`` (pairs available;
        careless ``numPairs``). When no pair reaches ``critval`` careless stops; here the score is NaN and
        the count 0.
    """
    df = numeric_items(items)
    name = "psychant" if anto else "psychsyn"
    if pairs is None:
        pr = item_pairs(df, critval, anto)[["first", "second"]]
    elif isinstance(pairs, pd.DataFrame):
        pr = pairs[["first", "second"]]
    else:
        pr = pd.DataFrame(list(pairs), columns=["first", "second"])
    unknown = sorted(set(pr["first"]).union(pr["second"]) - set(df.columns))
    if unknown:
        raise KeyError(f"pair items not in the data: {unknown}")
    if len(pr) == 0:
        return pd.DataFrame({name: np.nan, f"{name}_n": 0}, index=items.index)
    ia = df.columns.get_indexer(list(pr["first"]))
    ib = df.columns.get_indexer(list(pr["second"]))
    values = df.to_numpy()  # a view of a float table's one block
    order = "F" if values.flags.f_contiguous and not values.flags.c_contiguous else "C"
    r, n = _by_row_blocks(lambda v: _rowwise_corr_block(*_pair_columns(v, ia, ib, order)), values)
    r[n <= 2] = np.nan
    if resample_na:
        if seed is None:
            raise ValueError("resample_na=True needs a seed")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        todo = np.flatnonzero(np.isnan(r) & (n > 2))
        for i in todo:
            ai, bi = values[i, ia], values[i, ib]  # copies (fancy indexing)
            for _ in range(10):
                swap = rng.random(ai.shape[0]) < 0.5
                ai, bi = np.where(swap, bi, ai), np.where(swap, ai, bi)
                ri, _n = _rowwise_corr(ai[None, :], bi[None, :])
                if not np.isnan(ri[0]):
                    r[i] = ri[0]
                    break
    return pd.DataFrame({name: r, f"{name}_n": n.astype(int)}, index=items.index)


def psychant(items: pd.DataFrame, critval: float = 0.60, **kwargs) -> pd.DataFrame:
    """Psychometric antonym score: :func:`psychsyn` with pairs correlating below ``-|critval|``.

    Matches ``careless::psychant`` (which calls ``psychsyn(x, critval, anto = TRUE)``). Expects RAW answers.
    Attentive respondents get strongly negative values.
    """
    return psychsyn(items, critval=critval, anto=True, **kwargs)


def declared_synonym_pairs(codebook_data: Mapping) -> list[tuple[str, str]]:
    """Synonym pairs declared in a codebook: ``(item, synonym_of)`` for every item with ``synonym_of``.

    Parameters
    ----------
    codebook_data : dict
        The codebook as a dict (``Codebook.to_dict()`` / ``Codebook.data``).
    """
    out = []
    for m in codebook_data.get("modules", []):
        for c in m.get("competencies", []):
            for d in c.get("dimensions", []):
                for it in d.get("items", []):
                    if it.get("synonym_of"):
                        out.append((it["id"], it["synonym_of"]))
    return out


# --------------------------------------------------------------------------------------------- speed
def seconds_per_item(items: pd.DataFrame, duration: pd.Series) -> pd.Series:
    """Completion time per answered item: ``duration / number of items answered`` (Huang et al. 2012).

    Parameters
    ----------
    items : DataFrame
        RAW answers (only used to count the answered items per respondent).
    duration : Series
        Completion time in seconds, aligned to ``items.index`` by label.

    Returns
    -------
    Series ``seconds_per_item``; NaN when no item is answered or the duration is missing.
    """
    answered = items.notna().sum(axis=1).astype(float)
    dur = pd.to_numeric(duration.reindex(items.index), errors="coerce").astype(float)
    out = dur / answered.where(answered > 0)
    return out.rename("seconds_per_item")


# --------------------------------------------------------------------------------------------- all indices
def careless_indices(
    items: pd.DataFrame,
    scales: Mapping[str, Sequence[str]],
    duration: pd.Series | None = None,
    *,
    scored: pd.DataFrame | None = None,
    synonym_pairs: Iterable[tuple[str, str]] | None = None,
    psychsyn_critval: float = 0.60,
    psychant_critval: float = 0.60,
    irv_split: int | None = None,
    categorical: bool = True,
    not_computed: dict[str, str] | None = None,
) -> pd.DataFrame:
    """All careless-responding indices per respondent, in one tidy table (Curran 2016).

    Parameters
    ----------
    items : DataFrame
        RAW answers, respondents x items, columns in presentation order. Used for ``longstring``, ``avgstr``,
        ``irv``, ``psychant``, ``n_answered`` and ``seconds_per_item``.
    scales : dict
        Scale key -> item ids (e.g. ``Codebook.groups("dimension")``); used for even-odd consistency (needs at
        least two scales; otherwise ``evenodd`` is NaN).
    duration : Series, optional
        Completion time in seconds, indexed like ``items``.
    scored : DataFrame or callable, optional
        The same answers with reverse-keyed items recoded (``Codebook.reverse_score``); used for ``mahad``,
        ``evenodd`` and ``psychsyn``. Defaults to ``items`` (no reverse-keyed items). Or a function without
        arguments returning a context manager that gives them: it is entered once the indices of the raw
        answers are computed and left before this function returns, so it may recode ``items`` in place
        (the screening does, :func:`compval.clean.screen_respondents`).
    synonym_pairs : list of (item, synonym_of), optional
        Declared synonym pairs (:func:`declared_synonym_pairs`); when given, ``psychsyn`` uses them instead
        of the empirical pairs with r > ``psychsyn_critval``.
    psychsyn_critval, psychant_critval : float
        careless' critical |r| for empirical synonym / antonym pairs (default .60).
    irv_split : int, optional
        Also compute the IRV in this many consecutive chunks (``irv1`` ...).
    categorical : bool
        The answers are categories (a likert scale). ``False`` (continuous scores) leaves out the indices that
        count identical answers (``longstring``, ``avgstr``): NaN, with the reason in ``not_computed``.
    not_computed : dict, optional
        When given, an index that cannot be computed on these data (e.g. Mahalanobis distances when some item
        pairs have fewer than two joint answers, or a singular covariance matrix) is NaN and ``not_computed``
        receives ``{index: reason}``; without it such a failure raises, as the R functions stop.

    Returns
    -------
    DataFrame indexed like ``items`` with columns ``n_items``, ``n_answered``, ``longstring``, ``avgstr``,
    ``irv`` (+ chunks), ``mahad``, ``mahad_p`` (upper chi²(n_items) tail probability of D², as careless' flag
    uses ``qchisq(confidence, ncol(x))``), ``evenodd``, ``evenodd_n``, ``psychsyn``, ``psychsyn_n``,
    ``psychant``, ``psychant_n`` and ``seconds_per_item`` (NaN without ``duration``).
    """
    raw = numeric_items(items)
    p = raw.shape[1]
    out = pd.DataFrame(index=items.index)
    out["n_items"] = p
    out["n_answered"] = raw.notna().sum(axis=1).astype(int)
    if categorical:
        _append(out, longstring(raw))
    else:
        out["longstring"] = np.nan
        out["avgstr"] = np.nan
        if not_computed is not None:
            not_computed["longstring"] = (
                "not applicable: the scale is continuous (runs of identical answers need answer categories)"
            )
    _append(out, irv(raw, irv_split))
    # the indices of the raw answers first: a function given as `scored` may recode them in place
    antonyms = psychant(raw, psychant_critval)
    speed = np.nan if duration is None else seconds_per_item(raw, duration)
    n_with_answer = int(raw.notna().any(axis=1).sum())
    with scored() if callable(scored) else contextlib.nullcontext(scored) as given:
        sc = raw if given is None else numeric_items(given)
        if list(sc.columns) != list(raw.columns) or not sc.index.equals(raw.index):
            raise ValueError("scored must have the same index and columns as items")
        out["mahad"] = np.nan
        out["mahad_p"] = np.nan
        if n_with_answer > p:
            try:
                out["mahad"] = mahad(sc)
                out["mahad_p"] = chdtrc(p, out["mahad"].to_numpy())
            except (ValueError, np.linalg.LinAlgError) as exc:
                if not_computed is None:
                    raise
                not_computed["mahad"] = f"not computable on these data: {exc}"
        elif not_computed is not None:
            not_computed["mahad"] = (
                f"not computable: {n_with_answer} respondents for {p} items "
                "(Mahalanobis distances need more respondents than items)"
            )
        if len(scales) >= 2:
            _append(out, evenodd(sc, scales))
        else:
            out["evenodd"] = np.nan
            out["evenodd_n"] = 0
            if not_computed is not None:
                not_computed["evenodd"] = (
                    f"not computable: even-odd consistency needs at least two scales ({len(scales)} given)"
                )
        _append(out, psychsyn(sc, psychsyn_critval, pairs=synonym_pairs))
    _append(out, antonyms)
    out["seconds_per_item"] = speed
    return out


def _append(out: pd.DataFrame, columns: pd.DataFrame) -> None:
    """Add the columns of ``columns`` (indexed like ``out``) to ``out`` in place: ``out.join(columns)`` without the
    copy of ``out`` that a join makes at every step (tens of MB per index at a million respondents)."""
    clash = out.columns.intersection(columns.columns)
    if len(clash):
        raise ValueError(f"columns {list(clash)} are there already")
    for name, column in columns.items():
        out[name] = column


# --------------------------------------------------------------------------------------------- flags
DEFAULT_THRESHOLDS: dict[str, float | None] = {
    # longest run of identical answers >= this many items (absolute); None -> use longstring_share
    "longstring_min": None,
    # ... or >= this share of the number of items: Curran (2016)'s conservative rule of thumb, a run of half
    # the scale length or more
    "longstring_share": 0.5,
    # IRV below / above: no agreed cut-off (Dunn et al. 2018 flag low, Marjanovic et al. 2015 high values)
    "irv_min": None,
    "irv_max": None,
    # multivariate outlier: chi²(n_items) p-value of D² below alpha, i.e. D² > qchisq(1 - alpha, n_items);
    # .001 is the conventional outlier criterion; careless::mahad's default confidence .99 is alpha = .01
    "mahad_alpha": 0.001,
    # careless' sign: flagged when evenodd > evenodd_max. Jackson's even-odd consistency criterion of .30
    # (Johnson 2005) is evenodd_max = -0.30; off by default because with few scales the within-person
    # correlation rests on a handful of points.
    "evenodd_max": None,
    # psychometric synonyms below / antonyms above: no agreed cut-off
    "psychsyn_min": None,
    "psychant_max": None,
    # responding faster than 2 seconds per item (Huang et al. 2012; Meade & Craig 2012; Curran 2016)
    "seconds_per_item_min": 2.0,
}


def _fmt(v: float) -> str:
    return f"{v:.4g}"


# flag_careless's threshold rules in column order: flag, index column, threshold key, flagged side, reason label
_FLAG_RULES = (
    ("irv_low", "irv", "irv_min", "<", "irv"),
    ("irv_high", "irv", "irv_max", ">", "irv"),
    ("mahad", "mahad_p", "mahad_alpha", "<", "mahad"),
    ("evenodd", "evenodd", "evenodd_max", ">", "evenodd"),
    ("psychsyn", "psychsyn", "psychsyn_min", "<", "psychsyn"),
    ("psychant", "psychant", "psychant_max", ">", "psychant"),
    ("speed", "seconds_per_item", "seconds_per_item_min", "<", "speed"),
)


def flag_careless(indices: pd.DataFrame, thresholds: Mapping[str, float | None] | None = None) -> pd.DataFrame:
    """Flag respondents whose indices cross the thresholds.

    Parameters
    ----------
    indices : DataFrame
        Output of :func:`careless_indices`.
    thresholds : dict, optional
        Overrides of :data:`DEFAULT_THRESHOLDS` (``None`` switches a criterion off). Keys:
        ``longstring_min`` / ``longstring_share`` (flag ``longstring >= longstring_min``, or, when that is
        None, ``longstring >= longstring_share * n_items``), ``irv_min`` (flag ``irv < irv_min``),
        ``irv_max`` (``irv > irv_max``), ``mahad_alpha`` (``mahad_p < mahad_alpha``), ``evenodd_max``
        (``evenodd > evenodd_max``), ``psychsyn_min`` (``psychsyn < psychsyn_min``), ``psychant_max``
        (``psychant > psychant_max``), ``seconds_per_item_min`` (``seconds_per_item < value``).
        A missing index value (NaN) never raises a flag.

    Returns
    -------
    DataFrame indexed like ``indices``: one boolean column per active criterion (``longstring``, ``irv_low``,
    ``irv_high``, ``mahad``, ``evenodd``, ``psychsyn``, ``psychant``, ``speed``), ``n_flags``, ``any`` and
    ``reasons`` (``"; "``-joined, e.g. ``"longstring 14 >= 12.5; speed 1.3 < 2 s/item"``, empty if none).
    """
    th = dict(DEFAULT_THRESHOLDS)
    if thresholds:
        unknown = sorted(set(thresholds) - set(th))
        if unknown:
            raise ValueError(f"unknown thresholds {unknown}; known: {sorted(th)}")
        th.update(thresholds)
    flags: dict[str, pd.Series] = {}
    texts: dict[str, pd.Series] = {}

    def add(name: str, value: pd.Series, mask: pd.Series, describe):
        mask = mask.fillna(False).astype(bool)
        flags[name] = mask
        # the reason text only for the flagged rows (a few per cent), not a Python call per respondent
        text = np.full(len(mask), "", dtype=object)
        hit = np.flatnonzero(mask.to_numpy())
        text[hit] = [describe(v, i) for v, i in zip(value.to_numpy()[hit].tolist(), hit.tolist())]
        texts[name] = text

    if "longstring" in indices:
        lim = None
        if th["longstring_min"] is not None:
            lim = pd.Series(float(th["longstring_min"]), index=indices.index)
        elif th["longstring_share"] is not None:
            lim = float(th["longstring_share"]) * indices["n_items"].astype(float)
        if lim is not None:
            v = indices["longstring"]
            add("longstring", v, v >= lim, lambda x, i: f"longstring {_fmt(x)} >= {_fmt(lim.iloc[i])}")

    def reason(label: str, x: float, i: int, tail: str) -> str:
        if label == "mahad":  # the reason shows D2 and its p-value
            return f"mahad D2 {_fmt(indices['mahad'].iloc[i])} (p {_fmt(x)} {tail})"
        return f"{label} {_fmt(x)} {tail}"

    for name, column, key, side, label in _FLAG_RULES:
        cut = th[key]
        if cut is None or column not in indices:
            continue
        v = indices[column]
        tail = f"{side} {_fmt(cut)}" + (" s/item" if name == "speed" else "")
        add(name, v, v < cut if side == "<" else v > cut, lambda x, i: reason(label, x, i, tail))

    out = pd.DataFrame(flags, index=indices.index)
    out["n_flags"] = out.sum(axis=1).astype(int) if flags else 0
    out["any"] = out["n_flags"] > 0
    reasons = np.full(len(out), "", dtype=object)
    if texts:
        cols = list(texts.values())
        hit = np.flatnonzero(out["any"].to_numpy())  # the other rows have no reason text
        reasons[hit] = ["; ".join(t for t in row if t) for row in zip(*(c[hit] for c in cols))]
    out["reasons"] = reasons
    return out
