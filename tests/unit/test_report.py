"""The one-file HTML report reads as a document for people (``reuse.report``)."""

from __future__ import annotations

import copy
import dataclasses
import re

import pytest

from embedding_core.reuse.report import _W, TOP_PAIRS, build_report

LIFT = {
    "task": "binary",
    "mode": "cv",
    "folds": 5,
    "metric": "auc",
    "results": [
        {"model": "logistic", "encoding": "onehot", "mean": 0.71234, "std": 0.0041},
        {"model": "logistic", "encoding": "embedding", "mean": 0.71241695, "std": 0.0039},
    ],
    "lift": [{"model": "logistic", "best_baseline": "onehot", "lift": 7.695e-05, "std": 0.0001498}],
    "verdicts": ["For logistic regression, embeddings are level with one-hot encoding."],
}


def _cells(page: str) -> list[str]:
    return re.findall(r"<td[^>]*>([^<]*)</td>", page)


def test_figures_are_named_and_formatted_for_people(tiny_binary_run):
    page = build_report(tiny_binary_run, lift=LIFT, about="Run 'Q3 <claims>' trained on x.csv")
    assert "Run &#x27;Q3 &lt;claims&gt;&#x27; trained on x.csv. Report written 20" in page
    assert "valid_" not in page and "baseline_" not in page  # not the metric keys
    assert "<th>measure</th><th>model</th><th>trivial baseline</th>" in page
    cells = _cells(page)
    assert "AUC" in cells and "Log loss" in cells
    # the lift table: model and encoding names as on the Lift page; fixed decimals, signed
    assert "logistic regression" in cells and "one-hot encoding" in cells
    assert "DeepFM embeddings" in cells
    assert "+0.0001" in cells and "0.0001" in cells and "0.7124" in cells
    assert not [c for c in cells if re.search(r"\de-?\d", c)]  # no 7.695e-05
    assert "Measured by AUC on 5-fold cross-validation." in page


def test_labels_in_the_right_half_of_a_map_end_at_their_point(tiny_binary_run):
    page = build_report(tiny_binary_run)
    labels = re.findall(r"<text x='([\d.]+)'[^>]*?( text-anchor='end')?>", page)
    assert labels
    for x, anchored in labels:  # a label runs toward the middle, never past the edge
        assert float(x) >= _W / 2 - 12 if anchored else float(x) <= _W / 2 + 12, (x, anchored)
    assert any(anchored for _, anchored in labels)  # some points sit in the right half


def test_the_interaction_reading_shows_field_names_not_backticks(tiny_binary_run):
    page = build_report(tiny_binary_run)
    section = page[page.index("Field interactions") :]
    reading = re.search(r"<p>(.*?)</p>", section)
    assert reading and "`" not in reading.group(1)
    assert "<code>" in reading.group(1)
    assert "(-0.00)" not in page


def _with_metrics(run, **metrics):
    """``run`` with some validation figures replaced (tables shared, read-only)."""
    changed = copy.copy(run)
    changed.metrics = {**run.metrics, **metrics}
    return changed


@pytest.mark.parametrize(
    ("auc", "says"),
    [(0.52, "barely beats guessing"), (1.0, "almost perfect on rows it did not see")],
)
def test_a_weak_or_too_good_model_is_flagged_before_any_figure(tiny_binary_run, auc, says):
    page = build_report(_with_metrics(tiny_binary_run, valid_auc=auc))
    box = re.search(r"<div class='warning'[^>]*>(.*?)</div>", page)
    assert box and says in box.group(1)
    assert page.index(box.group(0)) < page.index("<table")  # near the top
    assert "`" not in box.group(1)  # the command name in <code>, not backticks


def test_a_normal_model_has_no_warning(tiny_binary_run):
    page = build_report(_with_metrics(tiny_binary_run, valid_auc=0.8))
    assert "class='warning'" not in page


def test_data_notes_from_training_are_listed_and_escaped(tiny_binary_run):
    run = copy.copy(tiny_binary_run)
    run.warnings = ["Column '<b>leak</b>' predicts the target almost perfectly on its own."]
    page = build_report(run)
    assert "Column &#x27;&lt;b&gt;leak&lt;/b&gt;&#x27; predicts" in page
    assert "<b>leak" not in page


@pytest.fixture(scope="module")
def wide_run():
    """A DeepFM run on 22 categorical fields (one epoch): 231 pairs of fields."""
    import numpy as np
    import pandas as pd
    from synthetic import TINY_CONFIG

    from embedding_core.data.roles import Roles
    from embedding_core.model.train import train

    rng = np.random.default_rng(0)
    fields = [f"a_rather_long_field_name_{i:02d}" for i in range(22)]
    frame = pd.DataFrame({f: rng.choice(["x", "y", "z"], 300) for f in fields})
    frame["y"] = rng.choice(["yes", "no"], 300)
    return train(frame, Roles(categorical=tuple(fields), target="y"), TINY_CONFIG.replace(epochs=1))


def test_a_22_field_report_has_nothing_wider_than_the_page(wide_run):
    page = build_report(wide_run)
    rows = re.findall(r"<tr>(.*?)</tr>", page)
    assert max(len(re.findall(r"<t[hd][ >]", r)) for r in rows) <= 5  # no field x field grid
    interactions = page[page.index("<h2>Field interactions") :]
    assert interactions.count("<tr>") == TOP_PAIRS + 1  # the strongest pairs and a header
    assert f"The {TOP_PAIRS} strongest of 231 pairs" in interactions
    css = page[page.index("<style>") : page.index("</style>")]
    assert "svg{" in css and "max-width:100%" in css.split("svg{")[1].split("}")[0]
    assert "overflow-wrap:break-word" in css and "@page{size:A4" in css


def test_figures_say_what_they_measure(tiny_binary_run):
    run = copy.copy(tiny_binary_run)
    run.roles = dataclasses.replace(run.roles, target="<b>churn</b>")
    page = build_report(run)
    assert "<b>churn" not in page
    # each map's colour key: the measure in words, its range with units
    assert re.search(r"Share of rows with &lt;b&gt;churn&lt;/b&gt; = yes: [\d.]+% \(blue\) to "
                     r"[\d.]+% \(red\)", page)  # fmt: skip
    assert "<th>better when</th>" in page and "<td>higher</td>" in page and "coin flip" in page
    assert "1 = the model treats them the same" in page  # what a cosine of 0.56 means
    assert "<tr><th></th><th></th></tr>" not in page  # no empty header row


def test_a_maps_colour_range_is_that_of_categories_with_enough_rows():
    import numpy as np
    import pandas as pd

    from embedding_core import formatting as fmt
    from embedding_core.reuse.report import _field_map

    table = pd.DataFrame(
        {
            "index": range(4),
            "category": ["a", "b", "c", "once"],
            "count": [500, 300, 100, 1],
            "target_mean": [0.05, 0.1, 0.2, 1.0],  # the 1-row category: 100%
            "is_unknown": False,
            "is_missing": False,
            "emb_0": np.array([0.0, 1.0, 0.5, 2.0], dtype=np.float32),
            "emb_1": np.array([1.0, 0.0, 0.5, 2.0], dtype=np.float32),
        }
    )
    page = _field_map("f", table, ("share of rows with y = 1", fmt.percent))
    assert "Share of rows with y = 1: 5.0% (blue) to 20.0% (red) among categories of 30+" in page
    assert "once: 1 row, share of rows with y = 1 100.0%" in page  # its own figure in the tip
