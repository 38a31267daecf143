"""The role guess: the right target on varied tables, codes vs numbers, and its reasons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from data.role_tables import ROLE_TABLES, SHARED_TABLES

from embedding_core.data.csv_reader import read_csv
from embedding_core.data.profile import profile_columns

DATA = Path(__file__).resolve().parents[1] / "data" / "roles"
N = 300


def _guess(frame: pd.DataFrame) -> list[str]:
    profile = profile_columns(frame)
    return profile.loc[profile["suggested_role"] == "target", "column"].tolist()


def _row(profile: pd.DataFrame, column: str) -> pd.Series:
    return profile.set_index("column").loc[column]


@pytest.mark.parametrize("name", sorted(ROLE_TABLES))
def test_the_target_of_varied_tables(name):
    make, target = ROLE_TABLES[name]
    frame = read_csv(make().to_csv(index=False).encode(), name=f"{name}.csv")  # as uploaded
    assert _guess(frame) == [target]


@pytest.mark.parametrize("name", sorted(SHARED_TABLES))
def test_the_target_of_the_benchmark_datasets(name):
    assert _guess(read_csv(DATA / f"{name}.csv.gz")) == [SHARED_TABLES[name]]


def test_the_last_column_beats_a_flag_named_like_a_target():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "plan": rng.choice(["a", "b", "c"], N),
            "has_defaulted": rng.choice(["0", "1"], N),
            "region": rng.choice(["n", "s"], N),
            "renewed": rng.choice(["yes", "no"], N),
        }
    )
    profile = profile_columns(df)
    assert _guess(df) == ["renewed"]
    assert _row(profile, "renewed")["target_reason"].startswith("2 values, last column")


def test_a_family_of_flags_is_not_the_target():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"city": rng.choice(["x", "y", "z"], N), "spend": rng.gamma(2, 30, N)})
    for tag in ["sport", "news", "music", "games"]:
        df[f"likes_{tag}"] = rng.choice([0, 1], N)
    profile = profile_columns(df.astype(str))
    assert _guess(df.astype(str)) == ["spend"]
    assert "one of 4 similar" not in _row(profile, "spend")["target_reason"]
    assert _row(profile, "likes_games")["target_score"] < _row(profile, "spend")["target_score"]


def test_a_one_letter_coordinate_is_not_taken_for_y():
    rng = np.random.default_rng(2)
    df = pd.DataFrame(
        {
            "kind": rng.choice(["a", "b", "c"], N),
            "x": rng.normal(size=N),
            "y": rng.normal(size=N),
            "z": rng.normal(size=N),
            "weight": rng.gamma(2, 3, N).round(2),
            "colour": rng.choice(["r", "g"], N),
        }
    )
    assert "y" not in _guess(df.astype(str))


def test_position_alone_is_not_enough():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"a": rng.choice(["x", "y", "z"], N), "b": rng.poisson(3.0, N)}).astype(str)
    profile = profile_columns(df)
    assert _guess(df) == []  # "b" is the last column, but a count: below the bar
    assert _row(profile, "b")["target_reason"].endswith("values, last column")
    assert _row(profile, "b")["target_reason"].startswith("a count with")


def _peaked_codes(rng: np.random.Generator) -> np.ndarray:
    weights = np.exp(-0.5 * ((np.arange(1, 42) - 33) / 6.0) ** 2)  # most common code: 33
    return rng.choice(np.arange(1, 42), N, p=weights / weights.sum())


@pytest.mark.parametrize(
    ("values", "role", "reason"),
    [
        (_peaked_codes, "categorical", "not shaped like a count: codes"),
        (lambda r: r.choice([1, 2, 3, 4], N), "categorical", "only 4 values"),
        (lambda r: r.choice(np.arange(20, 200, 10), N), "categorical", "with gaps"),
        (lambda r: r.poisson(2, N), "numeric", "shaped like a count"),
        # a count with a long, sparse tail (calls of a campaign: 1-56, gaps past 20)
        (
            lambda r: np.concatenate([r.geometric(0.35, N - 6), [29, 31, 35, 42, 43, 56]]),
            "numeric",
            "shaped like a count",
        ),
        (lambda r: r.integers(0, 500, N), "numeric", "whole numbers, "),
        (lambda r: r.normal(size=N), "numeric", "decimals"),
    ],
)
def test_whole_numbers_are_codes_or_quantities_and_the_profile_says_why(values, role, reason):
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"v": values(rng), "other": rng.choice(["a", "b", "c"], N)}).astype(str)
    row = _row(profile_columns(df), "v")
    assert (row["suggested_role"], reason in row["role_reason"]) == (role, True), row["role_reason"]


def test_named_codes_and_quantities():
    rng = np.random.default_rng(5)
    df = pd.DataFrame(
        {
            "MOSTYPE": rng.integers(1, 42, N),  # "type" inside one word
            "tenure_months": rng.integers(0, 40, N),
            "n": rng.choice(["a", "b"], N),
        }
    ).astype(str)
    profile = profile_columns(df)
    assert _row(profile, "MOSTYPE")["suggested_role"] == "categorical"
    assert "'type'" in _row(profile, "MOSTYPE")["role_reason"]
    assert _row(profile, "tenure_months")["suggested_role"] == "numeric"
    assert "'months'" in _row(profile, "tenure_months")["role_reason"]


def test_a_near_unique_price_is_a_quantity_not_an_id():
    rng = np.random.default_rng(6)
    df = pd.DataFrame({"shop": rng.choice(["a", "b"], N), "price": rng.integers(0, 10**6, N)})
    row = _row(profile_columns(df.astype(str)), "price")
    assert not row["id_like"]
    assert row["suggested_role"] == "target"
