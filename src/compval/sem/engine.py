"""Maximum-likelihood estimation of LISREL-type measurement models (the engine behind :mod:`compval.cfa`).

Model (per group): y = nu + Lambda eta + eps, eta = alpha + B eta + zeta, so that
Sigma = Lambda A Psi A' Lambda' + Theta and mu = nu + Lambda A alpha with A = (I - B)^-1 (Joreskog 1973;
the representation used by lavaan, Rosseel 2012).

The discrepancy minimised is the normal-theory ML fit function (likelihood = "normal", covariances divided by N)

    F(theta) = sum_g N_g/N * sum_b n_b/N_g [log|Sigma_b| + tr(S_b Sigma_b^-1) + (ybar_b - mu_b)' Sigma_b^-1 (...)] - F_h1

where b runs over the missing-data patterns of group g (one pattern for complete data: then F_h1 = log|S| + p
and F is the usual F_ML; with missing data this is the FIML objective of Arbuckle 1996). chi-square = N * F.
Minimisation is by Fisher scoring with step halving using the analytic gradient and the expected information.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .partable import ModelStructure

__all__ = ["Block", "GroupData", "Model", "group_data", "fit_ml", "saturated_fiml", "objective", "gradient_info",
           "expected_information", "observed_information", "observed_information_analytic", "casewise_scores",
           "saturated_model", "saturated_observed_information", "h1_information_missing", "delta_in"]


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


def _block_f(blocks, mu, sigma) -> float:
    """sum_b n_b/N [log|Sigma_b| + tr(S_b Sigma_b^-1) + d'Sigma_b^-1 d] (FIML -2logl/N without 2 pi)."""
    n = sum(b.n for b in blocks)
    tot = 0.0
    for b in blocks:
        o = b.obs
        s = sigma[np.ix_(o, o)]
        c, _ = _chol(s)
        if c is None:
            return np.inf
        si = _chol_inv(c)
        d = b.mean - mu[o]
        tot += b.n * (2 * np.sum(np.log(np.diag(c))) + np.sum(si * b.cov) + d @ si @ d)
    return tot / n


def saturated_fiml(gd: GroupData, maxit: int = 5000, tol: float = 1e-10):
    """EM estimate of the unrestricted mean vector and covariance matrix with missing data (the h1 model).

    Matches ``lavaan:::lav_mvnorm_missing_h1_estimate_moments`` (EM; Dempster, Laird & Rubin 1977).
    """
    p = len(gd.mean)
    mu = gd.mean.copy()
    allrows = np.full((gd.n, p), np.nan)
    start = 0
    for b in gd.blocks:
        allrows[start:start + b.n][:, b.obs] = b.y
        start += b.n
    sig = np.diag(np.nanvar(allrows, axis=0))
    f_old = np.inf
    for _ in range(maxit):
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for b in gd.blocks:
            o = b.obs
            m = np.setdiff1d(np.arange(p), o)
            yo = b.y
            if len(m) == 0:
                t1 += yo.sum(axis=0)
                t2 += yo.T @ yo
                continue
            soo_inv = np.linalg.inv(sig[np.ix_(o, o)])
            beta = sig[np.ix_(m, o)] @ soo_inv
            ym = mu[m] + (yo - mu[o]) @ beta.T
            full = np.empty((b.n, p))
            full[:, o] = yo
            full[:, m] = ym
            cm = sig[np.ix_(m, m)] - beta @ sig[np.ix_(o, m)]
            t1 += full.sum(axis=0)
            t2 += full.T @ full
            t2[np.ix_(m, m)] += b.n * cm
        mu = t1 / gd.n
        sig = t2 / gd.n - np.outer(mu, mu)
        f = _block_f(gd.blocks, mu, sig)
        if abs(f_old - f) < tol:
            break
        f_old = f
    return mu, sig, _block_f(gd.blocks, mu, sig)


def _chol(s):
    try:
        return np.linalg.cholesky(s), True
    except np.linalg.LinAlgError:
        return None, False


def _chol_inv(c):
    ci = np.linalg.inv(c)
    return ci.T @ ci


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
        for r in self.pt.itertuples():
            g = int(r.group) - 1
            if r.op == "=~":
                if r.rhs in ovi:
                    self.loc.append((g, "L", ovi[r.rhs], lvi[r.lhs]))
                else:
                    self.loc.append((g, "B", lvi[r.rhs], lvi[r.lhs]))
            elif r.op == "~":
                self.loc.append((g, "B", lvi[r.lhs], lvi[r.rhs]))
            elif r.op == "~~":
                if r.lhs in ovi and r.rhs in ovi:
                    self.loc.append((g, "T", ovi[r.lhs], ovi[r.rhs]))
                elif r.lhs in lvi and r.rhs in lvi:
                    self.loc.append((g, "P", lvi[r.lhs], lvi[r.rhs]))
                else:
                    raise ValueError(f"covariance between an observed and a latent variable: {r.lhs} ~~ {r.rhs}")
            elif r.op == "~1":
                if r.lhs in ovi:
                    self.loc.append((g, "nu", ovi[r.lhs], 0))
                else:
                    self.loc.append((g, "al", lvi[r.lhs], 0))
            else:
                raise ValueError(f"unsupported operator {r.op!r}")
        self.free_idx = self.pt["free"].to_numpy() - 1  # -1 = fixed
        self.fixed_val = self.pt["value"].to_numpy()

    # ---------------------------------------------------------------- matrices
    def matrices(self, x: np.ndarray, g: int) -> dict:
        p, m = self.p, self.m
        M = {"L": np.zeros((p, m)), "T": np.zeros((p, p)), "P": np.zeros((m, m)), "B": np.zeros((m, m)),
             "nu": np.zeros(p), "al": np.zeros(m)}
        for k, (gg, mat, i, j) in enumerate(self.loc):
            if gg != g:
                continue
            v = x[self.free_idx[k]] if self.free_idx[k] >= 0 else self.fixed_val[k]
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

    def derivatives(self, x: np.ndarray, g: int):
        """dSigma/dx (q x p x p) and dmu/dx (q x p) for group g (columns of equal parameters summed)."""
        p, m, q = self.p, self.m, self.nfree
        M = self.matrices(x, g)
        A = np.linalg.inv(np.eye(m) - M["B"])
        LA = M["L"] @ A
        C = A @ M["P"] @ A.T @ M["L"].T  # m x p
        Aal = A @ M["al"]
        dS = np.zeros((q, p, p))
        dm = np.zeros((q, p))
        for k, (gg, mat, i, j) in enumerate(self.loc):
            a = self.free_idx[k]
            if gg != g or a < 0:
                continue
            if mat == "L":
                t = np.zeros((p, p))
                t[i, :] = C[j, :]
                dS[a] += t + t.T
                if self.meanstructure:
                    dm[a, i] += Aal[j]
            elif mat == "B":
                dLA = np.outer(LA[:, i], A[j, :])
                t = dLA @ M["P"] @ LA.T
                dS[a] += t + t.T
                if self.meanstructure:
                    dm[a] += dLA @ M["al"]
            elif mat == "P":
                t = np.outer(LA[:, i], LA[:, j])
                dS[a] += t if i == j else t + t.T
            elif mat == "T":
                t = np.zeros((p, p))
                t[i, j] = 1.0
                t[j, i] = 1.0
                dS[a] += t
            elif mat == "nu":
                dm[a, i] += 1.0
            elif mat == "al":
                dm[a] += LA[:, i]
        return dS, dm

    # ---------------------------------------------------------------- start values
    def start(self, groups: list[GroupData]) -> np.ndarray:
        x = np.zeros(self.nfree)
        done = np.zeros(self.nfree, dtype=bool)
        pt = self.pt
        for g in range(self.ngroups):
            gd = groups[g]
            S = gd.cov
            rows = pt.index[pt["group"] == g + 1]
            lam: dict[tuple[str, str], float] = {}
            lvvar: dict[str, float] = {}
            # first principal component of each factor's observed indicators
            for f in self.lv:
                ind = pt.loc[rows][(pt.loc[rows, "op"] == "=~") & (pt.loc[rows, "lhs"] == f)]
                obs = [v for v in ind["rhs"] if v in self.ov]
                if not obs:
                    continue
                idx = [self.ov.index(v) for v in obs]
                sub = S[np.ix_(idx, idx)]
                w, V = np.linalg.eigh(sub)
                l = V[:, -1] * np.sqrt(max(w[-1], 1e-6))
                if l.sum() < 0:
                    l = -l
                first = ind.iloc[0]
                fixed_first = first["free"] == 0 and first["rhs"] in obs
                if fixed_first:
                    l0 = l[obs.index(first["rhs"])]
                    if abs(l0) < 1e-3:
                        l0 = 1e-3
                    scale = l0 / first["value"] if first["value"] else 1.0
                    lvvar[f] = scale ** 2
                    for v, lv_ in zip(obs, l):
                        lam[(f, v)] = lv_ / scale
                else:
                    lvvar[f] = 1.0
                    for v, lv_ in zip(obs, l):
                        lam[(f, v)] = lv_
            for k in rows:
                a = self.free_idx[k]
                if a < 0 or done[a]:
                    continue
                r = pt.loc[k]
                if not pd.isna(r["start"]):
                    x[a] = r["start"]
                elif r["op"] == "=~":
                    x[a] = lam.get((r["lhs"], r["rhs"]), 1.0)
                elif r["op"] == "~~" and r["lhs"] == r["rhs"]:
                    if r["lhs"] in self.ov:
                        x[a] = 0.5 * S[self.ov.index(r["lhs"]), self.ov.index(r["lhs"])]
                    else:
                        x[a] = lvvar.get(r["lhs"], 0.05) * (0.5 if r["lhs"] in self._endo() else 1.0)
                        if r["lhs"] not in lvvar:
                            x[a] = 0.05
                elif r["op"] == "~1" and r["lhs"] in self.ov:
                    x[a] = gd.mean[self.ov.index(r["lhs"])]
                else:
                    x[a] = 0.0
                done[a] = True
        return x

    def _endo(self) -> set:
        """Endogenous latent variables (indicators of another factor or regressed on one)."""
        if getattr(self, "_endo_cache", None) is None:
            pt = self.pt
            e = set(pt.loc[(pt["op"] == "=~") & pt["rhs"].isin(self.lv), "rhs"])
            e |= set(pt.loc[(pt["op"] == "~") & pt["lhs"].isin(self.lv), "lhs"])
            self._endo_cache = e
        return self._endo_cache


# -------------------------------------------------------------------------------------------- objective
def objective(model: Model, x, groups: list[GroupData]) -> float:
    ntot = sum(g.n for g in groups)
    f = 0.0
    for g, gd in enumerate(groups):
        sigma, mu = model.implied(x, g, gd.mean)
        fg = _block_f(gd.blocks, mu, sigma)
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
    p = model.p
    for g, gd in enumerate(groups):
        sigma, mu = model.implied(x, g, gd.mean)
        dS, dm = model.derivatives(x, g)
        wg = gd.n / ntot
        W = np.zeros((p, p))
        v = np.zeros(p)
        for b in gd.blocks:
            o = b.obs
            si = np.linalg.inv(sigma[np.ix_(o, o)])
            d = b.mean - mu[o]
            G = si - si @ (b.cov + np.outer(d, d)) @ si
            w = b.n / gd.n
            W[np.ix_(o, o)] += w * G
            v[o] += w * (-2.0) * (si @ d)
        grad += wg * (dS.reshape(q, -1) @ W.ravel())
        if model.meanstructure:
            grad += wg * (dm @ v)
        if info:
            si = np.linalg.inv(sigma)
            Z = si[None, :, :] @ dS @ si[None, :, :]
            H += wg * (Z.reshape(q, -1) @ dS.reshape(q, -1).T)
            if model.meanstructure:
                H += wg * 2.0 * dm @ si @ dm.T
    return grad, H


def expected_information(model: Model, x, groups: list[GroupData]) -> np.ndarray:
    """Expected (Fisher) information per observation, sum_g N_g/N Delta' W Delta (lavaan's "expected";
    complete data)."""
    return 0.5 * gradient_info(model, x, groups)[1]


def casewise_scores(model: Model, x, gd: GroupData, g: int) -> np.ndarray:
    """Casewise derivatives of the log-likelihood with respect to the free parameters (n x q)."""
    sigma, mu = model.implied(x, g, gd.mean)
    dS, dm = model.derivatives(x, g)
    out = []
    for b in gd.blocks:
        o = b.obs
        si = np.linalg.inv(sigma[np.ix_(o, o)])
        dSo = dS[:, o][:, :, o]
        z = b.y - mu[o]
        u = z @ si
        q = dSo.shape[0]
        flat = dSo.reshape(q, -1)
        uu = (u[:, :, None] * u[:, None, :]).reshape(len(u), -1)
        sc = -0.5 * (flat @ si.ravel())[None, :] + 0.5 * (uu @ flat.T)
        if model.meanstructure:
            sc = sc + u @ dm[:, o].T
        out.append(sc)
    return np.vstack(out)


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


def fit_ml(model: Model, groups: list[GroupData], x0: np.ndarray | None = None, maxit: int = 1000,
           tol: float = 1e-10) -> OptResult:
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

        res = minimize(lambda z: objective(model, z, groups), x,
                       jac=lambda z: gradient_info(model, z, groups, info=False)[0],
                       method="BFGS", options={"gtol": 1e-9, "maxiter": 5000})
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


def delta_in(coords, dS: np.ndarray, dm: np.ndarray) -> np.ndarray:
    """Model Jacobian (moments x q) in the saturated model's coordinates."""
    out = np.empty((len(coords), dS.shape[0]))
    for r, (kind, i, j) in enumerate(coords):
        out[r] = dS[:, i, j] if kind == "cov" else dm[:, i]
    return out


def _tr_basis(A, B, K, L, M, N):
    """tr(A E_a B E_b) for symmetric basis matrices E_a (a = (K, L)) and E_b (b = (M, N))."""
    t = (A[np.ix_(K, N)] * B[np.ix_(L, M)] + A[np.ix_(K, M)] * B[np.ix_(L, N)]
         + A[np.ix_(L, N)] * B[np.ix_(K, M)] + A[np.ix_(L, M)] * B[np.ix_(K, N)])
    return t / np.outer(np.where(K == L, 2.0, 1.0), np.where(M == N, 2.0, 1.0))


def saturated_observed_information(gd: GroupData, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Analytic observed information (per observation) of the unrestricted normal model with missing data.

    Hessian of -logl/N in the coordinates of :func:`saturated_model` (vech of Sigma row-major, then mu):
    per pattern, n_b [tr(P E_a Q E_b)/2 + tr(Q E_a P E_b)/2 - tr(P E_a P E_b)/2] with P = Sigma_oo^-1 and
    Q = P (S_b + d d') P for the covariances, n_b P for the means and n_b P E_a P d for the cross terms.
    """
    p = len(mean)
    iu = np.triu_indices(p)
    nc = len(iu[0])
    cov_id = np.full((p, p), -1)
    cov_id[iu] = np.arange(nc)
    H = np.zeros((nc + p, nc + p))
    for b in gd.blocks:
        o = b.obs
        P = np.linalg.inv(cov[np.ix_(o, o)])
        d = b.mean - mean[o]
        Q = P @ (b.cov + np.outer(d, d)) @ P
        K, L = np.triu_indices(len(o))
        gid = cov_id[o[K], o[L]]
        # tr(A E_a B E_b) is bilinear and equals tr(B E_b A E_a): the three terms collapse into T + T'
        T = _tr_basis(P, Q - 0.5 * P, K, L, K, L)
        hss = 0.5 * (T + T.T)
        Pd = P @ d
        hms = (P[:, K] * Pd[L][None, :] + P[:, L] * Pd[K][None, :]) / np.where(K == L, 2.0, 1.0)[None, :]
        mid = nc + o
        H[np.ix_(gid, gid)] += b.n * hss
        H[np.ix_(mid, mid)] += b.n * P
        H[np.ix_(mid, gid)] += b.n * hms
        H[np.ix_(gid, mid)] += b.n * hms.T
    return H / gd.n


def h1_information_missing(ov: list[str], gd: GroupData):
    """h1 matrices for one group with missing data, at the EM estimates (per observation; cached on ``gd``).

    Returns (coords, Wm, Jm, Wc): observed information of the saturated FIML likelihood (``lavaan``
    ``lav_model_h1_information_observed``), its first-order (outer product of casewise scores) version, and the
    complete-data information at the same moments.
    """
    cached = getattr(gd, "_h1_cache", None)
    if cached is not None:
        return cached
    sat, coords = saturated_model(ov)
    x = saturated_x(coords, gd.mean, gd.cov)
    Wm = saturated_observed_information(gd, gd.mean, gd.cov)
    sc = casewise_scores(sat, x, gd, 0)
    Jm = sc.T @ sc / gd.n
    p = len(ov)
    full = Block(obs=np.arange(p), n=gd.n, y=np.empty((0, p)), mean=gd.mean, cov=gd.cov)
    Wc = saturated_observed_information(GroupData(n=gd.n, blocks=[full], complete=True, mean=gd.mean,
                                                  cov=gd.cov), gd.mean, gd.cov)
    out = (coords, Wm, Jm, Wc)
    gd._h1_cache = out
    return out


def _moment_gradient(model: Model, x, gd: GroupData, g: int, coords) -> np.ndarray:
    """Gradient of the per-observation -logl of group g with respect to the saturated coordinates."""
    sigma, mu = model.implied(x, g, gd.mean)
    p = model.p
    W = np.zeros((p, p))
    v = np.zeros(p)
    for b in gd.blocks:
        o = b.obs
        si = np.linalg.inv(sigma[np.ix_(o, o)])
        d = b.mean - mu[o]
        w = b.n / gd.n
        W[np.ix_(o, o)] += w * (si - si @ (b.cov + np.outer(d, d)) @ si)
        v[o] += w * (-2.0) * (si @ d)
    out = np.empty(len(coords))
    for r, (kind, i, j) in enumerate(coords):
        if kind == "cov":
            out[r] = W[i, i] * 0.5 if i == j else W[i, j]
        else:
            out[r] = 0.5 * v[i]
    return out


def observed_information_analytic(model: Model, x, groups: list[GroupData], h: float = 1e-6) -> np.ndarray:
    """Observed information per observation by the chain rule through the saturated moments.

    Hessian of F/2 = sum_g w_g f_g(m_g(x)): Delta' H_sat Delta + sum_k (df/dm_k) d2 m_k / dx dx', with the
    analytic Hessian H_sat of the unrestricted (FIML) likelihood and the second derivatives of the moments by
    Richardson differences of the analytic Jacobian (cheap: no pass over the data). Equal to
    :func:`observed_information` (lavaan's numerical Hessian) up to ~1e-9.
    """
    ntot = sum(gd.n for gd in groups)
    q = model.nfree
    H = np.zeros((q, q))
    for g, gd in enumerate(groups):
        _, coords = saturated_model(model.ov)
        if not model.meanstructure:
            coords = [c for c in coords if c[0] == "cov"]
        sigma, mu = model.implied(x, g, gd.mean)
        Hs = saturated_observed_information(gd, mu, sigma)
        if not model.meanstructure:
            nc = len(coords)
            Hs = Hs[:nc, :nc]
        gm = _moment_gradient(model, x, gd, g, coords)
        D = delta_in(coords, *model.derivatives(x, g))
        Hg = D.T @ Hs @ D
        second = np.zeros((q, q))
        for j in range(q):
            vals = []
            for s in (-2, -1, 1, 2):
                xx = x.copy()
                xx[j] += s * h
                vals.append(delta_in(coords, *model.derivatives(xx, g)).T @ gm)
            second[:, j] = (vals[0] - 8 * vals[1] + 8 * vals[2] - vals[3]) / (12 * h)
        Hg += (second + second.T) / 2
        H += gd.n / ntot * Hg
    return (H + H.T) / 2
