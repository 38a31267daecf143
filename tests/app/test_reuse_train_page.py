"""AppTest: the reuse workflow on the Train page (entity model, start from a run, compare)."""

from __future__ import annotations

import time

import pytest
from app_helpers import (
    SMALL_ROLES,
    TIMEOUT,
    assert_no_exception,
    markdown_text,
    upload_small,
    wait_for_training,
)

from ui.reuse_widgets import scratch_verdict
from ui.runs import store
from ui.state import Keys

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("keras_loaded")]


def _train(at) -> None:
    at.button(key=Keys.TRAIN_BUTTON).click().run()
    wait_for_training(at)
    assert_no_exception(at)
    job = at.session_state[Keys.JOB]
    assert job.error is None, job.error


def test_entity_run_then_frozen_start_then_compare(new_app, small_csv_bytes):
    at = new_app().run()
    upload_small(at, small_csv_bytes)
    at.switch_page("pages/train.py").run()
    [n for n in at.number_input if n.label == "Max epochs"][0].set_value(1)
    at.radio(key=Keys.CFG_MODEL).set_value("entity").run()
    assert "dot products" in markdown_text(at)
    at.text_input(key=Keys.CFG_DIMS).input("plan=3").run()
    sizes = at.dataframe[0].value
    assert dict(zip(sizes["field"], sizes["vector size"], strict=True))["plan"] == 3
    _train(at)
    first = at.session_state[Keys.RUN_INFO]
    assert first.run.config.model == "entity" and first.run.embedding_dims["plan"] == 3

    at.checkbox(key=Keys.INIT_ENABLE).check().run()
    at.radio(key=Keys.INIT_FREEZE).set_value(True).run()
    assert_no_exception(at)
    # a stored session run by its folder, so the new run can say which run it started from
    assert first.stored
    assert at.session_state[Keys.CONFIG].init_embeddings == str(store().path(first.run_id))
    _train(at)
    second = at.session_state[Keys.RUN_INFO]
    assert second.run.metrics["frozen_fields"] == SMALL_ROLES["categorical"]
    assert "Started from an earlier run's embeddings (frozen)" in markdown_text(at)
    at.switch_page("pages/runs.py").run()
    assert f"initialised from the run '{first.name}'" in markdown_text(at).replace("\\", "")
    at.switch_page("pages/train.py").run()

    at.button(key=Keys.SCRATCH_RUN).click().run()
    job = at.session_state[Keys.SCRATCH_JOB]
    deadline = time.monotonic() + TIMEOUT
    while not job.done and time.monotonic() < deadline:
        job.wait(0.5)
    at.run()
    assert_no_exception(at)
    assert job.error is None, job.error
    table = at.dataframe[-1].value
    assert list(table["variant"]) == ["from saved embeddings", "from scratch"]
    text = markdown_text(at)
    assert "against the same model from scratch" in text
    assert "with one seed each" in text and "better" not in text  # one seed: no verdict
    # kept with the stored run: F5 (a fresh session on its link) shows it again
    fresh = new_app()
    fresh.query_params.update(run=second.run_id, page="train")
    fresh.run()
    assert_no_exception(fresh)
    assert "against the same model from scratch" in markdown_text(fresh)
    assert list(fresh.dataframe[-1].value["variant"]) == list(table["variant"])

    at.switch_page("pages/interactions.py").run()
    assert "no FM term" in markdown_text(at)
    at.switch_page("pages/export.py").run()
    assert_no_exception(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "report.html" in labels and "embeddings_csv.zip" in labels


@pytest.mark.parametrize(
    ("diff", "spread", "seeds", "start"),
    [
        (0.0034, 0.0, 1, "higher with one seed each"),
        (-0.002, 0.0, 1, "lower with one seed each"),
        (0.002, 0.003, 3, "within the seed-to-seed spread (± 0.0030)"),
        (0.004, 0.001, 3, "better: more than the seed-to-seed spread"),
        (-0.004, 0.001, 3, "worse: more than"),
        (0.0, 0.001, 3, "the same."),
    ],
)
def test_scratch_verdict_needs_a_spread_to_call_it_better(diff, spread, seeds, start):
    assert scratch_verdict(diff, spread, seeds).startswith(start)
