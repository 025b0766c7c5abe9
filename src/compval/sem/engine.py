"""Maximum-likelihood estimation of LISREL-type measurement models (the engine behind :mod:`compval.cfa`).

Model (per group): y = nu + Lambda eta + eps, eta = alpha + B eta + zeta, so that
Sigma = Lambda A Psi A' Lambda' + Theta and mu = nu + Lambda A alpha with A = (I - B)^-1 (Joreskog 1973;
the representation used by lavaan, Rosseel 2012).

The discrepancy minimised is the normal-theory ML fit function (likelihood = "normal", covariances divided by N)

    F(theta) = sum_g N_g/N * sum_b n_b/N_g [log|Sigma_b| + tr(S_b Sigma_b^-1) + (ybar_b - mu_b)' Sigma_b^-1 (...)]
               - F_h1

where b runs over the missing-data patterns of group g (one pattern for complete data: then F_h1 = log|S| + p
and F is the usual F_ML; with missing data this is the FIML objective of Arbuckle 1996). chi-square = N * F.
Minimisation is by Fisher scoring with step halving using the analytic gradient and the expected information.

Computation with many missing-data patterns: the patterns of a group are stacked in p-dimensional arrays
(zeros at unobserved variables) and every Sigma_oo^-1 and log|Sigma_oo| comes from one factorisation of Sigma
by the partitioned inverse (only k x k factorisations for k unobserved variables, batched over patterns); the
saturated (h1) observed information is assembled from one matrix product over the patterns instead of
coordinate pairs per pattern (:func:`saturated_observed_information`); second derivatives of the moments are
contracted without forming derivative arrays (:meth:`Model.contract`). These are exact rearrangements: the
results equal the pattern-by-pattern formulas up to floating-point rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .partable import ModelStructure

__all__ = [
    "Block",
    "GroupData",
    "Model",
    "group_data",
    "fit_ml",
    "saturated_fiml",
    "objective",
    "gradient_info",
    "expected_information",
    "observed_information",
    "observed_information_analytic",
    "casewise_scores",
    "saturated_model",
    "saturated_observed_information",
    "saturated_scores",
    "h1_information_missing",
    "h1_inverse_missing",
    "delta_in",
    "loglik",
]


@dataclass
class Block:
    """One missing-data pattern: observed variable indices, size, raw rows, mean and N-divisor covariance."""

    obs: np.ndarray
    n: int
    y: np.ndarray
    mean: np.ndarray
    cov: np.ndarray


@dataclass
class GroupData:
    n: int
    blocks: list[Block]
    complete: bool
    mean: np.ndarray  # sample mean (complete data) or EM estimate (missing)
    cov: np.ndarray  # sample covariance /N (complete data) or EM estimate (missing)
    h1_f: float = 0.0  # per-observation -2 logl (without 2 pi) of the saturated model, for F_h1


def group_data(y: np.ndarray) -> GroupData:
    """Summarise one group's raw data (rows with all values missing must have been dropped)."""
    y = np.asarray(y, dtype=float)
    n, p = y.shape
    miss = np.isnan(y)
    if not miss.any():
        mean = y.mean(axis=0)
        z = y - mean
        cov = z.T @ z / n
        blk = Block(obs=np.arange(p), n=n, y=y, mean=mean, cov=cov)
        sign, logdet = np.linalg.slogdet(cov)
        return GroupData(n=n, blocks=[blk], complete=True, mean=mean, cov=cov, h1_f=logdet + p)
    pats, inv = np.unique(~miss, axis=0, return_inverse=True)
    blocks = []
    for k, pat in enumerate(pats):
        rows = y[inv.ravel() == k][:, pat]
        m = rows.mean(axis=0)
        z = rows - m
        blocks.append(Block(obs=np.flatnonzero(pat), n=rows.shape[0], y=rows, mean=m, cov=z.T @ z / rows.shape[0]))
    gd = GroupData(n=n, blocks=blocks, complete=False, mean=np.nanmean(y, axis=0), cov=np.zeros((p, p)))
    mu, sig, f = saturated_fiml(gd)
    gd.mean, gd.cov, gd.h1_f = mu, sig, f
    return gd


class _Patterns:
    """The missing-data patterns of a group stacked in p-dimensional arrays (zeros at unobserved variables),
    so that per-pattern quantities are computed with batched linear algebra instead of a Python loop."""

    def __init__(self, gd: GroupData):
        blocks = gd.blocks
        p = len(gd.mean)
        nb = len(blocks)
        self.p, self.nb = p, nb
        self.n = np.array([b.n for b in blocks], dtype=float)
        self.w = self.n / gd.n
        self.obs = np.zeros((nb, p), dtype=bool)
        self.ybar = np.zeros((nb, p))
        self.S = np.zeros((nb, p, p))
        for k, b in enumerate(blocks):
            self.obs[k, b.obs] = True
            self.ybar[k, b.obs] = b.mean
            self.S[k][np.ix_(b.obs, b.obs)] = b.cov
        self.M2 = self.obs[:, :, None] & self.obs[:, None, :]
        self.nobs = self.obs.sum(axis=1)
        self.complete = nb == 1 and bool(self.obs.all())
        self.bounds = np.concatenate([[0], np.cumsum([b.n for b in blocks])]).astype(int)
        self._blocks = blocks
        self._Y: np.ndarray | None = None

    @property
    def Y(self) -> np.ndarray:
        """Raw rows in block order (zeros at unobserved variables); pattern k is rows bounds[k]:bounds[k+1]."""
        if self._Y is None:
            Y = np.zeros((int(self.bounds[-1]), self.p))
            for k, b in enumerate(self._blocks):
                Y[self.bounds[k] : self.bounds[k + 1]][:, b.obs] = b.y
            self._Y = Y
        return self._Y

    @property
    def by_k(self) -> list:
        """Patterns grouped by their number k of unobserved variables: (k, pattern indices, (n_k x k) indices of
        the unobserved variables)."""
        if getattr(self, "_by_k", None) is None:
            miss = ~self.obs
            nm = miss.sum(axis=1)
            out = []
            for k in np.unique(nm):
                idx = np.flatnonzero(nm == k)
                mi = np.array([np.flatnonzero(miss[b]) for b in idx], dtype=int).reshape(len(idx), int(k))
                out.append((int(k), idx, mi))
            self._by_k = out
        return self._by_k

    def filled(self, sigma: np.ndarray) -> np.ndarray:
        """Per pattern: Sigma with the rows/columns of unobserved variables replaced by those of I (block
        diagonal after permutation: its inverse holds Sigma_oo^-1, its determinant is |Sigma_oo|)."""
        return np.where(self.M2, sigma[None, :, :], np.eye(self.p)[None, :, :])

    def _direct(self, sigma: np.ndarray):
        try:
            c = np.linalg.cholesky(self.filled(sigma))
        except np.linalg.LinAlgError:
            return None
        ci = np.linalg.inv(c)
        P = np.matmul(ci.transpose(0, 2, 1), ci) * self.M2
        return P, 2 * np.sum(np.log(np.diagonal(c, axis1=1, axis2=2)), axis=1), None

    def decompose(self, sigma: np.ndarray, conditional: bool = False):
        """Sigma_oo^-1 of every pattern embedded in p x p (zeros at unobserved variables) and log|Sigma_oo|;
        None if some Sigma_oo is not positive definite.

        Partitioned inverse: with Omega = Sigma^-1 (one Cholesky factorisation),
        Sigma_oo^-1 = Omega_oo - Omega_om Omega_mm^-1 Omega_mo and log|Sigma_oo| = log|Sigma| + log|Omega_mm|,
        batched over the patterns with the same number of unobserved variables (k x k factorisations only).
        With ``conditional=True`` also returns, per pattern, (m, B, V): the regression of the unobserved on
        the observed variables, E(y_m | y_o) = mu_m + B (y - mu) (B = -Omega_mm^-1 Omega_m., zero weight on
        the unobserved columns is implied by zero-filled y - mu) and V = Var(y_m | y_o) = Omega_mm^-1.
        If Sigma itself is not positive definite, every Sigma_oo is factorised directly.
        """
        try:
            c = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            res = self._direct(sigma)
            if res is None or not conditional:
                return res
            P = res[0]
            cond = []
            for b in range(self.nb):
                m = np.flatnonzero(~self.obs[b])
                A = sigma[m] @ P[b]
                cond.append((m, A, sigma[np.ix_(m, m)] - A @ sigma[:, m]))
            return P, res[1], cond
        ci = np.linalg.inv(c)
        Om = ci.T @ ci
        ld = 2 * np.sum(np.log(np.diag(c)))
        P = np.empty((self.nb, self.p, self.p))
        LD = np.empty(self.nb)
        blocks: list = [None] * self.nb  # conditional distributions, one per block (when asked for)
        for k, idx, mi in self.by_k:
            if k == 0:
                P[idx] = Om
                LD[idx] = ld
                if conditional:
                    for b in idx:
                        blocks[b] = (mi[0], np.zeros((0, self.p)), np.zeros((0, 0)))
                continue
            Omm = Om[mi[:, :, None], mi[:, None, :]]
            cm = np.linalg.cholesky(Omm)
            cmi = np.linalg.inv(cm)
            F = np.matmul(Om[:, mi].transpose(1, 0, 2), cmi.transpose(0, 2, 1))  # Omega_.m cm^-T
            P[idx] = (Om[None, :, :] - np.matmul(F, F.transpose(0, 2, 1))) * self.M2[idx]
            LD[idx] = ld + 2 * np.sum(np.log(np.diagonal(cm, axis1=1, axis2=2)), axis=1)
            if conditional:
                V = np.matmul(cmi.transpose(0, 2, 1), cmi)
                for r, b in enumerate(idx):
                    blocks[b] = (mi[r], -V[r] @ Om[mi[r]], V[r])
        return P, LD, (blocks if conditional else None)

    def inverse(self, sigma: np.ndarray) -> np.ndarray:
        """Sigma_oo^-1 of every pattern, embedded in p x p (zeros at unobserved variables)."""
        res = self.decompose(sigma)
        if res is None:  # some Sigma_oo not positive definite: plain inverses (raises if singular)
            return np.linalg.inv(self.filled(sigma)) * self.M2
        return res[0]

    def d(self, mu: np.ndarray) -> np.ndarray:
        """ybar_b - mu_o, embedded (zeros at unobserved variables)."""
        return (self.ybar - mu[None, :]) * self.obs


def _patterns(gd: GroupData) -> _Patterns:
    pt = gd.__dict__.get("_pat")
    if pt is None:
        pt = _Patterns(gd)
        gd.__dict__["_pat"] = pt
    return pt


def _block_f(gd: GroupData, mu, sigma) -> float:
    """sum_b n_b/N [log|Sigma_b| + tr(S_b Sigma_b^-1) + d'Sigma_b^-1 d] (FIML -2logl/N without 2 pi)."""
    pt = _patterns(gd)
    if pt.complete:  # one pattern, all variables observed
        try:
            c = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return np.inf
        ci = np.linalg.inv(c)
        si = ci.T @ ci
        d = gd.blocks[0].mean - mu
        return float(gd.n * (2 * np.sum(np.log(np.diag(c))) + np.sum(si * gd.blocks[0].cov) + d @ si @ d) / gd.n)
    res = pt.decompose(sigma)
    if res is None:
        return np.inf
    si, logdet, _ = res
    d = pt.d(mu)
    quad = np.einsum("bij,bij->b", si, pt.S) + np.einsum("bi,bij,bj->b", d, si, d)
    return float(np.sum(pt.n * (logdet + quad)) / np.sum(pt.n))


def loglik(gd: GroupData, mu, sigma) -> float:
    """Log-likelihood of the group's observed data under N(mu, Sigma) (FIML casewise over patterns)."""
    pt = _patterns(gd)
    return float(-0.5 * (np.sum(pt.n) * _block_f(gd, mu, sigma) + np.sum(pt.n * pt.nobs) * np.log(2 * np.pi)))


def saturated_fiml(gd: GroupData, maxit: int = 5000, tol: float = 1e-10):
    """EM estimate of the unrestricted mean vector and covariance matrix with missing data (the h1 model).

    Matches ``lavaan:::lav_mvnorm_missing_h1_estimate_moments`` (EM; Dempster, Laird & Rubin 1977): the E-step
    fills each row's missing values with E(y_m | y_o) = mu_m + Sigma_mo Sigma_oo^-1 (y_o - mu_o) and adds
    n_b Var(y_m | y_o) to the cross-products; stops when -2logl/N changes by less than ``tol``.
    """
    pt = _patterns(gd)
    p = len(gd.mean)
    mu = gd.mean.copy()
    allrows = np.where(np.repeat(pt.obs, pt.n.astype(int), axis=0), pt.Y, np.nan)
    sig = np.diag(np.nanvar(allrows, axis=0))
    obsrow = ~np.isnan(allrows)
    f_old = np.inf
    for _ in range(maxit):
        res = pt.decompose(sig, conditional=True)
        if res is None:
            raise np.linalg.LinAlgError("EM: covariance matrix of a missing-data pattern not positive definite")
        cond = res[2]
        Z = pt.Y - mu[None, :] * obsrow
        full = pt.Y.copy()
        C = np.zeros((p, p))
        for k in range(pt.nb):
            m, B, V = cond[k]
            if len(m) == 0:
                continue
            r = slice(pt.bounds[k], pt.bounds[k + 1])
            full[r, m] = mu[m] + Z[r] @ B.T
            C[np.ix_(m, m)] += pt.n[k] * V
        t1 = full.sum(axis=0)
        t2 = full.T @ full + C
        mu = t1 / gd.n
        sig = t2 / gd.n - np.outer(mu, mu)
        sig = (sig + sig.T) / 2
        f = _block_f(gd, mu, sig)
        if abs(f_old - f) < tol:
            break
        f_old = f
    return mu, sig, _block_f(gd, mu, sig)


class Model:
    """Parameter table + structure -> implied moments and their derivatives.

    Matrices per group: ``L`` (p x m), ``T`` (Theta, p x p), ``P`` (Psi, m x m), ``B`` (m x m), ``nu`` (p),
    ``al`` (alpha, m).
    """

    def __init__(self, pt: pd.DataFrame, st: ModelStructure):
        self.pt = pt.reset_index(drop=True)
        self.st = st
        self.ov = st.ov_names
        self.lv = st.lv_names
        self.p, self.m = len(self.ov), len(self.lv)
        self.ngroups = st.ngroups
        self.meanstructure = st.meanstructure
        self.nfree = int(self.pt["free"].max()) if (self.pt["free"] > 0).any() else 0
        ovi = {v: i for i, v in enumerate(self.ov)}
        lvi = {v: i for i, v in enumerate(self.lv)}
        self.loc: list[tuple[int, str, int, int]] = []  # per row: group, matrix, i, j
        for grp, op, lhs, rhs in zip(*(self.pt[c].tolist() for c in ("group", "op", "lhs", "rhs"))):
            g = int(grp) - 1
            if op == "=~":
                if rhs in ovi:
                    self.loc.append((g, "L", ovi[rhs], lvi[lhs]))
                else:
                    self.loc.append((g, "B", lvi[rhs], lvi[lhs]))
            elif op == "~":
                self.loc.append((g, "B", lvi[lhs], lvi[rhs]))
            elif op == "~~":
                if lhs in ovi and rhs in ovi:
                    self.loc.append((g, "T", ovi[lhs], ovi[rhs]))
                elif lhs in lvi and rhs in lvi:
                    self.loc.append((g, "P", lvi[lhs], lvi[rhs]))
                else:
                    raise ValueError(f"covariance between an observed and a latent variable: {lhs} ~~ {rhs}")
            elif op == "~1":
                if lhs in ovi:
                    self.loc.append((g, "nu", ovi[lhs], 0))
                else:
                    self.loc.append((g, "al", lvi[lhs], 0))
            else:
                raise ValueError(f"unsupported operator {op!r}")
        self.free_idx = self.pt["free"].to_numpy() - 1  # -1 = fixed
        self.fixed_val = self.pt["value"].to_numpy()

    # ---------------------------------------------------------------- matrices
    def _mat_index(self, g: int) -> dict:
        """Per group and matrix: (i, j, free index or -1, fixed value, free index clipped at 0) arrays of its
        rows (cached)."""
        cache = self.__dict__.setdefault("_mix", {})
        if g not in cache:
            rows = [k for k, loc in enumerate(self.loc) if loc[0] == g]
            out = {}
            for mat in ("L", "T", "P", "B", "nu", "al"):
                ks = np.array([k for k in rows if self.loc[k][1] == mat], dtype=int)
                out[mat] = (
                    np.array([self.loc[k][2] for k in ks], dtype=int),
                    np.array([self.loc[k][3] for k in ks], dtype=int),
                    self.free_idx[ks],
                    self.fixed_val[ks].astype(float),
                    np.clip(self.free_idx[ks], 0, None),
                )
            cache[g] = out
        return cache[g]

    def active(self, g: int) -> np.ndarray:
        """Sorted free-parameter indices that appear in group g."""
        cache = self.__dict__.setdefault("_act", {})
        if g not in cache:
            a = [self.free_idx[k] for k, loc in enumerate(self.loc) if loc[0] == g and self.free_idx[k] >= 0]
            cache[g] = np.unique(np.array(a, dtype=int))
        return cache[g]

    def matrices(self, x: np.ndarray, g: int) -> dict:
        p, m = self.p, self.m
        M = {
            "L": np.zeros((p, m)),
            "T": np.zeros((p, p)),
            "P": np.zeros((m, m)),
            "B": np.zeros((m, m)),
            "nu": np.zeros(p),
            "al": np.zeros(m),
        }
        x = np.asarray(x, dtype=float)
        for mat, (i, j, fi, fv, fi0) in self._mat_index(g).items():
            if not len(i):
                continue
            v = np.where(fi >= 0, x[fi0], fv) if len(x) else fv
            if mat in ("nu", "al"):
                M[mat][i] = v
            else:
                M[mat][i, j] = v
                if mat in ("T", "P"):
                    M[mat][j, i] = v
        return M

    def implied(self, x: np.ndarray, g: int, data_mean: np.ndarray | None = None):
        M = self.matrices(x, g)
        A = np.linalg.inv(np.eye(self.m) - M["B"])
        LA = M["L"] @ A
        sigma = LA @ M["P"] @ LA.T + M["T"]
        if self.meanstructure:
            mu = M["nu"] + LA @ M["al"]
        else:
            mu = data_mean if data_mean is not None else np.zeros(self.p)
        return sigma, mu

    def _deriv_index(self, g: int) -> dict:
        """Per group: (free index, i, j) arrays of the free rows by matrix (cached; used by :meth:`derivatives`)."""
        cache = self.__dict__.setdefault("_dix", {})
        if g not in cache:
            acc: dict[str, list] = {k: [] for k in ("L", "B", "P", "T", "nu", "al")}
            for k, (gg, mat, i, j) in enumerate(self.loc):
                a = self.free_idx[k]
                if gg == g and a >= 0:
                    acc[mat].append((a, i, j))
            cache[g] = {
                k: tuple(np.array(c, dtype=int).reshape(-1) for c in zip(*v)) if v else None for k, v in acc.items()
            }
        return cache[g]

    def _pieces(self, x: np.ndarray, g: int):
        """Matrices of group g and the products the derivatives need: M, A = (I - B)^-1, Lambda A,
        C = A Psi A' Lambda' (m x p), A alpha."""
        M = self.matrices(x, g)
        A = np.linalg.inv(np.eye(self.m) - M["B"])
        return M, A, M["L"] @ A, A @ M["P"] @ A.T @ M["L"].T, A @ M["al"]

    def derivatives(self, x: np.ndarray, g: int):
        """dSigma/dx (q x p x p) and dmu/dx (q x p) for group g (columns of equal parameters summed)."""
        p, q = self.p, self.nfree
        M, A, LA, C, Aal = self._pieces(x, g)
        dS = np.zeros((q, p, p))
        dm = np.zeros((q, p))
        ix = self._deriv_index(g)
        ar = np.arange(p)
        if ix["L"] is not None:  # d(Sigma)/d lambda_ij = e_i C_j. + C_j.' e_i'
            a, i, j = ix["L"]
            np.add.at(dS, (a[:, None], i[:, None], ar[None, :]), C[j])
            np.add.at(dS, (a[:, None], ar[None, :], i[:, None]), C[j])
            if self.meanstructure:
                np.add.at(dm, (a, i), Aal[j])
        if ix["B"] is not None:
            for a, i, j in zip(*ix["B"]):
                dLA = np.outer(LA[:, i], A[j, :])
                t = dLA @ M["P"] @ LA.T
                dS[a] += t + t.T
                if self.meanstructure:
                    dm[a] += dLA @ M["al"]
        if ix["P"] is not None:
            a, i, j = ix["P"]
            t = LA[:, i].T[:, :, None] * LA[:, j].T[:, None, :]
            off = i != j
            t[off] += t[off].transpose(0, 2, 1)
            np.add.at(dS, a, t)
        if ix["T"] is not None:
            a, i, j = ix["T"]
            np.add.at(dS, (a, i, j), 1.0)
            off = i != j
            np.add.at(dS, (a[off], j[off], i[off]), 1.0)
        if ix["nu"] is not None:
            a, i, _ = ix["nu"]
            np.add.at(dm, (a, i), 1.0)
        if ix["al"] is not None:
            a, i, _ = ix["al"]
            np.add.at(dm, a, LA[:, i].T)
        return dS, dm

    def contract(self, x: np.ndarray, g: int, G: np.ndarray, gm: np.ndarray | None = None) -> np.ndarray:
        """tr(G dSigma/dx_a) + gm' dmu/dx_a for every free parameter a (G symmetric), without forming the
        derivative arrays of :meth:`derivatives` (same terms, contracted)."""
        q = self.nfree
        M, A, LA, C, Aal = self._pieces(x, g)
        out = np.zeros(q)
        ix = self._deriv_index(g)
        use_m = gm is not None
        gm = gm if gm is not None else np.zeros(self.p)  # only read when use_m
        if ix["L"] is not None:
            a, i, j = ix["L"]
            GC = G @ C.T  # p x m
            val = 2.0 * GC[i, j]
            if self.meanstructure and use_m:
                val = val + gm[i] * Aal[j]
            np.add.at(out, a, val)
        if ix["B"] is not None:
            PLA = M["P"] @ LA.T  # m x p
            for a, i, j in zip(*ix["B"]):
                r = A[j, :] @ PLA  # t = LA[:, i] r'
                out[a] += 2.0 * (LA[:, i] @ G @ r)
                if self.meanstructure and use_m:
                    out[a] += (gm @ LA[:, i]) * (A[j, :] @ M["al"])
        if ix["P"] is not None:
            a, i, j = ix["P"]
            GLA = G @ LA
            val = np.einsum("pk,pk->k", LA[:, i], GLA[:, j]) * np.where(i == j, 1.0, 2.0)
            np.add.at(out, a, val)
        if ix["T"] is not None:
            a, i, j = ix["T"]
            np.add.at(out, a, G[i, j] * np.where(i == j, 1.0, 2.0))
        if use_m and ix["nu"] is not None:
            a, i, _ = ix["nu"]
            np.add.at(out, a, gm[i])
        if use_m and ix["al"] is not None:
            a, i, _ = ix["al"]
            np.add.at(out, a, gm @ LA[:, i])
        return out

    # ---------------------------------------------------------------- start values
    def start(self, groups: list[GroupData]) -> np.ndarray:
        x = np.zeros(self.nfree)
        done = np.zeros(self.nfree, dtype=bool)
        pt = self.pt
        # plain per-row lists: label-based pandas access per row dominated small fits
        label = pt.index.tolist()
        group, op, lhs, rhs = (pt[c].tolist() for c in ("group", "op", "lhs", "rhs"))
        free, value, start = (pt[c].tolist() for c in ("free", "value", "start"))
        for g in range(self.ngroups):
            gd = groups[g]
            S = gd.cov
            rows = [i for i in range(len(label)) if group[i] == g + 1]
            lam: dict[tuple[str, str], float] = {}
            lvvar: dict[str, float] = {}
            # first principal component of each factor's observed indicators
            for f in self.lv:
                ind = [i for i in rows if op[i] == "=~" and lhs[i] == f]
                obs = [rhs[i] for i in ind if rhs[i] in self.ov]
                if not obs:
                    continue
                idx = [self.ov.index(v) for v in obs]
                sub = S[np.ix_(idx, idx)]
                w, V = np.linalg.eigh(sub)
                l = V[:, -1] * np.sqrt(max(w[-1], 1e-6))
                if l.sum() < 0:
                    l = -l
                first = ind[0]
                fixed_first = free[first] == 0 and rhs[first] in obs
                if fixed_first:
                    l0 = l[obs.index(rhs[first])]
                    if abs(l0) < 1e-3:
                        l0 = 1e-3
                    scale = l0 / value[first] if value[first] else 1.0
                    lvvar[f] = scale**2
                    for v, lv_ in zip(obs, l):
                        lam[(f, v)] = lv_ / scale
                else:
                    lvvar[f] = 1.0
                    for v, lv_ in zip(obs, l):
                        lam[(f, v)] = lv_
            for i in rows:
                a = self.free_idx[label[i]]
                if a < 0 or done[a]:
                    continue
                if not pd.isna(start[i]):
                    x[a] = start[i]
                elif op[i] == "=~":
                    x[a] = lam.get((lhs[i], rhs[i]), 1.0)
                elif op[i] == "~~" and lhs[i] == rhs[i]:
                    if lhs[i] in self.ov:
                        x[a] = 0.5 * S[self.ov.index(lhs[i]), self.ov.index(lhs[i])]
                    else:
                        x[a] = lvvar.get(lhs[i], 0.05) * (0.5 if lhs[i] in self._endo() else 1.0)
                        if lhs[i] not in lvvar:
                            x[a] = 0.05
                elif op[i] == "~1" and lhs[i] in self.ov:
                    x[a] = gd.mean[self.ov.index(lhs[i])]
                else:
                    x[a] = 0.0
                done[a] = True
        return x

    def _endo(self) -> set:
        """Endogenous latent variables (indicators of another factor or regressed on one)."""
        if getattr(self, "_endo_cache", None) is None:
            lv = set(self.lv)
            rows = list(zip(self.pt["op"].tolist(), self.pt["lhs"].tolist(), self.pt["rhs"].tolist()))
            e = {rhs for op, _, rhs in rows if op == "=~" and rhs in lv}
            e |= {lhs for op, lhs, _ in rows if op == "~" and lhs in lv}
            self._endo_cache = e
        return self._endo_cache


# -------------------------------------------------------------------------------------------- objective
def objective(model: Model, x, groups: list[GroupData]) -> float:
    ntot = sum(g.n for g in groups)
    f = 0.0
    for g, gd in enumerate(groups):
        sigma, mu = model.implied(x, g, gd.mean)
        fg = _block_f(gd, mu, sigma)
        if not np.isfinite(fg):
            return np.inf
        f += gd.n / ntot * (fg - gd.h1_f)
    return f


def gradient_info(model: Model, x, groups: list[GroupData], info: bool = True):
    """Gradient of F and the Fisher-scoring matrix 2 x I (I: expected information per observation).

    With missing data the scoring matrix is the complete-data expected information at the implied moments
    (used only as a step metric; standard errors use :func:`observed_information`).
    """
    ntot = sum(g.n for g in groups)
    q = model.nfree
    grad = np.zeros(q)
    H = np.zeros((q, q))
    for g, gd in enumerate(groups):
        sigma, mu = model.implied(x, g, gd.mean)
        dS, dm = model.derivatives(x, g)
        wg = gd.n / ntot
        W, v = _moment_wv(gd, mu, sigma)
        grad += wg * (dS.reshape(q, -1) @ W.ravel())
        if model.meanstructure:
            grad += wg * (dm @ v)
        if info:
            si = np.linalg.inv(sigma)
            act = model.active(g)
            if len(act) == q:
                Z = si[None, :, :] @ dS @ si[None, :, :]
                H += wg * (Z.reshape(q, -1) @ dS.reshape(q, -1).T)
                if model.meanstructure:
                    H += wg * 2.0 * dm @ si @ dm.T
            else:  # multiple groups: only the parameters of group g have non-zero derivatives
                qa = len(act)
                dSa, dma = dS[act], dm[act]
                Z = si[None, :, :] @ dSa @ si[None, :, :]
                ix = np.ix_(act, act)
                H[ix] += wg * (Z.reshape(qa, -1) @ dSa.reshape(qa, -1).T)
                if model.meanstructure:
                    H[ix] += wg * 2.0 * dma @ si @ dma.T
    return grad, H


def expected_information(model: Model, x, groups: list[GroupData]) -> np.ndarray:
    """Expected (Fisher) information per observation, sum_g N_g/N Delta' W Delta (lavaan's "expected";
    complete data)."""
    return 0.5 * gradient_info(model, x, groups)[1]


def _moment_wv(gd: GroupData, mu, sigma):
    """Gradient of the per-observation FIML -2logl with respect to Sigma (p x p, W) and mu (v):
    W = sum_b n_b/N [P - P (S_b + d d') P], v = -2 sum_b n_b/N P d (P = Sigma_oo^-1 embedded)."""
    pt = _patterns(gd)
    if pt.complete:
        b = gd.blocks[0]
        si = np.linalg.inv(sigma)
        d = b.mean - mu
        return si - si @ (b.cov + np.outer(d, d)) @ si, 1.0 * (-2.0) * (si @ d)
    P = pt.inverse(sigma)
    d = pt.d(mu)
    Pd = np.einsum("bij,bj->bi", P, d)
    G = P - np.matmul(np.matmul(P, pt.S), P) - Pd[:, :, None] * Pd[:, None, :]
    W = np.tensordot(pt.w, G, axes=(0, 0))
    v = -2.0 * (pt.w @ Pd)
    return W, v


def _row_u(pt: _Patterns, P: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """u_i = Sigma_oo^-1 (y_o - mu_o) for every row (zeros at unobserved variables), rows in block order."""
    U = np.empty_like(pt.Y)
    for k in range(pt.nb):
        r = slice(pt.bounds[k], pt.bounds[k + 1])
        U[r] = (pt.Y[r] - mu[None, :]) @ P[k]
    return U


def casewise_scores(model: Model, x, gd: GroupData, g: int) -> np.ndarray:
    """Casewise derivatives of the log-likelihood with respect to the free parameters (n x q, rows in pattern
    order): -tr(P dSigma_j)/2 + u' dSigma_j u / 2 + u' dmu_j with u = P (y_o - mu_o), P = Sigma_oo^-1."""
    sigma, mu = model.implied(x, g, gd.mean)
    dS, dm = model.derivatives(x, g)
    pt = _patterns(gd)
    q = dS.shape[0]
    P = pt.inverse(sigma)
    U = _row_u(pt, P, mu)
    flat = dS.reshape(q, -1)
    tr = P.reshape(pt.nb, -1) @ flat.T  # (nb, q)
    pat = np.repeat(np.arange(pt.nb), pt.n.astype(int))
    out = np.empty((len(U), q))
    chunk_rows = max(1, int(4e6 // (pt.p * pt.p)))  # rows of u u' per product (bounded memory)
    for r0 in range(0, len(U), chunk_rows):
        r = slice(r0, min(len(U), r0 + chunk_rows))
        uu = (U[r, :, None] * U[r, None, :]).reshape(-1, pt.p * pt.p)
        out[r] = 0.5 * (uu @ flat.T) - 0.5 * tr[pat[r]]
    if model.meanstructure:
        out += U @ dm.T
    return out


def observed_information(model: Model, x, groups: list[GroupData], h: float = 1e-6) -> np.ndarray:
    """Observed information per observation: Hessian of F/2 by Richardson differences of the analytic gradient.

    Same stencil as ``lavaan:::lav_model_hessian`` (h = 1e-6).
    """
    q = model.nfree
    H = np.zeros((q, q))
    for j in range(q):
        gs = []
        for s in (-2, -1, 1, 2):
            xx = x.copy()
            xx[j] += s * h
            gs.append(0.5 * gradient_info(model, xx, groups, info=False)[0])
        H[:, j] = (gs[0] - 8 * gs[1] + 8 * gs[2] - gs[3]) / (12 * h)
    return (H + H.T) / 2


@dataclass
class OptResult:
    x: np.ndarray
    f: float
    converged: bool
    iterations: int
    message: str


def fit_ml(
    model: Model, groups: list[GroupData], x0: np.ndarray | None = None, maxit: int = 1000, tol: float = 1e-10
) -> OptResult:
    """Minimise F by Fisher scoring with step halving.

    Converged when the largest absolute gradient element is below 1e-9 (or steps and decrease of F vanish);
    if scoring stalls, BFGS (scipy) continues and convergence is declared when the gradient is below 1e-6.
    Estimates beyond 1e6 in absolute value stop the search ("estimates diverge").
    """
    x = model.start(groups) if x0 is None else np.asarray(x0, float).copy()
    f = objective(model, x, groups)
    if not np.isfinite(f):
        # make residual variances larger until Sigma is positive definite
        for _ in range(30):
            x = x * 0.9
            f = objective(model, x, groups)
            if np.isfinite(f):
                break
    if not np.isfinite(f):
        return OptResult(x, f, False, 0, "could not find positive definite starting values")
    it = 0
    converged = False
    msg = "maximum number of iterations reached"
    for it in range(1, maxit + 1):
        g, H = gradient_info(model, x, groups)
        if np.max(np.abs(g)) < 1e-9:
            converged, msg = True, "gradient below tolerance"
            break
        try:
            step = np.linalg.solve(H + 1e-12 * np.eye(len(x)) * np.trace(H) / max(len(x), 1), g)
        except np.linalg.LinAlgError:
            step = np.linalg.pinv(H) @ g
        t = 1.0
        while t > 1e-10:
            xn = x - t * step
            fn = objective(model, xn, groups)
            if np.isfinite(fn) and fn <= f + 1e-14 * abs(f):
                break
            t /= 2
        else:
            msg = "line search failed"
            break
        df = f - fn
        x, f = xn, fn
        if np.max(np.abs(x)) > 1e6:
            msg = "estimates diverge"
            break
        if df < tol * max(abs(f), 1.0) * 1e-3 and np.max(np.abs(t * step)) < 1e-9:
            converged, msg = True, "relative change below tolerance"
            break
    if not converged and msg != "estimates diverge":
        from scipy.optimize import minimize

        res = minimize(
            lambda z: objective(model, z, groups),
            x,
            jac=lambda z: gradient_info(model, z, groups, info=False)[0],
            method="BFGS",
            options={"gtol": 1e-9, "maxiter": 5000},
        )
        if np.isfinite(res.fun) and res.fun <= f + 1e-12:
            x, f = res.x, float(res.fun)
        gmax = np.max(np.abs(gradient_info(model, x, groups, info=False)[0]))
        if gmax < 1e-6 and np.max(np.abs(x)) < 1e6:
            converged, msg = True, "converged (BFGS)"
    return OptResult(x, f, converged, it, msg)


# -------------------------------------------------------------------------------------------- h1 (saturated)
def saturated_model(ov: list[str]) -> tuple[Model, list[tuple[str, int, int]]]:
    """The unrestricted model (all variances/covariances and means free) as a :class:`Model`.

    Returns the model and its coordinates: ("cov", i, j) for i <= j in row-major order, then ("mean", i, 0).
    """
    from .partable import ModelStructure

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
    pt = _patterns(gd)
    P = pt.inverse(cov)
    d = pt.d(mean)
    Pd = np.einsum("bij,bj->bi", P, d)
    R = np.matmul(np.matmul(P, pt.S), P) + Pd[:, :, None] * Pd[:, None, :] - 0.5 * P
    return pt.n, P, R, Pd


def saturated_observed_information(gd: GroupData, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Analytic observed information (per observation) of the unrestricted normal model with missing data.

    Hessian of -logl/N in the coordinates of :func:`saturated_model` (vech of Sigma row-major, then mu):
    sum over patterns b of n_b [tr(P E_a Q E_c)/2 + tr(Q E_a P E_c)/2 - tr(P E_a P E_c)/2] with P = Sigma_oo^-1,
    Q = P (S_b + d d') P and symmetric basis matrices E_a, E_c for the covariances, n_b P for the means and
    n_b P E_a P d for the cross terms.

    Computed without a pass over coordinate pairs per pattern: with P_b and R_b = Q_b - P_b/2 embedded in p x p
    (zeros at unobserved variables), one matrix product over the patterns gives
    K[(i,j), (k,l)] = sum_b n_b P_b[i,j] R_b[k,l] for i <= j, k <= l (P, R symmetric), and for a = (k, l),
    c = (m, n): tr(sum_b n_b P_b E_a R_b E_c) = S[(k,n),(l,m)] + S[(k,m),(l,n)] with S = K + K' (pairs
    unordered), halved for each diagonal index pair. Memory is of the order of the result.
    """
    p = len(mean)
    K, L = np.triu_indices(p)
    nc = len(K)
    w, Pf, Rf, Pdf = _pattern_pieces(gd, mean, cov)
    wP3 = Pf * w[:, None, None]
    Kv = wP3[:, K, L].T @ Rf[:, K, L]  # (nc, nc)
    Sv = Kv + Kv.T
    vid = np.zeros((p, p), dtype=int)
    vid[K, L] = np.arange(nc)
    vid[L, K] = np.arange(nc)
    dk = np.where(K == L, 2.0, 1.0)
    # rows a = (k, l) = (K, L), columns c = (m, n) = (K, L): pairs (k, n), (l, m) and (k, m), (l, n);
    # the result is exactly symmetric (Sv is)
    vK, vL = vid[K], vid[L]  # (nc, p)
    AB = vK[:, L] * nc + vL[:, K]
    CD = vK[:, K] * nc + vL[:, L]
    H = np.zeros((nc + p, nc + p))
    H[:nc, :nc] = (np.take(Sv, AB) + np.take(Sv, CD)) / np.outer(dk, dk)
    # means and mean x covariance
    H[nc:, nc:] = wP3.sum(axis=0)
    N3 = np.tensordot(wP3, Pdf, axes=(0, 0))  # (r, k, l) = sum_b n_b P_b[r, k] (P_b d_b)[l]
    hms = (N3[:, K, L] + N3[:, L, K]) / dk[None, :]
    H[nc:, :nc] = hms
    H[:nc, nc:] = hms.T
    return H / gd.n


def saturated_scores(gd: GroupData, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Casewise scores (n x (nc + p), rows in pattern order) of the unrestricted normal model in the
    coordinates of :func:`saturated_model`: with u = Sigma_oo^-1 (y_o - mu_o) (zero where missing),
    (u_k u_l - P_kl) for a covariance k != l, (u_k^2 - P_kk)/2 for a variance and u_k for a mean."""
    pt = _patterns(gd)
    p = len(mean)
    K, L = np.triu_indices(p)
    half = np.where(K == L, 0.5, 1.0)
    P = pt.inverse(cov)
    U = _row_u(pt, P, mean)
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
        p = len(ov)
        coords = _saturated_coords(p)
        full = Block(obs=np.arange(p), n=gd.n, y=np.empty((0, p)), mean=gd.mean, cov=gd.cov)
        cache["coords"] = coords
        cache["Wm"] = saturated_observed_information(gd, gd.mean, gd.cov)
        cache["Wc"] = saturated_observed_information(
            GroupData(n=gd.n, blocks=[full], complete=True, mean=gd.mean, cov=gd.cov), gd.mean, gd.cov
        )
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
    W, v = _moment_wv(gd, mu, sigma)
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
