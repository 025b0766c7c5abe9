"""Sample statistics of continuous indicators per group: complete data, or the missing-data patterns with the
EM estimate of the unrestricted (h1) moments (lavaan's ``lav_samplestats`` / ``lav_mvnorm_missing``).

Computation with many missing-data patterns: the patterns of a group are stacked in p-dimensional arrays
(zeros at unobserved variables) and every Sigma_oo^-1 and log|Sigma_oo| comes from one factorisation of Sigma
by the partitioned inverse (only k x k factorisations for k unobserved variables, batched over patterns).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Block",
    "GroupData",
    "Patterns",
    "group_data",
    "clear_cache",
    "CACHE_SIZE",
    "CACHE_BYTES",
    "patterns",
    "block_f",
    "loglik",
    "saturated_fiml",
    "moment_wv",
    "row_u",
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


#: The sample statistics of the most recent data sets (:func:`group_data`), by the digest of their values, with
#: the size of the data each holds: at most 16 data sets and 256 MB besides the newest one.
_RECENT: OrderedDict[tuple, tuple[GroupData, int]] = OrderedDict()
CACHE_SIZE = 16
CACHE_BYTES = 256 * 2**20


def clear_cache() -> int:
    """Forget the kept sample statistics (:func:`group_data`); returns how many data sets were kept."""
    n = len(_RECENT)
    _RECENT.clear()
    return n


def group_data(y: np.ndarray) -> GroupData:
    """Summarise one group's raw data (rows with all values missing must have been dropped).

    With missing values this is the expensive part of a FIML fit (the missing-data patterns and the saturated
    model's EM estimates), and the hypothesised model, its rivals and the steps of an invariance sequence are
    fitted to the same data: the statistics of the last few data sets are kept, keyed by a digest of the values
    (lavaan's ``lavSampleStats`` idea: sample statistics computed once and shared by every fit). The same values
    give the same object, so every number is unchanged; callers treat it as read-only. The memory kept is
    bounded (16 data sets, 256 MB besides the newest), so a million rows keep one data set, not several.
    """
    y = np.ascontiguousarray(y, dtype=float)
    key = (y.shape, hashlib.blake2b(y.tobytes(), digest_size=20).digest())
    hit = _RECENT.get(key)
    if hit is not None:
        _RECENT.move_to_end(key)
        return hit[0]
    gd = _group_data(y)
    _RECENT[key] = (gd, y.nbytes)
    while len(_RECENT) > 1 and (len(_RECENT) > CACHE_SIZE or sum(size for _, size in _RECENT.values()) > CACHE_BYTES):
        _RECENT.popitem(last=False)
    return gd


def _group_data(y: np.ndarray) -> GroupData:
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


class Patterns:
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


def patterns(gd: GroupData) -> Patterns:
    pt = gd.__dict__.get("_pat")
    if pt is None:
        pt = Patterns(gd)
        gd.__dict__["_pat"] = pt
    return pt


def block_f(gd: GroupData, mu, sigma) -> float:
    """sum_b n_b/N [log|Sigma_b| + tr(S_b Sigma_b^-1) + d'Sigma_b^-1 d] (FIML -2logl/N without 2 pi)."""
    pt = patterns(gd)
    if pt.complete:  # one pattern, all variables observed
        try:
            c = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return np.inf
        ci = np.linalg.inv(c)
        si = ci.T @ ci
        b = gd.blocks[0]
        d = b.mean - mu
        return float(gd.n * (2 * np.log(c.diagonal()).sum() + (si * b.cov).sum() + d @ si @ d) / gd.n)
    res = pt.decompose(sigma)
    if res is None:
        return np.inf
    si, logdet, _ = res
    d = pt.d(mu)
    quad = np.einsum("bij,bij->b", si, pt.S) + np.einsum("bi,bij,bj->b", d, si, d)
    return float(np.sum(pt.n * (logdet + quad)) / np.sum(pt.n))


def loglik(gd: GroupData, mu, sigma) -> float:
    """Log-likelihood of the group's observed data under N(mu, Sigma) (FIML casewise over patterns)."""
    pt = patterns(gd)
    return float(-0.5 * (np.sum(pt.n) * block_f(gd, mu, sigma) + np.sum(pt.n * pt.nobs) * np.log(2 * np.pi)))


def saturated_fiml(gd: GroupData, maxit: int = 5000, tol: float = 1e-10):
    """EM estimate of the unrestricted mean vector and covariance matrix with missing data (the h1 model).

    Matches ``lavaan:::lav_mvnorm_missing_h1_estimate_moments`` (EM; Dempster, Laird & Rubin 1977): the E-step
    fills each row's missing values with E(y_m | y_o) = mu_m + Sigma_mo Sigma_oo^-1 (y_o - mu_o) and adds
    n_b Var(y_m | y_o) to the cross-products; stops when -2logl/N changes by less than ``tol``.
    """
    pt = patterns(gd)
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
        f = block_f(gd, mu, sig)
        if abs(f_old - f) < tol:
            break
        f_old = f
    return mu, sig, block_f(gd, mu, sig)


def moment_wv(gd: GroupData, mu, sigma, inverse: np.ndarray | None = None):
    """Gradient of the per-observation FIML -2logl with respect to Sigma (p x p, W) and mu (v):
    W = sum_b n_b/N [P - P (S_b + d d') P], v = -2 sum_b n_b/N P d (P = Sigma_oo^-1 embedded).

    ``inverse``: Sigma^-1 when the caller has it (``np.linalg.inv(sigma)``; used with complete data)."""
    pt = patterns(gd)
    if pt.complete:
        b = gd.blocks[0]
        si = np.linalg.inv(sigma) if inverse is None else inverse
        d = b.mean - mu
        return si - si @ (b.cov + np.outer(d, d)) @ si, 1.0 * (-2.0) * (si @ d)
    P = pt.inverse(sigma)
    d = pt.d(mu)
    Pd = np.einsum("bij,bj->bi", P, d)
    G = P - np.matmul(np.matmul(P, pt.S), P) - Pd[:, :, None] * Pd[:, None, :]
    W = np.tensordot(pt.w, G, axes=(0, 0))
    v = -2.0 * (pt.w @ Pd)
    return W, v


def row_u(pt: Patterns, P: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """u_i = Sigma_oo^-1 (y_o - mu_o) for every row (zeros at unobserved variables), rows in block order."""
    U = np.empty_like(pt.Y)
    for k in range(pt.nb):
        r = slice(pt.bounds[k], pt.bounds[k + 1])
        U[r] = (pt.Y[r] - mu[None, :]) @ P[k]
    return U
