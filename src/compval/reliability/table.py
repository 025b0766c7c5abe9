"""The tidy per-scale reliability table of the pipeline: alpha, lambda-6, omega total and omega hierarchical
with their intervals, one row per group of items."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .alpha import cronbach_alpha
from ..resampling import SharedResamples
from .bootstrap import bootstrap_ci, bootstrap_cis
from .matrices import check_missing, no_variance, prepare_items
from .omegas import omega

__all__ = ["RELIABILITY_COLUMNS", "reliability_table"]

RELIABILITY_COLUMNS = [
    "level", "key", "n_items", "n", "n_complete", "missing",
    "alpha", "alpha_std", "alpha_ci_lower", "alpha_ci_upper", "alpha_ase",
    "alpha_boot_lower", "alpha_boot_upper",
    "lambda6", "average_r", "median_r",
    "omega_total", "omega_total_boot_lower", "omega_total_boot_upper",
    "omega_hierarchical", "omega_h_nfactors", "omega_hierarchical_boot_lower", "omega_hierarchical_boot_upper",
    "cr", "ave", "boot_ci_method", "omega_h_boot_ci_method", "note",
]  # fmt: skip

# reliability table column -> AlphaResult field
_ALPHA_COLUMNS = {c: c for c in ("alpha", "alpha_std", "lambda6", "average_r", "median_r")}
_ALPHA_COLUMNS.update(alpha_ci_lower="feldt_lower", alpha_ci_upper="feldt_upper", alpha_ase="ase")


def _min_items(nfactors: int) -> int:
    """Smallest number of items with non-negative degrees of freedom for ``nfactors`` factors."""
    p = nfactors + 1
    while (p - nfactors) ** 2 - (p + nfactors) < 0:
        p += 1
    return max(p, 3)


def reliability_table(
    items: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    *,
    missing: str = "pairwise",
    n_boot: int = 1000,
    seed: int | SharedResamples = 0,
    level: str = "competency",
    ci_level: float = 0.95,
    omega_h_nfactors: int | Mapping[str, int] | None = 3,
    n_boot_omega_h: int = 0,
    bootstrap_max_n: int | None = None,
) -> pd.DataFrame:
    """One row of reliability statistics per group of items (tidy; columns :data:`RELIABILITY_COLUMNS`).

    Parameters
    ----------
    items : DataFrame
        All item columns (already reverse-scored).
    groups : dict
        Group key -> item ids (e.g. ``Codebook.groups("competency")``).
    missing : {"pairwise", "listwise"}
        Missing-data policy, see :func:`cronbach_alpha`.
    n_boot : int
        Bootstrap resamples for the percentile CIs of alpha and omega total (0 = none, columns NaN).
    seed : int or SharedResamples
        Seed of the resamples (:class:`compval.resampling.SharedResamples`; or one, to share its resamples with
        other calls): every group and every statistic is computed on the same resamples of the respondents --
        alpha and omega total on the first ``n_boot``, omega hierarchical on the first ``n_boot_omega_h`` -- as
        ``boot::boot`` with one statistic returning the whole table. A group's intervals therefore depend on its
        own items and the respondents only, not on the other groups or their order: a scale that a revision
        leaves unchanged keeps its intervals. (Until 5 December 2026 group i drew its own resamples from
        ``default_rng([seed, i])``, statistic after statistic; the intervals differ within Monte Carlo error.)
    level : str
        Written to the ``level`` column (e.g. "competency", "dimension", "module").
    ci_level : float
        Coverage of the Feldt and bootstrap intervals.
    omega_h_nfactors : int, dict or None
        Group factors for ``omega_hierarchical`` (``psych::omega(x, nfactors)$omega_h``), per group when
        a dict; None = not computed. Groups with too few items for that many factors get NaN and a note.
    n_boot_omega_h : int
        Bootstrap resamples for the percentile CI of omega hierarchical (0 = none). Each resample repeats the
        Schmid-Leiman solution (as ``psych::omega(x, nfactors, n.iter = B)``; the minres fits and rotations of
        all resamples are done at once, :func:`compval.efa.minres_stack`), about 2.5 ms per resample for 8 items
        (it was 12 ms with one L-BFGS-B call per fit).
    bootstrap_max_n : int, optional
        Above this many respondents (rows of ``items``) every bootstrap interval of the table is a bag of
        little bootstraps with ``n_boot`` (``n_boot_omega_h``) resamples in all (Kleiner et al. 2014;
        :func:`bootstrap_ci`'s ``max_n``); None (default) = always the full percentile bootstrap.

    Returns
    -------
    DataFrame
        level, key, n_items, n (psych's n: rows, or complete rows when listwise), n_complete, missing,
        alpha, alpha_std, alpha_ci_lower/upper (Feldt), alpha_ase (Duhachek), alpha_boot_lower/upper,
        lambda6, average_r, median_r, omega_total (``psych::omega(x, nfactors = 1)$omega.tot``),
        omega_total_boot_lower/upper, omega_hierarchical, omega_h_nfactors, omega_hierarchical_boot_lower/upper,
        cr and ave (empty; filled by the CFA stage), boot_ci_method and omega_h_boot_ci_method (how the bootstrap
        intervals of alpha and omega total, and of omega hierarchical, were formed: "percentile bootstrap" or
        "bag of little bootstraps (b = ..., s = ..., r = ...)"; empty without them), note. Groups with < 2
        items get NaN alpha; groups with < 3 items NaN omega (a one-factor model of two items is not identified);
        the reason is in ``note``.
    """
    check_missing(missing)
    stream = seed if isinstance(seed, SharedResamples) else SharedResamples(seed)
    rows = []
    for key, cols in groups.items():
        cols = list(cols)
        missing_cols = [c for c in cols if c not in items.columns]
        if missing_cols:
            raise KeyError(f"group {key!r}: items not in data: {missing_cols}")
        x = prepare_items(items[cols], missing)
        notes = []
        row = {c: np.nan for c in RELIABILITY_COLUMNS}
        row.update(boot_ci_method="", omega_h_boot_ci_method="")
        row.update(
            level=level,
            key=key,
            n_items=len(cols),
            missing=missing,
            n=int(x.shape[0]),
            n_complete=int(x.notna().all(axis=1).sum()) if len(cols) else 0,
        )
        if len(cols):
            bad = no_variance(x.to_numpy())
            if bad.any():
                notes.append(f"no variance, left out: {', '.join(map(str, x.columns[bad]))}")
                x = x.loc[:, ~bad]
        k = x.shape[1]
        if k < 2:
            notes.append("fewer than 2 items: alpha and omega not defined")
        else:
            a = cronbach_alpha(x, missing=missing, level=ci_level)
            row.update({column: getattr(a, name) for column, name in _ALPHA_COLUMNS.items()})
            booted = {}  # statistic -> estimate, bootstrapped together below (one pass of moments per batch)
            if not np.isfinite(a.alpha):
                notes.append("alpha not computable (item pairs without common answers?)")
            elif n_boot > 0:
                booted["alpha"] = a.alpha
            alpha_notes = len(notes)  # where the alpha bootstrap's note goes
            if k < 3:
                notes.append("2 items: one-factor omega not identified")
            else:
                try:
                    o = omega(x, nfactors=1, missing=missing)
                    row["omega_total"] = o.omega_total
                except (ValueError, np.linalg.LinAlgError) as exc:
                    notes.append(f"omega total not computable: {exc}")
                if n_boot > 0 and np.isfinite(row["omega_total"]):
                    booted["omega_total"] = row["omega_total"]
            if booted:
                cis = bootstrap_cis(
                    x,
                    tuple(booted),
                    n_boot,
                    stream,
                    level=ci_level,
                    missing=missing,
                    max_n=bootstrap_max_n,
                    estimates=booted,
                )
                if "alpha" in cis:
                    b = cis["alpha"]
                    row.update(alpha_boot_lower=b.lower, alpha_boot_upper=b.upper, boot_ci_method=b.method)
                    if b.n_failed:
                        notes.insert(alpha_notes, f"alpha bootstrap: {b.n_failed} of {b.B} resamples failed")
                if "omega_total" in cis:
                    b = cis["omega_total"]
                    row.update(omega_total_boot_lower=b.lower, omega_total_boot_upper=b.upper, boot_ci_method=b.method)
                    if b.n_failed:
                        notes.append(f"omega bootstrap: {b.n_failed} of {b.B} resamples failed")
            nf = omega_h_nfactors.get(key) if isinstance(omega_h_nfactors, Mapping) else omega_h_nfactors
            if nf is not None and k >= 3:
                row["omega_h_nfactors"] = nf
                need = _min_items(nf)
                if k < need:
                    notes.append(f"omega_h with {nf} group factors needs >= {need} items")
                else:
                    try:
                        oh = omega(x, nfactors=nf, missing=missing)
                        row["omega_hierarchical"] = oh.omega_hierarchical
                        if nf < 3:
                            notes.append(f"omega_h with {nf} group factor(s) is not identified (psych's value)")
                        if not oh.converged:
                            notes.append("omega_h: oblimin did not converge")
                        if n_boot_omega_h > 0:
                            b = bootstrap_ci(
                                x,
                                "omega_hierarchical",
                                n_boot_omega_h,
                                stream,
                                level=ci_level,
                                missing=missing,
                                nfactors=nf,
                                max_n=bootstrap_max_n,
                                estimate=oh.omega_hierarchical,
                            )
                            row.update(
                                omega_hierarchical_boot_lower=b.lower,
                                omega_hierarchical_boot_upper=b.upper,
                                omega_h_boot_ci_method=b.method,
                            )
                            if b.n_failed:
                                notes.append(f"omega_h bootstrap: {b.n_failed} of {b.B} resamples failed")
                    except (ValueError, np.linalg.LinAlgError) as exc:
                        notes.append(f"omega_h not computable: {exc}")
        row["note"] = "; ".join(notes)
        rows.append(row)
    out = pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)
    for c in ("cr", "ave", "omega_h_nfactors"):
        out[c] = out[c].astype(float)
    return out
