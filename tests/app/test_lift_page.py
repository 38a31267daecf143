"""AppTest: the Lift page (no data, a run in fast mode with results and downloads, stop)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from app_helpers import assert_no_exception, markdown_text, store_run

from embedding_core.analysis.lift import LiftProgress, LiftResult
from embedding_core.data.csv_reader import read_csv
from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig
from ui.lift_job import LiftJob
from ui.state import Dataset, Keys

SMALL_CSV = Path(__file__).resolve().parents[1] / "data" / "small_churn.csv"
ROLES = Roles(("customer_city", "device", "plan", "channel"), "churned", ("age",), "binary")
pytestmark = pytest.mark.slow  # runs lift (and DeepFM) for real

TINY = TrainConfig(epochs=1, batch_size=128, hidden_units=(16,), min_count=1, seed=0)


def _lift_page(new_app):
    at = new_app().run()
    at.session_state[Keys.DATASET] = Dataset(
        key="upload:test", label="small_churn.csv", frame=read_csv(SMALL_CSV),
        suggested=ROLES, source="upload",
    )  # fmt: skip
    at.session_state[Keys.ROLES] = ROLES
    at.session_state[Keys.ROLES_ERROR] = None
    at.session_state[Keys.CONFIG] = TINY
    at.switch_page("pages/lift.py").run()
    assert_no_exception(at)
    return at


def _job(at):
    return at.session_state[Keys.LIFT_JOB]


def test_without_valid_roles_the_page_points_to_data(new_app):
    at = new_app().run()
    at.session_state[Keys.ROLES_ERROR] = "Choose the columns."
    at.switch_page("pages/lift.py").run()
    assert_no_exception(at)
    assert "Choose the data and its column roles first" in at.warning[0].value
    assert not at.button or all(b.key != Keys.LIFT_RUN for b in at.button)


def test_fast_mode_run_shows_table_chart_verdicts_and_downloads(new_app):
    at = _lift_page(new_app)
    at.multiselect(key=Keys.LIFT_MODELS).set_value(["logistic", "knn"]).run()
    at.button(key=Keys.LIFT_RUN).click().run()
    assert_no_exception(at)
    job = _job(at)
    assert job.wait(120), "the lift run did not finish"
    at.run()
    assert_no_exception(at)
    assert job.error is None, job.error
    result = job.result
    assert isinstance(result, LiftResult) and result.mode == "holdout" and result.complete
    assert {r["model"] for r in result.results} == {"logistic", "knn"}
    assert at.session_state[Keys.LIFT_RESULT] is result  # adopted by app.py
    # the live table's cells are the final holdout scores (without the error bars)
    partial = job.partial_frame()
    assert len(partial) == 8 and set(partial["metric"]) == {"AUC"}
    means = {(r["model"], r["encoding"]): r["mean"] for r in result.results}
    for row in partial.itertuples():
        assert abs(row.score - means[(row.model, row.encoding)]) < 1e-12

    text = markdown_text(at).replace("\\", "")
    assert "Fast holdout mode" in text  # says which mode produced the numbers
    assert "For logistic regression, embeddings" in text
    assert "For k-nearest neighbours, embeddings" in text
    # the headline verdict comes first, before the per-model sentences
    from embedding_core.analysis.lift.verdict import headline

    first = headline(result.lift, result.task, result.metric)
    assert text.index(first) < text.index("For logistic regression")
    # the sentences' ± and the error bars are different spreads, and the page says how
    assert "Error bars: ± one standard deviation of each score" in text
    assert "spread of the difference itself" in text
    assert any("early stopping chose" in n for n in result.notes)  # fast mode: no refit
    assert len(at.dataframe) == 2  # results + lift
    assert len(at.dataframe[0].value) == 9  # 2 models x 4 encodings + DeepFM reference
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars = [t for t in spec["data"] if t["type"] == "bar"]
    assert len(bars) == 4 and all(t["error_y"]["visible"] for t in bars)
    # the network's own score: a dashed line named in the legend, no label over the bars
    named = [t["name"] for t in spec["data"] if t["type"] == "scatter"]
    assert len(named) == 1 and named[0].startswith("DeepFM itself ")
    assert not spec["layout"].get("annotations")
    downloads = at.get("download_button")
    assert len(downloads) == 2

    # a rerun (or a page switch and back) keeps the result and does not start again
    at.switch_page("pages/runs.py").run()  # not Train: its widgets set the config
    at.switch_page("pages/lift.py").run()
    assert _job(at) is job and "Fast holdout mode" in markdown_text(at)
    assert "Data: small_churn.csv." in markdown_text(at)
    assert not [w for w in at.warning if "Run lift again" in w.value]  # it is current

    # other Train settings: the result stays, and the page says what changed since
    at.session_state[Keys.CONFIG] = TINY.replace(seed=7)
    at.run()
    stale = [w.value.replace("\\", "") for w in at.warning if "Run lift again" in w.value]
    assert stale and "settings have changed since: **seed**" in stale[0], stale
    at.session_state[Keys.CONFIG] = TINY

    # F5: a fresh session opened on the same URL shows the same result (kept on the server)
    fresh = new_app()
    fresh.query_params.update(lift=at.query_params["lift"], page="lift")
    fresh.run()
    assert_no_exception(fresh)
    assert "Fast holdout mode" in markdown_text(fresh)
    assert fresh.dataframe[0].value.equals(at.dataframe[0].value)
    # the fresh session has the default sample loaded: the result says it is for other data
    stale = [w.value.replace("\\", "") for w in fresh.warning if "Run lift again" in w.value]
    assert stale and "These results are for **small_churn.csv**, not the data" in stale[0]
    assert "Data: small_churn.csv." in markdown_text(fresh)


def test_running_job_shows_the_cells_finished_so_far(new_app):
    at = _lift_page(new_app)
    job = LiftJob(frame=read_csv(SMALL_CSV), roles=ROLES, config=TINY, models=("logistic",))
    job._thread = threading.Thread(target=lambda: None)  # looks running; never started
    for step, (enc, value) in enumerate([("onehot", 0.61), ("ordinal", 0.58)], start=2):
        job._on_progress(
            LiftProgress(
                stage="fit", step=step, steps=5, fold=1, folds=1, message=f"{enc}: done.",
                model="logistic", encoding=enc, metric="auc", score=value, fit_seconds=0.1,
            )
        )  # fmt: skip
    at.session_state[Keys.LIFT_JOB] = job
    at.run()
    assert_no_exception(at)
    assert "Finished so far: AUC on the held-out rows" in markdown_text(at)
    (table,) = at.dataframe
    assert list(table.value["encoding"]) == ["one-hot encoding", "ordinal encoding"]
    assert list(table.value["AUC"]) == [0.61, 0.58]
    assert at.button(key=Keys.LIFT_STOP).label == "Stop"
    assert at.button(key=Keys.LIFT_RUN).disabled


def _stopped_job(at, stop_at: str) -> LiftJob:
    """A lift job on the page whose Stop is pressed at a known moment: at the first report
    (``"start"``) or once the first (model, encoding) cell is done (``"fit"``)."""
    job = LiftJob(frame=read_csv(SMALL_CSV), roles=ROLES, config=TINY, models=("logistic",))
    original = job._on_progress

    def press_stop(progress: LiftProgress) -> bool:
        keep_going = original(progress)
        if progress.stage == stop_at:
            job.request_stop()
        return keep_going and not job.stop_event.is_set()

    job._on_progress = press_stop  # type: ignore[method-assign]
    at.session_state[Keys.LIFT_JOB] = job.start()
    assert job.wait(120)
    at.run()
    assert_no_exception(at)
    return job


def test_stop_before_any_result_says_so_and_keeps_nothing(new_app):
    at = _lift_page(new_app)
    job = _stopped_job(at, "start")
    assert job.cancelled and job.result is None
    assert "Stopped before any result was ready" in at.error[0].value
    assert Keys.LIFT_RESULT not in at.session_state or at.session_state[Keys.LIFT_RESULT] is None


def test_stop_after_a_step_keeps_the_finished_cells_marked_partial(new_app):
    at = _lift_page(new_app)
    job = _stopped_job(at, "fit")
    assert job.error is None and job.result is not None
    assert not job.result.complete and len(job.result.results) == 1
    assert job.result.to_json_dict()["complete"] is False
    assert any("Stopped early" in w.value for w in at.warning)


def test_thorough_mode_runs_k_fold_and_says_so(new_app):
    at = _lift_page(new_app)
    at.radio(key=Keys.LIFT_MODE).set_value("Thorough: k-fold cross-validation").run()
    # the choices sent with the click (a click right after picking) are the ones run
    at.number_input(key=Keys.LIFT_FOLDS).set_value(2)
    at.multiselect(key=Keys.LIFT_MODELS).set_value(["logistic"])
    at.button(key=Keys.LIFT_RUN).click().run()
    job = _job(at)
    assert job.models == ("logistic",) and job.folds == 2
    assert job.wait(120)
    at.run()
    assert_no_exception(at)
    assert job.result.mode == "cv" and job.result.folds == 2
    assert "Thorough 2-fold cross-validation" in markdown_text(at)


def test_a_reload_takes_back_the_lift_job_of_its_link(new_app, small_run, tmp_path, monkeypatch):
    """F5 while Run lift works: the job goes on in the server, and the reloaded page (same
    run in its URL, same data) follows it again; a page without that run does not."""
    from ui import lift_job

    run_id = store_run(small_run, tmp_path, monkeypatch)
    at = new_app()
    at.query_params.update(run=run_id, page="lift")
    at.run()
    assert_no_exception(at)
    dataset = at.session_state[Keys.DATASET]
    job = LiftJob(frame=dataset.frame, roles=small_run.roles, config=TINY, models=("logistic",))
    job._thread = threading.Thread(target=lambda: None)  # looks running; never started
    job._on_progress(
        LiftProgress(
            stage="fit", step=2, steps=5, fold=1, folds=1, message="onehot: done.",
            model="logistic", encoding="onehot", metric="auc", score=0.61, fit_seconds=0.1,
        )
    )  # fmt: skip
    lift_job.remember(lift_job.link_key(run_id, dataset.key), job)

    fresh = new_app()  # F5
    fresh.query_params.update(run=run_id, page="lift")
    fresh.run()
    assert_no_exception(fresh)
    assert fresh.session_state[Keys.LIFT_JOB] is job
    assert "Finished so far" in markdown_text(fresh)

    stranger = new_app()  # the same data, but not the link with that run
    stranger.query_params.update(page="lift")
    stranger.run()
    assert Keys.LIFT_JOB not in stranger.session_state or not stranger.session_state[Keys.LIFT_JOB]
    assert lift_job.link_key(None, dataset.key) is None
