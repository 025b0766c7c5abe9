"""One table of the named tolerances the R reference tests use.

Each tolerance is the agreement measured between this package and R (lavaan 0.6.14, psych, semTools, boot) on the
stored references, times a stated margin of at most 10, so that a real regression fails while the rounding noise
of two optimisers does not. ``kind`` says how a value is compared:

- ``"abs"``: ``|ours - R| <= tol``;
- ``"rel"``: ``|ours - R| <= tol * |R|``;
- ``"logp"``: p-values, ``|log10(ours) - log10(R)| <= tol`` (an absolute difference means nothing near 1e-8).

``measured`` is the largest such difference seen over every stored case when the tolerance was set (rerun the
measurement, never raise a margin, when a reference is regenerated). ``tests/test_tolerances.py`` checks that
no margin exceeds 10.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tol:
    """A named tolerance: ``measured`` agreement times ``margin`` (<= 10), compared as ``kind``."""

    measured: float
    margin: float
    kind: str
    what: str

    @property
    def tol(self) -> float:
        return self.measured * self.margin


TOLERANCES: dict[str, Tol] = {}

# --- SEM: CFA (ML, MLR, FIML), ordinal (WLSMV), invariance, modification indices, factor scores ---------------


# --- EFA and construct validity (psych::fa, fa.parallel, VSS, HTMT, CR/AVE) -----------------------------------


# --- Reliability, descriptives, careless responding, missingness, criterion validity, power ------------------


# --- Bootstrap intervals (boot::boot.ci percentile, same resampling indices) ---------------------------------
