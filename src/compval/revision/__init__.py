"""Revising an instrument: what changed between two codebooks (:mod:`.diff`, ``python -m compval diff A B``), the
holdout guard against revisions that only fit one sample (:mod:`.holdout`), and evidence-backed suggestions, each
refitted alone and written as a ready codebook (:mod:`.suggest`)."""

from .diff import DIFF_COLUMNS, diff_codebooks
from .holdout import PART_FIT_KEYS, HoldoutCheck, check_on_holdout, fit_by_part, holdout_split, holds_out

__all__ = [
    "DIFF_COLUMNS",
    "diff_codebooks",
    "HoldoutCheck",
    "check_on_holdout",
    "fit_by_part",
    "holdout_split",
    "holds_out",
    "PART_FIT_KEYS",
]
