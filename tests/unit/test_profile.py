"""profile_columns and suggest_roles: kinds, flags, suggested roles and the target guess."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from embedding_core.data.csv_reader import read_csv
from embedding_core.data.profile import PROFILE_COLUMNS, profile_columns, suggest_roles
from embedding_core.data.roles import Roles

N = 200


def _text(values) -> pd.Series:
    return pd.Series(values, dtype="str")


def _row(profile: pd.DataFrame, column: str) -> pd.Series:
    return profile.set_index("column").loc[column]


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(N)],
            "region": rng.choice(["north", "south", "east", "west"], N),
            "zip": [f"0{z:04d}" for z in rng.integers(0, 300, N)],
            "store_id": rng.integers(1, 40, N).astype(str),
            "visits": rng.integers(0, 5, N).astype(str),
            "amount": rng.gamma(2.0, 50.0, N).round(2).astype(str),
            "age": rng.integers(18, 90, N).astype(str),
            "country": ["FR"] * N,
            "notes": [None] * (N - 3) + ["a", "b", "c"],
            "blank": [None] * N,
            "contact": rng.choice(["phone", "mail"], N),
            "churned": rng.choice(["yes", "no"], N),
        }
    )
    return frame.astype("str")


@pytest.fixture(scope="module")
def mixed_profile(mixed) -> pd.DataFrame:
    return profile_columns(mixed)


def test_one_row_per_column_with_the_documented_fields(mixed, mixed_profile):
    assert tuple(mixed_profile.columns) == PROFILE_COLUMNS
    assert mixed_profile["column"].tolist() == list(mixed.columns)
    assert mixed_profile["n_distinct"].dtype == np.int64
    assert mixed_profile["missing_share"].dtype == np.float64
    assert mixed_profile["id_like"].dtype == bool


@pytest.mark.parametrize(
    ("column", "kind", "role"),
    [
        ("customer_id", "text", "ignore"),
        ("region", "text", "categorical"),
        ("zip", "text", "categorical"),  # leading zeros: codes, not numbers
        ("store_id", "numeric", "categorical"),  # integer codes by name
        ("visits", "numeric", "categorical"),  # few whole-number values
        ("amount", "numeric", "numeric"),
        ("age", "numeric", "numeric"),
        ("country", "text", "ignore"),  # constant
        ("notes", "text", "ignore"),  # almost always missing
        ("blank", "empty", "ignore"),
        ("contact", "text", "categorical"),
        ("churned", "boolean", "target"),
    ],
)
def test_kind_and_suggested_role(mixed_profile, column, kind, role):
    row = _row(mixed_profile, column)
    assert (row["kind"], row["suggested_role"]) == (kind, role)


def test_counts_missing_share_and_examples():
    df = pd.DataFrame({"c": _text(["b", "a", "b", None, "c", "b", "a", None])})
    row = profile_columns(df).iloc[0]
    assert row["n_distinct"] == 3
    assert row["missing_share"] == pytest.approx(0.25)
    assert row["examples"] == "b, a, c"  # most frequent first


def test_examples_with_commas_are_quoted():
    df = pd.DataFrame({"c": _text(["yes, registered"] * 3 + ["none"] * 2)})
    assert profile_columns(df).iloc[0]["examples"] == '"yes, registered", none'


def test_examples_are_short_and_on_one_line():
    long_value = "line one\nline two " + "x" * 100
    df = pd.DataFrame({"c": _text([long_value, "short"] * 3)})
    examples = profile_columns(df).iloc[0]["examples"]
    assert "\n" not in examples
    assert len(examples) < 50


def test_constant_column_is_flagged(mixed_profile):
    row = _row(mixed_profile, "country")
    assert row["constant"]
    assert "same value in every row" in row["warning"]


def test_mostly_missing_column_is_warned(mixed_profile):
    assert "missing in 98% of rows" in _row(mixed_profile, "notes")["warning"]
    assert "empty" in _row(mixed_profile, "blank")["warning"]


@pytest.mark.parametrize("as_integers", [False, True])
def test_fifty_thousand_unique_ids_are_id_like_and_ignored(as_integers):
    n = 50_000
    ids = (
        np.arange(100_000, 100_000 + n).astype(str)
        if as_integers
        else [f"ID{i:06d}" for i in range(n)]
    )
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "user": ids,
            "segment": rng.choice(["a", "b", "c"], n),
            "clicked": rng.choice(["0", "1"], n),
        }
    ).astype("str")
    profile = profile_columns(df)
    row = _row(profile, "user")
    assert row["id_like"]
    assert row["suggested_role"] == "ignore"
    assert "looks like an ID" in row["warning"]
    assert row["n_distinct"] == n
    roles = suggest_roles(df, profile)
    assert roles == Roles(categorical=("segment",), target="clicked")


def test_mostly_unique_text_is_id_like_but_a_repeating_code_is_not():
    n = 1_000
    rng = np.random.default_rng(2)
    nearly_unique = [f"u{i}" for i in range(n)]
    nearly_unique[:50] = ["u0"] * 50  # 95% distinct
    df = pd.DataFrame(
        {
            "email": nearly_unique,
            "product": [f"P{i}" for i in rng.integers(0, 300, n)],  # ~25% distinct
        }
    ).astype("str")
    profile = profile_columns(df)
    assert _row(profile, "email")["id_like"]
    assert not _row(profile, "product")["id_like"]
    assert _row(profile, "product")["suggested_role"] == "categorical"


def test_continuous_numbers_are_not_id_like():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"price": rng.normal(100, 10, 500).astype(str)}).astype("str")
    row = profile_columns(df).iloc[0]
    assert not row["id_like"]
    assert row["suggested_role"] == "numeric"


def test_tiny_frames_are_not_flagged_as_ids():
    df = pd.DataFrame({"name": ["a", "b", "c", "d"], "y": ["0", "1", "0", "1"]}).astype("str")
    profile = profile_columns(df)
    assert not _row(profile, "name")["id_like"]
    assert suggest_roles(df, profile) == Roles(categorical=("name",), target="y")


def test_missing_tokens_in_numbers_count_as_missing():
    df = pd.DataFrame({"x": _text(["1.5", "NA", "2", "null", "", "3", "?", "4.25"])})
    row = profile_columns(df).iloc[0]
    assert row["kind"] == "numeric"
    assert row["n_distinct"] == 4
    assert row["missing_share"] == pytest.approx(4 / 8)


def test_one_text_value_makes_a_column_text():
    values = [str(i) for i in range(300)] + ["n/a!"]
    row = profile_columns(pd.DataFrame({"x": _text(values)})).iloc[0]
    assert row["kind"] == "text"


@pytest.mark.parametrize(
    "pair", [["0", "1"], ["yes", "no"], ["True", "False"], ["Y", "N"], ["1.0", "0.0"]]
)
def test_boolean_kind(pair):
    row = profile_columns(pd.DataFrame({"flag": _text(pair * 10)})).iloc[0]
    assert row["kind"] == "boolean"


def test_two_arbitrary_labels_are_text_but_a_binary_target():
    df = pd.DataFrame({"colour": _text(["red", "blue"] * 20), "size": _text(["S", "M"] * 20)})
    profile = profile_columns(df)
    assert profile["kind"].tolist() == ["text", "text"]
    assert profile["suggested_role"].tolist() == ["categorical", "target"]  # rightmost


def test_numeric_dtypes_are_profiled_too():
    df = pd.DataFrame(
        {
            "code": pd.Series([1, 2, 3, 1] * 10),
            "score": np.linspace(0, 1, 40),
            "ok": [True, False] * 20,
            "label": pd.Series(["x", "y"] * 20, dtype=object),
        }
    )
    profile = profile_columns(df)
    assert profile["kind"].tolist() == ["numeric", "numeric", "boolean", "text"]
    assert _row(profile, "code")["suggested_role"] == "categorical"
    assert _row(profile, "score")["suggested_role"] == "numeric"


def test_empty_frame():
    assert len(profile_columns(pd.DataFrame())) == 0
    assert suggest_roles(pd.DataFrame()) is None


# --- target guess and suggest_roles ------------------------------------------------------


def test_target_prefers_a_telling_name_over_position():
    df = pd.DataFrame(
        {
            "Churn": ["yes", "no"] * 30,
            "plan": ["a", "b", "c"] * 20,
            "has_phone": ["0", "1"] * 30,
        }
    ).astype("str")
    profile = profile_columns(df)
    assert _row(profile, "Churn")["suggested_role"] == "target"
    assert _row(profile, "has_phone")["suggested_role"] == "categorical"


@pytest.mark.parametrize(
    "name", ["target", "label", "y", "is_fraud", "defaultPayment", "readmitted_lt30", "bad_credit"]
)
def test_target_names(name):
    df = pd.DataFrame(
        {"other_flag": ["a", "b"] * 20, name: ["0", "1"] * 20, "plan": ["p", "q", "r", "s"] * 10}
    )
    assert _row(profile_columns(df.astype("str")), name)["suggested_role"] == "target"


def test_the_last_binary_column_when_no_name_helps():
    df = pd.DataFrame(
        {"flag_a": ["0", "1"] * 20, "group": ["a", "b", "c", "d"] * 10, "flag_b": ["x", "y"] * 20}
    ).astype("str")
    assert _row(profile_columns(df), "flag_b")["suggested_role"] == "target"


def test_a_multiclass_column_named_label_is_a_target():
    df = pd.DataFrame(
        {"colour": ["red", "blue", "green"] * 20, "label": ["cat", "dog", "bird"] * 20}
    ).astype("str")
    roles = suggest_roles(df)
    assert roles == Roles(categorical=("colour",), target="label")


def test_no_target_candidate_gives_none():
    df = pd.DataFrame({"a": ["x", "y", "z"] * 10, "b": [str(i % 7) for i in range(30)]})
    assert suggest_roles(df.astype("str")) is None
    assert "target" not in profile_columns(df.astype("str"))["suggested_role"].tolist()


def test_no_categorical_candidate_gives_none():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"x": rng.normal(size=50).astype(str), "y": ["0", "1"] * 25})
    assert suggest_roles(df.astype("str")) is None


def test_a_constant_or_empty_column_is_never_the_target():
    df = pd.DataFrame(
        {"segment": ["a", "b"] * 20, "target": ["1"] * 40, "outcome": [None] * 40}
    ).astype("str")
    profile = profile_columns(df)
    assert profile.set_index("column")["suggested_role"].to_dict() == {
        "segment": "target",
        "target": "ignore",
        "outcome": "ignore",
    }


def test_suggest_roles_from_a_read_csv_frame(mixed):
    raw = mixed.to_csv(index=False).encode()
    df = read_csv(raw)
    roles = suggest_roles(df)
    assert roles is not None
    assert roles.target == "churned"
    assert roles.target not in roles.features
    assert roles.categorical == ("region", "zip", "store_id", "visits", "contact")
    assert roles.numeric == ("amount", "age")
    assert roles.task is None
    assert suggest_roles(df, profile_columns(df)) == roles


def _european_claims(n: int = 300) -> bytes:
    """A ";"-separated export of European Excel: amounts with decimal commas."""
    rng = np.random.default_rng(7)
    lines = ["policy_id;region;vehicle;age;premium;claim_amount;claim"]
    for i in range(n):
        claimed = rng.random() < 0.3
        amount = f"{rng.gamma(1, 2000):,.2f}" if rng.random() < 0.3 else "0"  # last year's
        premium = f"{rng.gamma(3, 300):.2f}"
        lines.append(
            f"{100_000 + i};{rng.choice(['North', 'South', 'East'])};"
            f"{rng.choice(['SUV', 'Sedan'])};{rng.integers(18, 90)};"
            f"{premium.replace('.', ',')};"
            f"{amount.replace(',', ' ').replace('.', ',').replace(' ', '.')};"
            f"{'Yes' if claimed else 'No'}"
        )
    return "\n".join(lines).encode()


def test_decimal_comma_amounts_are_numeric_inputs_not_ids():
    df = read_csv(_european_claims())
    assert df["claim_amount"].str.contains(r"\.\d\d$").any()  # "1.234,50" was read
    profile = profile_columns(df)
    for column in ("premium", "claim_amount"):
        row = _row(profile, column)
        assert (row["kind"], row["suggested_role"], row["warning"]) == ("numeric", "numeric", "")
    roles = suggest_roles(df, profile)
    assert roles is not None and roles.target == "claim"
    assert {"premium", "claim_amount"} <= set(roles.numeric)


@pytest.mark.parametrize("bad", [["inf"], ["-inf", "Infinity"], ["1e400"]])
def test_a_few_infinite_values_make_a_flagged_number_not_an_id(bad):
    rng = np.random.default_rng(4)
    values = [f"{v:.2f}" for v in rng.gamma(2.0, 100.0, N)]
    values[: len(bad)] = bad
    df = pd.DataFrame({"income": _text(values), "y": _text(rng.choice(["0", "1"], N))})
    row = _row(profile_columns(df), "income")
    assert row["kind"] == "numeric" and not row["id_like"]
    assert row["suggested_role"] == "ignore"  # training would refuse it as it is
    assert f"infinite or too large values ('{bad[0]}'" in row["warning"]
    assert "leave those cells empty" in row["role_reason"]
    assert "ID" not in row["warning"]


def test_numbers_with_separators_that_read_two_ways_are_named_not_called_ids():
    rng = np.random.default_rng(5)
    values = [f"{rng.integers(1, 999)},{rng.integers(0, 999):03d}" for _ in range(N)]
    values[:3] = ["0", "NA", "12"]
    lines = "".join(f"{v};{i % 2}\n" for i, v in enumerate(values))
    df = read_csv(f"amount;y\n{lines}".encode())
    assert df["amount"].iloc[0] == "0" and df["amount"].iloc[5] == values[5]  # kept as text
    row = _row(profile_columns(df), "amount")
    assert row["kind"] == "text" and row["suggested_role"] == "ignore"
    assert row["warning"].startswith("numbers written with separators that read two ways ('")
    assert "looks like an ID" not in row["warning"]


def test_profile_is_fast_on_100k_rows_by_40_columns():
    rng = np.random.default_rng(5)
    n = 100_000
    base = {
        "code": pd.Series(rng.integers(0, 500, n), dtype="str").radd("K"),
        "int": pd.Series(rng.integers(0, 1000, n), dtype="str"),
        "float": pd.Series(rng.normal(size=5000).round(4)[rng.integers(0, 5000, n)], dtype="str"),
        "id": pd.Series(np.arange(n), dtype="str").radd("id"),
    }
    kinds = ("code", "int", "float", "id")
    df = pd.DataFrame({f"c{j}": base[kinds[j % 4]] for j in range(40)})
    start = time.perf_counter()
    profile = profile_columns(df)
    elapsed = time.perf_counter() - start
    assert profile["id_like"].sum() == 10
    # The target is < 1 s on an idle 2-core machine; the bound is loose because CI
    # machines are shared. It still catches per-value Python loops (tens of seconds).
    assert elapsed < 5.0, f"profile_columns took {elapsed:.2f} s"
