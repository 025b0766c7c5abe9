"""Correlation matrices of the EFA: Pearson (pairwise) or polychoric, their checks, SMCs and smoothing.

:func:`correlation_matrix` (``cor(x, use = "pairwise")`` or ``psych::polychoric``), the pairwise-complete sums
behind the Pearson correlations and the reliability job's covariances (:func:`pairwise_sums`, exact for
rating-scale answers through :func:`small_integer_codes` and :func:`code_pair_sums`), :func:`smc`
(``psych::smc`` with psych's ``Pinv``), :func:`polychoric` (``psych::polychoric``, global thresholds) and the
small linear-algebra helpers the other EFA modules share (:func:`as_corr`, :func:`eig_desc`).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd

from ..colstats import column_means
from ..sem.bivariate import brent_fmin, bvn_cell_probs

__all__ = [
    "correlation_matrix",
    "pairwise_pearson",
    "pairwise_covariance",
    "pearson_of_sums",
    "pairwise_sums",
    "small_integer_codes",
    "code_pair_sums",
    "column_means",
    "as_corr",
    "eig_desc",
    "smc",
    "smc_stack",
    "polychoric",
]

_EPS = np.finfo(float).eps


def correlation_matrix(items: pd.DataFrame, cor: str = "pearson") -> pd.DataFrame:
    """Correlation matrix of the item columns.

    Parameters
    ----------
    items : DataFrame
        One column per item (numeric; missing values allowed).
    cor : {"pearson", "polychoric"}
        ``"pearson"``: pairwise-complete Pearson correlations, as ``cor(x, use = "pairwise")`` (psych's
        default).  ``"polychoric"``: :func:`polychoric` (``psych::polychoric``).

    Returns
    -------
    DataFrame
        Items x items correlation matrix.
    """
    if cor == "pearson":
        r = pairwise_pearson(items.to_numpy(dtype=float))
        return pd.DataFrame(r, index=items.columns.copy(), columns=items.columns.copy())
    if cor == "polychoric":
        return polychoric(items)["rho"]
    raise ValueError(f"unknown correlation type {cor!r}; use 'pearson' or 'polychoric'")


#: Rows per block of :func:`pairwise_pearson` (bounds its temporaries to a few blocks of rows x p floats).
_PAIRWISE_ROWS = 1 << 15


def pairwise_pearson(x: np.ndarray, *, centre: np.ndarray | None = None) -> np.ndarray:
    """Pearson correlations of the columns over pairwise-complete rows, as ``cor(x, use = "pairwise")`` and
    pandas' ``DataFrame.corr()``.

    For columns j, l with rows R_jl where both are observed (n_jl rows), and z the values centred at each
    column's mean over its observed rows (zero where missing):

        r_jl = (S_jl - s_jl s_lj / n_jl) / sqrt((Q_jl - s_jl^2 / n_jl) (Q_lj - s_lj^2 / n_jl)),

    with S_jl = sum_R z_j z_l, s_jl = sum_R z_j and Q_jl = sum_R z_j^2: matrix products (mask' mask, z' mask,
    (z*z)' mask, z' z) over blocks of rows, where pandas loops over pairs and rows (about 15 x slower for 50
    columns). The centring keeps the one-pass sums accurate (values differ from pandas' Welford updates by
    rounding, about 1e-15). A pair with fewer than two rows, or a column constant over the pair's rows, gives
    NaN (pandas: a zero divisor); the diagonal is 1 where the column varies.

    ``centre`` (optional, one value per column) replaces the columns' means as the centring: any constant gives
    the same correlations up to rounding, and a close one keeps the sums accurate. Parallel analysis passes the
    observed data's means for its resamples (the mean is a third of the cost of a call on a million rows).

    In R: ``cor(x, use = "pairwise.complete.obs")``.
    """
    return pearson_of_sums(*pairwise_sums(x, centre=centre))


def pearson_of_sums(n_pair, s, q, cross) -> np.ndarray:
    """The correlations of :func:`pairwise_pearson` from its pairwise sums ``n_jl, s_jl, Q_jl, S_jl`` (p x p
    each; :func:`pairwise_sums`)."""
    p = n_pair.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = cross - s * s.T / n_pair
        vx = q - s * s / n_pair
        vy = vx.T
        bad = (n_pair < 2) | (vx <= 1e-12 * q) | (vy <= 1e-12 * q.T)
        r = cov / np.sqrt(vx * vy)
    r[bad] = np.nan
    diag = np.arange(p)
    r[diag, diag] = np.where(bad[diag, diag], np.nan, 1.0)
    return r


def pairwise_covariance(x: np.ndarray, *, centre: np.ndarray | None = None) -> np.ndarray:
    """Covariances of the columns over pairwise-complete rows (denominator n_jl - 1), as
    ``cov(x, use = "pairwise")`` and pandas' ``DataFrame.cov()``.

    With the sums of :func:`pairwise_pearson`: ``c_jl = (S_jl - s_jl s_lj / n_jl) / (n_jl - 1)``, NaN where a pair
    has fewer than two rows. Matrix products over blocks of rows where pandas loops over pairs and rows; the
    values differ from pandas' by rounding (about 1e-15 relative).

    In R: ``cov(x, use = "pairwise.complete.obs")``.
    """
    n_pair, s, _, cross = pairwise_sums(x, centre=centre)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = (cross - s * s.T / n_pair) / (n_pair - 1.0)
    c[n_pair < 2] = np.nan
    return c


def pairwise_sums(x: np.ndarray, *, centre: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """The pairwise-complete sums of :func:`pairwise_pearson`: ``n_jl, s_jl, Q_jl, S_jl`` (p x p each) of the
    values centred at ``centre`` (default: each column's mean over its observed rows), zero where missing.

    Columns of small whole numbers (rating scales: :func:`small_integer_codes`) are summed exactly through their
    codes (:func:`code_pair_sums`), so the sums do not depend on the order in which BLAS adds, on the number of
    threads or on which other columns are summed with them; other tables by float64 matrix products over blocks
    of rows. The two agree to rounding (about 1e-15 relative).

    In R: ``n = crossprod(!is.na(x)); z = scale(x, centre, FALSE); z[is.na(z)] = 0; S = crossprod(z)``.
    """
    x = np.asarray(x, dtype=float)
    n, p = x.shape
    if centre is None:
        centre = column_means(x)
    centre = np.where(np.isfinite(centre), centre, 0.0)
    coded = small_integer_codes(x)
    if coded is not None:
        return code_pair_sums(coded[0], centre - coded[1])
    obs = ~np.isnan(x)
    n_pair = np.zeros((p, p))
    s = np.zeros((p, p))  # s[j, l] = sum over R_jl of z_j
    q = np.zeros((p, p))  # q[j, l] = sum over R_jl of z_j^2
    cross = np.zeros((p, p))
    for r0 in range(0, n, _PAIRWISE_ROWS):
        r = slice(r0, min(n, r0 + _PAIRWISE_ROWS))
        m = obs[r].astype(float)
        z = np.where(obs[r], x[r] - centre, 0.0)
        n_pair += m.T @ m
        s += z.T @ m
        q += (z * z).T @ m
        cross += z.T @ z
    return n_pair, s, q, cross


def small_integer_codes(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Each column of ``arr`` as one byte per row where every column's answers are whole numbers spanning at
    most 255 values (rating scales): ``(codes, offsets, gaps)``, where ``codes[j, i] + offsets[j]`` is ``arr[i, j]``
    bit for bit (whole numbers), code 0 a missing answer (NaN) and ``gaps[j]`` whether column j has one; None for
    any other table (or a signed zero, which a code would not keep).

    One column at a time, in place in two buffers of a column's size: the codes are the values minus the offset
    (the smallest value less one), cast to bytes and compared back with the values."""
    arr = np.asarray(arr, dtype=float)
    n, p = arr.shape
    codes = np.empty((p, n), dtype=np.uint8)
    offsets = np.zeros(p)
    gaps = np.zeros(p, dtype=bool)
    shifted = np.empty(n)
    back = np.empty(n)
    for j in range(p):
        col = arr[:, j]
        with np.errstate(invalid="ignore"):
            lo = np.fmin.reduce(col, initial=np.inf)
            hi = np.fmax.reduce(col, initial=-np.inf)
        if lo == np.inf:  # no answer at all
            codes[j] = 0
            gaps[j] = n > 0
            continue
        if not (np.isfinite(lo) and np.isfinite(hi) and hi - lo <= 254):
            return None
        if lo <= 0.0 <= hi and (np.signbit(col) & (col == 0)).any():
            return None
        np.subtract(col, lo - 1.0, out=shifted)  # whole numbers 1..255 where answered, NaN where not
        missing = np.isnan(shifted)
        gaps[j] = missing.any()
        shifted[missing] = 0.0
        with np.errstate(invalid="ignore"):
            np.copyto(codes[j], shifted, casting="unsafe")
        np.copyto(back, codes[j])
        if not np.array_equal(back, shifted):  # a fraction: not a code
            return None
        offsets[j] = lo - 1.0
    return codes, offsets, gaps


#: Rows per block of :func:`code_pair_sums` (at most; fewer where the codes' squares need it).
_CODE_ROWS = 1 << 13


def code_pair_sums(codes: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, ...]:
    """The pairwise sums ``n_jl, s_jl, Q_jl, S_jl`` of :func:`pairwise_pearson` for columns of small whole numbers
    given by their codes, the values centred at ``centre``.

    ``codes`` is p x n unsigned bytes, one row per column: ``codes[j, i]`` is the value of row i in column j
    minus that column's offset, 0 where it is missing (the codes of :func:`compval.efa.retention`'s parallel
    analysis); ``centre[j]`` is the centring of column j in the same units (its centre minus its offset).

    With u the codes and m their masks (1 where observed), every sum over a block of rows is a product of
    whole numbers in float32 -- m'm, u'm, (u*u)'m and u'u -- and so exact: all terms are non-negative whole
    numbers, and a block has few enough rows that every partial sum stays below 2^24, float32's range of
    consecutive integers, whatever order BLAS adds in. The blocks' sums add up exactly in float64. The centred
    sums follow from the exact ones, with d_j = centre[j]:

        s_jl = sum u_j - d_j n_jl,  Q_jl = sum u_j^2 - 2 d_j sum u_j + d_j^2 n_jl,
        S_jl = sum u_j u_l - d_l sum u_j - d_j sum u_l + d_j d_l n_jl   (sums over the rows R_jl).

    They equal the float sums of the values up to rounding (about 1e-15 relative) at a quarter of its
    cost (four float64 matrix products of n x p blocks there, float32 products of exact codes here).
    """
    codes = np.asarray(codes)
    if codes.dtype != np.uint8 or codes.ndim != 2:
        raise ValueError("codes must be a p x n array of unsigned bytes")
    p, n = codes.shape
    top = max(int(codes.max(initial=0)), 1)
    rows = max(1, min(_CODE_ROWS, (1 << 24) // (top * top)))
    g = np.zeros((3 * p, p))  # [m; u; u*u] m'
    uu = np.zeros((p, p))
    buf = np.empty((3 * p, rows), dtype=np.float32)
    for r0 in range(0, n, rows):
        b = buf[:, : min(n, r0 + rows) - r0]
        m, u, q = b[:p], b[p : 2 * p], b[2 * p :]
        u[...] = codes[:, r0 : r0 + rows]
        np.greater(u, 0, out=m)
        np.multiply(u, u, out=q)
        g += b @ m.T
        uu += u @ u.T
    n_pair, su, qu = g[:p], g[p : 2 * p], g[2 * p :]
    d = np.asarray(centre, dtype=float)
    dj = d[:, None]
    s = su - dj * n_pair
    q = qu - 2.0 * dj * su + dj * dj * n_pair
    cross = uu - d[None, :] * su - dj * su.T + dj * d[None, :] * n_pair
    return n_pair, s, q, cross


def as_corr(r, allow_nan: bool = False) -> tuple[np.ndarray, list[str]]:
    """A square matrix rescaled to a correlation matrix (``cov2cor``), with its variable names.

    Parameters
    ----------
    r : DataFrame or array
        Correlation or covariance matrix; an array's variables are named ``V1``, ``V2``, ...
    allow_nan : bool
        Let missing entries through (they propagate) instead of raising a ValueError.

    Returns
    -------
    tuple
        The matrix as a float array and the list of names.
    """
    if isinstance(r, pd.DataFrame):
        names = [str(c) for c in r.columns]
        m = r.to_numpy(dtype=float)
    else:
        m = np.asarray(r, dtype=float)
        names = [f"V{i + 1}" for i in range(m.shape[1])]
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError("expected a square correlation matrix")
    if not allow_nan and np.isnan(m).any():
        raise ValueError("the correlation matrix has missing values (an item pair without joint observations?)")
    with np.errstate(invalid="ignore", divide="ignore") if allow_nan else contextlib.nullcontext():
        d = np.sqrt(np.diag(m))
        return m / np.outer(d, d), names


def _pinv(x: np.ndarray) -> np.ndarray:
    """``psych::Pinv``: Moore-Penrose inverse with tolerance sqrt(eps) * largest singular value."""
    u, d, vt = np.linalg.svd(x)
    keep = d > max(np.sqrt(_EPS) * d[0], 0.0)
    return (vt[keep].T / d[keep]) @ u[:, keep].T


def _smc(m: np.ndarray) -> np.ndarray:
    """:func:`smc` of a correlation matrix without input checks; NaN in ``m`` gives all-NaN SMCs."""
    if not np.isfinite(m).all():
        return np.full(m.shape[0], np.nan)
    s = 1.0 - 1.0 / np.diag(_pinv(m))
    return np.clip(s, 0.0, 1.0)


def smc(r, *, nan_policy: str = "raise") -> np.ndarray:
    """Squared multiple correlations ``1 - 1/diag(R^-1)`` (Guttman 1956), as ``psych::smc``.

    The input is rescaled to a correlation matrix (``cov2cor``), inverted with psych's Moore-Penrose
    inverse ``Pinv`` (singular values below sqrt(eps) times the largest are dropped) and the result is
    clipped to [0, 1], as psych does.

    Parameters
    ----------
    r : DataFrame or array
        Correlation (or covariance) matrix.
    nan_policy : {"raise", "propagate"}
        A matrix with missing entries raises a ValueError (default) or gives all-NaN SMCs
        (``"propagate"``; used for lambda-6 in :mod:`compval.reliability`).  psych instead estimates
        SMCs from sub-matrices without NAs, with a warning.
    """
    if nan_policy not in ("raise", "propagate"):
        raise ValueError("nan_policy must be 'raise' or 'propagate'")
    m, _ = as_corr(r, allow_nan=nan_policy == "propagate")
    return _smc(m)


def smc_stack(rs: np.ndarray) -> np.ndarray:
    """:func:`smc` of every matrix of a stack (b x p x p; no missing values), b x p, the same numbers.

    Rescaled (``cov2cor``) and inverted as :func:`smc` does, with one stacked SVD (LAPACK's, matrix by matrix)
    and the same products; a matrix whose inverse drops singular values (psych's ``Pinv`` tolerance) goes
    through :func:`smc` itself. For the many small fits of a bootstrap (:func:`compval.efa.minres_stack`).
    """
    rs = np.asarray(rs, dtype=float)
    d = np.sqrt(np.diagonal(rs, axis1=1, axis2=2))
    m = rs / (d[:, :, None] * d[:, None, :])
    u, sv, vt = np.linalg.svd(m)
    with np.errstate(divide="ignore", invalid="ignore"):  # rank-deficient matrices are redone below
        inv = (vt.transpose(0, 2, 1) / sv[:, None, :]) @ u.transpose(0, 2, 1)
        out = np.clip(1.0 - 1.0 / np.diagonal(inv, axis1=1, axis2=2), 0.0, 1.0)
    for b in np.flatnonzero(~(sv > np.maximum(np.sqrt(_EPS) * sv[:, :1], 0.0)).all(axis=1)):
        out[b] = smc(rs[b])
    return out


def eig_desc(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (decreasing, as R's ``eigen``) and eigenvectors of a symmetric matrix.

    Parameters
    ----------
    m : array
        Symmetric matrix.

    Returns
    -------
    tuple
        ``(values, vectors)``, the vectors as columns in the order of the values.
    """
    vals, vecs = np.linalg.eigh(m)
    return vals[::-1], vecs[:, ::-1]


def _poly_pair(tab: np.ndarray, rc: np.ndarray, cc: np.ndarray) -> float:
    def negll(rho):
        P = bvn_cell_probs(rc, cc, rho)
        ok = P > 0
        return float(-(tab[ok] * np.log(P[ok])).sum())

    return brent_fmin(negll, -1.0, 1.0)


def _cor_smooth(m: np.ndarray, eig_tol: float = 1e-12) -> tuple[np.ndarray, bool]:
    """psych::cor.smooth: if R is not positive definite, raise small eigenvalues and rescale."""
    vals, vecs = eig_desc(m)
    if vals.min() >= _EPS:
        return m, False
    vals = np.where(vals < eig_tol, 100 * eig_tol, vals)
    vals = vals * m.shape[0] / vals.sum()
    s = (vecs * vals) @ vecs.T
    d = np.sqrt(np.diag(s))
    return s / np.outer(d, d), True


def polychoric(
    items: pd.DataFrame, correct: float = 0.5, smooth: bool = True, global_: bool = True, max_cat: int = 8
) -> dict:
    """Polychoric correlations, as ``psych::polychoric(x)`` in psych 2.2.9.

    Two-step estimation (Olsson 1979): thresholds from the marginal proportions, then for each item pair the
    correlation maximising the bivariate-normal likelihood of the pair's contingency table (pairwise-complete
    cases), found with R's ``optimize`` on [-1, 1] (Brent 1973; ported, including its tolerance
    ``.Machine$double.eps^0.25``).  As psych's default ``global = TRUE``, the thresholds of each item come from
    all of its non-missing responses (not re-estimated per pair) and no continuity correction is applied;
    psych turns ``global`` off when the items do not all have the same highest category, and so do we
    (then zero rows/columns are dropped, empty cells get ``correct / n`` and thresholds come from the pair's
    table).  Cell probabilities use Genz's (2004) bivariate normal algorithm (psych: ``mnormt::sadmvn``,
    absolute error 1e-6); because the Brent iterations are the same, estimates agree with psych far more
    closely than the ``optimize`` tolerance (to ~1e-11 on psych::bfi, global and non-global).  If the
    result is not positive definite it is smoothed as ``psych::cor.smooth``.

    Returns
    -------
    dict
        ``rho`` (DataFrame), ``tau`` (DataFrame, items x thresholds), ``smoothed`` (bool), ``global`` (bool).
    """
    from scipy import stats  # here: its import costs about half a second in every process that imports compval.efa

    x = items.astype(float).to_numpy()
    names = [str(c) for c in items.columns]
    nvalues = int(np.nanmax(x) - np.nanmin(x) + 1)
    if nvalues > max_cat:
        raise ValueError(f"more than {max_cat} categories; polychoric correlations are probably not needed")
    x = x - np.nanmin(x)  # categories 0 .. nvalues-1
    if np.any((x[~np.isnan(x)] % 1) != 0):
        raise ValueError("polychoric correlations need integer-coded items")
    sd = np.nanstd(x, axis=0)
    if np.any(~(sd > 0)):
        raise ValueError("items without variance: " + ", ".join(np.array(names)[~(sd > 0)]))
    colmax = np.nanmax(x, axis=0)
    use_global = global_ and colmax.min() == colmax.max()
    p = x.shape[1]
    freq = np.stack([np.bincount(x[~np.isnan(x[:, j]), j].astype(int), minlength=nvalues) for j in range(p)], 1)
    with np.errstate(divide="ignore"):  # cumulative counts / n: an unused top category gives exactly +Inf, as R
        tau = stats.norm.ppf((np.cumsum(freq, axis=0) / freq.sum(axis=0))[: nvalues - 1, :])
    rho = np.eye(p)
    for i in range(1, p):
        for j in range(i):
            ok = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            tab = np.zeros((nvalues, nvalues))
            np.add.at(tab, (x[ok, i].astype(int), x[ok, j].astype(int)), 1.0)
            tot = tab.sum()
            if tot == 0:
                rho[i, j] = rho[j, i] = np.nan
                continue
            tab = tab / tot
            if use_global:
                val = _poly_pair(tab, tau[:, i], tau[:, j])
            else:
                tab = tab[tab.sum(axis=1) > 0][:, tab.sum(axis=0) > 0]
                if min(tab.shape) < 2:
                    val = np.nan
                else:
                    if correct > 0 and (tab == 0).any():
                        tab[tab == 0] = correct / tot
                    with np.errstate(divide="ignore"):
                        rc = stats.norm.ppf(np.cumsum(tab.sum(axis=1))[:-1])
                        cc = stats.norm.ppf(np.cumsum(tab.sum(axis=0))[:-1])
                    val = _poly_pair(tab, rc, cc)
            rho[i, j] = rho[j, i] = val
    smoothed = False
    if smooth and not np.isnan(rho).any():
        rho, smoothed = _cor_smooth(rho)
    return {
        "rho": pd.DataFrame(rho, index=names, columns=names),
        "tau": pd.DataFrame(tau.T, index=names, columns=[str(i + 1) for i in range(nvalues - 1)]),
        "smoothed": smoothed,
        "global": use_global,
    }
