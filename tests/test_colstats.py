"""compval.colstats: column statistics of tables with missing values, bit for bit numpy's, without its copies."""

from __future__ import annotations

import numpy as np
import pytest

from compval import colstats
from compval.colstats import column_means, column_variances


@pytest.mark.parametrize("shape", [(5001, 7), (3 * colstats.ROW_BLOCK, 50), (20_011, 23), (40, 4)])
def test_column_means_are_nanmean_bit_for_bit_in_either_layout(shape):
    """column_means averages a column-major table column by column and a row-major one block of rows by block of
    rows (no copy of the table) and gives numpy's nanmean(axis=0) to the bit, in either layout, with NaN (and
    nanmean's warning) for a column without answers."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal(shape) * 1e3 + 0.1  # not whole numbers: the order of the sums shows in the bits
    x[rng.random(x.shape) < 0.2] = np.nan
    x[:, 3] = np.nan
    for layout in (np.ascontiguousarray(x), np.asfortranarray(x)):  # numpy's sums differ between the two
        with pytest.warns(RuntimeWarning):  # as nanmean: a column without answers
            got = column_means(layout)
        with pytest.warns(RuntimeWarning):
            np.testing.assert_array_equal(got, np.nanmean(layout, axis=0))
    complete = np.ascontiguousarray(np.nan_to_num(x))
    np.testing.assert_array_equal(column_means(complete), np.nanmean(complete, axis=0))
    np.testing.assert_array_equal(column_means(np.empty((0, 3))), np.zeros(3))


def test_row_major_means_do_not_copy_the_table(monkeypatch):
    """The row-major path never asks numpy for a NaN-replaced copy of the whole table."""
    x = np.random.default_rng(2).standard_normal((5 * colstats.ROW_BLOCK + 3, 6))
    x[::7, 2] = np.nan
    largest = []
    real = np.where
    monkeypatch.setattr(colstats.np, "where", lambda *a: largest.append(np.shape(a[0])[0]) or real(*a))
    column_means(x)
    assert max(largest) <= colstats.ROW_BLOCK


@pytest.mark.parametrize("shape", [(5001, 7), (3 * colstats.ROW_BLOCK, 50), (20_011, 23), (40, 4)])
def test_column_variances_are_nanvar_bit_for_bit_in_either_layout(shape):
    """column_variances gives numpy's nanvar(axis=0) (divisor n) to the bit in both layouts, with NaN and
    nanvar's warning for a column without answers."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal(shape) * 1e3 + 0.1
    x[rng.random(x.shape) < 0.2] = np.nan
    x[:, 2] = np.nan
    for layout in (np.ascontiguousarray(x), np.asfortranarray(x)):
        with pytest.warns(RuntimeWarning):
            got = column_variances(layout)
        with pytest.warns(RuntimeWarning):
            np.testing.assert_array_equal(got, np.nanvar(layout, axis=0))
    complete = np.ascontiguousarray(np.nan_to_num(x))
    np.testing.assert_array_equal(column_variances(complete), np.nanvar(complete, axis=0))


@pytest.mark.parametrize("shape", [(5001, 7), (3 * colstats.ROW_BLOCK, 50), (40, 4)])
def test_by_column_gives_the_column_major_numbers_in_any_layout(shape):
    """by_column=True: a row-major copy of a column-major table gets the column-major table's means and
    variances to the bit (the row-major path's differ from them in the last bits)."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape) * 1e3 + 0.1
    x[rng.random(x.shape) < 0.2] = np.nan
    block, rows = np.asfortranarray(x), np.ascontiguousarray(x)
    for fn in (column_means, column_variances):
        np.testing.assert_array_equal(fn(rows, by_column=True), fn(block))
        np.testing.assert_array_equal(fn(block, by_column=True), fn(block))
    if shape[0] > colstats.ROW_BLOCK:  # the two layouts' own sums do differ: the option is needed
        assert not np.array_equal(column_means(rows), column_means(block))
