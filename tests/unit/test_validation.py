"""infer_task and validate_roles: the task guess, the clean frame, one DataError per mistake."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from embedding_core.data.csv_reader import read_csv
from embedding_core.data.encoding import as_category_text
from embedding_core.data.roles import Roles
from embedding_core.data.task import infer_task
from embedding_core.data.validation import (
    ValidatedData,
    check_choice,
    check_target,
    validate_roles,
)
from embedding_core.data.values import MAX_ABS_NUMBER, parse_numeric
from embedding_core.errors import DataError

N = 120


def _text(values, name: str = "t") -> pd.Series:
    return pd.Series(values, dtype="str", name=name)


@pytest.fixture
def df() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "store": rng.choice(["S01", "S02", "S03", "S04"], N),
            "product": rng.choice(["apple", "pear, green", '"fig"', "<b>kiwi</b>"], N),
            "price": rng.normal(10, 2, N).round(2).astype(str),
            "units": rng.integers(0, 20, N).astype(str),
            "bought": rng.choice(["yes", "no"], N),
            "colour": rng.choice(["red", "green", "blue"], N),
            "revenue": rng.gamma(2, 100, N).round(2).astype(str),
        }
    ).astype("str")
    frame.loc[[3, 7], "product"] = np.nan
    return frame


ROLES = Roles(categorical=("store", "product"), target="bought", numeric=("price", "units"))


def test_check_choice_gives_the_warnings_of_validate_roles_piece_by_piece(df):
    df = df.copy()
    df.loc[[0, 5], "bought"] = "NA"  # rows left out
    df.loc[[1, 2], "price"] = np.nan  # filled and flagged
    df["colour"] = "red"  # constant
    df.loc[9, "bought"] = "maybe"  # a rare third class
    roles = Roles(categorical=("store", "colour"), target="bought", numeric=("price",))
    validated = validate_roles(df, roles)
    targets, columns = [], []

    def target_check(name, task):
        targets.append(name)
        return check_target(df[name], task)

    def column_note(name, role, target):
        columns.append((name, role))
        return None if name == "store" else f"note on {name}"

    target, warnings = check_choice(df, roles)
    assert warnings == validated.warnings and len(warnings) == 4
    assert (target.task, target.n_rows, target.n_missing) == ("multiclass", N - 2, 2)
    _, hooked = check_choice(df, roles, target_check=target_check, column_note=column_note)
    assert targets == ["bought"]
    assert columns == [("price", "numeric"), ("store", "categorical"), ("colour", "categorical")]
    assert hooked == [*validated.warnings[:1], "note on price", "note on colour", *warnings[3:]]


# --- infer_task --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["yes", "no", "yes"], "binary"),
        (["0", "1", "1", "0"], "binary"),
        (["churned", "stayed"], "binary"),
        (["3.5", "7.25"], "binary"),  # two numbers are still two classes
        (["a", "b", "c", "a"], "multiclass"),
        (["1", "2", "3", "4", "5", "1"], "multiclass"),  # whole-number class codes
        ([str(i) for i in range(21)], "regression"),  # too many for class codes
        (["0.5", "1.25", "3.0", "2.75"], "regression"),
        (["1e3", "2.5e2", "-3", "0.1"], "regression"),
    ],
)
def test_infer_task(values, task):
    assert infer_task(_text(values)) == task


def test_infer_task_ignores_missing_and_missing_tokens():
    assert infer_task(_text(["yes", None, "no", "NA", "", "null"])) == "binary"


def test_infer_task_on_numeric_dtypes():
    assert infer_task(pd.Series([0, 1, 1, 0])) == "binary"
    assert infer_task(pd.Series(np.linspace(0, 1, 50))) == "regression"
    assert infer_task(pd.Series([True, False])) == "binary"


def test_infer_task_all_missing():
    with pytest.raises(DataError, match="'t' has no values"):
        infer_task(_text([None, None, "NA"]))


def test_infer_task_single_class():
    with pytest.raises(DataError, match=r"single value \('yes'\)"):
        infer_task(_text(["yes"] * 5 + [None]))


def test_infer_task_too_many_text_labels():
    with pytest.raises(DataError, match="25 different text values"):
        infer_task(_text([f"label {i}" for i in range(25)]))


def test_infer_task_numbers_with_a_stray_text_value():
    values = [str(i * 1.5) for i in range(40)] + ["unknown"]
    with pytest.raises(DataError, match="numeric except for 'unknown'"):
        infer_task(_text(values))


# --- the clean frame -----------------------------------------------------------------------


def test_valid_roles_give_the_clean_frame(df):
    result = validate_roles(df, ROLES)
    assert isinstance(result, ValidatedData)
    frame = result.frame
    assert frame.columns.tolist() == ["store", "product", "price", "units", "bought"]
    assert len(frame) == N
    assert frame["price"].dtype == np.float64
    assert frame["units"].dtype == np.float64
    assert str(frame["store"].dtype) == "str"
    assert frame["product"].isna().sum() == 2
    assert set(frame["product"].dropna()) == {"apple", "pear, green", '"fig"', "<b>kiwi</b>"}
    pd.testing.assert_series_equal(frame["bought"], df["bought"])  # target as given
    np.testing.assert_allclose(frame["price"], df["price"].astype(float))
    assert result.roles == Roles(
        categorical=("store", "product"), target="bought", numeric=("price", "units"), task="binary"
    )
    assert result.dropped_rows == 0
    assert result.warnings == []


def test_input_frame_is_not_modified(df):
    before = df.copy()
    validate_roles(df.assign(bought=df["bought"].where(df.index > 5)), ROLES)
    validate_roles(df, ROLES)
    pd.testing.assert_frame_equal(df, before)


def test_missing_target_rows_are_dropped_with_a_warning(df):
    df.loc[[0, 5, 9], "bought"] = np.nan
    df.loc[11, "bought"] = "NA"
    result = validate_roles(df, ROLES)
    assert result.dropped_rows == 4
    assert len(result.frame) == N - 4
    assert result.frame.index.tolist() == list(range(N - 4))
    assert result.frame["store"].tolist() == df["store"].drop([0, 5, 9, 11]).tolist()
    assert any("4 of 120 rows have no value for the target 'bought'" in w for w in result.warnings)


def test_missing_numbers_become_nan_with_a_warning(df):
    df.loc[[1, 2], "price"] = np.nan
    df.loc[4, "price"] = "n/a"
    result = validate_roles(df, ROLES)
    assert result.frame["price"].isna().sum() == 3
    assert any("'price' is missing in 2% of rows" in w for w in result.warnings)


def test_categorical_codes_from_numeric_dtypes_become_clean_text():
    frame = pd.DataFrame(
        {
            "code": [1.0, 2.0, np.nan, 3.0] * 20,
            "n": [10, 20, 30, 40] * 20,
            "y": [0, 1] * 40,
        }
    )
    result = validate_roles(frame, Roles(categorical=("code", "n"), target="y"))
    codes = result.frame["code"]
    assert codes[[0, 1, 3]].tolist() == ["1", "2", "3"]
    assert pd.isna(codes[2])
    assert result.frame["n"].tolist()[:2] == ["10", "20"]
    assert result.roles.task == "binary"


def test_constant_and_empty_categoricals_are_warned(df):
    df["same"] = "x"
    df["void"] = np.nan
    roles = Roles(categorical=("store", "same", "void"), target="bought")
    result = validate_roles(df, roles)
    assert any("'same' has the same value in every row" in w for w in result.warnings)
    assert any("'void' is empty in every row" in w for w in result.warnings)


def test_rare_classes_are_warned(df):
    df.loc[:2, "colour"] = "violet"
    result = validate_roles(df, Roles(categorical=("store",), target="colour"))
    assert result.roles.task == "multiclass"
    assert any("'violet'" in w and "fewer than 10 rows" in w for w in result.warnings)


def test_works_on_a_frame_read_from_csv(df):
    result = validate_roles(read_csv(df.to_csv(index=False).encode()), ROLES)
    assert result.frame.shape == (N, 5)


# --- one specific DataError per mistake ----------------------------------------------------


def _error(df: pd.DataFrame, roles: Roles, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        validate_roles(df, roles, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message.endswith(".")
    return message


def test_no_categorical_column(df):
    message = _error(df, Roles(categorical=(), target="bought", numeric=("price",)))
    assert message.startswith("No categorical column is chosen")


def test_target_also_a_feature(df):
    for roles in (
        Roles(categorical=("store", "bought"), target="bought"),
        Roles(categorical=("store",), target="price", numeric=("price",)),
    ):
        assert "is also chosen as a feature" in _error(df, roles)


def test_unknown_columns_are_named(df):
    message = _error(df, Roles(categorical=("store", "shop"), target="label"))
    assert "Columns 'shop', 'label' are not in the data" in message
    assert "'store'" in message  # the available ones are listed


def test_duplicate_column_names_in_a_frame(df):
    doubled = pd.concat([df, df[["store"]]], axis=1)
    assert "several columns named 'store'" in _error(doubled, ROLES)


def test_a_column_chosen_twice(df):
    twice = _error(df, Roles(categorical=("store", "store"), target="bought"))
    assert "'store' is chosen twice (as categorical)" in twice
    both = _error(df, Roles(categorical=("units",), target="bought", numeric=("units",)))
    assert "'units' is chosen twice (as categorical and numeric)" in both


def test_all_missing_target(df):
    df["bought"] = np.nan
    assert "The target 'bought' has no values" in _error(df, ROLES)


def test_target_of_missing_tokens_only(df):
    df["bought"] = "NA"
    assert "The target 'bought' has no values" in _error(df, ROLES)


def test_constant_target(df):
    df["bought"] = "yes"
    assert "single value ('yes')" in _error(df, ROLES)


def test_constant_target_with_an_explicit_task(df):
    df["bought"] = "yes"
    for task in ("binary", "multiclass", "regression"):
        assert "single value" in _error(
            df, Roles(categorical=("store",), target="bought", task=task)
        )


def test_numeric_column_with_text_names_the_values(df):
    df.loc[[0, 1, 2], "price"] = ["cheap", "cheap", "12,50"]
    message = _error(df, ROLES)
    assert (
        "numeric column 'price' contains values that are not numbers ('cheap', '12,50')" in message
    )


def test_numeric_column_with_many_bad_values_shows_a_few(df):
    df["units"] = [f"u{i}" for i in range(N)]
    message = _error(df, ROLES)
    assert "and 115 more" in message


def test_numeric_column_with_infinite_values(df):
    df.loc[0, "price"] = "inf"
    assert "'inf'" in _error(df, ROLES)


@pytest.mark.parametrize("values", [["inf"], ["-inf", "Infinity"]])
def test_infinite_values_are_named_as_such_not_as_too_large(df, values):
    df.loc[range(len(values)), "price"] = values
    message = _error(df, ROLES)
    assert "numeric column 'price' has infinite values" in message
    assert "empty" in message and "rescale" not in message
    df.loc[range(len(values)), "price"] = "1e300"
    assert "rescale them" in _error(df, ROLES)  # huge numbers keep their advice


@pytest.mark.parametrize("bad", ["820,23", "1.234,50", "12 345", "1,234,567"])
def test_numbers_with_separators_get_a_hint(df, bad):
    df.loc[[0, 1, 2], "price"] = [bad, "cheap", "01.02.2024"]
    message = _error(df, ROLES)
    assert f"not numbers ('{bad}', 'cheap', '01.02.2024'); '{bad}' may be numbers" in message
    assert "written with a decimal comma or thousands separators" in message


def test_a_comma_column_that_reads_two_ways_is_refused_with_the_hint():
    lines = ["store;amount;bought"] + [
        f"S{i % 3};{1 + i % 4},{250 * (i % 3 + 1)};{'yes' if i % 2 else 'no'}" for i in range(60)
    ]  # "1,500": 1.5 or 1500, in every row
    df = read_csv("\n".join(lines).encode())
    assert df.attrs["notes"] == [] and df["amount"].iloc[1] == "2,500"
    roles = Roles(categorical=("store",), numeric=("amount",), target="bought")
    message = _error(df, roles)
    assert "may be numbers written with a decimal comma or thousands separators" in message


def test_numeric_column_without_any_value(df):
    df["price"] = np.nan
    assert "numeric column 'price' has no values" in _error(df, ROLES)


def test_too_few_rows(df):
    message = _error(df.head(30), ROLES)
    assert "The data has only 30 rows, but at least 50 are needed" in message
    assert len(validate_roles(df.head(30), ROLES, min_rows=30).frame) == 30


def test_too_few_rows_after_dropping_missing_targets(df):
    df.loc[df.index >= 40, "bought"] = np.nan
    message = _error(df, ROLES)
    assert "Only 40 rows have a target value (80 were left out without one)" in message


def test_regression_on_text_target(df):
    roles = Roles(categorical=("store",), target="colour", task="regression")
    assert "Regression needs a numeric target, but 'colour' contains text" in _error(df, roles)


def test_binary_requested_with_three_classes(df):
    roles = Roles(categorical=("store",), target="colour", task="binary")
    assert "exactly two values, but 'colour' has 3: choose multiclass," in _error(df, roles)
    roles = Roles(categorical=("store",), target="units", task="binary")
    assert "choose multiclass or regression" in _error(df, roles)


def test_unknown_task(df):
    roles = Roles(categorical=("store",), target="bought", task="ranking")  # type: ignore[arg-type]
    assert "Unknown task 'ranking'" in _error(df, roles)


def test_overrides_that_fit(df):
    as_multiclass = validate_roles(
        df, Roles(categorical=("store",), target="bought", task="multiclass")
    )
    assert as_multiclass.roles.task == "multiclass"
    as_regression = validate_roles(
        df, Roles(categorical=("store",), target="units", task="regression")
    )
    assert as_regression.roles.task == "regression"
    inferred = validate_roles(df, Roles(categorical=("store",), target="revenue"))
    assert inferred.roles.task == "regression"
    assert inferred.frame["revenue"].dtype == df["revenue"].dtype  # the engine converts it


def test_multiclass_with_too_many_classes(df):
    df["ticket"] = [f"T{i}" for i in range(N)]
    many = Roles(categorical=("store",), target="ticket", task="multiclass")
    assert len(validate_roles(df, many, min_rows=10).frame) == N  # 120 <= 200 classes
    bigger = pd.concat([df] * 2, ignore_index=True)
    bigger["ticket"] = [f"T{i}" for i in range(2 * N)]
    assert "more than the 200 classes" in _error(bigger, many)
    auto = Roles(categorical=("store",), target="ticket")
    assert "240 different text values" in _error(bigger, auto)


# --- helpers --------------------------------------------------------------------------------


def test_parse_numeric_reports_bad_values_most_frequent_first():
    numbers, bad = parse_numeric(_text(["1", "x", "2", "y", "y", "NA", None, "-"]))
    assert bad == ["y", "x"]
    assert numbers.isna().tolist() == [False, True, False, True, True, True, True, True]


def test_parse_numeric_on_numeric_dtypes():
    numbers, bad = parse_numeric(pd.Series([1, 2, 3], name="n"))
    assert numbers.dtype == np.float64 and bad == []
    numbers, bad = parse_numeric(pd.Series([1.0, np.inf]))
    assert bad == ["inf"] and numbers.isna().tolist() == [False, True]


def test_as_category_text_keeps_text_exactly():
    values = _text([" a ", "01", None, "NA"])
    out = as_category_text(values)
    assert out.tolist()[:2] == [" a ", "01"] and pd.isna(out.iloc[2]) and out.iloc[3] == "NA"
    mixed = pd.Series([1, "b", None, 2.5], dtype=object)
    assert as_category_text(mixed).tolist()[:2] == ["1", "b"]
    assert as_category_text(pd.Series([1.5, 2.0])).tolist() == ["1.5", "2.0"]


def test_an_inferred_multiclass_on_whole_numbers_says_so_and_how_to_change_it():
    frame = pd.DataFrame({"c": list("abcde") * 20, "stars": [1, 2, 3, 4, 5] * 20})
    validated = validate_roles(frame, Roles(categorical=("c",), target="stars"))
    assert validated.roles.task == "multiclass"
    assert any(
        "5 numeric values (1, 2, 3, 4, 5): treated as classes" in w
        and "choose regression to predict the value" in w
        for w in validated.warnings
    ), validated.warnings
    chosen = validate_roles(frame, Roles(categorical=("c",), target="stars", task="multiclass"))
    assert not any("treated as classes" in w for w in chosen.warnings)
    text = frame.assign(stars=frame["stars"].map({1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}))
    assert not any(
        "treated as classes" in w for w in validate_roles(text, Roles(("c",), "stars")).warnings
    )


def test_target_classes_differing_only_in_spelling_warn_and_can_be_merged():
    from embedding_core import normalise_labels
    from embedding_core.data.roles import Roles
    from embedding_core.data.validation import validate_roles

    rng = np.random.default_rng(0)
    y = rng.choice(["yes", "Yes", "yes ", "no"], size=200, p=[0.3, 0.1, 0.1, 0.5])
    frame = pd.DataFrame({"a": rng.choice(["p", "q"], 200), "y": y})
    result = validate_roles(frame, Roles(categorical=("a",), target="y"))
    assert result.roles.task == "multiclass"
    assert any("differ only in capitals or spaces" in w for w in result.warnings)
    merged = normalise_labels(frame["y"].where(frame.index != 0))
    assert set(merged.dropna()) == {"yes", "no"} and merged.isna().sum() == 1
    fixed = validate_roles(frame.assign(y=normalise_labels(frame["y"])), Roles(("a",), target="y"))
    assert fixed.roles.task == "binary"
    assert not any("capitals" in w for w in fixed.warnings)


# --- fuzzing: read_csv, then the role checks, on any cells and any choice of roles ---------

_CELL = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "1",
            "-0",
            "1.5",
            "1e308",
            "-1e308",
            "1e400",
            "inf",
            "-inf",
            "nan",
            "NaN",
            "yes",
            "Yes",
            "yes ",
            "no",
            "<unknown>",
            "<missing>",
            "=1+2",
            "a,b",
            '"q"',
            "![x](http://e.invalid)",
            "\x1b[31m",
            "é€",
        ]
    ),  # fmt: skip
    st.text(max_size=5),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


_COLUMN = st.one_of(
    st.just(_CELL),  # anything
    st.just(
        st.floats(allow_nan=True, allow_infinity=True).map(repr) | st.sampled_from(["", "1e400"])
    ),
    st.lists(_CELL, min_size=1, max_size=3).map(st.sampled_from),  # a few labels
)


@st.composite
def _table_and_roles(draw: st.DrawFn) -> tuple[bytes, Roles]:
    n_cols = draw(st.integers(2, 4))
    names = [f"c{i}" for i in range(n_cols)]
    kinds = [draw(_COLUMN) for _ in names]
    n_rows = draw(st.integers(0, 30))
    rows = [[draw(kind) for kind in kinds] for _ in range(n_rows)]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([names, *rows])
    target = draw(st.sampled_from(names))
    others = [n for n in names if n != target]
    numeric = draw(st.lists(st.sampled_from(others), unique=True, max_size=len(others) - 1))
    categorical = [n for n in others if n not in numeric]
    task = draw(st.sampled_from([None, "binary", "multiclass", "regression"]))
    return buffer.getvalue().encode("utf-8"), Roles(
        categorical=tuple(categorical), numeric=tuple(numeric), target=target, task=task
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_table_and_roles())
def test_any_cells_and_roles_give_clean_data_or_one_data_error(case) -> None:
    raw, roles = case
    try:
        validated = validate_roles(read_csv(raw), roles, min_rows=3)
    except DataError as exc:
        assert str(exc) and "\n" not in str(exc)
        event("refused")
        return
    event(f"validated: {validated.roles.task}")
    frame = validated.frame
    assert validated.roles.task in ("binary", "multiclass", "regression")
    assert list(frame.columns) == [*roles.categorical, *roles.numeric, roles.target]
    assert len(frame) >= 3 and frame[roles.target].notna().all()
    for name in roles.numeric:
        values = frame[name].to_numpy(dtype=float)
        assert frame[name].dtype == np.float64
        assert (np.isnan(values) | (np.abs(values) <= MAX_ABS_NUMBER)).all()
    if validated.roles.task == "binary":
        assert frame[roles.target].nunique() == 2
