"""The public data sets exported by tests/reference/data/export_datasets.R have the documented rows and columns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).parent / "reference" / "data"


@pytest.mark.parametrize(
    "file, n, columns",
    [
        ("bfi.csv", 2800, ["id"] + [f"{f}{i}" for f in "ACENO" for i in range(1, 6)] + ["gender", "education", "age"]),
        (
            "HolzingerSwineford1939.csv",
            301,
            ["id", "sex", "ageyr", "agemo", "school", "grade"] + [f"x{i}" for i in range(1, 10)],
        ),
        ("PoliticalDemocracy.csv", 75, [f"y{i}" for i in range(1, 9)] + ["x1", "x2", "x3"]),
        ("sat_act.csv", 700, ["id", "gender", "education", "age", "ACT", "SATV", "SATQ"]),
    ],
)
def test_exported_data_sets_have_the_documented_shape(file, n, columns):
    d = pd.read_csv(DATA / file)
    assert len(d) == n and list(d.columns) == columns
