"""Sample statistics of continuous indicators per group: complete data, or the missing-data patterns with the
EM estimate of the unrestricted (h1) moments (lavaan's ``lav_samplestats`` / ``lav_mvnorm_missing``).

Computation with missing data scales with the rows, not with the patterns. The rows are kept once, zero-filled
at unobserved variables and sorted by pattern (patterns ordered by their number k of unobserved variables); the
FIML objective, its gradient and the EM steps are sums over rows of terms that need only Omega = Sigma^-1 (one
Cholesky factorisation) and, per pattern, the k x k matrix Omega_mm^-1 (partitioned inverse):

    Sigma_oo^-1 = Omega_oo - Omega_om Omega_mm^-1 Omega_mo,   log|Sigma_oo| = log|Sigma| + log|Omega_mm|,

so with d_i = y_i - mu (zero at unobserved variables) and z_i = Omega d_i, the row's
u_i = Sigma_oo^-1 (y_o - mu_o) (embedded) is z_i - Omega_.m (Omega_mm^-1 z_i,m) and its quadratic form is
d_i'u_i: one n x p by p x p matrix product plus k x k work per row. Sums over patterns of p x p matrices
(``sum_b n_b Sigma_oo^-1``) are Omega (N I - G Omega) with G the n_b Omega_mm^-1 added into the m x m positions,
which is also the EM's sum of conditional covariances. Nothing of size patterns x p x p is formed for the fit
(a million rows have tens of thousands of patterns); the per-pattern matrices that the h1 information needs
are built on demand (:meth:`Patterns.inverse`, :attr:`Patterns.S`).

Patterns with at least p rows (:func:`heavy_patterns`; at a million respondents x 50 items, 1,279 patterns
holding 79% of the rows) enter the sums through their mean and cross-product matrix instead (about 4 p^3
operations per pattern and pass against 4 p^2 per row): the same sums up to rounding. A fit that needs no
casewise terms (ML, not MLR: :func:`group_data_sets` with ``rows=False``) lets their rows go once their moments
are formed when they take more than LET_GO_BYTES, keeping the other patterns' rows only (at a million
respondents x 50 items, 83 MB instead of 400 MB).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ..colstats import column_means

__all__ = [
    "Block",
    "GroupData",
    "Patterns",
    "group_data",
    "moment_group",
    "group_data_sets",
    "column_group_data_sets",
    "column_patterns",
    "from_source",
    "make_room",
    "has_rows",
    "kept_data_sets",
    "kept_together",
    "clear_cache",
    "CACHE_SIZE",
    "CACHE_BYTES",
    "ROW_CHUNK",
    "PATTERN_CHUNK",
    "LET_GO_BYTES",
    "patterns",
    "block_f",
    "loglik",
    "saturated_fiml",
    "moment_wv",
    "row_u",
    "row_patterns",
    "unique_patterns",
    "em_step",
]

#: Rows processed together by the row sweeps (bounds the temporaries: a few arrays of ROW_CHUNK x p floats).
ROW_CHUNK = 1 << 16
#: Heavy patterns processed together by :meth:`Patterns.sweep` (a few arrays of PATTERN_CHUNK x p x p floats).
PATTERN_CHUNK = 128


class Block:
    """One missing-data pattern: observed variable indices, size, raw rows, mean and N-divisor covariance.

    The rows and the covariance are formed when first asked for (they are views of the group's sorted rows)."""

    def __init__(self, obs, n, y=None, mean=None, cov=None, rows=None):
        """``y`` or ``rows`` give the rows; a block with neither carries its moments only."""
        self.obs = np.asarray(obs)
        self.n = int(n)
        self._y = y
        self._rows = rows  # (zero-filled sorted rows, start, stop) when y is not given
        self.mean = mean
        self._cov = cov

    @property
    def has_rows(self) -> bool:
        """Whether the block's rows are kept (else :attr:`y` raises ValueError)."""
        return self._y is not None or self._rows is not None

    @property
    def y(self) -> np.ndarray:
        if self._y is None:
            if self._rows is None:
                raise ValueError(
                    "these rows were let go once their moments were formed "
                    "(group_data_sets(rows=False)); ask for the data set with rows=True"
                )
            Y, a, b = self._rows
            self._y = Y[a:b][:, self.obs]
        return self._y

    @property
    def cov(self) -> np.ndarray:
        if self._cov is None:
            z = self.y - self.mean
            self._cov = z.T @ z / self.n
        return self._cov


class _Blocks(Sequence[Block]):
    """The patterns of a group as a read-only sequence of :class:`Block` (formed lazily)."""

    def __init__(self, pt: "Patterns"):
        self._pt = pt
        self._made: dict[int, Block] = {}

    def __len__(self) -> int:
        return self._pt.nb

    def __getitem__(self, k):  # type: ignore[override]  # int indices only
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        if k not in self._made:
            pt = self._pt
            o = np.flatnonzero(pt.obs[k])
            if pt.has_rows(k):
                rows = (pt.rows_array, int(pt.starts[k]), int(pt.stops[k]))
                self._made[k] = Block(obs=o, n=int(pt.n[k]), mean=pt.ybar[k, o], rows=rows)
            else:  # a heavy pattern whose rows were let go: its moments
                self._made[k] = Block(obs=o, n=int(pt.n[k]), mean=pt.ybar[k, o], cov=pt.pattern_cov(k)[np.ix_(o, o)])
        return self._made[k]

    def __iter__(self):
        return (self[k] for k in range(len(self)))


@dataclass
class GroupData:
    n: int
    blocks: Sequence[Block]  # a list, or the lazy sequence of a group with missing data
    complete: bool
    mean: np.ndarray  # sample mean (complete data) or EM estimate (missing)
    cov: np.ndarray  # sample covariance /N (complete data) or EM estimate (missing)
    h1_f: float = 0.0  # per-observation -2 logl (without 2 pi) of the saturated model, for F_h1


#: The sample statistics of the most recent data sets (:func:`group_data_sets`), by the digest of their values,
#: with the size of the data each holds: at most 16 data sets and 256 MB besides the newest fit's.
_RECENT: OrderedDict[tuple, tuple[GroupData, int]] = OrderedDict()
CACHE_SIZE = 16
CACHE_BYTES = 256 * 2**20


#: Which data sets (their keys in the cache) a source -- a table's indicator columns, grouping and missing-data
#: rule (:func:`compval.sem.data.source_key`) -- gave, with what the caller keeps beside them (the group labels).
_SOURCES: OrderedDict[bytes, tuple[tuple, object]] = OrderedDict()
SOURCES_SIZE = 64


#: The data sets used inside :func:`kept_together` blocks: not let go by the bound until the outermost block ends.
_PINNED: set[tuple] = set()
_PIN_DEPTH = 0


@contextmanager
def kept_together() -> Iterator[None]:
    """Keep every data set that a fit in the block computes or uses until the block ends (the bound applies to
    the others, and again to all once the outermost block has ended).

    For a job whose fits alternate between data sets: the hypothesised model and its rivals on the items and one
    on their parcels. Without it the parcels' statistics push the items' out (above the bound: a million rows),
    and the next fit on the items computes them again, holding a second copy of the items' rows while the first
    is still referenced by the earlier fits. Processes forked inside the block keep them too."""
    global _PIN_DEPTH
    _PIN_DEPTH += 1
    try:
        yield
    finally:
        _PIN_DEPTH -= 1
        if _PIN_DEPTH == 0:
            _PINNED.clear()


def kept_data_sets() -> int:
    """How many data sets' statistics are kept now (:func:`group_data_sets`)."""
    return len(_RECENT)


def clear_cache() -> int:
    """Forget the kept sample statistics (:func:`group_data`); returns how many data sets were kept."""
    n = len(_RECENT)
    _RECENT.clear()
    _SOURCES.clear()
    return n


def moment_group(gd: GroupData) -> GroupData:
    """A complete-data group holding ``gd``'s moments (for a group with missing data, the EM estimates of the
    saturated mean and N-divisor covariance) as the sample moments of ``gd.n`` complete rows, without rows: the
    complete-data information at those moments (:func:`compval.sem.h1.h1_information_missing`) and two-stage ML
    (:func:`compval.sem.engine.fit_fiml_two_stage`) use it."""
    p = len(gd.mean)
    full = Block(obs=np.arange(p), n=gd.n, y=np.empty((0, p)), mean=gd.mean, cov=gd.cov)
    return GroupData(
        n=gd.n, blocks=[full], complete=True, mean=gd.mean, cov=gd.cov, h1_f=np.linalg.slogdet(gd.cov)[1] + p
    )


def group_data(y: np.ndarray, consume: bool = False, rows: bool = True) -> GroupData:
    """Summarise one group's raw data (rows with all values missing must have been dropped): the one-group case
    of :func:`group_data_sets`."""
    return group_data_sets([y], consume, rows=rows)[0]


def group_data_sets(
    ys: list[np.ndarray],
    consume: bool = False,
    source: bytes | None = None,
    payload: object = None,
    rows: bool = True,
) -> list[GroupData]:
    """Summarise the raw data of each group of one fit (rows with all values missing must have been dropped).

    ``consume=True``: the arrays (C-ordered float64) are the caller's own copies, no longer needed: with missing
    values each is sorted in place and becomes its patterns' rows (:func:`row_patterns`) instead of being copied.
    The list ``ys`` is emptied, so that what the patterns do not keep of an array goes before the EM runs.

    With missing values this is the expensive part of a FIML fit (the missing-data patterns and the saturated
    model's EM estimates), and the hypothesised model, its rivals and the steps of an invariance sequence are
    fitted to the same data: the statistics of the last few data sets are kept, keyed by a digest of the values
    (lavaan's ``lavSampleStats`` idea: sample statistics computed once and shared by every fit). The same values
    give the same object, so every number is unchanged; callers treat it as read-only. The memory kept is
    bounded (16 data sets, 256 MB besides the newest fit's), so a million rows keep one fit's data, not several.
    A fit's groups are kept together: were they let go one by one, each group of a multi-group fit larger than
    the bound would push out the one before it, and every step of an invariance sequence would compute every
    group's statistics again.

    ``source``: a digest of what the arrays were made from (:func:`compval.sem.data.source_key`), remembered with
    ``payload`` so that a later fit of the same source finds these statistics without making the arrays again
    (:func:`from_source`).

    ``rows=False``: the fits need no casewise terms (ML: not MLR's scores), so the rows of complete data, and
    with missing values those of the patterns summarised by their moments (:func:`heavy_patterns`), are let go
    once the moments are formed when they take more than LET_GO_BYTES (:func:`row_patterns`); every number
    of such a fit is the same. Kept statistics without those rows are computed again for a call with
    ``rows=True``.
    """
    arrays: list = [np.ascontiguousarray(y, dtype=float) for y in ys]
    if consume:
        ys.clear()  # the caller's references: the arrays go with the last of ours
    keys = [(y.shape, hashlib.blake2b(y.data, digest_size=20).digest()) for y in arrays]  # no copy of the rows
    sizes = [y.nbytes for y in arrays]
    return _kept_or_made(
        keys,
        sizes,
        lambda i: _group_data(arrays, i, consume, rows),
        lambda gd: has_rows(gd) or not rows,
        source,
        payload,
    )


def _kept_or_made(keys: list, sizes: list[int], make, usable, source: bytes | None, payload: object):
    """Each data set's kept statistics (when ``usable``) or ``make(i)``'s, kept under its key with its size (the
    bound applied first: :func:`_admit`), and the source remembered with ``payload`` (:func:`from_source`)."""
    _admit(dict(zip(keys, sizes)))
    out = []
    for i, key in enumerate(keys):
        hit = _RECENT.get(key)
        if hit is not None and usable(hit[0]):
            _RECENT.move_to_end(key)
            out.append(hit[0])
        else:
            gd = make(i)
            _RECENT[key] = (gd, sizes[i])
            out.append(gd)
    if source is not None:
        _SOURCES[source] = (tuple(keys), payload)
        _SOURCES.move_to_end(source)
        while len(_SOURCES) > SOURCES_SIZE:
            _SOURCES.popitem(last=False)
    _share_h1(out)
    return out


def from_source(source: bytes, rows: bool = True) -> tuple[object, list[GroupData]] | None:
    """``(payload, statistics)`` that :func:`group_data_sets` computed from ``source`` when they are still kept
    (the same objects it would return for the arrays made from it again), else None; with ``rows=True`` None
    also when they were kept without the heavy patterns' rows. The cache is used as by a call of
    :func:`group_data_sets` with those arrays: the bound first, then the data sets become the newest."""
    entry = _SOURCES.get(source)
    if entry is None or any(k not in _RECENT for k in entry[0]):
        return None
    if rows and not all(has_rows(_RECENT[k][0]) for k in entry[0]):
        return None
    keys, payload = entry
    _admit({k: _RECENT[k][1] for k in keys})
    for k in keys:
        _RECENT.move_to_end(k)
    _SOURCES.move_to_end(source)
    out = [_RECENT[k][0] for k in keys]
    _share_h1(out)
    return payload, out


def has_rows(gd: GroupData) -> bool:
    """Whether every row of the group is kept (:func:`group_data_sets` with ``rows=True``, or few rows)."""
    if gd.complete:
        return gd.blocks[0].has_rows
    return patterns(gd).rows_kept


def make_room(nbytes: int) -> None:
    """Let go now of the kept data sets that a new data set of ``nbytes`` would push out once computed, before
    its rows are made (:func:`compval.sem.data.ml_groups`): a fit to other data than the last (the next
    criterion of the latent regressions) otherwise holds the previous data set's rows and its own at once."""
    _admit({("pending", int(nbytes)): int(nbytes)}, pin=False)


def _admit(sizes: dict, pin: bool = True) -> None:
    """Let go of the kept data sets that those of ``sizes`` (key -> bytes) push out, oldest first, before they
    are computed (a million rows: one fit's data at a time in memory)."""
    if _PIN_DEPTH and pin:
        _PINNED.update(sizes)
    new = sum(1 for k in sizes if k not in _RECENT)
    others = [k for k in _RECENT if k not in sizes and k not in _PINNED]  # oldest first
    while others and (
        len(_RECENT) + new > CACHE_SIZE or sum(_RECENT[k][1] for k in others) + sum(sizes.values()) > CACHE_BYTES
    ):
        del _RECENT[others.pop(0)]


def _share_h1(out: list[GroupData]) -> None:
    # the saturated model's information matrices ((p(p+3)/2)^2 each, the ``_h1`` entry that the fits add) are
    # shared by the fits to the newest data sets only
    for other, _ in _RECENT.values():
        if not any(other is gd for gd in out):
            other.__dict__.pop("_h1", None)


def _group_data(arrays: list, i: int, consume: bool = False, rows: bool = True) -> GroupData:
    """The statistics of ``arrays[i]``; with ``consume=True`` the array is taken out of the list, so that the rows
    the patterns let go (``rows=False``) are freed before the EM."""
    y = arrays[i]
    if consume:
        arrays[i] = None
    n, p = y.shape
    miss = np.isnan(y)
    if not miss.any():
        mean = y.mean(axis=0)
        z = y - mean
        cov = z.T @ z / n
        # ML needs the moments alone: the rows are kept for casewise terms (rows=True) or when small
        keep = rows or y.nbytes <= LET_GO_BYTES
        blk = Block(obs=np.arange(p), n=n, y=y if keep else None, mean=mean, cov=cov)
        sign, logdet = np.linalg.slogdet(cov)
        return GroupData(n=n, blocks=[blk], complete=True, mean=mean, cov=cov, h1_f=logdet + p)
    mean0 = column_means(y)  # nanmean's numbers without its copy of the rows
    del miss  # a boolean of the rows' size, not needed by the EM below
    pt = row_patterns(y, consume=consume, rows=rows)
    del y  # consumed: the patterns hold what they keep of it
    return _fiml_group(pt, mean0)


def _fiml_group(pt: "Patterns", mean0: np.ndarray) -> GroupData:
    """A group with missing values from its patterns, with the saturated model's EM estimates started at
    ``mean0`` (the variables' observed means)."""
    gd = GroupData(n=int(np.sum(pt.n)), blocks=_Blocks(pt), complete=False, mean=mean0, cov=np.zeros((pt.p, pt.p)))
    gd.__dict__["_pat"] = pt
    mu, sig, f = saturated_fiml(gd)
    gd.mean, gd.cov, gd.h1_f = mu, sig, f
    return gd


def row_patterns(y: np.ndarray, consume: bool = False, rows: bool = True) -> "Patterns":
    """The missing-data patterns of raw rows (NaN = missing; no row entirely missing): patterns ordered by
    their number of unobserved variables, rows zero-filled and sorted by pattern (:class:`Patterns`).

    ``consume=True`` sorts and zero-fills ``y`` itself (C-ordered float64, column by column: one column's
    temporary instead of a copy of the rows, 400 MB at a million rows x 50 variables) and the patterns keep it;
    the caller must not use ``y`` afterwards. ``rows=False``, when ``y`` takes more than LET_GO_BYTES: the
    patterns of :func:`column_patterns` (``y`` read column by column and left as it is; only the rows of the
    patterns that are not heavy are kept), the same numbers."""
    miss = np.isnan(y)
    if not rows and y.nbytes > LET_GO_BYTES:
        return column_patterns([y[:, j] for j in range(y.shape[1])], np.arange(len(y)), miss)
    pats, counts, heavy, order_rows = _sorted_patterns(miss)
    if consume:
        if not (y.dtype == np.float64 and y.flags.c_contiguous and y.flags.writeable):
            raise ValueError("row_patterns(consume=True) needs a writeable C-ordered float64 array")
        Y = y
        for j in range(y.shape[1]):
            Y[:, j] = y[order_rows, j]  # the gathered column is a temporary: assigned after it is complete
    else:
        Y = y[order_rows]
    Y[miss[order_rows]] = 0.0
    del miss, order_rows
    return Patterns.from_rows(Y, pats, counts, heavy=heavy)


def column_group_data_sets(
    columns: list[np.ndarray], indexes: list[np.ndarray | None], source: bytes, payload: object = None
) -> list[GroupData]:
    """:func:`group_data_sets` with ``rows=False`` for groups read from the columns of a table, without a copy of
    their rows: the missing-data patterns are found from the columns' missing values, the heavy patterns'
    moments formed from their rows gathered one pattern at a time, and only the other patterns' rows copied
    (:func:`column_patterns`). At a million rows x 50 variables the copy of every row (400 MB) is never made.

    ``columns``: the variables, each a float64 array over the table's rows; ``indexes``: each group's row
    positions (None: every row). Rows with every value missing are left out, as :func:`.data.prepare_groups` does
    under FIML. The statistics are kept under ``source`` (:func:`compval.sem.data.source_key`, with ``payload``,
    for :func:`from_source`) and are the same numbers, bit for bit, as :func:`group_data_sets` gives for the
    C-ordered arrays of the same rows. A group without missing values is summarised from such an array."""
    p = len(columns)
    keys = [(("columns", g), source) for g in range(len(indexes))]
    sizes = [(len(columns[0]) if ix is None else len(ix)) * p * 8 for ix in indexes]
    return _kept_or_made(
        keys, sizes, lambda i: _column_group_data(columns, indexes[i]), lambda gd: True, source, payload
    )


def _rows_of(columns: list[np.ndarray], at: np.ndarray | None) -> np.ndarray:
    """The C-ordered array of the columns at the row positions ``at`` (None: every row)."""
    y = np.empty((len(columns[0]) if at is None else len(at), len(columns)))
    for j, c in enumerate(columns):
        y[:, j] = c if at is None else c[at]
    return y


def _column_group_data(columns: list[np.ndarray], index: np.ndarray | None) -> GroupData:
    p = len(columns)
    n0 = len(columns[0]) if index is None else len(index)
    miss = np.empty((n0, p), dtype=bool)
    for j, c in enumerate(columns):
        miss[:, j] = np.isnan(c if index is None else c[index])
    if not miss.any():  # complete data: as group_data_sets summarises them
        del miss
        return _group_data([_rows_of(columns, index)], 0, consume=True, rows=False)
    allmiss = miss.all(axis=1)
    rows_at = np.arange(n0) if index is None else np.asarray(index)
    if allmiss.any():
        miss, rows_at = miss[~allmiss], rows_at[~allmiss]
    # EM start: the columns' means over the rows as a row-major array's would be summed (column_means: row after
    # row), cumulative sums being sequential
    mean0 = np.empty(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j, c in enumerate(columns):
            v = c[rows_at]
            mean0[j] = np.true_divide(np.cumsum(np.where(np.isnan(v), 0.0, v))[-1], np.count_nonzero(~np.isnan(v)))
    pt = column_patterns(columns, rows_at, miss)
    del miss
    return _fiml_group(pt, mean0)


def column_patterns(columns: list[np.ndarray], rows_at: np.ndarray, miss: np.ndarray) -> "Patterns":
    """:func:`row_patterns` (``rows=False``) of the rows ``rows_at`` of the columns (``miss``: their missing
    values, rows x variables), without an array of every row: each heavy pattern's rows are gathered in turn for
    its mean and cross-products, then the other patterns' rows into the patterns' kept rows. The same numbers,
    bit for bit, as row_patterns of the C-ordered array of those rows."""
    p = len(columns)
    pats, counts, heavy, order_rows = _sorted_patterns(miss)
    sorted_rows = rows_at[order_rows]  # the table's row of each sorted row
    del order_rows

    def gather(at: np.ndarray, obs: np.ndarray) -> np.ndarray:
        Y = _rows_of(columns, at)
        Y[~obs] = 0.0
        return Y

    self = Patterns.__new__(Patterns)
    self._init(None, pats, counts, n=int(np.sum(counts)))
    self.ybar = np.zeros(pats.shape)
    self._S = None
    self.heavy = heavy
    hp = np.flatnonzero(heavy)
    self._cpos[hp] = np.arange(len(hp))
    C = np.empty((len(hp), p, p))
    for j, b in enumerate(hp):
        Yb = gather(sorted_rows[self.bounds[b] : self.bounds[b + 1]], np.broadcast_to(pats[b], (int(counts[b]), p)))
        self.ybar[b] = np.add.reduceat(Yb, [0], axis=0)[0] / counts[b]
        Yb -= self.ybar[b]
        Yb *= pats[b]
        C[j] = Yb.T @ Yb
        del Yb
    self._C = C
    # each variable's observed values in the sorted rows' order (Patterns._observed_moments)
    means, variances = np.zeros(p), np.zeros(p)
    for j, c in enumerate(columns):
        if pats[:, j].any():
            values = c[sorted_rows[np.repeat(pats[:, j], counts)]]
            means[j], variances[j] = np.mean(values), np.var(values)
    self._observed = (means, variances)
    light = np.repeat(~heavy, counts)
    at = sorted_rows[light]
    Y = gather(at, np.repeat(pats[~heavy], counts[~heavy], axis=0))
    kept = np.where(heavy, 0, counts)
    self.starts = np.concatenate([[0], np.cumsum(kept)[:-1]]).astype(int)
    self.stops = self.starts + kept
    nz = np.flatnonzero(kept > 0)
    if len(nz):
        self.ybar[nz] = np.add.reduceat(Y, self.starts[nz], axis=0) / counts[nz, None]
    self._Y = Y
    self.rows_kept = not hp.size
    return self


def _sorted_patterns(miss: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The patterns of a rows x variables missing-value mask, ordered by their number of unobserved variables
    with the heavy ones last (then by their packed key): (observed masks, counts, heavy, the rows in pattern
    order)."""
    pats, inv = unique_patterns(~miss)
    counts = np.bincount(inv, minlength=len(pats))
    heavy = heavy_patterns(counts, miss.shape[1])
    order = np.lexsort((heavy, (~pats).sum(axis=1)))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return pats[order], counts[order], heavy[order], np.argsort(rank[inv], kind="stable")


#: The heavy patterns' rows are let go (``rows=False``: :func:`row_patterns`) only when the rows take more than
#: this: below it the memory is immaterial, and a later MLR fit to the same data finds them kept.
LET_GO_BYTES = 64 * 2**20

#: Patterns with at least ``HEAVY_ROWS_PER_VARIABLE * p`` rows are summarised by their moments (see
#: :class:`Patterns`); the moments kept take at most HEAVY_BYTES (the largest patterns first).
HEAVY_ROWS_PER_VARIABLE = 1
HEAVY_BYTES = 256 * 2**20


def heavy_patterns(counts: np.ndarray, p: int) -> np.ndarray:
    """Which patterns the sweeps treat by their moments rather than row by row: those with at least p rows (a
    pattern's moments cost about 4 p^3 operations per sweep, its rows about 4 p^2 each), at most as many as
    HEAVY_BYTES of p x p matrices holds, the largest first."""
    counts = np.asarray(counts)
    heavy = counts >= max(1, HEAVY_ROWS_PER_VARIABLE * p)
    cap = max(1, HEAVY_BYTES // (8 * p * p))
    if heavy.sum() > cap:
        keep = np.argsort(-counts, kind="stable")[:cap]
        heavy = np.zeros(len(counts), dtype=bool)
        heavy[keep] = True
    return heavy


def unique_patterns(obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a boolean matrix and each row's index among them (``np.unique(axis=0)``), keyed by
    the rows packed into 64-bit words (one sort of integers instead of a lexicographic sort of rows)."""
    n, p = obs.shape
    packed = np.packbits(obs, axis=1)
    width = -(-packed.shape[1] // 8) * 8
    words = np.zeros((n, width), dtype=np.uint8)
    words[:, : packed.shape[1]] = packed
    keys = words.view(np.uint64)
    if keys.shape[1] == 1:
        _, first, inv = np.unique(keys[:, 0], return_index=True, return_inverse=True)
    else:
        _, first, inv = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return obs[first], inv.ravel()


class Patterns:
    """The missing-data patterns of a group: per pattern its observed variables, size and mean (p-dimensional
    arrays, zeros at unobserved variables), and the group's rows zero-filled in pattern order.

    Patterns are ordered by their number k of unobserved variables, so the rows of the patterns with the same k
    are contiguous; the row sweeps (:meth:`sweep`) work on them with batched k x k linear algebra."""

    def __init__(self, gd: GroupData):
        blocks = gd.blocks
        p = len(gd.mean)
        obs = np.zeros((len(blocks), p), dtype=bool)
        for k, b in enumerate(blocks):
            obs[k, b.obs] = True
        counts = np.array([b.n for b in blocks], dtype=int)
        self._init(None, obs, counts, n=gd.n)
        self._blocks = blocks  # rows formed on demand (a block may carry moments without rows)
        self.ybar = np.zeros((len(blocks), p))
        for k, b in enumerate(blocks):
            self.ybar[k, b.obs] = b.mean  # as given (a block may carry moments without rows)
        self._S: np.ndarray | None = np.zeros((len(blocks), p, p))
        for k, b in enumerate(blocks):
            self._S[k][np.ix_(b.obs, b.obs)] = b.cov

    @classmethod
    def from_rows(
        cls,
        Y: np.ndarray,
        obs: np.ndarray,
        counts: np.ndarray,
        heavy: np.ndarray | None = None,
    ) -> "Patterns":
        """From rows zero-filled at unobserved variables and sorted by pattern (``counts`` rows per pattern).

        ``heavy``: the patterns that the sweeps treat by their moments (they must come after the other patterns
        with the same number of unobserved variables); none by default. Every row is kept (patterns that keep
        only the light patterns' rows: :func:`column_patterns`)."""
        self = cls.__new__(cls)
        self._init(Y, obs, counts, n=int(np.sum(counts)))
        starts = self.bounds[:-1]
        nz = counts > 0
        ybar: np.ndarray = np.zeros(obs.shape)
        ybar[nz] = np.add.reduceat(Y, starts[nz], axis=0) / counts[nz, None]
        self.ybar = ybar
        self._S = None
        if heavy is not None and np.any(heavy):
            self.heavy = np.asarray(heavy, dtype=bool)
            hp = np.flatnonzero(self.heavy)
            self._cpos[hp] = np.arange(len(hp))
            C = np.empty((len(hp), self.p, self.p))
            for j, b in enumerate(hp):
                z = Y[self.bounds[b] : self.bounds[b + 1]] - ybar[b]
                z *= obs[b]  # in place: one temporary of the pattern's rows (the largest: most of the data)
                C[j] = z.T @ z
            self._C = C
        return self

    def _init(self, Y, obs, counts, n):
        self._Y = Y
        self.obs = obs
        nb, p = obs.shape
        self.p, self.nb = p, nb
        self.n = np.asarray(counts, dtype=float)
        self.w = self.n / n
        self.nobs = obs.sum(axis=1)
        self.complete = nb == 1 and bool(obs.all())
        self.bounds = np.concatenate([[0], np.cumsum(counts)]).astype(int)
        # where each pattern's rows lie in the kept rows (:attr:`rows_array`): the bounds while every row is kept
        self.starts, self.stops = self.bounds[:-1], self.bounds[1:]
        self.rows_kept = True
        self.heavy = np.zeros(nb, dtype=bool)  # patterns summarised by their moments (:meth:`from_rows`)
        self._cpos = np.zeros(nb, dtype=int)  # a heavy pattern's position in _C
        self._C: np.ndarray | None = None  # heavy patterns: sum of (y_i - ybar_b)(y_i - ybar_b)', zero-filled
        self._M2 = None
        self._by_k = None
        self._plan = None
        self._last = None
        self._observed: tuple[np.ndarray, np.ndarray] | None = None  # _observed_moments, once computed

    @property
    def Y(self) -> np.ndarray:
        """Raw rows in pattern order (zeros at unobserved variables); pattern k is rows bounds[k]:bounds[k+1].
        ValueError when the heavy patterns' rows were let go (:func:`column_patterns`)."""
        if not self.rows_kept:
            raise ValueError(
                "the rows of the patterns summarised by their moments were let go (group_data_sets(rows=False)): "
                "casewise terms need the data set with rows=True"
            )
        return self.rows_array

    def has_rows(self, k: int) -> bool:
        """Whether pattern k's rows are kept (:attr:`rows_array`, rows ``starts[k]:stops[k]``)."""
        return bool(self.stops[k] - self.starts[k] == self.n[k])

    @property
    def rows_array(self) -> np.ndarray:
        """The kept rows in pattern order: every row (:attr:`Y`), or only those of the patterns that are not
        heavy once the others were let go; pattern k's are rows ``starts[k]:stops[k]``."""
        if self._Y is None:
            Y = np.zeros((int(self.bounds[-1]), self.p))
            for k, b in enumerate(self._blocks):
                Y[self.bounds[k] : self.bounds[k + 1]][:, b.obs] = b.y
            self._Y = Y
        return self._Y

    @property
    def M2(self) -> np.ndarray:
        """Per pattern, the p x p mask of observed pairs (formed on demand: patterns x p x p)."""
        if self._M2 is None:
            self._M2 = self.obs[:, :, None] & self.obs[:, None, :]
        return self._M2

    @property
    def S(self) -> np.ndarray:
        """Per pattern, the N-divisor covariance of its rows embedded in p x p (formed on demand)."""
        if self._S is None:
            S = np.zeros((self.nb, self.p, self.p))
            for k in range(self.nb):
                if self.n[k] > 0:
                    S[k] = self.pattern_cov(k)
            self._S = S
        return self._S

    def pattern_cov(self, k: int) -> np.ndarray:
        """Pattern k's N-divisor covariance embedded in p x p (from its moments when its rows were let go)."""
        if self._S is not None:
            return self._S[k]
        if not self.has_rows(k):
            assert self._C is not None
            return self._C[self._cpos[k]] / self.n[k]
        a, b = self.starts[k], self.stops[k]
        z = self.rows_array[a:b] - self.ybar[k]
        z *= self.obs[k]  # in place: one temporary of the pattern's rows
        return z.T @ z / (b - a)

    @property
    def by_k(self) -> list:
        """Patterns grouped by their number k of unobserved variables: (k, pattern indices, (n_k x k) indices of
        the unobserved variables)."""
        if self._by_k is None:
            miss = ~self.obs
            nm = miss.sum(axis=1)
            out = []
            for k in np.unique(nm):
                idx = np.flatnonzero(nm == k)
                mi = np.nonzero(miss[idx])[1].reshape(len(idx), int(k))
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

    def partitioned(self, sigma: np.ndarray):
        """Omega = Sigma^-1, log|Sigma| and, per group of patterns with k unobserved variables,
        (k, pattern indices, unobserved indices, Omega_mm^-1, log|Sigma_oo|); None if Sigma is not positive
        definite."""
        try:
            c = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return None
        ci = np.linalg.inv(c)
        Om = ci.T @ ci
        ld = 2 * np.sum(np.log(np.diag(c)))
        parts = []
        for k, idx, mi in self.by_k:
            if k == 0:
                parts.append((k, idx, mi, np.zeros((len(idx), 0, 0)), np.full(len(idx), ld)))
                continue
            cm = np.linalg.cholesky(Om[mi[:, :, None], mi[:, None, :]])
            cmi = np.linalg.inv(cm)
            A = np.matmul(cmi.transpose(0, 2, 1), cmi)
            parts.append((k, idx, mi, A, ld + 2 * np.sum(np.log(np.diagonal(cm, axis1=1, axis2=2)), axis=1)))
        return Om, ld, parts

    def sweep(self, sigma: np.ndarray, mu: np.ndarray, em: bool = False, rows: bool = False, visit=None):
        """One pass over the rows at (mu, Sigma); None if some Sigma_oo is not positive definite.

        Returns a dict with ``f`` (sum over rows of log|Sigma_oo| + d_o'Sigma_oo^-1 d_o), ``Om`` (Sigma^-1),
        ``G`` (sum_b n_b Omega_mm^-1 = sum_b n_b Var(y_m | y_o) in the m x m positions), ``UU``
        (sum_i u_i u_i') and ``u`` (sum_i u_i);
        with ``em=True`` also ``T1``/``T2``, the sums of the rows and of their cross-products with the unobserved
        values replaced by E(y_m | y_o) (without G); with ``rows=True`` the rows' u_i (``U``, in pattern order).
        ``visit(m, A, U)``, if given, is called for each chunk of rows with unobserved variables: their unobserved
        indices (rows x k), Omega_mm^-1 (rows x k x k) and u_i (rows x p); it needs Sigma positive definite. For
        the heavy patterns (:func:`heavy_patterns`, summarised by their moments) it is called once per group
        as ``visit(m, A, U, w=n_b, UU=...)`` with U the patterns' sums of u_i and UU their sums of u_i u_i'
        (patterns x p x p); without ``rows=True`` the heavy patterns' rows are not visited one by one.
        """
        plain = not (em or rows or visit is not None)
        if plain:  # the objective and the gradient at the same point share one pass (the last one is kept)
            key = (np.asarray(sigma, dtype=float).tobytes(), np.asarray(mu, dtype=float).tobytes())
            if self._last is not None and self._last[0] == key:
                return self._last[1]
        part = self.partitioned(sigma)
        if part is None:
            if visit is not None:
                return None
            out = self._sweep_direct(sigma, mu, em, rows)
        else:
            out = self._sweep(part, mu, em, rows, visit)
        if plain:
            self._last = (key, out)
        return out

    def _row_plan(self) -> list:
        """Per group of patterns with k unobserved variables: its rows (start, end of the rows of patterns that are
        not heavy, stop), each row's pattern within the group, for k > 0 each row's unobserved indices (rows x k),
        and the number of patterns of the group that are not heavy (the heavy ones come last)."""
        if self._plan is None:
            plan = []
            for k, idx, mi in self.by_k:
                r0, r1 = int(self.starts[idx[0]]), int(self.stops[idx[-1]])  # contiguous kept rows
                nl = int(np.count_nonzero(~self.heavy[idx]))
                rl = int(self.starts[idx[nl]]) if nl < len(idx) else r1
                local = np.repeat(np.arange(len(idx)), self.n[idx].astype(int))
                plan.append((r0, rl, r1, local, mi[local] if k else None, nl))
            self._plan = plan
        return self._plan

    def observed_variances(self) -> np.ndarray:
        """Each variable's variance over the rows where it is observed (N divisor, as ``numpy.nanvar``): a copy
        of those :meth:`_observed_moments` computes once per data set."""
        return self._observed_moments()[1].copy()

    def observed_means(self) -> np.ndarray:
        """Each variable's mean over the rows where it is observed (as ``numpy.nanmean``): a copy of those
        :meth:`_observed_moments` computes once per data set."""
        return self._observed_moments()[0].copy()

    def _observed_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """(means, variances) of the variables over the rows where each is observed, computed once per data set
        with one selection of each variable's observed rows (the EM's start and the independence model both use
        them: at a million rows each pass of boolean selections costs about 0.7 s)."""
        if self._observed is None:
            counts = np.diff(self.bounds)
            means, variances = np.zeros(self.p), np.zeros(self.p)
            for j in range(self.p):
                if self.obs[:, j].any():
                    # the rows where variable j is observed
                    values = self.rows_array[np.repeat(self.obs[:, j], counts), j]
                    means[j], variances[j] = np.mean(values), np.var(values)
            self._observed = (means, variances)
        return self._observed

    def _sweep(self, part, mu, em, rows, visit):
        Om, _, parts = part
        p = self.p
        out = {"f": 0.0, "Om": Om, "G": np.zeros((p, p)), "UU": np.zeros((p, p)), "u": np.zeros(p)}
        if em:
            out["T1"], out["T2"] = np.zeros(p), np.zeros((p, p))
        U = np.empty_like(self.Y) if rows else None
        for (k, idx, mi, A, LD), (r0, rl, r1, local, mrows, nl) in zip(parts, self._row_plan()):
            out["f"] += float(self.n[idx] @ LD)
            if k:
                np.add.at(out["G"], (mi[:, :, None], mi[:, None, :]), self.n[idx, None, None] * A)
            if not rows and nl < len(idx):  # heavy patterns by their moments, the other rows one by one
                for h0 in range(nl, len(idx), PATTERN_CHUNK):  # bounds the patterns x p x p temporaries
                    h = slice(h0, min(len(idx), h0 + PATTERN_CHUNK))
                    self._pattern_terms(out, Om, mu, k, idx[h], mi[h], A[h], em, visit)
            else:
                rl = r1
            for c0 in range(r0, rl, ROW_CHUNK):
                c1 = min(rl, c0 + ROW_CHUNK)
                D = self.rows_array[c0:c1] - mu
                D *= self.obs[idx[local[c0 - r0 : c1 - r0]]]  # each row's pattern's observed variables
                Z = D @ Om
                if k:
                    m = mrows[c0 - r0 : c1 - r0]  # (rows, k)
                    Ar = A[local[c0 - r0 : c1 - r0]]
                    zm = np.take_along_axis(Z, m, axis=1)
                    t = np.einsum("rij,rj->ri", Ar, zm)  # Omega_mm^-1 z_m
                    Z -= np.einsum("rj,rjp->rp", t, Om[m])  # Omega_.m Omega_mm^-1 z_m (rows x p)
                    if visit is not None:
                        visit(m, Ar, Z)
                    if em:
                        F = self.rows_array[c0:c1].copy()
                        np.put_along_axis(F, m, mu[m] - t, axis=1)
                elif em:
                    F = self.rows_array[c0:c1]
                out["f"] += float(np.einsum("ij,ij->", D, Z))
                out["UU"] += Z.T @ Z
                out["u"] += Z.sum(axis=0)
                if em:
                    out["T1"] += F.sum(axis=0)
                    out["T2"] += F.T @ F
                if rows:
                    U[c0:c1] = Z
        if rows:
            out["U"] = U
        return out

    def _pattern_terms(self, out, Om, mu, k, hp, mi, A, em, visit):
        """Add the terms of the heavy patterns ``hp`` (k unobserved variables ``mi``, Omega_mm^-1 ``A``) to a
        sweep's sums from their moments: with n_b rows, mean ybar_b, C_b = sum_i (y_i - ybar_b)(y_i - ybar_b)'
        and d_b = ybar_b - mu (embedded), P_b = Sigma_oo^-1 = Omega - Omega_.m A_b Omega_m. (embedded),

            sum_i d_i'P_b d_i = tr(P_b C_b) + n_b d_b'P_b d_b,   sum_i u_i = n_b P_b d_b,
            sum_i u_i u_i' = P_b (C_b + n_b d_b d_b') P_b,

        and for the EM the filled rows F_i = Fbar_b + L_b (y_i - ybar_b), where L_b keeps the observed values and
        maps them to E(y_m | y_o) (rows m: -A_b Omega_m. on the observed columns): sum_i F_i = n_b Fbar_b and
        sum_i F_i F_i' = n_b Fbar_b Fbar_b' + L_b C_b L_b'. Equal to the row-by-row sums up to rounding."""
        assert self._C is not None
        C = self._C[self._cpos[hp]]
        ob = self.obs[hp]
        nb = self.n[hp]
        d = (self.ybar[hp] - mu) * ob
        if k:
            Fm = Om[mi]  # (h, k, p): Omega_m.
            P = Om[None, :, :] - np.matmul(Fm.transpose(0, 2, 1), np.matmul(A, Fm))
            P *= ob[:, :, None] & ob[:, None, :]  # exact zeros at unobserved variables
        else:
            P = np.broadcast_to(Om, (len(hp), self.p, self.p))
        Pd = np.einsum("hij,hj->hi", P, d)
        UUb = np.matmul(np.matmul(P, C), P) + nb[:, None, None] * (Pd[:, :, None] * Pd[:, None, :])
        out["f"] += float(np.einsum("hij,hij->", P, C) + nb @ np.einsum("hi,hi->h", d, Pd))
        out["u"] += nb @ Pd
        out["UU"] += UUb.sum(axis=0)
        if visit is not None and k:
            visit(mi, A, nb[:, None] * Pd, w=nb, UU=UUb)
        if em:
            Fbar = self.ybar[hp] * ob
            L = np.zeros((len(hp), self.p, self.p))
            di = np.arange(self.p)
            L[:, di, di] = ob
            if k:
                zm = np.take_along_axis(d @ Om, mi, axis=1)
                t = np.einsum("hij,hj->hi", A, zm)  # Omega_mm^-1 (Omega d_b)_m
                np.put_along_axis(Fbar, mi, mu[mi] - t, axis=1)
                L[np.arange(len(hp))[:, None], mi, :] = -np.matmul(A, Fm) * ob[:, None, :]
            out["T1"] += nb @ Fbar
            out["T2"] += (Fbar.T * nb) @ Fbar + np.matmul(np.matmul(L, C), L.transpose(0, 2, 1)).sum(axis=0)

    def _sweep_direct(self, sigma, mu, em, rows):
        """:meth:`sweep` when Sigma itself is not positive definite: every Sigma_oo factorised directly."""
        res = self._direct(sigma)
        if res is None:
            return None
        P, LD, _ = res
        p = self.p
        G = np.zeros((p, p))  # sum_b n_b Var(y_m | y_o) in the m x m positions
        for k in range(self.nb):
            m = np.flatnonzero(~self.obs[k])
            if len(m):
                G[np.ix_(m, m)] += self.n[k] * (sigma[np.ix_(m, m)] - sigma[m] @ P[k] @ sigma[:, m])
        out = {"f": float(self.n @ LD), "Om": None, "G": G, "UU": np.zeros((p, p)), "u": np.zeros(p)}
        if em:
            out["T1"], out["T2"] = np.zeros(p), np.zeros((p, p))
        U = np.empty_like(self.Y) if rows else None
        for k in range(self.nb):
            if not self.has_rows(k):  # rows let go: the same sums from the pattern's moments
                self._direct_terms(out, sigma, mu, P[k], k, em)
                continue
            a, b = self.starts[k], self.stops[k]
            D = (self.rows_array[a:b] - mu) * self.obs[k]
            Z = D @ P[k]
            out["f"] += float(np.sum(D * Z))
            out["UU"] += Z.T @ Z
            out["u"] += Z.sum(axis=0)
            if em:
                m = np.flatnonzero(~self.obs[k])
                F = self.rows_array[a:b].copy()
                F[:, m] = mu[m] + D @ (sigma[m] @ P[k]).T
                out["T1"] += F.sum(axis=0)
                out["T2"] += F.T @ F
            if rows:
                U[a:b] = Z
        out["P"] = P
        if rows:
            out["U"] = U
        return out

    def _direct_terms(self, out, sigma, mu, P, k, em):
        """:meth:`_sweep_direct`'s terms of pattern k from its moments (its rows were let go), with P = Sigma_oo^-1
        embedded, d = ybar_k - mu (embedded) and C the pattern's centred cross-products: as in
        :meth:`_pattern_terms`, f = tr(P C) + n d'P d, sum u_i = n P d, sum u_i u_i' = P (C + n d d') P, and for the
        EM the filled rows F_i = Fbar + L (y_i - ybar_k), L keeping the observed values and mapping them to
        E(y_m | y_o) by the rows Sigma_m. P."""
        assert self._C is not None
        C, n, ob = self._C[self._cpos[k]], self.n[k], self.obs[k]
        d = (self.ybar[k] - mu) * ob
        Pd = P @ d
        out["f"] += float(np.sum(P * C) + n * (d @ Pd))
        out["u"] += n * Pd
        out["UU"] += P @ C @ P + n * np.outer(Pd, Pd)
        if em:
            m = np.flatnonzero(~ob)
            B = sigma[m] @ P  # (k, p): E(y_m | y_o) = mu_m + B (y - mu) (zero-filled)
            Fbar = self.ybar[k] * ob
            Fbar[m] = mu[m] + B @ d
            L = np.diag(ob.astype(float))
            L[m] = B
            out["T1"] += n * Fbar
            out["T2"] += n * np.outer(Fbar, Fbar) + L @ C @ L.T

    def pattern_quadratic(self, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """Per pattern, (ybar_b - mu)_o' Sigma_oo^-1 (ybar_b - mu)_o (the terms of Little's MCAR statistic), by
        the partitioned inverse; raises LinAlgError if Sigma is not positive definite."""
        part = self.partitioned(sigma)
        if part is None:
            raise np.linalg.LinAlgError("Sigma is not positive definite")
        Om, _, parts = part
        out = np.empty(self.nb)
        for k, idx, mi, A, _ld in parts:
            D = (self.ybar[idx] - mu) * self.obs[idx]
            Z = D @ Om
            q = np.einsum("ij,ij->i", D, Z)
            if k:
                zm = np.take_along_axis(Z, mi, axis=1)
                q -= np.einsum("ri,rij,rj->r", zm, A, zm)
            out[idx] = q
        return out

    def decompose(self, sigma: np.ndarray):
        """Sigma_oo^-1 of every pattern embedded in p x p (zeros at unobserved variables) and log|Sigma_oo|
        (patterns x p x p: for the h1 information); None if some Sigma_oo is not positive definite."""
        part = self.partitioned(sigma)
        if part is None:
            return self._direct(sigma)
        Om, _, parts = part
        P = np.empty((self.nb, self.p, self.p))
        LD = np.empty(self.nb)
        for k, idx, mi, A, ld in parts:
            LD[idx] = ld
            if k == 0:
                P[idx] = Om
                continue
            cm = np.linalg.cholesky(A)
            F = np.matmul(Om[:, mi].transpose(1, 0, 2), cm)  # Omega_.m chol(Omega_mm^-1)
            P[idx] = (Om[None, :, :] - np.matmul(F, F.transpose(0, 2, 1))) * self.M2[idx]
        return P, LD, None

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
    """sum_b n_b/N [log|Sigma_b| + tr(S_b Sigma_b^-1) + d'Sigma_b^-1 d] (FIML -2logl/N without 2 pi), as the sum
    over rows of log|Sigma_oo| + (y_o - mu_o)' Sigma_oo^-1 (y_o - mu_o) over N (:meth:`Patterns.sweep`)."""
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
    sw = pt.sweep(sigma, mu)
    if sw is None:
        return np.inf
    return sw["f"] / np.sum(pt.n)


def loglik(gd: GroupData, mu, sigma) -> float:
    """Log-likelihood of the group's observed data under N(mu, Sigma) (FIML casewise over patterns)."""
    pt = patterns(gd)
    return float(-0.5 * (np.sum(pt.n) * block_f(gd, mu, sigma) + np.sum(pt.n * pt.nobs) * np.log(2 * np.pi)))


def saturated_fiml(gd: GroupData, maxit: int = 5000, tol: float = 1e-10):
    """EM estimate of the unrestricted mean vector and covariance matrix with missing data (the h1 model).

    Matches ``lavaan:::lav_mvnorm_missing_h1_estimate_moments`` (EM; Dempster, Laird & Rubin 1977): the E-step
    fills each row's missing values with E(y_m | y_o) = mu_m + Sigma_mo Sigma_oo^-1 (y_o - mu_o)
    = mu_m - Omega_mm^-1 (Omega (y - mu))_m and adds n_b Var(y_m | y_o) = n_b Omega_mm^-1 to the
    cross-products; stops when -2logl/N changes by less than ``tol``. The sweep that gives the E-step also gives
    -2logl at the current moments, so each iteration passes over the rows once.
    """
    pt = patterns(gd)
    mu = gd.mean.copy()
    sig = np.diag(pt.observed_variances())
    f_old = np.inf
    for _ in range(maxit):
        f, mu_new, sig_new = em_step(pt, mu, sig)  # f: -2logl/N at (mu, sig), before the update
        if abs(f_old - f) < tol:
            break
        f_old = f
        mu, sig = mu_new, (sig_new + sig_new.T) / 2
    return mu, sig, block_f(gd, mu, sig)


def em_step(pt: Patterns, mu: np.ndarray, sigma: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """One EM step for the unrestricted normal model (Little & Rubin 2002, sec. 11.2) by a pass over the rows
    (:meth:`Patterns.sweep`): the per-observation -2logl (without 2 pi) at (mu, Sigma), and the updated mean
    T1/N and covariance (T2 + sum_b n_b Var(y_m | y_o))/N - mu mu'. Raises LinAlgError if some Sigma_oo is not
    positive definite. Shared by :func:`saturated_fiml` and :func:`compval.missingness.em_mvn` (their stopping
    rules differ: lavaan's on -2logl, the MCAR test's reference on the estimates)."""
    sw = pt.sweep(sigma, mu, em=True)
    if sw is None:
        raise np.linalg.LinAlgError("EM: covariance matrix of a missing-data pattern not positive definite")
    n = float(np.sum(pt.n))
    mu_new = sw["T1"] / n
    return sw["f"] / n, mu_new, (sw["T2"] + sw["G"]) / n - np.outer(mu_new, mu_new)


def moment_wv(gd: GroupData, mu, sigma, inverse: np.ndarray | None = None):
    """Gradient of the per-observation FIML -2logl with respect to Sigma (p x p, W) and mu (v):
    W = sum_b n_b/N [P - P (S_b + d d') P], v = -2 sum_b n_b/N P d (P = Sigma_oo^-1 embedded).

    Over rows: sum_b n_b P_b = N Omega - Omega G Omega and sum_b n_b P_b (S_b + d_b d_b') P_b = sum_i u_i u_i'
    (:meth:`Patterns.sweep`). ``inverse``: Sigma^-1 when the caller has it (used with complete data)."""
    pt = patterns(gd)
    if pt.complete:
        b = gd.blocks[0]
        si = np.linalg.inv(sigma) if inverse is None else inverse
        d = b.mean - mu
        return si - si @ (b.cov + np.outer(d, d)) @ si, 1.0 * (-2.0) * (si @ d)
    sw = pt.sweep(sigma, mu)
    if sw is None:  # some Sigma_oo not positive definite: plain inverses (raises if singular)
        P = np.linalg.inv(pt.filled(sigma)) * pt.M2
        d = pt.d(mu)
        Pd = np.einsum("bij,bj->bi", P, d)
        G = P - np.matmul(np.matmul(P, pt.S), P) - Pd[:, :, None] * Pd[:, None, :]
        return np.tensordot(pt.w, G, axes=(0, 0)), -2.0 * (pt.w @ Pd)
    n = np.sum(pt.n)
    if sw["Om"] is not None:
        Om = sw["Om"]
        Psum = n * Om - Om @ sw["G"] @ Om
    else:
        Psum = np.tensordot(pt.n, sw["P"], axes=(0, 0))
    W = (Psum - sw["UU"]) / n
    return (W + W.T) / 2, -2.0 * sw["u"] / n


def row_u(pt: Patterns, P: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """u_i = Sigma_oo^-1 (y_o - mu_o) for every row (zeros at unobserved variables), rows in pattern order, from
    the per-pattern inverses ``P`` (:meth:`Patterns.inverse`)."""
    U = np.empty_like(pt.Y)
    for k in range(pt.nb):
        r = slice(pt.bounds[k], pt.bounds[k + 1])
        U[r] = ((pt.Y[r] - mu[None, :]) * pt.obs[k]) @ P[k]
    return U
