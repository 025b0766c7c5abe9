"""Factor extraction as ``psych::fa``: minres, maximum likelihood and iterated principal axis, then rotation,
reflection and ordering of the factors (:func:`fa`), with the array-only entry points :func:`minres`,
:func:`fa_loadings` and :func:`extract` for callers that fit many small models."""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .correlation import as_corr, eig_desc, smc, smc_stack
from .rotation import ROTATIONS, rotate

__all__ = [
    "METHODS",
    "extract",
    "minres",
    "FactorSolution",
    "fa_loadings",
    "unrotated_loadings",
    "unrotated_loadings_stack",
    "minres_stack",
    "reflect_and_order",
    "fa",
]

_EPS = np.finfo(float).eps
METHODS = ("minres", "ml", "pa")


@functools.lru_cache(maxsize=32)
def _lower_triangle(p: int) -> tuple[np.ndarray, np.ndarray]:
    # indices of the strict lower triangle, built once per size (the objective is called thousands of times)
    return np.tril_indices(p, -1)


def _minres_fn_gr(psi, s, nf, unit_diagonal, diag_s):
    """psych's minres objective and gradient for a stack of problems at once (one call per optimiser step).

    ``psi`` is b x p (uniquenesses), ``s`` b x p x p (correlation matrices), ``unit_diagonal`` b booleans and
    ``diag_s`` b x p (``diag(s)``); returns (b objectives, b x p gradients). The objective is ``fac()``'s
    ``fit.residuals(fm = "minres")`` (squared residuals of the lower triangle of ``s`` with ``1 - psi`` on the
    diagonal), the gradient psych's ``FAgr.minres`` (used as is so that optim follows the same path; from the
    eigen-decomposition of ``s - diag(psi)``). With ``diag(s) == 1`` exactly (``unit_diagonal``) the two
    matrices are the same numbers, so one ``eigh`` serves both; otherwise the gradient's matrix gets its own.
    Either way the values are those of the two functions evaluated separately for each matrix, bit for bit:
    the stacked ``eigh`` and matrix products are LAPACK's / BLAS's matrix by matrix, and each objective is the
    sum of one contiguous row (numpy's pairwise summation, as for a single matrix).
    """
    b, p, _ = s.shape
    d = np.arange(p)
    m = s.copy()
    m[:, d, d] = 1 - psi
    w, v = np.linalg.eigh(m)
    top, vecs = w[:, : -nf - 1 : -1], v[:, :, : -nf - 1 : -1]  # the nf largest, decreasing (R's eigen)
    top_g, vecs_g = top.copy(), vecs.copy()
    other = ~np.asarray(unit_diagonal, dtype=bool)
    if other.any():
        g = s[other].copy()
        g[:, d, d] -= psi[other]
        w, v = np.linalg.eigh(g)
        top_g[other], vecs_g[other] = w[:, : -nf - 1 : -1], v[:, :, : -nf - 1 : -1]
    load_g = vecs_g * np.sqrt(np.maximum(top_g, 0))[:, None, :]
    load = vecs * np.sqrt(np.where(top < _EPS, 100 * _EPS, top))[:, None, :]
    lo, hi = _lower_triangle(p)
    res = np.ascontiguousarray((m - load @ load.transpose(0, 2, 1))[:, lo, hi])
    return (res**2).sum(axis=1), (load_g**2).sum(axis=2) + psi - diag_s


def _ml_fn(psi, s, nf):
    # psych fac(): FAfn
    sc = 1 / np.sqrt(psi)
    e = np.sort(np.linalg.eigvalsh(s * np.outer(sc, sc)))[::-1][nf:]
    return float(-(np.sum(np.log(e) - e) - nf + s.shape[0]))


def _ml_gr(psi, s, nf):
    # psych fac(): FAgr
    sc = 1 / np.sqrt(psi)
    vals, vecs = eig_desc(s * np.outer(sc, sc))
    load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1, 0))
    load = np.sqrt(psi)[:, None] * load
    g = (load**2).sum(axis=1) + psi - np.diag(s)
    return g / psi**2


def _r_lbfgsb(fn, gr, start, args, lower, upper, parscale=0.01, maxit=100):
    """R's optim(method = "L-BFGS-B") with parscale, factr = 1e7, pgtol = 0, lmm = 5, maxit = 100.

    ``gr=None``: ``fn`` returns (objective, gradient) in one call (scipy's ``jac=True``; same evaluation points).
    """
    ps = np.full(len(start), parscale)

    def f(y):
        return fn(y * ps, *args)

    def g(y):
        return gr(y * ps, *args) * ps

    def fg(y):
        value, grad = fn(y * ps, *args)
        return value, grad * ps

    from scipy import optimize  # here: the processes that only read compval.efa's correlations skip it

    bounds = list(zip(np.full(len(start), lower) / ps, np.full(len(start), upper) / ps))
    res = optimize.minimize(
        f if gr is not None else fg,
        np.asarray(start) / ps,
        jac=g if gr is not None else True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxcor": 5, "ftol": 1e7 * _EPS, "gtol": 0.0, "maxiter": maxit},
    )
    return res.x * ps, res


# scipy >= 1.15's L-BFGS-B (C translation of the Fortran code) in reverse communication; older versions (another
# signature) run each problem through scipy.optimize.minimize instead (same steps, slower)
_SETULB_SIGNATURE = "setulb(m,x,l,u,nbd,f,g,factr,pgtol,wa,iwa,task,lsave,isave,dsave,maxls,ln_task)"


def _setulb():
    """scipy's L-BFGS-B routine ``setulb`` when it has the signature :func:`_r_lbfgsb_batch` drives, else None."""
    try:
        from scipy.optimize import _lbfgsb
    except ImportError:
        return None
    doc = (getattr(_lbfgsb.setulb, "__doc__", "") or "").strip()
    return _lbfgsb.setulb if doc.startswith(_SETULB_SIGNATURE) else None


def _r_lbfgsb_batch(fg, starts, lower, upper, parscale=0.01, maxit=100, maxcor=5, maxls=20):
    """:func:`_r_lbfgsb` (``fn`` returning objective and gradient) for b problems at once, in lockstep.

    Each problem has its own L-BFGS-B state and takes exactly the steps that ``scipy.optimize.minimize(method =
    "L-BFGS-B")`` takes for it alone (same start clipped to the bounds, same bounds, ``factr``, ``pgtol``, ``m``,
    ``maxls``, iteration limit and stopping rule, the same routine ``setulb``); only the evaluations are
    gathered: whenever some problems ask for the objective at a new point, ``fg(psi, idx)`` evaluates all of
    them in one call (``psi`` k x n, unscaled; ``idx`` the problems' positions) and returns (k objectives,
    k x n gradients). That is what makes the many small minres fits of a bootstrap cheap: one stacked
    eigen-decomposition per step instead of one per problem and step, and none of ``minimize``'s per-call
    bookkeeping.

    Parameters
    ----------
    fg : callable
        ``fg(psi, idx) -> (f, g)`` as above.
    starts : ndarray
        b x n starting values (unscaled).
    lower : float
        Common lower bound.
    upper : array of float
        Upper bound of each problem.
    parscale, maxit, maxcor, maxls
        R's ``parscale`` and ``maxit``; L-BFGS-B's memory and line-search limit (scipy's defaults).

    Returns
    -------
    tuple
        b x n solutions (unscaled), b objectives, b iteration counts and b convergence flags (L-BFGS-B's
        "CONVERGENCE", as ``minimize``'s ``success``).
    """
    starts = np.asarray(starts, dtype=float)
    b, n = starts.shape
    setulb = _setulb()
    if setulb is None:  # older scipy: one problem at a time through minimize, the same steps
        out = [
            _r_lbfgsb(
                lambda psi, k=k: _first(fg(psi[None], [k])), None, starts[k], (), lower, upper[k], parscale, maxit
            )
            for k in range(b)
        ]
        return (
            np.stack([x for x, _ in out]),
            np.array([r.fun for _, r in out]),
            np.array([r.nit for _, r in out]),
            np.array([r.success for _, r in out]),
        )
    ps = np.full(n, parscale)
    lo = np.full(n, lower) / ps
    nbd = np.full(n, 2, dtype=np.int32)  # both bounds
    factr = 1e7 * _EPS / _EPS  # minimize's ftol / eps, as _r_lbfgsb passes it
    state = []
    for k in range(b):
        up = np.full(n, upper[k]) / ps
        state.append(
            {
                "x": np.clip(starts[k] / ps, lo, up),
                "up": up,
                "f": 0.0,
                "g": np.zeros(n),
                "wa": np.zeros(2 * maxcor * n + 5 * n + 11 * maxcor * maxcor + 8 * maxcor),
                "iwa": np.zeros(3 * n, dtype=np.int32),
                "task": np.zeros(2, dtype=np.int32),
                "ln_task": np.zeros(2, dtype=np.int32),
                "lsave": np.zeros(4, dtype=np.int32),
                "isave": np.zeros(44, dtype=np.int32),
                "dsave": np.zeros(29),
                "nit": 0,
            }
        )
    active = list(range(b))
    while active:
        want = []
        for k in active:
            st = state[k]
            while True:
                setulb(maxcor, st["x"], lo, st["up"], nbd, st["f"], st["g"], factr, 0.0, st["wa"], st["iwa"],
                       st["task"], st["lsave"], st["isave"], st["dsave"], maxls, st["ln_task"])  # fmt: skip
                task = st["task"][0]
                if task == 3:  # FG: objective and gradient wanted at x
                    want.append(k)
                    break
                if task != 1:  # CONVERGENCE, STOP, WARNING, ERROR, ABNORMAL: done
                    break
                st["nit"] += 1  # NEW_X: an iteration is complete
                if st["nit"] >= maxit:
                    st["task"][:] = (5, 504)  # STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT, as minimize
        if want:
            f, g = fg(np.stack([state[k]["x"] for k in want]) * ps, want)
            g = g * ps
            for i, k in enumerate(want):
                state[k]["f"], state[k]["g"] = float(f[i]), g[i].copy()
        active = want
    return (
        np.stack([st["x"] for st in state]) * ps,
        np.array([st["f"] for st in state]),
        np.array([st["nit"] for st in state]),
        np.array([st["task"][0] == 4 for st in state]),
    )


def _first(fg_value):
    """(objective, gradient) of the one problem of a stacked evaluation."""
    f, g = fg_value
    return float(f[0]), g[0]


def minres_stack(ms: np.ndarray, nf: int) -> tuple[np.ndarray, dict]:
    """psych's minres for a stack of correlation matrices (b x p x p, checked and rescaled by the caller).

    The extraction step of :func:`extract` (``method="minres"``) for every matrix at once: SMC starts, psych's
    objective and gradient (:func:`_minres_fn_gr`) and L-BFGS-B settings, every problem with its own optimiser
    state (:func:`_r_lbfgsb_batch`), then the loadings from the eigen-decomposition of each matrix with
    ``1 - psi`` on the diagonal, columns reflected to positive sums and exact zeros set to 1e-15. The numbers
    are those of :func:`extract` matrix by matrix, bit for bit (tests/test_efa.py); a stack costs about as much
    as one fit, because each optimiser step decomposes all matrices in one stacked call.

    Returns
    -------
    tuple
        Loadings (b x p x nf) and a dict of arrays ``converged``, ``iterations``, ``objective``.

    Raises
    ------
    numpy.linalg.LinAlgError
        An eigen-decomposition or SVD of some matrix failed (callers may then fit the matrices one at a time).
    """
    ms = np.asarray(ms, dtype=float)
    b, p, _ = ms.shape
    start_smc = smc_stack(ms)
    diag = np.diagonal(ms, axis1=1, axis2=2).copy()
    upper = np.maximum(start_smc.max(axis=1), 1.0)
    unit = np.all(diag == 1.0, axis=1)  # objective and gradient from one eigh (see _minres_fn_gr)
    psi, fun, nit, conv = _r_lbfgsb_batch(
        lambda x, idx: _minres_fn_gr(x, ms[idx], nf, unit[idx], diag[idx]), diag - start_smc, 0.005, upper
    )
    d = np.arange(p)
    red = ms.copy()
    red[:, d, d] = diag - psi
    vals, vecs = np.linalg.eigh(red)
    vals, vecs = vals[:, : -nf - 1 : -1], vecs[:, :, : -nf - 1 : -1]  # R's eigen: decreasing
    load = vecs * np.sqrt(np.maximum(vals, 0))[:, None, :]
    signs = np.sign(load.sum(axis=1))
    signs[signs == 0] = 1
    load = load * signs[:, None, :]
    load[load == 0] = 1e-15
    return load, {"converged": conv, "iterations": nit, "objective": fun}


def extract(m: np.ndarray, nf: int, method: str, max_iter: int = 50, min_err: float = 0.001):
    """Unrotated loadings as ``psych::fac``: the extraction step of :func:`fa` on a correlation matrix.

    Parameters
    ----------
    m : array
        Correlation matrix (no input checks).
    nf : int
        Number of factors.
    method : {"minres", "ml", "pa"}
    max_iter, min_err : int, float
        Iteration limit and convergence criterion of ``"pa"`` (psych's ``max.iter`` and ``min.err``).

    Returns
    -------
    tuple
        Loadings (p x nf array, columns reflected to positive sums, exact zeros set to 1e-15) and a dict of
        optimiser information (``converged``, ``iterations``; for minres and ml also ``objective``, for ml
        ``message``).
    """
    if method == "minres":  # the stacked fit of one matrix (the same numbers)
        load, fit = minres_stack(m[None], nf)
        return load[0], {k: v[0].item() for k, v in fit.items()}
    start_smc = smc(m)
    info: dict = {}
    if method == "ml":
        upper = max(start_smc.max(), 1.0)
        start = np.diag(m) - start_smc
        psi, res = _r_lbfgsb(_ml_fn, _ml_gr, start, (m, nf), 0.005, upper)
        sc = 1 / np.sqrt(psi)
        vals, vecs = eig_desc(m * np.outer(sc, sc))
        load = np.sqrt(psi)[:, None] * (vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1, 0)))
        info.update(
            converged=bool(res.success), iterations=int(res.nit), objective=float(res.fun), message=str(res.message)
        )
    elif method == "pa":
        red = m.copy()
        np.fill_diagonal(red, start_smc)
        comm = float(np.trace(red))
        err, i = comm, 1
        while err > min_err:
            vals, vecs = eig_desc(red)
            with np.errstate(invalid="ignore"):
                load = vecs[:, :nf] * np.sqrt(vals[:nf])
            new = (load**2).sum(axis=1)
            comm1 = float(new.sum())
            np.fill_diagonal(red, new)
            err = abs(comm - comm1)
            if np.isnan(err):
                raise FloatingPointError("imaginary eigenvalue in principal axis iterations (psych: SMC=FALSE)")
            comm = comm1
            i += 1
            if i > max_iter:
                err = 0.0
        info.update(converged=i <= max_iter, iterations=i - 1)
    else:
        raise ValueError(f"unknown extraction method {method!r}; use one of {METHODS}")
    signs = np.sign(load.sum(axis=0))
    signs[signs == 0] = 1
    load = load * signs
    load[load == 0] = 1e-15
    return load, info


def minres(r, nfactors: int) -> dict:
    """Unrotated minres factor analysis, as ``psych::fa(r, nfactors, fm = "minres", rotate = "none")``.

    Minres (Harman & Jones 1966) exactly as psych 2.2.9 fits it: uniquenesses psi start at 1 - SMC and
    minimise the sum of squared lower-triangle residuals (``fit.residuals``) with psych's gradient
    ``FAgr.minres`` and ``optim(method = "L-BFGS-B", lower = 0.005, upper = max(smc, 1),
    control = list(parscale = 0.01))`` with optim's defaults (lmm = 5, factr = 1e7, pgtol = 0,
    maxit = 100; scipy's L-BFGS-B is the same Fortran code); loadings from the eigen-decomposition of R
    with 1 - psi on the diagonal, each column reflected to a positive sum, exact zeros set to 1e-15.
    This is the extraction step of :func:`fa` (``method="minres"``) without rotation or tables; it
    is cheap enough to be called inside bootstrap loops (used by :mod:`compval.reliability`).

    Parameters
    ----------
    r : DataFrame or array
        Correlation matrix (rescaled with ``cov2cor``); missing values raise a ValueError.
    nfactors : int

    Returns
    -------
    dict
        ``loadings`` (p x nfactors array), ``communality`` (row sums of squared loadings),
        ``converged``, ``iterations``, ``objective``, ``message`` (from the optimiser).
    """
    m, _ = as_corr(r)
    load, info = extract(m, int(nfactors), "minres")
    return {"loadings": load, "communality": (load**2).sum(axis=1), **info}


@dataclass(frozen=True)
class FactorSolution:
    """An EFA solution, with factors ordered and reflected as psych::fa.

    Attributes
    ----------
    loadings : DataFrame
        Pattern loadings (items x factors; factor labels ``F1``... in psych's order).
    structure : DataFrame
        Structure matrix ``loadings @ phi``.
    phi : DataFrame
        Factor correlations (identity for orthogonal or unrotated solutions).
    communalities : Series
        ``diag(L0 L0')`` of the unrotated loadings (psych ``$communality``).
    uniquenesses : Series
        ``1 - communality`` (psych ``$uniquenesses``).
    variance : DataFrame
        psych's ``Vaccounted``: rows per factor with ``ss_loadings``, ``proportion_var``, ``cumulative_var``,
        ``proportion_explained``, ``cumulative_proportion``.
    unrotated : DataFrame
        Loadings before rotation.
    method, rotation : str
    n_obs : int or None
    info : dict
        Optimiser information (convergence, iterations, objective).
    """

    loadings: pd.DataFrame
    structure: pd.DataFrame
    phi: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    variance: pd.DataFrame
    unrotated: pd.DataFrame
    method: str
    rotation: str
    n_obs: int | None = None
    info: dict = field(default_factory=dict)

    @property
    def n_factors(self) -> int:
        return self.loadings.shape[1]

    def loadings_table(self) -> pd.DataFrame:
        """Tidy loadings: item, factor, loading, structure."""
        t = self.loadings.rename_axis("item").reset_index().melt("item", var_name="factor", value_name="loading")
        s = self.structure.rename_axis("item").reset_index().melt("item", var_name="factor", value_name="structure")
        return t.merge(s, on=["item", "factor"])


def _fa_fit(m: np.ndarray, n_factors: int, method: str, rotation: str, max_iter: int = 50, limit_threads: bool = True):
    """Numbers of :func:`fa` for a correlation matrix: (unrotated L0, info, pattern L, Phi, ss loadings)."""
    if not 1 <= n_factors <= m.shape[0]:
        raise ValueError(f"n_factors must be between 1 and {m.shape[0]}")
    if rotation not in ROTATIONS:
        raise ValueError(f"unknown rotation {rotation!r}; use one of {ROTATIONS}")
    # small matrices: threading only adds overhead (limit_threads=False when the caller already limits)
    with threadpool_limits(limits=1, user_api="blas") if limit_threads else contextlib.nullcontext():
        L0, info = extract(m, n_factors, method, max_iter=max_iter)
    L, phi_m, ev = reflect_and_order(*rotate(L0, rotation if n_factors > 1 else "none"))
    return L0, info, L, phi_m, ev


def reflect_and_order(L: np.ndarray, phi: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """psych's last steps of ``fa`` on rotated loadings: (pattern, Phi, variance accounted for).

    Each factor is reflected to a positive column sum (Phi with it) and the factors are ordered by decreasing
    ``diag(Phi L'L)`` (stable order); ``phi=None`` (orthogonal or unrotated) stands for the identity.
    """
    signs = np.sign(L.sum(axis=0))
    signs[signs == 0] = 1
    L = L * signs
    if phi is not None:
        phi = phi * np.outer(signs, signs)
    k = L.shape[1]
    phi_m = np.eye(k) if phi is None else phi
    ev = np.diag(phi_m @ L.T @ L)
    if k > 1:
        order = np.argsort(-ev, kind="stable")
        L, phi_m, ev = L[:, order], phi_m[np.ix_(order, order)], ev[order]
    return L, phi_m, ev


def unrotated_loadings(r, n_factors: int, method: str = "minres", max_iter: int = 50) -> np.ndarray:
    """The unrotated loadings behind :func:`fa_loadings` (same checks, without limiting BLAS threads).

    For callers that rotate many solutions at once (the omega bootstrap: :func:`compval.efa.varimax_batch`,
    then :func:`reflect_and_order` per matrix gives ``fa_loadings(r, n_factors, method, "varimax")[0]``).
    """
    m, _ = as_corr(r)
    n_factors = int(n_factors)
    if not 1 <= n_factors <= m.shape[0]:
        raise ValueError(f"n_factors must be between 1 and {m.shape[0]}")
    return extract(m, n_factors, method, max_iter=max_iter)[0]


def unrotated_loadings_stack(rs: np.ndarray, n_factors: int) -> np.ndarray:
    """:func:`unrotated_loadings` (minres) of every matrix of a stack (b x p x p) at once: b x p x n_factors.

    The matrices are checked and rescaled as one at a time (``cov2cor``; a matrix with missing values raises
    a ValueError for the stack) and fitted together by :func:`minres_stack`, which gives each matrix's
    numbers of :func:`unrotated_loadings` bit for bit at a fraction of the cost (the omega bootstrap's
    Schmid-Leiman fits). A failed decomposition raises ``numpy.linalg.LinAlgError`` for the whole stack.
    """
    ms = np.stack([as_corr(r)[0] for r in rs])
    n_factors = int(n_factors)
    if not 1 <= n_factors <= ms.shape[1]:
        raise ValueError(f"n_factors must be between 1 and {ms.shape[1]}")
    return minres_stack(ms, n_factors)[0]


def fa_loadings(
    r, n_factors: int, method: str = "minres", rotation: str = "oblimin", max_iter: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Rotated pattern loadings and factor correlations of :func:`fa`, as plain arrays (pattern, Phi).

    Same computation, reflection and ordering as :func:`fa` (``psych::fa(r, nfactors, fm, rotate)``)
    without the tables and without limiting BLAS threads, for callers that fit many small models
    (bootstrap loops; :mod:`compval.reliability` uses it for psych's ``schmid``).  Phi is the identity
    for orthogonal and unrotated solutions.
    """
    m, _ = as_corr(r)
    _, _, L, phi_m, _ = _fa_fit(m, int(n_factors), method, rotation, max_iter, limit_threads=False)
    return L, phi_m


def fa(
    r,
    n_factors: int,
    method: str = "minres",
    rotation: str = "oblimin",
    n_obs: int | None = None,
    max_iter: int = 50,
) -> FactorSolution:
    """Exploratory factor analysis of a correlation matrix, as ``psych::fa(r, nfactors, fm, rotate)``.

    Extraction: ``"minres"`` (Harman & Jones 1966; psych's L-BFGS-B on the lower-triangle residuals started
    at 1 - SMC), ``"ml"`` (Joreskog 1967; psych's ``FAfn``/``FAgr``), ``"pa"`` (principal axis with
    iterated communalities from SMCs, stopping when the sum of communalities changes by < .001 or after
    ``max_iter`` iterations, as psych).  Rotation: see :func:`rotate`.  After rotation each factor is
    reflected to a positive column sum and the factors are ordered by decreasing ``diag(Phi L'L)``
    (variance accounted for), as psych.

    Parameters
    ----------
    r : DataFrame or array
        Correlation matrix.
    n_factors : int
    method : {"minres", "ml", "pa"}
    rotation : {"oblimin", "promax", "geomin", "varimax", "none"}
    n_obs : int, optional
        Stored for reference only.
    """
    m, names = as_corr(r)
    L0, info, L, phi_m, ev = _fa_fit(m, n_factors, method, rotation, max_iter)
    k = n_factors
    labels = [f"F{i + 1}" for i in range(k)]
    h2 = (L0**2).sum(axis=1)
    vtotal = float(np.sum(h2 + (np.diag(m) - h2)))
    variance = pd.DataFrame(
        {
            "factor": labels,
            "ss_loadings": ev,
            "proportion_var": ev / vtotal,
            "cumulative_var": np.cumsum(ev / vtotal),
            "proportion_explained": ev / ev.sum(),
            "cumulative_proportion": np.cumsum(ev / ev.sum()),
        }
    )
    return FactorSolution(
        loadings=pd.DataFrame(L, index=names, columns=labels),
        structure=pd.DataFrame(L @ phi_m, index=names, columns=labels),
        phi=pd.DataFrame(phi_m, index=labels, columns=labels),
        communalities=pd.Series(h2, index=names, name="communality"),
        uniquenesses=pd.Series(np.diag(m) - h2, index=names, name="uniqueness"),
        variance=variance,
        unrotated=pd.DataFrame(L0, index=names, columns=labels),
        method=method,
        rotation=rotation,
        n_obs=n_obs,
        info=info,
    )
