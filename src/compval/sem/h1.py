"""The unrestricted (h1, saturated) normal model: its coordinates, its analytic observed information and casewise
scores with missing data, and the observed information of a model by the chain rule through the saturated
moments (lavaan's ``lav_model_h1_information`` / ``lav_mvnorm_missing_information``).

The saturated (h1) observed information is assembled from one matrix product over the missing-data patterns
instead of coordinate pairs per pattern (:func:`saturated_observed_information`); second derivatives of the
moments are contracted without forming derivative arrays (:meth:`Model.contract`). These are exact
rearrangements: the results equal the pattern-by-pattern formulas up to floating-point rounding.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from .model import Model
from .partable import ModelStructure
from .samplestats import GroupData, moment_group, moment_wv, patterns, row_u

__all__ = [
    "saturated_model",
    "saturated_x",
    "delta_in",
    "saturated_observed_information",
    "saturated_scores",
    "h1_information_missing",
    "h1_inverse_missing",
    "observed_information_analytic",
]


def saturated_model(ov: list[str]) -> tuple[Model, list[tuple[str, int, int]]]:
    """The unrestricted model (all variances/covariances and means free) as a :class:`Model`.

    Returns the model and its coordinates: ("cov", i, j) for i <= j in row-major order, then ("mean", i, 0).
    """
    rows, coords = [], []
    p = len(ov)
    for i in range(p):
        for j in range(i, p):
            rows.append({"lhs": ov[i], "op": "~~", "rhs": ov[j]})
            coords.append(("cov", i, j))
    for i in range(p):
        rows.append({"lhs": ov[i], "op": "~1", "rhs": ""})
        coords.append(("mean", i, 0))
    pt = pd.DataFrame(rows)
    pt["group"] = 1
    pt["user"] = True
    pt["free"] = np.arange(1, len(pt) + 1)
    pt["value"] = np.nan
    pt["label"] = ""
    pt["start"] = np.nan
    return Model(pt, ModelStructure(ov_names=list(ov), lv_names=[], ngroups=1, meanstructure=True)), coords


def saturated_x(coords, mean, cov) -> np.ndarray:
    return np.array([cov[i, j] if kind == "cov" else mean[i] for kind, i, j in coords])


def _coord_arrays(coords) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(is_cov, i, j) arrays of saturated coordinates."""
    kind = np.array([c[0] == "cov" for c in coords], dtype=bool)
    i = np.array([c[1] for c in coords], dtype=int)
    j = np.array([c[2] for c in coords], dtype=int)
    return kind, i, j


def delta_in(coords, dS: np.ndarray, dm: np.ndarray) -> np.ndarray:
    """Model Jacobian (moments x q) in the saturated model's coordinates."""
    kind, i, j = _coord_arrays(coords)
    out = np.empty((len(coords), dS.shape[0]))
    out[kind] = dS[:, i[kind], j[kind]].T
    out[~kind] = dm[:, i[~kind]].T
    return out


def _pattern_pieces(gd: GroupData, mean: np.ndarray, cov: np.ndarray):
    """Per pattern, embedded in p x p (zeros at unobserved variables): weights n_b, P = Sigma_oo^-1,
    R = P (S_b + d d') P - P/2 and P d (d = ybar_b - mu_o)."""
    pt = patterns(gd)
    P = pt.inverse(cov)
    d = pt.d(mean)
    Pd = np.einsum("bij,bj->bi", P, d)
    R = np.matmul(np.matmul(P, pt.S), P) + Pd[:, :, None] * Pd[:, None, :] - 0.5 * P
    return pt.n, P, R, Pd


@functools.lru_cache(maxsize=4)
def _covariance_pair_index(p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For :func:`saturated_observed_information` with p variables (cached: it depends on p alone and took a third
    of the function's time): the flat positions in Sv (nc x nc) of the pairs (k, n), (l, m) and (k, m), (l, n)
    for rows a = (k, l) and columns c = (m, n) of vech coordinates, and 1 / dk (dk 2 on the diagonal).

    Read-only arrays, the positions as 32-bit integers and no nc x nc array of the scales 1 / (dk_a dk_c): the
    cache outlives the call and stands beside the next call's sums (at p = 58, nc = 1711, the 64-bit positions
    and the scales were three arrays of 23 MB; now two of 12 MB). The scales are applied as two products by the
    reciprocals of 1 or 2, which are exact: the same bits as one product by 1, 1/2 or 1/4."""
    K, L = np.triu_indices(p)
    nc = len(K)
    if nc * nc > np.iinfo(np.int32).max:  # p > 304: positions beyond 32 bits
        raise ValueError(f"{p} variables: the saturated information's pair index needs more than 32-bit positions")
    vid = np.zeros((p, p), dtype=np.int32)
    vid[K, L] = np.arange(nc)
    vid[L, K] = np.arange(nc)
    inv_dk = np.where(K == L, 0.5, 1.0)
    # rows a = (k, l) = (K, L), columns c = (m, n) = (K, L): pairs (k, n), (l, m) and (k, m), (l, n);
    # the result is exactly symmetric (Sv is)
    vK, vL = vid[K], vid[L]  # (nc, p)
    AB = vK[:, L] * np.int32(nc) + vL[:, K]
    CD = vK[:, K] * np.int32(nc) + vL[:, L]
    for a in (AB, CD, inv_dk):
        a.flags.writeable = False
    return AB, CD, inv_dk


def saturated_observed_information(
    gd: GroupData, mean: np.ndarray, cov: np.ndarray, method: str = "auto"
) -> np.ndarray:
    """Analytic observed information (per observation) of the unrestricted normal model with missing data.

    Hessian of -logl/N in the coordinates of :func:`saturated_model` (vech of Sigma row-major, then mu):
    sum over patterns b of n_b [tr(P E_a Q E_c)/2 + tr(Q E_a P E_c)/2 - tr(P E_a P E_c)/2] with P = Sigma_oo^-1,
    Q = P (S_b + d d') P and symmetric basis matrices E_a, E_c for the covariances, n_b P for the means and
    n_b P E_a P d for the cross terms.

    Computed without a pass over coordinate pairs per pattern: with P_b and R_b = Q_b - P_b/2 embedded in p x p
    (zeros at unobserved variables), K[(i,j), (k,l)] = sum_b n_b P_b[i,j] R_b[k,l] for i <= j, k <= l (P, R
    symmetric), and for a = (k, l), c = (m, n): tr(sum_b n_b P_b E_a R_b E_c) = S[(k,n),(l,m)] + S[(k,m),(l,n)]
    with S = K + K' (pairs unordered), halved for each diagonal index pair. With missing data K and the mean
    terms come from a pass over the rows (:func:`_pattern_sums`), so memory and time grow with the rows, not
    with patterns x p^4. ``method``: ``"patterns"`` (per-pattern p x p arrays, about patterns x nc^2 operations),
    ``"rows"`` (the pass over the rows, about nc x p^3 operations besides the rows') or ``"auto"``: by patterns
    while there are fewer than 2 nc of them (nc = p(p+1)/2). Both give the same matrix up to rounding.
    """
    if method not in ("auto", "patterns", "rows"):
        raise ValueError(f"method must be 'auto', 'patterns' or 'rows', not {method!r}")
    p = len(mean)
    K, L = np.triu_indices(p)
    nc = len(K)
    pt = patterns(gd)
    if pt.complete or method == "patterns" or (method == "auto" and pt.nb < 2 * nc):
        w, Pf, Rf, Pdf = _pattern_pieces(gd, mean, cov)
        wP3 = Pf * w[:, None, None]
        Kv = wP3[:, K, L].T @ Rf[:, K, L]  # (nc, nc)
        Psum = wP3.sum(axis=0)
        N3 = np.tensordot(wP3, Pdf, axes=(0, 0))  # (r, k, l) = sum_b n_b P_b[r, k] (P_b d_b)[l]
    else:
        Kv, Psum, N3 = _pattern_sums(pt, mean, cov)
    Sv = Kv + Kv.T
    AB, CD, inv_dk = _covariance_pair_index(p)
    H = np.zeros((nc + p, nc + p))
    cc = H[:nc, :nc]
    np.take(Sv, AB, out=cc)
    cc += np.take(Sv, CD)
    # divided by dk_a dk_c (1, 2 or 4) as two exact products by 1 or 1/2: the same bits as dividing
    cc *= inv_dk[:, None]
    cc *= inv_dk[None, :]
    # means and mean x covariance
    H[nc:, nc:] = Psum
    hms = (N3[:, K, L] + N3[:, L, K]) * inv_dk[None, :]  # exact, as dividing by 1 or 2
    H[nc:, :nc] = hms
    H[:nc, nc:] = hms.T
    return H / gd.n


#: Rows per block of the row-level sums of :func:`_pattern_sums` (bounds a block of rows x p(p+1)/2 floats).
_VECH_ROWS = 4096
#: Rows per sparse selection matrix of :func:`_pattern_sums` (a multiple of _VECH_ROWS; bounds its arrays of
#: rows x k(k+1)/2 entries, k unobserved variables: 56 MB each for a sweep's 65,536 rows with k = 14).
_SPARSE_ROWS = 4 * _VECH_ROWS
#: Columns (pairs of variables) per block of those row-level sums (4096 x 512 floats: 16 MB per temporary).
_VECH_COLUMNS = 512


def _sandwich(Om: np.ndarray, V: np.ndarray, vid: np.ndarray, K: np.ndarray, L: np.ndarray) -> np.ndarray:
    """T V for T the vech map of X -> Omega X Omega: each column of V is the vech of a symmetric X, and the
    column of the result is vech(Omega X Omega) (two p x p products per column instead of an nc x nc T)."""
    X = V[vid]  # (p, p, columns)
    Y = np.tensordot(Om, X, axes=(1, 0))  # Y[a, d, j] = sum_c Omega[a, c] X[c, d, j]
    del X  # each of these arrays is p^2 x columns (46 MB at p = 55): three at a time, not four
    Z = np.tensordot(Y, Om, axes=(1, 0))  # Z[a, j, b] = sum_d Y[a, d, j] Omega[d, b]
    del Y
    return Z[K, :, L]


def _pattern_sums(pt, mean: np.ndarray, cov: np.ndarray):
    """K = sum_b n_b vech(P_b) vech(R_b)', sum_b n_b P_b and N3[r, k, l] = sum_b n_b P_b[r, k] (P_b d_b)[l] by
    a pass over the rows (no patterns x p x p arrays).

    With Omega = Sigma^-1 and, per pattern, A_b = Omega_mm^-1: P_b = Omega - L_b, L_b = Omega E_b A_b E_b' Omega
    (E_b: the columns of I at the unobserved variables). vech(Omega X Omega) = T vech(X) for symmetric X, with
    T[(a,b), (c,d)] = Omega_ac Omega_bd + [c != d] Omega_ad Omega_bc, so vech(L_b) = T s_b where s_b, the vech of
    E_b A_b E_b', is non-zero only at the pairs of unobserved variables. With u_i = Sigma_oo^-1 (y_i - mu)_o
    (embedded) and n_b Q_b = sum over the pattern's rows of u_i u_i':

        K = vech(Omega) vech(sum_i u_i u_i')' - T sum_i s_i vech(u_i u_i')'
            - 1/2 [N vech(Omega) vech(Omega)' - vech(Omega) l' - l vech(Omega)' + T (sum_i s_i s_i') T'],

    l = T vech(G) with G = sum_b n_b E_b A_b E_b'; sum_b n_b P_b = N Omega - Omega G Omega; and
    N3 = Omega (x) sum_i u_i - sum_{c,d} Omega[r, c] (sum_i (E A E')_i[c, d] u_i[l]) Omega[d, k].
    """
    from scipy import sparse

    p = len(mean)
    K, L = np.triu_indices(p)
    nc = len(K)
    vid = np.zeros((p, p), dtype=int)
    vid[K, L] = np.arange(nc)
    vid[L, K] = np.arange(nc)
    # M1 = sum_i s_i vech(u_i u_i')' and M2 = sum_i s_i s_i', held by the dict so that they can go once used
    acc = {"M1": np.zeros((nc, nc)), "M2": np.zeros((nc, nc))}
    Xv = np.zeros((nc, p))  # sum_i s_i u_i'

    def selection(m, A):
        # S: one row per pattern or data row, the vech positions of its unobserved pairs holding A's entries
        rows, k = m.shape
        j1, j2 = np.triu_indices(k)
        cols = vid[m[:, j1], m[:, j2]]  # (rows, k(k+1)/2): distinct within a row
        vals = A[:, j1, j2]
        S = sparse.csr_matrix((vals.ravel(), cols.ravel(), np.arange(0, rows * len(j1) + 1, len(j1))), shape=(rows, nc))
        return S, S.T.tocsr()

    def visit(m, A, U, w=None, UU=None):
        # rows (w, UU None): u_i per row, in blocks of _SPARSE_ROWS; heavy patterns: w = n_b, U = sum_i u_i,
        # UU = sum_i u_i u_i'
        if w is None:
            for s0 in range(0, len(m), _SPARSE_ROWS):
                s = slice(s0, min(len(m), s0 + _SPARSE_ROWS))
                S, St = selection(m[s], A[s])
                Us = U[s]
                Xv[:] += St @ Us
                acc["M2"][:] += (St @ S).toarray()
                for r0 in range(0, len(Us), _VECH_ROWS):
                    r = slice(r0, min(len(Us), r0 + _VECH_ROWS))
                    Sr, Ur = St[:, r], Us[r]
                    # by blocks of the vech columns: each column of the product is summed over the rows in the
                    # same order, so the same bits, with temporaries of _VECH_ROWS x _VECH_COLUMNS floats
                    for c0 in range(0, nc, _VECH_COLUMNS):
                        c = slice(c0, min(nc, c0 + _VECH_COLUMNS))
                        acc["M1"][:, c] += Sr @ (Ur[:, K[c]] * Ur[:, L[c]])
        else:
            S, St = selection(m, A)
            Xv[:] += St @ U
            acc["M2"][:] += (St @ sparse.diags(w) @ S).toarray()
            acc["M1"][:] += St @ UU[:, K, L]

    sw = pt.sweep(cov, mean, visit=visit)
    if sw is None:
        raise np.linalg.LinAlgError("saturated information: Sigma is not positive definite")
    Om, G, UU, usum = sw["Om"], sw["G"], sw["UU"], sw["u"]
    n = float(np.sum(pt.n))
    vO = Om[K, L]
    ell = (Om @ G @ Om)[K, L]  # T vech(G)
    # Kv = outer(vO, vech UU) - T M1 - 1/2 (n outer(vO, vO) - outer(vO, l) - outer(l, vO) + T M2 T'), the same
    # operations in the same order as that one expression, with M1 and M2 let go as soon as they are used (each is
    # nc x nc: 23 MB at p = 58, beside the sandwich's three temporaries)
    TM2 = _sandwich(Om, acc.pop("M2"), vid, K, L)
    Kv = np.outer(vO, UU[K, L])
    Kv -= _sandwich(Om, acc.pop("M1"), vid, K, L)
    inner = n * np.outer(vO, vO)
    inner -= np.outer(vO, ell)
    inner -= np.outer(ell, vO)
    inner += _sandwich(Om, TM2.T, vid, K, L).T
    del TM2
    inner *= 0.5
    Kv -= inner
    del inner
    Psum = n * Om - Om @ G @ Om
    Psum = (Psum + Psum.T) / 2  # exactly symmetric
    Y = Xv[vid]  # (p, p, p): sum_i (E A E')_i[c, d] u_i[l]
    N3 = Om[:, :, None] * usum[None, None, :] - np.einsum("rc,cdl,dk->rkl", Om, Y, Om, optimize=True)
    return Kv, Psum, N3


def saturated_scores(gd: GroupData, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Casewise scores (n x (nc + p), rows in pattern order) of the unrestricted normal model in the
    coordinates of :func:`saturated_model`: with u = Sigma_oo^-1 (y_o - mu_o) (zero where missing),
    (u_k u_l - P_kl) for a covariance k != l, (u_k^2 - P_kk)/2 for a variance and u_k for a mean."""
    pt = patterns(gd)
    p = len(mean)
    K, L = np.triu_indices(p)
    half = np.where(K == L, 0.5, 1.0)
    P = pt.inverse(cov)
    U = row_u(pt, P, mean)
    pat = np.repeat(np.arange(pt.nb), pt.n.astype(int))
    return np.hstack([(U[:, K] * U[:, L] - P[:, K, L][pat]) * half[None, :], U])


def h1_information_missing(ov: list[str], gd: GroupData, scores: bool = True):
    """h1 matrices for one group with missing data, at the EM estimates (per observation; cached on ``gd``).

    Returns (coords, Wm, Jm, Wc): observed information of the saturated FIML likelihood (``lavaan``
    ``lav_model_h1_information_observed``), its first-order (outer product of casewise scores) version, and the
    complete-data information at the same moments. With ``scores=False`` Jm may be None (not computed).
    """
    cache = gd.__dict__.setdefault("_h1", {})
    if "Wm" not in cache:
        cache["coords"] = _saturated_coords(len(ov))
        cache["Wm"] = saturated_observed_information(gd, gd.mean, gd.cov)
        cache["Wc"] = saturated_observed_information(moment_group(gd), gd.mean, gd.cov)
    if scores and "Jm" not in cache:
        sc = saturated_scores(gd, gd.mean, gd.cov)
        cache["Jm"] = sc.T @ sc / gd.n
    return cache["coords"], cache["Wm"], cache.get("Jm"), cache["Wc"]


def h1_inverse_missing(ov: list[str], gd: GroupData) -> np.ndarray:
    """Inverse of the saturated observed information Wm of :func:`h1_information_missing` (cached)."""
    cache = gd.__dict__.setdefault("_h1", {})
    if "Wmi" not in cache:
        cache["Wmi"] = np.linalg.inv(h1_information_missing(ov, gd, scores=False)[1])
    return cache["Wmi"]


def _moment_gradient(model: Model, x, gd: GroupData, g: int, coords) -> np.ndarray:
    """Gradient of the per-observation -logl of group g with respect to the saturated coordinates."""
    sigma, mu = model.implied(x, g, gd.mean)
    W, v = moment_wv(gd, mu, sigma)
    kind, i, j = _coord_arrays(coords)
    return np.where(kind, np.where(i == j, 0.5, 1.0) * W[i, j], 0.5 * v[i])


def _saturated_coords(p: int, meanstructure: bool = True) -> list[tuple[str, int, int]]:
    """Coordinates of :func:`saturated_model` for p variables (means only with a mean structure)."""
    K, L = np.triu_indices(p)
    out = [("cov", int(k), int(l)) for k, l in zip(K, L)]
    return out + [("mean", i, 0) for i in range(p)] if meanstructure else out


def _linear_params(model: Model) -> np.ndarray:
    """Free parameters on which the derivatives of the moments do not depend (only residual (co)variances
    and intercepts): their second derivatives vanish."""
    lin = np.ones(model.nfree, dtype=bool)
    for k, (_, mat, _, _) in enumerate(model.loc):
        a = model.free_idx[k]
        if a >= 0 and mat not in ("T", "nu"):
            lin[a] = False
    return lin


def observed_information_analytic(model: Model, x, groups: list[GroupData], h: float = 1e-6) -> np.ndarray:
    """Observed information per observation by the chain rule through the saturated moments.

    Hessian of F/2 = sum_g w_g f_g(m_g(x)): Delta' H_sat Delta + sum_k (df/dm_k) d2 m_k / dx dx', with the
    analytic Hessian H_sat of the unrestricted (FIML) likelihood (:func:`saturated_observed_information`) and
    the second derivatives of the moments by Richardson differences of the analytic Jacobian contracted with
    df/dm (cheap: no pass over the data; skipped for parameters that enter the moments linearly, where they
    vanish). Equal to :func:`observed_information` (lavaan's numerical Hessian) up to ~1e-9.
    """
    ntot = sum(gd.n for gd in groups)
    q = model.nfree
    p = model.p
    H = np.zeros((q, q))
    lin = _linear_params(model)
    coords = _saturated_coords(p, model.meanstructure)
    nc = p * (p + 1) // 2
    K, L = np.triu_indices(p)
    for g, gd in enumerate(groups):
        sigma, mu = model.implied(x, g, gd.mean)
        Hs = saturated_observed_information(gd, mu, sigma)
        if not model.meanstructure:
            Hs = Hs[:nc, :nc]
        gm = _moment_gradient(model, x, gd, g, coords)
        act = model.active(g)  # parameters of other groups do not enter group g's moments
        D = delta_in(coords, *model.derivatives(x, g))[:, act]
        Hg = D.T @ Hs @ D
        # D(x)' gm = sum_{k<=l} gm_kl dSigma_kl + sum_k gm_k dmu_k = tr(G dSigma) + gmean' dmu with G the
        # symmetric matrix holding gm_kl (k < l) halved in both triangles and gm_kk on the diagonal
        Gm = np.zeros((p, p))
        Gm[K, L] = gm[:nc]
        Gs = (Gm + Gm.T) / 2
        gmean = gm[nc:] if model.meanstructure else None

        def contracted(xx):
            return model.contract(xx, g, Gs, gmean)

        second = np.zeros((len(act), len(act)))
        for c in np.flatnonzero(~lin[act]):
            j = act[c]
            vals = []
            for s in (-2, -1, 1, 2):
                xx = x.copy()
                xx[j] += s * h
                vals.append(contracted(xx)[act])
            second[:, c] = (vals[0] - 8 * vals[1] + 8 * vals[2] - vals[3]) / (12 * h)
        Hg += (second + second.T) / 2
        H[np.ix_(act, act)] += gd.n / ntot * Hg
    return (H + H.T) / 2
