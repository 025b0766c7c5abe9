"""The standard normal distribution through ``scipy.special`` (the functions ``scipy.stats.norm`` evaluates).

``scipy.stats`` takes about a second to import, more than a small model's fit, and every pipeline step that fits
a model would pay it only for these four functions. Each equals its ``scipy.stats.norm`` counterpart bit for bit
(``tests/test_cfa.py::test_normal_functions_equal_scipy_stats``).

In R: ``pnorm(x)``, ``pnorm(x, lower.tail = FALSE)``, ``qnorm(q)``, ``dnorm(x)``.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["cdf", "sf", "ppf", "pdf"]

_PDF_C = np.sqrt(2 * np.pi)


def cdf(x):
    """P(Z <= x) (``scipy.stats.norm.cdf``: ``scipy.special.ndtr``)."""
    return special.ndtr(x)


def sf(x):
    """P(Z > x) = Phi(-x) (``scipy.stats.norm.sf``)."""
    return special.ndtr(np.negative(x))


def ppf(q):
    """The q-quantile (``scipy.stats.norm.ppf``: ``scipy.special.ndtri``)."""
    return special.ndtri(q)


def pdf(x):
    """The density exp(-x^2/2) / sqrt(2 pi) (``scipy.stats.norm.pdf``)."""
    return np.exp(-(x**2) / 2.0) / _PDF_C
