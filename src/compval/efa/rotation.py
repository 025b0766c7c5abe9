"""Rotations of a loading matrix as psych::fa calls them, computed by ``factor_analyzer.Rotator``.

oblimin (``GPArotation::oblimin``, gamma = 0), promax (``psych::kaiser(rotate = "Promax")``), geomin
(``GPArotation::geominQ``), varimax (``stats::varimax``) and none; see the package docstring
(:mod:`compval.efa`) for what factor_analyzer is used for and where it had to be worked around.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["ROTATIONS", "varimax", "oblimin", "rotate"]

ROTATIONS = ("oblimin", "promax", "geomin", "varimax", "none")


def _rotator_class():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        from factor_analyzer.rotator import Rotator
    return Rotator


def varimax(loadings: np.ndarray, normalize: bool = True, eps: float = 1e-5, max_iter: int = 1000) -> np.ndarray:
    """Varimax rotation (Kaiser 1958), as ``stats::varimax(x, normalize, eps)``; returns the rotated loadings.

    Computed by ``factor_analyzer.Rotator(method="varimax")``, which is a line-by-line port of R's
    ``varimax`` (Kaiser row normalisation, stop when the criterion grows by less than a factor 1 + eps).
    No reflection or reordering is done here.  One column is returned unchanged.
    """
    L = np.asarray(loadings, dtype=float)
    if L.shape[1] < 2:
        return L.copy()
    rot = _rotator_class()(method="varimax", normalize=normalize, max_iter=max_iter, tol=eps)
    return np.asarray(rot.fit_transform(L), dtype=float)


def oblimin(loadings: np.ndarray, max_iter: int = 1000, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, bool]:
    """Oblimin rotation with gamma = 0 (quartimin), as ``GPArotation::oblimin(x)``: (pattern, Phi, converged).

    Gradient projection algorithm ``GPFoblq`` (Jennrich 2002; Bernaards & Jennrich 2005): identity start,
    unnormalised, at most ``max_iter`` iterations (GPArotation's ``maxit = 1000``), stop when the norm of
    the projected gradient is below ``eps``.  Computed by ``factor_analyzer.Rotator(method="oblimin")``
    (a port of ``GPFoblq``).  ``converged`` is GPArotation's ``convergence`` flag, recomputed from the
    final rotation matrix because the Rotator does not report it (when the iteration limit is hit,
    GPArotation tests the rotation before the last step instead).  No reflection or reordering here.
    """
    A = np.asarray(loadings, dtype=float)
    k = A.shape[1]
    if k < 2:
        return A.copy(), np.eye(k), True
    rot = _rotator_class()(method="oblimin", gamma=0, max_iter=max_iter, tol=eps)
    lam = np.asarray(rot.fit_transform(A), dtype=float)
    tmat = np.asarray(rot.rotation_, dtype=float)
    # GPFoblq's projected gradient at the final T (vgQ.oblimin, gamma = 0)
    gq = lam * ((lam**2) @ (1.0 - np.eye(k)))
    g = -(lam.T @ gq @ np.linalg.inv(tmat)).T
    gp = g - tmat @ np.diag((tmat * g).sum(axis=0))
    converged = bool(np.sqrt((gp**2).sum()) < eps)
    return lam, np.asarray(rot.phi_, dtype=float), converged


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
