"""Rotations of a loading matrix as psych::fa calls them: ``factor_analyzer.Rotator`` or its arithmetic.

oblimin (``GPArotation::oblimin``, gamma = 0), promax (``psych::kaiser(rotate = "Promax")``), geomin
(``GPArotation::geominQ``), varimax (``stats::varimax``) and none; see the package docstring
(:mod:`compval.efa`) for what factor_analyzer is used for and where it had to be worked around.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["ROTATIONS", "varimax", "varimax_batch", "oblimin", "oblimin_batch", "rotate"]

ROTATIONS = ("oblimin", "promax", "geomin", "varimax", "none")


def _rotator_class():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        from factor_analyzer.rotator import Rotator
    return Rotator


def varimax(loadings: np.ndarray, normalize: bool = True, eps: float = 1e-5, max_iter: int = 1000) -> np.ndarray:
    """Varimax rotation (Kaiser 1958), as ``stats::varimax(x, normalize, eps)``; returns the rotated loadings.

    R's ``varimax`` (Kaiser row normalisation, stop when the criterion grows by less than a factor 1 + eps), as
    ported line by line by ``factor_analyzer.Rotator(method="varimax")``: with ``normalize`` (psych's use) the
    one-matrix case of :func:`varimax_batch`, which repeats the Rotator's arithmetic (the tests compare the two
    bit for bit) without importing factor_analyzer (and scikit-learn, about a second per process); without
    ``normalize`` the Rotator itself. No reflection or reordering is done here.  One column is returned unchanged.
    """
    L = np.asarray(loadings, dtype=float)
    if L.shape[1] < 2:
        return L.copy()
    if normalize:
        return varimax_batch(L[None], eps=eps, max_iter=max_iter)[0]
    rot = _rotator_class()(method="varimax", normalize=normalize, max_iter=max_iter, tol=eps)
    return np.asarray(rot.fit_transform(L), dtype=float)


def varimax_batch(loadings: np.ndarray, eps: float = 1e-5, max_iter: int = 1000) -> np.ndarray:
    """:func:`varimax` (with Kaiser normalisation) of a stack of loading matrices (b x p x k, k >= 2) at once.

    Each matrix follows its own iterations of R's ``varimax`` (stop when the sum of singular values grows by
    less than a factor 1 + eps), and the result is the one of :func:`varimax` for that matrix. Own code instead
    of ``factor_analyzer.Rotator`` for the same reason as :func:`oblimin_batch` (one matrix per call, a
    Python-level loop of tiny operations): it repeats the Rotator's arithmetic operation by operation, with
    stacked numpy operations (stacked SVDs are LAPACK's, matrix by matrix) for the matrices still iterating.
    """
    x = np.asarray(loadings, dtype=float).copy()
    b, p, k = x.shape
    norms = np.sqrt((x**2).sum(axis=2))
    x = x / norms[:, :, None]
    ones = np.ones(p)
    t = np.broadcast_to(np.eye(k), (b, k, k)).copy()
    d = np.zeros(b)
    active = np.ones(b, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if not idx.size:
            break
        xa = x[idx]
        basis = np.matmul(xa, t[idx])
        col = np.matmul(ones, basis**2)
        transformed = np.matmul(xa.transpose(0, 2, 1), basis**3 - basis * col[:, None, :] / p)
        u, sv, v = np.linalg.svd(transformed)
        t[idx] = np.matmul(u, v)
        old_d, d[idx] = d[idx], sv.sum(axis=1)
        active[idx[d[idx] < old_d * (1 + eps)]] = False
    return np.matmul(x, t) * norms[:, :, None]


def oblimin(loadings: np.ndarray, max_iter: int = 1000, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, bool]:
    """Oblimin rotation with gamma = 0 (quartimin), as ``GPArotation::oblimin(x)``: (pattern, Phi, converged).

    Gradient projection algorithm ``GPFoblq`` (Jennrich 2002; Bernaards & Jennrich 2005): identity start,
    unnormalised, at most ``max_iter`` iterations (GPArotation's ``maxit = 1000``), stop when the norm of
    the projected gradient is below ``eps``. The one-matrix case of :func:`oblimin_batch`, which repeats the
    arithmetic of ``factor_analyzer.Rotator(method="oblimin")`` (a port of ``GPFoblq``) operation by operation
    (the tests compare the two bit for bit) without importing factor_analyzer (and scikit-learn, about a second
    per process). ``converged`` is GPArotation's ``convergence`` flag, recomputed from the final rotation
    matrix (when the iteration limit is hit, GPArotation tests the rotation before the last step instead).
    No reflection or reordering here.
    """
    A = np.asarray(loadings, dtype=float)
    k = A.shape[1]
    if k < 2:
        return A.copy(), np.eye(k), True
    lam, phi, converged = oblimin_batch(A[None], max_iter=max_iter, eps=eps)
    return lam[0], phi[0], bool(converged[0])


def _oblimin_criterion(lam: np.ndarray, offdiag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """factor_analyzer's ``_oblimin_obj`` (gamma = 0) for a stack of loading matrices: (gradient, criterion)."""
    x = np.matmul(lam**2, offdiag)
    return lam * x, (lam**2 * x).reshape(len(lam), -1).sum(axis=1) / 4


def oblimin_batch(
    loadings: np.ndarray, max_iter: int = 1000, eps: float = 1e-5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`oblimin` of a stack of loading matrices (b x p x k) at once: (patterns, Phis, converged flags).

    Each matrix follows its own path of ``GPFoblq`` (Jennrich 2002; Bernaards & Jennrich 2005) -- identity
    start, at most ``max_iter`` + 1 gradient steps, step length doubled before and halved during the
    (at most 11-step) line search -- and the result is the one of :func:`oblimin` for that matrix. Own code
    instead of ``factor_analyzer.Rotator``: the Rotator rotates one matrix per call, and in a bootstrap of
    omega hierarchical its Python-level loop over a few hundred tiny matrix operations per rotation took
    more time than the factor analyses; here every step is one stacked numpy operation for all matrices that
    are still iterating (kept in compacted arrays; a matrix leaves them when it stops). It repeats the Rotator's
    arithmetic operation by operation (same products, inverses and sums in the same order), so the replicates
    are the Rotator's numbers (the tests compare them bit for bit on bootstrap resamples); the patterns are in C
    order, as the Rotator's (products with them depend on the layout). A singular rotation matrix raises
    ``numpy.linalg.LinAlgError`` for the whole stack (callers then rotate one matrix at a time).

    Parameters
    ----------
    loadings : ndarray
        b x p x k unrotated loadings (k >= 2).
    max_iter, eps : int, float
        As :func:`oblimin`.

    Returns
    -------
    tuple
        Patterns (b x p x k), factor correlations (b x k x k) and the convergence flags of :func:`oblimin`.
    """
    a = np.asarray(loadings, dtype=float)
    b, _, k = a.shape
    offdiag = (np.eye(k) != 1).astype(float)
    ones = np.ones(k)
    t_out = np.broadcast_to(np.eye(k), (b, k, k)).copy()
    lam_out = np.empty(a.shape)  # C order, as the Rotator's patterns (products with them depend on the layout)
    # the matrices still iterating, compacted (no gathering and scattering per step): their positions, inputs,
    # rotations, step lengths, loadings, criteria and gradients
    pos = np.arange(b)
    aa = a
    t = t_out.copy()
    alpha = np.ones(b)
    tinv = np.linalg.inv(t)
    lam = np.matmul(a, tinv.transpose(0, 2, 1))
    grad, crit = _oblimin_criterion(lam, offdiag)
    g = -np.matmul(lam.transpose(0, 2, 1), np.matmul(grad, tinv)).transpose(0, 2, 1)
    for _ in range(max_iter + 1):
        gp = g - t * np.matmul(ones, t * g)[:, None, :]
        s = np.sqrt(np.einsum("bii->b", np.matmul(gp.transpose(0, 2, 1), gp)))
        stop = s < eps
        if stop.any():
            t_out[pos[stop]], lam_out[pos[stop]] = t[stop], lam[stop]
            keep = ~stop
            pos, aa, t, alpha, lam, crit, gp, s = (v[keep] for v in (pos, aa, t, alpha, lam, crit, gp, s))
            if not pos.size:
                break
        al = 2 * alpha
        n = pos.size
        new_t = np.empty_like(t)
        new_lam = np.empty_like(lam)
        new_grad = np.empty_like(lam)
        new_tinv = np.empty_like(t)
        new_crit = np.empty(n)
        j = np.arange(n)  # still searching
        for _ in range(11):
            full = j.size == n
            x = (t if full else t[j]) - al[j, None, None] * (gp if full else gp[j])
            v = 1 / np.sqrt(np.matmul(ones, x**2))
            tt = x * v[:, None, :]
            tinv = np.linalg.inv(tt)
            ll = np.matmul(aa if full else aa[j], tinv.transpose(0, 2, 1))
            gr, cr = _oblimin_criterion(ll, offdiag)
            new_t[j], new_tinv[j], new_lam[j], new_grad[j], new_crit[j] = tt, tinv, ll, gr, cr
            improved = (crit if full else crit[j]) - cr > 0.5 * (s if full else s[j]) ** 2 * al[j]
            al[j[~improved]] = al[j[~improved]] / 2
            j = j[~improved]
            if not j.size:
                break
        alpha, t, lam, crit = al, new_t, new_lam, new_crit
        # the inverse of the accepted rotation is the line search's (the Rotator inverts it again: same numbers)
        g = -np.matmul(np.matmul(new_lam.transpose(0, 2, 1), new_grad), new_tinv).transpose(0, 2, 1)
    t_out[pos], lam_out[pos] = t, lam
    t, lam = t_out, lam_out
    phi = np.matmul(t.transpose(0, 2, 1), t)
    gq = lam * np.matmul(lam**2, 1.0 - np.eye(k))
    gg = -np.matmul(np.matmul(lam.transpose(0, 2, 1), gq), np.linalg.inv(t)).transpose(0, 2, 1)
    gp = gg - t * (t * gg).sum(axis=1)[:, None, :]
    converged = np.sqrt((gp**2).reshape(b, -1).sum(axis=1)) < eps
    return lam, phi, converged


def rotate(loadings: np.ndarray, method: str = "oblimin", max_iter: int = 1000) -> tuple[np.ndarray, np.ndarray | None]:
    """Rotate a loading matrix as psych::fa does; returns (pattern, Phi or None).

    ``oblimin``: ``GPArotation::oblimin`` (quartimin, gamma = 0, identity start, gradient projection of
    Bernaards & Jennrich 2005, eps = 1e-5).  ``geomin``: ``GPArotation::geominQ`` (delta = .01).
    ``varimax``: ``stats::varimax`` (Kaiser normalisation; Kaiser 1958).  ``promax``: psych's
    ``kaiser(rotate = "Promax")``, i.e. rows normalised, ``psych::Promax`` (varimax then power m = 4;
    Hendrickson & White 1964), rows de-normalised.  The computations are done by ``factor_analyzer.Rotator``
    (see module note; :func:`varimax` and :func:`oblimin` are the entry points for those two).  No
    reflection or reordering is done here.
    """
    L = np.asarray(loadings, dtype=float)
    if method == "none" or L.shape[1] < 2:
        return L.copy(), None
    if method == "oblimin":
        out, phi, _ = oblimin(L, max_iter=max_iter)
        return out, phi
    if method == "varimax":
        return varimax(L), None
    Rotator = _rotator_class()
    if method == "geomin":
        rot = Rotator(method="geomin_obl", delta=0.01, max_iter=max_iter, tol=1e-5)
    elif method == "promax":
        rot = Rotator(method="promax", normalize=True, power=4, max_iter=1000, tol=1e-5)
    else:
        raise ValueError(f"unknown rotation {method!r}; use one of {ROTATIONS}")
    out = rot.fit_transform(L)
    phi = None if rot.phi_ is None else np.asarray(rot.phi_, dtype=float)
    return np.asarray(out, dtype=float), phi
