"""The app's plotly figures: user text is escaped, odd inputs still draw."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from embedding_core import formatting as fmt
from ui.charts import (
    count_ticks,
    dim_colour,
    interactions_figure,
    movement_figure,
    neighbours_figure,
    scatter_figure,
    shown_move,
    sweep_figure,
)


def _points(names: list[str], target: float | None = 0.5) -> pd.DataFrame:
    n = len(names)
    return pd.DataFrame(
        {
            "category": names,
            "count": np.arange(1, n + 1) * 10,
            "target_mean": np.full(n, np.nan if target is None else target),
        }
    )


def test_category_names_are_escaped_in_hover_and_labels():
    names = ["<b>bold</b>", "<a href='x'>link</a>", "plain"]
    fig = scatter_figure(
        np.random.default_rng(0).normal(size=(3, 2)),
        _points(names),
        colour_by="target rate",
        target_label="positive rate",
    )
    trace = fig.data[0]
    assert "<b>bold</b>" not in list(trace.text) and "&lt;b&gt;bold&lt;/b&gt;" in list(trace.text)
    assert all("<a" not in str(row[0]) for row in trace.customdata)


def test_multiclass_nan_target_falls_back_to_count_colour_and_3d_works():
    coords = np.random.default_rng(1).normal(size=(5, 3))
    fig = scatter_figure(
        coords, _points(list("abcde"), None), colour_by="target rate", target_label="t"
    )
    trace = fig.data[0]
    assert trace.type == "scatter3d"
    assert trace.marker.colorbar.title.text == "count"
    assert [row[2] for row in trace.customdata] == ["n/a"] * 5


def test_search_rings_matches_and_dims_the_rest():
    fig = scatter_figure(
        np.random.default_rng(2).normal(size=(4, 2)),
        _points(["north", "south", "North-East", "west"]),
        colour_by="cluster",
        target_label="positive rate",
        clusters=np.array([0, 1, 0, 1]),
        search="NORTH",
    )
    assert len(fig.data) == 2
    assert sorted(row[0] for row in fig.data[1].customdata) == ["North-East", "north"]
    assert list(fig.data[0].marker.opacity) == [1.0, 0.15, 1.0, 0.15]


def test_neighbours_and_interactions_figures():
    table = pd.DataFrame(
        {
            "category": ["a", "<i>b</i>"],
            "similarity": [0.9, 0.1],
            "count": [100, 2],
            "target_mean": [0.1, 0.2],
            "reliable": [True, False],
        }
    )
    bars = neighbours_figure(table, value_column="similarity", query="<q>")
    assert list(bars.data[0].y) == ["a", "&lt;i&gt;b&lt;/i&gt;"]
    assert bars.layout.yaxis.automargin  # long names get the room they need, never cut
    opposite = neighbours_figure(
        table.assign(similarity=[0.9, -0.2], reliable=True), value_column="similarity", query="q"
    )
    blue, pale = opposite.data[0].marker.color
    assert blue != pale and pale == dim_colour(False)  # a negative similarity is drawn pale
    at_night = neighbours_figure(
        table.assign(similarity=[0.9, -0.2], reliable=True),
        value_column="similarity",
        query="q",
        dark=True,
    )
    assert at_night.data[0].marker.color[1] == dim_colour(True)  # pale, not the brightest
    assert "&lt;q&gt;" in bars.layout.title.text
    matrix = pd.DataFrame([[np.nan, 0.2], [0.2, np.nan]], index=["f1", "f2"], columns=["f1", "f2"])
    heat = interactions_figure(matrix)
    assert heat.data[0].type == "heatmap" and list(heat.data[0].x) == ["f1", "f2"]
    # the weakest pairs take the background's shade: white on a light page, dark at night
    light, night = (interactions_figure(matrix, dark=d).data[0].colorscale for d in (0, 1))
    assert light[0][1] == night[-1][1] and light[-1][1] == night[0][1]
    assert heat.data[0].texttemplate == "%{text}"  # few fields: each cell says its figure
    names = [f"f{i}" for i in range(12)]
    wide = interactions_figure(pd.DataFrame(0.1, index=names, columns=names))
    assert wide.data[0].texttemplate == ""  # too small to read: hover and the table say it


def test_the_biggest_points_are_labelled_and_text_takes_the_theme_colour():
    from ui.charts import MAX_LABELS

    n = MAX_LABELS + 30
    names = [f"c{i}" for i in range(n)]
    fig = scatter_figure(
        np.random.default_rng(3).normal(size=(n, 2)),
        _points(names),  # counts grow with the index: the last ones are the biggest
        colour_by="count",
        target_label="positive rate",
    )
    text = list(fig.data[0].text)
    assert [t for t in text if t] == names[-MAX_LABELS:]
    assert fig.data[0].textfont.color is None  # Streamlit's theme decides (light or dark)


def test_reserved_rows_read_as_words_but_a_real_unknown_category_stays():
    from embedding_core.data.encoding import MISSING_LABEL

    fig = scatter_figure(
        np.random.default_rng(4).normal(size=(3, 2)),
        _points([MISSING_LABEL, "unknown", "a"]),
        colour_by="target rate",
        target_label="positive rate",
        target_is_share=True,
    )
    assert [row[0] for row in fig.data[0].customdata] == ["(missing)", "unknown", "a"]
    assert fig.data[0].customdata[0][2] == "50.0%"


def test_count_slider_follows_the_data_and_the_rare_note_counts_merged_categories():
    from ui.explore_data import count_steps, distinct_count, rare_note

    assert count_steps(37) == [0, 1, 2, 5, 10, 20]
    assert count_steps(0) == [0, 1]
    table = pd.DataFrame(
        {"category": ["<unknown>", "a", "b"], "count": [7, 50, 40], "is_unknown": [1, 0, 0]}
    )
    values = pd.Series(["a"] * 50 + ["b"] * 40 + [f"r{i}" for i in range(7)])
    note = rare_note(table, 2, distinct_count("test:rare-note", "v", values))
    assert note.startswith("Not shown: 7 categories seen fewer than 2 times (7 training rows)")
    assert rare_note(table.iloc[1:], 2) == ""


def test_umap_is_warmed_up_once_per_process_in_the_background():
    import time

    from ui import explore_data

    first = explore_data.warm_up_umap()
    assert explore_data.warm_up_umap() is False  # never twice
    deadline = time.monotonic() + 180
    while not explore_data.umap_ready() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert explore_data.umap_ready(), f"UMAP not warmed up (this call started it: {first})"


def test_umap_warm_up_waits_for_a_quiet_spell_after_a_training(monkeypatch):
    import threading
    import time

    from embedding_core.analysis import projection
    from ui import explore_data
    from ui.job_slots import slots

    calls: list[float] = []
    monkeypatch.setattr(projection, "project", lambda *a, **k: calls.append(time.monotonic()))
    monkeypatch.setitem(explore_data._umap_state, "ready", False)
    monkeypatch.setattr(explore_data, "_QUIET_S", 1.0)
    stop = threading.Event()
    assert slots().acquire("test-training", stop)
    try:
        worker = threading.Thread(target=explore_data._warm_up_umap, daemon=True)
        worker.start()
        time.sleep(1.5)
        assert calls == [], "UMAP compiled while a training was running"
    finally:
        released = time.monotonic()
        slots().release("test-training")
    worker.join(10)
    assert len(calls) == 2 and explore_data.umap_ready()
    # not at once: the pages a user opens right after a training get the CPU first
    assert calls[0] - released >= 1.0, calls[0] - released


def test_history_frame_never_hands_a_chart_an_empty_or_infinite_series():
    from ui.charts import history_frame

    frame = history_frame(
        [
            {"epoch": 1, "loss": 0.7, "val_loss": float("inf"), "val_auc": float("nan")},
            {"epoch": 2, "loss": 0.6, "val_loss": 0.65, "val_auc": float("nan")},
        ]
    )
    assert list(frame.columns) == ["loss", "val_loss"]  # val_auc had nothing to draw
    assert np.isfinite(frame["loss"]).all() and np.isnan(frame.loc[1, "val_loss"])
    assert history_frame([]).empty
    from ui.charts import history_figure

    lines = history_figure(frame, ["loss", "val_loss"])  # plotly: no Vega chart to warn
    assert [t.name for t in lines.data] == ["loss", "val_loss"]
    assert list(lines.data[0].x) == [1, 2] and list(lines.data[0].y) == [0.7, 0.6]


def test_compare_draws_run_a_as_outlines_in_a_colour_of_their_own():
    """Open markers for run A, filled for B, lines between; an outline left to the theme
    took the background's colour, and run A's places did not show at all."""
    before = np.array([[0.0, 0.0], [1.0, 1.0]])
    fig = movement_figure(["x", "<b>y</b>"], before, before + 0.5, np.array([10, 20]))
    after, run_a, moved = fig.data  # B drawn first, A's outlines on top
    assert run_a.legendrank < after.legendrank < moved.legendrank  # the legend: A, B, lines
    assert run_a.marker.color == "rgba(0,0,0,0)"
    assert run_a.marker.line.color == after.marker.color and run_a.marker.line.width > 0
    assert list(moved.x) == [0.0, 0.5, None, 1.0, 1.5, None]
    assert "&lt;b&gt;y&lt;/b&gt;" in list(run_a.text) and list(after.customdata) == list(run_a.text)


def test_compare_labels_the_most_frequent_categories():
    from ui.charts import MAX_LABELS

    n = MAX_LABELS + 10
    names = [f"c{i}" for i in range(n)]
    points = np.random.default_rng(4).normal(size=(n, 2))
    fig = movement_figure(names, points, points, np.arange(n))  # the last are the biggest
    assert [t for t in fig.data[0].text if t] == names[-MAX_LABELS:]
    assert fig.data[0].textfont.color is None  # Streamlit's theme decides (light or dark)


def test_pale_greys_are_dark_on_the_dark_theme():
    """What counts least is drawn pale: a light grey on a light page, a dark grey on a
    dark page (a light grey there was the brightest thing on the chart)."""
    assert dim_colour(True) != dim_colour(False)
    lum = [
        sum(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in (dim_colour(False), dim_colour(True))
    ]
    assert lum[0] > 3 * 160 and lum[1] < 3 * 100
    swept = pd.DataFrame(
        {
            "category": ["a", "b"],
            "prediction": [0.2, 0.3],
            "count": [100, 1],
            "reliable": [True, False],
        }
    )
    for dark in (False, True):
        colours = list(sweep_figure(swept, "p", 0.25, "binary", dark=dark).data[0].marker.color)
        assert dim_colour(dark) in colours and "#1f77b4" in colours
    # the row's own prediction, past every bar, stays inside the axis
    low, high = sweep_figure(swept, "p", 0.45, "binary").layout.xaxis.range
    assert low == 0 and 0.45 < high < 0.5


def test_the_count_colour_bar_reads_in_counts():
    ticks = count_ticks(np.array([3, 40, 9_000]))
    assert ticks["ticktext"] == ["10", "100", "1,000"]  # decades only, over three of them
    np.testing.assert_allclose(ticks["tickvals"], np.log10([11, 101, 1001]))
    narrow = count_ticks(np.array([1_500, 9_000]))  # less than a decade: 2 and 5 too
    assert narrow["ticktext"] == ["2,000", "5,000"]


@pytest.mark.parametrize("colour_by", ["target rate", "count"])
def test_the_maps_colours_start_visible_on_a_dark_page(colour_by):
    """At night the lowest colour is a mid blue, not the navy or purple that vanish on a
    dark background; by day the usual scales."""
    points = _points(list("abcd"))
    coords = np.random.default_rng(3).normal(size=(4, 2))
    kw = {"colour_by": colour_by, "target_label": "positive rate"}
    night = scatter_figure(coords, points, dark=True, **kw).data[0].marker.colorscale
    day = scatter_figure(coords, points, **kw).data[0].marker.colorscale
    assert night[0][1] in ("#4575b4", "#31688e")
    assert night != day


def test_a_shown_change_adds_up_to_the_shown_predictions():
    # 4.9% -> 10.3%: +5.4 points as read, where the unrounded move is +5.3
    assert fmt.points(shown_move(0.10256, 0.04934, "binary")) == "+5.4 points"
    assert fmt.points(0.10256 - 0.04934) == "+5.3 points"
    assert shown_move(12.5, 10.25, "regression") == 2.25  # numbers: the move itself
