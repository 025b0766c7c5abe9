"""DWLS estimation of a measurement model of ordinal indicators under the delta parameterisation (the
estimator of lavaan's WLSMV; Muthen, du Toit & Spisic 1997): one group (:func:`dwls_fit`, Gauss-Newton on the
engine's parameters with analytic derivatives) and several groups with threshold and loading constraints
(:class:`MGOrdinal`). The sample statistics they fit are those of :mod:`.ordinal`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ordinal import OrdinalSample
from .samplestats import GroupData

__all__ = ["DWLSResult", "dwls_fit", "reflected", "structural", "MGResult", "MGOrdinal"]


@dataclass
class DWLSResult:
    """A DWLS fit: ``x`` (all free parameters of the engine's model, residual variances set to
    1 - communality), ``th`` (model thresholds), the objective, Delta (Jacobian of the model statistics with
    respect to the estimated parameters: thresholds, then the structural parameters ``par``), and status."""

    x: np.ndarray
    th: np.ndarray
    f: float
    converged: bool
    iterations: int
    par: np.ndarray  # indices (into x) of the estimated structural parameters
    delta: np.ndarray
    est_stats: np.ndarray
    message: str = ""


def structural(model) -> tuple[np.ndarray, np.ndarray]:
    """Free-parameter indices of the model split into residual variances of the indicators (implied by the
    delta parameterisation) and the rest."""
    pt = model.pt
    ovs = set(model.ov)
    resvar = set()
    other = set()
    for k, r in enumerate(pt.itertuples()):
        a = model.free_idx[k]
        if a < 0:
            continue
        if r.op == "~~" and r.lhs == r.rhs and r.lhs in ovs:
            resvar.add(a)
        else:
            other.add(a)
    if resvar & other:
        raise ValueError(
            "an indicator's residual variance is constrained equal to another parameter; not "
            "possible under the delta parameterisation"
        )
    return np.array(sorted(resvar), dtype=int), np.array(sorted(other), dtype=int)


def _resvar_rows(model) -> list[tuple[int, int]]:
    """(free index, indicator index) of each free residual variance (one group)."""
    return _resvar_rows_group(model, 0)


def _with_resvar(model, x: np.ndarray) -> np.ndarray:
    """Set the indicators' residual variances so that the implied latent-response variances are 1."""
    x = x.copy()
    rv = _resvar_rows(model)
    if rv:
        for a, _ in rv:
            x[a] = 0.0
        sigma, _ = model.implied(x, 0)
        for a, i in rv:
            x[a] = 1.0 - sigma[i, i]
    return x


def dwls_fit(model, sample: OrdinalSample, x0: np.ndarray, maxit: int = 500, tol: float = 1e-10) -> DWLSResult:
    """Minimise F = sum_k w_k (s_k - sigma_k(theta))^2, w = 1 / diag(Gamma), by Gauss-Newton with step halving.

    ``model`` is an engine :class:`~compval.sem.engine.Model` of one group without mean structure; its
    indicators' residual variances are not estimated (delta parameterisation: they are 1 minus the
    communality). Thresholds are free parameters (one per threshold), so the threshold part of the
    discrepancy is saturated.
    """
    _, par = structural(model)
    w = 1.0 / np.diag(sample.gamma)
    nth = sample.nth
    pi_, pj_ = sample.pair_i, sample.pair_j
    w_r = w[nth:]
    r_obs = sample.wls_obs[nth:]

    def resid(x):
        sigma, _ = model.implied(x, 0)
        return r_obs - sigma[pi_, pj_]

    def jac(x):
        dS, _ = model.derivatives(x, 0)
        return dS[par][:, pi_, pj_].T  # pstar x npar

    x = _with_resvar(model, np.asarray(x0, dtype=float))
    e = resid(x)
    f = float(np.sum(w_r * e * e))
    converged = False
    it = 0
    msg = ""
    for it in range(1, maxit + 1):
        J = jac(x)
        H = J.T @ (w_r[:, None] * J)
        g = J.T @ (w_r * e)
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        t = 1.0
        improved = False
        for _ in range(30):
            xn = x.copy()
            xn[par] = x[par] + t * step
            xn = _with_resvar(model, xn)
            en = resid(xn)
            fn = float(np.sum(w_r * en * en))
            if np.isfinite(fn) and fn <= f + 1e-15 * max(1.0, f):
                improved = True
                break
            t /= 2
        if not improved:
            msg = "no decrease of the DWLS objective along the Gauss-Newton direction"
            converged = float(np.max(np.abs(g))) < 1e-6
            break
        dx = float(np.max(np.abs(xn[par] - x[par])))
        x, e, fold, f = xn, en, f, fn
        if dx < tol or abs(fold - f) < tol * 1e-3 * max(1.0, f):
            converged = True
            break
    else:
        msg = f"no convergence in {maxit} iterations"
    th = sample.th.copy()
    p_th = len(th)
    J = jac(x)
    q = len(par)
    delta = np.zeros((p_th + len(pi_), p_th + q))
    delta[:p_th, :p_th] = np.eye(p_th)
    delta[p_th:, p_th:] = J
    sigma, _ = model.implied(x, 0)
    est = np.concatenate([th, sigma[pi_, pj_]])
    # objective with the saturated threshold part (exactly zero residuals there)
    return DWLSResult(
        x=x, th=th, f=f, converged=converged, iterations=it, par=par, delta=delta, est_stats=est, message=msg
    )


def reflected(model, sample: OrdinalSample, res: DWLSResult, x: np.ndarray) -> DWLSResult:
    """The same solution with some factors reflected (``x``, equivalent): Delta recomputed, fit unchanged."""
    if np.array_equal(x, res.x):
        return res
    dS, _ = model.derivatives(x, 0)
    delta = res.delta.copy()
    nth = sample.nth
    delta[nth:, nth:] = dS[res.par][:, sample.pair_i, sample.pair_j].T
    return DWLSResult(
        x=x,
        th=res.th,
        f=res.f,
        converged=res.converged,
        iterations=res.iterations,
        par=res.par,
        delta=delta,
        est_stats=res.est_stats,
        message=res.message,
    )


# ============================================================================================ multiple groups
@dataclass
class MGResult:
    """A multi-group DWLS fit (delta parameterisation). ``z`` is the estimated parameter vector
    (structural parameters, thresholds, scale factors, latent means); ``x`` the engine's parameters (residual
    variances implied) per the last group; ``parts`` the per-group unpacked values; ``jac`` the per-group
    Jacobians of the model statistics with respect to ``z``."""

    z: np.ndarray
    f: float
    converged: bool
    message: str
    groups: list
    jac: list
    est: list


class MGOrdinal:
    """Multi-group ordinal measurement model as lavaan builds it for ``cfa(..., ordered = TRUE, group = g,
    estimator = "WLSMV", group.equal = ...)`` (delta parameterisation, marker identification):

    * per group: loadings, factor (co)variances and thresholds; intercepts 0; the indicators' residual
      variances implied (``1/delta^2 - communality``);
    * with equal thresholds (``"thresholds"`` in ``group_equal``): the scale factors delta and the latent means
      are free in groups 2..G (fixed at 1 and 0 in group 1); otherwise delta = 1 and means 0 in every group;
    * model statistics of group g: thresholds ``delta_i (tau_ik - (Lambda alpha_g)_i)`` and correlations
      ``delta_i delta_j (Lambda Psi Lambda')_ij``.

    ``model`` is the engine :class:`~compval.sem.engine.Model` with ``ngroups = G`` (its ``group_equal`` carries
    the loading constraints).
    """

    def __init__(self, model, samples: list, eq_thresholds: bool):
        self.model = model
        self.samples = samples
        self.G = len(samples)
        self.eq_thresholds = eq_thresholds
        _, self.par = structural(model)
        k = len(self.par)
        self.th_index: list = []
        nth = samples[0].nth  # the same categories in every group (checked by the caller)
        for g in range(self.G):
            if eq_thresholds and g > 0:
                self.th_index.append(self.th_index[0])
            else:
                self.th_index.append(np.arange(k, k + nth))
                k += nth
        p, m = model.p, model.m
        self.scale_index, self.mean_index = [], []
        for g in range(self.G):
            if eq_thresholds and g > 0:
                self.scale_index.append(np.arange(k, k + p))
                k += p
                self.mean_index.append(np.arange(k, k + m))
                k += m
            else:
                self.scale_index.append(np.full(p, -1))
                self.mean_index.append(np.full(m, -1))
        self.nz = k
        self._resvar = [_resvar_rows_group(model, g) for g in range(self.G)]

    def unpack(self, z: np.ndarray, g: int):
        """(x, thresholds, scales, means) of group g; x has the group's residual variances implied."""
        m = self.model
        x = np.zeros(m.nfree)
        x[self.par] = z[: len(self.par)]
        th = z[self.th_index[g]]
        si, mi = self.scale_index[g], self.mean_index[g]
        scales = np.where(si >= 0, z[np.clip(si, 0, None)], 1.0)
        means = np.where(mi >= 0, z[np.clip(mi, 0, None)], 0.0)
        M = m.matrices(x, g)
        A = np.linalg.inv(np.eye(m.m) - M["B"])
        LA = M["L"] @ A
        C = LA @ M["P"] @ LA.T
        for a, i in self._resvar[g]:
            x[a] = 1.0 / scales[i] ** 2 - C[i, i]
        return x, th, scales, means, C, LA

    def stats(self, z: np.ndarray, g: int) -> np.ndarray:
        s = self.samples[g]
        _, th, scales, means, C, LA = self.unpack(z, g)
        shift = LA @ means
        th_star = scales[s.th_var] * (th - shift[s.th_var])
        corr = scales[s.pair_i] * scales[s.pair_j] * C[s.pair_i, s.pair_j]
        return np.concatenate([th_star, corr])

    def jacobian(self, z: np.ndarray, g: int, h: float = 1e-6) -> np.ndarray:
        """d stats_g / dz by central differences (the statistics are smooth polynomials in z)."""
        J = np.empty((len(self.samples[g].wls_obs), self.nz))
        for k in range(self.nz):
            zp, zm = z.copy(), z.copy()
            zp[k] += h
            zm[k] -= h
            J[:, k] = (self.stats(zp, g) - self.stats(zm, g)) / (2 * h)
        return J

    def start(self) -> np.ndarray:
        m = self.model
        gds = [GroupData(n=s.n, blocks=[], complete=True, mean=np.zeros(m.p), cov=s.cor) for s in self.samples]
        x0 = m.start(gds)
        z = np.zeros(self.nz)
        z[: len(self.par)] = x0[self.par]
        for g, s in enumerate(self.samples):
            if not (self.eq_thresholds and g > 0):
                z[self.th_index[g]] = s.th
            si = self.scale_index[g]
            z[si[si >= 0]] = 1.0
        return z

    def fit(self, maxit: int = 200, tol: float = 1e-9) -> MGResult:
        """Minimise T(z) = sum_g (N_g - 1) sum_k w_gk (s_gk - sigma_gk(z))^2 (lavaan's multi-group DWLS) by
        Gauss-Newton with step halving."""
        c = np.array([s.n - 1 for s in self.samples], dtype=float)
        ws = [1.0 / np.diag(s.gamma) for s in self.samples]

        def objective(z):
            return float(
                sum(c[g] * np.sum(ws[g] * (s.wls_obs - self.stats(z, g)) ** 2) for g, s in enumerate(self.samples))
            )

        z = self.start()
        f = objective(z)
        converged, msg = False, ""
        for _ in range(maxit):
            H = np.zeros((self.nz, self.nz))
            grad = np.zeros(self.nz)
            for g, s in enumerate(self.samples):
                J = self.jacobian(z, g)
                e = s.wls_obs - self.stats(z, g)
                H += c[g] * J.T @ (ws[g][:, None] * J)
                grad += c[g] * J.T @ (ws[g] * e)
            try:
                step = np.linalg.solve(H, grad)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(H, grad, rcond=None)[0]
            t = 1.0
            for _ in range(30):
                zn = z + t * step
                fn = objective(zn)
                if np.isfinite(fn) and fn <= f + 1e-12 * max(1.0, f):
                    break
                t /= 2
            else:
                msg = "no decrease of the DWLS objective along the Gauss-Newton direction"
                converged = float(np.max(np.abs(grad))) < 1e-6 * max(1.0, c.max())
                break
            dz = float(np.max(np.abs(zn - z)))
            z, f = zn, fn
            if dz < tol:
                converged = True
                break
        else:
            msg = f"no convergence in {maxit} iterations"
        jac = [self.jacobian(z, g) for g in range(self.G)]
        est = [self.stats(z, g) for g in range(self.G)]
        return MGResult(
            z=z,
            f=f,
            converged=converged,
            message=msg,
            groups=[self.unpack(z, g) for g in range(self.G)],
            jac=jac,
            est=est,
        )


def _resvar_rows_group(model, g: int) -> list[tuple[int, int]]:
    """(free index, indicator index) of the free residual variances of group g (0-based)."""
    out = []
    for k, r in enumerate(model.pt.itertuples()):
        a = model.free_idx[k]
        if a >= 0 and r.group == g + 1 and r.op == "~~" and r.lhs == r.rhs and r.lhs in model.ov:
            out.append((a, model.ov.index(r.lhs)))
    return out
