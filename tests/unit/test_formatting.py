"""The one number-formatting module: readable, no exponents, no sign on zero."""

from __future__ import annotations

import math

import pytest

from embedding_core import formatting as fmt


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (11590.4, "11,590"),
        (1.159e4, "11,590"),
        (-2500000, "-2,500,000"),
        (123.456, "123"),
        (12.345, "12.3"),
        (3.14159, "3.14"),
        (0.5, "0.5"),
        (0.012345, "0.0123"),
        (0, "0"),
        (float("nan"), "n/a"),
        (None, "n/a"),
    ],
)
def test_number(value, text):
    assert fmt.number(value) == text
    assert "e+" not in fmt.number(value)


@pytest.mark.parametrize(
    ("p", "text"),
    [(0.5, "50.0%"), (0.00005, "<0.1%"), (0.99995, ">99.9%"), (0.0, "0.0%"), (1.0, "100.0%")],
)
def test_percent(p, text):
    assert fmt.percent(p) == text


def test_zero_differences_have_no_sign():
    assert fmt.signed(0.0312) == "+0.031"
    assert fmt.signed(-0.0312) == "-0.031"
    assert fmt.signed(0.00004) == "0.000" and fmt.is_zero(0.00004)
    assert fmt.signed(-0.00004) == "0.000"
    assert fmt.points(0.025) == "+2.5 points"
    assert fmt.points(0.0001) == "0.0 points"
    assert not fmt.is_zero(0.002)


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("valid_auc", 0.81234, "0.812"),
        ("valid_accuracy", 0.8123, "81.2%"),
        ("valid_rmse", 11590.4, "11,590"),
        ("valid_r2", 0.5, "0.500"),
        ("baseline_logloss", 0.69314, "0.693"),
        ("valid_mae", math.nan, "n/a"),
    ],
)
def test_metric(name, value, text):
    assert fmt.metric(name, value) == text


def test_seconds_and_counts():
    assert fmt.seconds(0.42) == "0.4 s"
    assert fmt.seconds(48.2) == "48 s"
    assert fmt.seconds(125) == "2 min 5 s"
    assert fmt.count(41188) == "41,188"


def test_category_names_missing_values_and_reserved_rows_in_words():
    assert [fmt.category(v) for v in ("<missing>", "__NA__", None, float("nan"))] == [
        "(missing)"
    ] * 4
    assert fmt.category("<unknown>") == "(rare or unseen)"
    assert [fmt.category(v) for v in ("unknown", "NA", "<<missing>>", 3)] == [
        "unknown", "NA", "<<missing>>", "3"
    ]  # fmt: skip
