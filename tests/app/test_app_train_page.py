"""AppTest: the Train page (training on tiny data, no retrain on rerun, stop, errors)."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from app_helpers import (
    SMALL_ROLES,
    assert_no_exception,
    markdown_text,
    plain,
    upload_small,
    upload_with_roles,
    wait_for_training,
)

from embedding_core.model.config import TrainConfig
from ui.state import Keys

pytestmark = [pytest.mark.usefixtures("keras_loaded"), pytest.mark.slow]  # trains for real


def _upload_small(at, small_csv_bytes):
    upload_small(at, small_csv_bytes)
    assert at.session_state[Keys.ROLES_ERROR] is None


def _small_job(new_app, small_csv_bytes, **config):
    """The app with the small CSV loaded, and a TrainingJob on it (not started)."""
    from embedding_core.data.roles import Roles
    from embedding_core.model.config import TrainConfig
    from ui.training import TrainingJob

    at = new_app().run()
    _upload_small(at, small_csv_bytes)
    dataset = at.session_state[Keys.DATASET]
    job = TrainingJob(
        frame=dataset.frame,
        roles=Roles.from_dict(SMALL_ROLES),
        config=TrainConfig(batch_size=64, hidden_units=(8,), **config),
        dataset_label=dataset.label,
    )
    return at, job


def _number_input(at, label: str):
    return [n for n in at.number_input if n.label == label][0]


def test_train_one_epoch_on_tiny_data(new_app, small_csv_bytes):
    at = new_app().run()
    _upload_small(at, small_csv_bytes)
    at.switch_page("pages/train.py").run()
    assert_no_exception(at)
    _number_input(at, "Max epochs").set_value(1)

    def encoding():
        return [s for s in at.selectbox if s.label == "Numeric columns"][0]

    encoding().set_value("scaled")
    at.run()
    assert _number_input(at, "Bins per numeric column").disabled  # no bins when scaled
    encoding().set_value("ple")
    at.run()
    _number_input(at, "Bins per numeric column").set_value(8)
    at.run()
    assert not _number_input(at, "Bins per numeric column").disabled
    assert at.session_state[Keys.CONFIG].epochs == 1
    assert at.session_state[Keys.CONFIG].numeric_encoding == "ple"
    assert at.session_state[Keys.CONFIG].numeric_bins == 8

    at.button(key=Keys.TRAIN_BUTTON).click().run()
    assert_no_exception(at)
    job = at.session_state[Keys.JOB]
    assert job is not None
    wait_for_training(at)
    assert_no_exception(at)
    assert job.error is None, job.error
    info = at.session_state[Keys.RUN_INFO]
    assert info.run is job.result
    assert info.dataset_label == "small_churn.csv"
    assert set(info.run.fields) == set(SMALL_ROLES["categorical"])
    assert len(info.run.history) == 1
    assert info.run.features.numeric_encoder_.columns == SMALL_ROLES["numeric"]
    text = markdown_text(at)
    assert "Last run" in text or any(h.value == "Last run" for h in at.subheader)
    labels = [m.label for m in at.metric]
    assert "Training time" in labels and "Rows / second" in labels
    assert any(label.startswith("Validation") for label in labels)
    epochs = next(m for m in at.metric if m.label == "Epochs (+ final fit)")
    assert info.run.averages_early and "Predictions average the early-stopped" in epochs.help
    timing = next(m for m in at.metric if m.label == "Training time")
    assert timing.help.endswith("and the final fit on all rows.")

    # saved to the run store with its data, and named in the URL (F5 reopens it)
    from embedding_core.model.store import RunStore

    record = RunStore().record(info.run_id)
    assert info.stored and record.ok and record.has_data and record.dataset == "small_churn.csv"
    assert at.query_params["run"] == info.run_id
    assert "Saved in the run store" in markdown_text(at)

    # a rerun and a page switch never retrain: same job, same run
    run_id = info.run_id
    at.run()
    at.switch_page("pages/explore.py").run()
    at.switch_page("pages/train.py").run()
    assert_no_exception(at)
    assert at.session_state[Keys.JOB] is job
    assert at.session_state[Keys.RUN_INFO].run_id == run_id


def test_stop_before_first_epoch_keeps_no_run_and_says_so(new_app, small_csv_bytes):
    at, job = _small_job(new_app, small_csv_bytes, epochs=3)
    job.request_stop()  # pressed Stop before anything finished
    at.session_state[Keys.JOB] = job.start()
    assert job.wait(120)
    at.switch_page("pages/train.py").run()
    assert_no_exception(at)
    assert job.cancelled and job.result is None
    assert Keys.RUN_INFO not in at.session_state
    assert any("stopped before the first epoch" in e.value for e in at.error)


def test_stop_after_an_epoch_keeps_best_weights(new_app, small_csv_bytes):
    at, job = _small_job(new_app, small_csv_bytes, epochs=50, patience=50)
    original = job._on_progress

    def stop_after_first_epoch(progress):  # what the Stop button does, at a known moment
        keep_going = original(progress)
        if progress.kind == "epoch":
            job.request_stop()
        return keep_going

    job._on_progress = stop_after_first_epoch  # type: ignore[method-assign]
    at.session_state[Keys.JOB] = job.start()
    assert job.wait(120)
    at.switch_page("pages/train.py").run()
    assert_no_exception(at)
    assert job.error is None, job.error
    info = at.session_state[Keys.RUN_INFO]
    assert info.run.metrics.get("stopped_by_user") is True
    assert len(info.run.history) < 50
    assert "Stopped by you" in markdown_text(at)


def test_training_error_is_a_message_not_a_traceback(new_app, small_csv_bytes):
    from embedding_core.data.roles import Roles
    from embedding_core.model.config import TrainConfig
    from ui.training import TrainingJob

    at = new_app().run()
    _upload_small(at, small_csv_bytes)
    dataset = at.session_state[Keys.DATASET]
    bad = Roles(categorical=("no_such_column",), target="churned")
    job = TrainingJob(frame=dataset.frame, roles=bad, config=TrainConfig(epochs=1)).start()
    at.session_state[Keys.JOB] = job
    assert job.wait(120)
    at.switch_page("pages/train.py").run()
    assert_no_exception(at)
    assert job.error and "no_such_column" in job.error
    assert any("no_such_column" in plain(e.value) for e in at.error)


def test_train_page_without_valid_roles_points_to_data(new_app):
    at = new_app().run()
    at.session_state[Keys.ROLES_ERROR] = "No target chosen."
    at.switch_page("pages/train.py").run()
    assert_no_exception(at)
    assert [b for b in at.button if b.label == "Train"] == []
    assert any("column roles" in w.value for w in at.warning)


def test_stop_button_in_the_page_stops_training(new_app, small_csv_bytes):
    at = new_app().run()
    _upload_small(at, small_csv_bytes)
    at.switch_page("pages/train.py").run()
    _number_input(at, "Patience").set_value(500)  # no early stop before Stop
    _number_input(at, "Max epochs").set_value(200)
    at.run()
    at.button(key=Keys.TRAIN_BUTTON).click().run()
    job = at.session_state[Keys.JOB]
    deadline = time.monotonic() + 120
    while not job.epochs and not job.done and time.monotonic() < deadline:
        job.wait(0.2)  # press Stop once an epoch has finished: the run must be kept
    assert job.epochs and not job.done, "training should be mid-way after one epoch"
    at.run()
    stop = at.button(key=Keys.STOP_BUTTON)
    assert not stop.disabled
    stop.click().run()
    assert_no_exception(at)
    assert job.stop_event.is_set()
    wait_for_training(at)
    assert_no_exception(at)
    assert not job.cancelled and job.error is None, job.error
    info = at.session_state[Keys.RUN_INFO]
    assert info.run is job.result
    assert info.run.metrics["stopped_by_user"] is True
    assert 1 <= len(info.run.history) < 200


def test_run_finished_while_on_another_page_is_adopted_there(new_app, small_csv_bytes):
    at = new_app().run()
    _upload_small(at, small_csv_bytes)
    at.switch_page("pages/train.py").run()
    _number_input(at, "Max epochs").set_value(2)
    at.run()
    at.button(key=Keys.TRAIN_BUTTON).click().run()
    job = at.session_state[Keys.JOB]
    at.switch_page("pages/explore.py").run()
    assert_no_exception(at)
    if not job.done:
        assert any("Training is in progress" in i.value for i in at.info)
    wait_for_training(at)
    assert_no_exception(at)
    assert job.error is None, job.error
    assert at.session_state[Keys.RUN_INFO].run is job.result
    assert at.get("plotly_chart"), "Explore fills in once the run is adopted"


def test_status_names_both_steps_and_stop_in_the_final_fit_keeps_the_model(
    new_app, small_csv_bytes
):
    at, job = _small_job(new_app, small_csv_bytes, epochs=2)
    original = job._on_progress
    texts: list[str] = []

    def record_and_stop_in_final_fit(progress):  # Stop pressed during step 2
        keep_going = original(progress)
        texts.append(job.status_text())
        if progress.kind == "refit":
            job.request_stop()
        return keep_going

    job._on_progress = record_and_stop_in_final_fit  # type: ignore[method-assign]
    at.session_state[Keys.JOB] = job.start()
    assert job.wait(120)
    assert job.error is None, job.error
    assert any(t.startswith("Step 1 of 2, early stopping: epoch 1/2") for t in texts)
    assert any(t.startswith("Step 2 of 2, final fit on all rows") for t in texts)
    metrics = job.result.metrics
    assert metrics["refit"] is False and metrics["stopped_by_user"] is True
    at.switch_page("pages/train.py").run()
    assert_no_exception(at)
    assert "Stopped by you" in markdown_text(at)


class _RunningJob:
    """What the Train page reads of a running TrainingJob."""

    running, done, error = True, False, None

    def __init__(self, epochs: list[dict]) -> None:
        import threading

        self.stop_event = threading.Event()
        self.epochs = epochs

    def queue_text(self):
        return None

    def fraction_done(self):
        return 0.5

    def status_text(self):
        return "Epoch 2/5"

    def nearly_done(self):
        return False

    def request_stop(self):
        self.stop_event.set()


def test_before_the_first_epoch_the_loss_charts_show_their_empty_frames(new_app):
    at = new_app().run()
    at.switch_page("pages/train.py")
    at.session_state[Keys.JOB] = _RunningJob([])
    at.run()
    assert_no_exception(at)
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # the chart library loads now, before the epochs compete with it
    for chart in charts:
        spec = json.loads(chart.proto.spec)
        assert spec["data"] == []
        assert "after the first epoch" in spec["layout"]["annotations"][0]["text"]


def test_the_loss_charts_are_built_once_per_epoch_not_at_every_redraw(new_app, monkeypatch):
    """The progress redraws every second while training runs; building the plotly figures
    each time took CPU from training. Same epochs: no new figure."""
    from ui import charts

    built = []
    history_figure = charts.history_figure
    monkeypatch.setattr(charts, "history_figure", lambda *a: built.append(1) or history_figure(*a))
    at = new_app().run()
    at.switch_page("pages/train.py")
    job = _RunningJob([{"epoch": 1, "loss": 0.5, "val_loss": 0.6, "val_auc": 0.7}])
    at.session_state[Keys.JOB] = job
    for _ in range(3):
        at.run()
        assert_no_exception(at)
    assert len(at.get("plotly_chart")) == 2
    assert len(built) == 2  # loss and metric, once
    job.epochs = [*job.epochs, {"epoch": 2, "loss": 0.4, "val_loss": 0.55, "val_auc": 0.75}]
    at.run()
    assert len(built) == 4


def test_the_summary_names_crossed_columns_and_the_checkbox_turns_them_off(new_app):
    """A date in two numeric columns is crossed by default; the Advanced checkbox stops it."""
    from synthetic import CALENDAR_ROLES, make_calendar_frame

    at = new_app().run()
    data = make_calendar_frame().to_csv(index=False).encode()
    upload_with_roles(at, "flights.csv", data, CALENDAR_ROLES.to_dict())
    at.switch_page("pages/train.py").run()
    _number_input(at, "Max epochs").set_value(1)
    at.run()
    assert at.session_state[Keys.CONFIG].crosses == "auto"
    at.button(key=Keys.TRAIN_BUTTON).click().run()
    wait_for_training(at)
    assert_no_exception(at)
    assert at.session_state[Keys.RUN_INFO].run.crosses[0] == ("month", "day")
    assert "Crossed columns: month x day" in plain(markdown_text(at))
    at.switch_page("pages/interactions.py").run()
    assert_no_exception(at)
    assert "Crossed in the model: month x day" in plain(markdown_text(at))
    at.switch_page("pages/train.py").run()

    [crosses] = [c for c in at.checkbox if c.label == "Cross columns of small whole numbers"]
    crosses.uncheck().run()
    assert at.session_state[Keys.CONFIG].crosses == "none"


def test_the_frequency_bands_checkbox_reaches_the_run_and_its_summary(new_app):
    """Off by default; checked under Advanced, a field of many categories gets bands and
    the summary names it."""
    rng = np.random.default_rng(0)
    items = rng.integers(0, 120, 1500)
    frame = pd.DataFrame(
        {"item": [f"i{i}" for i in items], "bought": np.where(items % 3 == 0, "yes", "no")}
    )
    roles = {"categorical": ["item"], "numeric": [], "target": "bought", "task": "binary"}
    at = new_app().run()
    upload_with_roles(at, "shop.csv", frame.to_csv(index=False).encode(), roles)
    at.switch_page("pages/train.py").run()
    _number_input(at, "Max epochs").set_value(1)
    at.run()
    assert at.session_state[Keys.CONFIG].frequency_bands == "none"
    at.button(key=Keys.TRAIN_BUTTON).click().run()
    wait_for_training(at)
    assert_no_exception(at)
    assert at.session_state[Keys.RUN_INFO].run.frequency_fields == []
    assert "Frequency bands:" not in plain(markdown_text(at))

    [bands] = [c for c in at.checkbox if c.label.startswith("Frequency bands for fields")]
    bands.check().run()
    assert at.session_state[Keys.CONFIG].frequency_bands == "auto"
    at.button(key=Keys.TRAIN_BUTTON).click().run()
    wait_for_training(at)
    assert_no_exception(at)
    assert at.session_state[Keys.RUN_INFO].run.frequency_fields == ["item"]
    assert "Frequency bands: item" in plain(markdown_text(at))


def test_the_category_dropout_slider_reaches_the_run(new_app):
    """Set under Advanced, the rate is trained with: the field of many categories goes
    through the dropout layer, the field of few does not."""
    rng = np.random.default_rng(0)
    items = rng.integers(0, 120, 1500)
    frame = pd.DataFrame(
        {
            "item": [f"i{i}" for i in items],
            "colour": rng.choice(["red", "blue"], 1500),
            "bought": np.where(items % 3 == 0, "yes", "no"),
        }
    )
    roles = {"categorical": ["item", "colour"], "numeric": [], "target": "bought",
             "task": "binary"}  # fmt: skip
    at = new_app().run()
    upload_with_roles(at, "shop.csv", frame.to_csv(index=False).encode(), roles)
    at.switch_page("pages/train.py").run()
    _number_input(at, "Max epochs").set_value(1)
    [rate] = [s for s in at.slider if s.label.startswith("Category dropout")]
    assert rate.value == TrainConfig().category_dropout
    rate.set_value(0.2).run()
    assert at.session_state[Keys.CONFIG].category_dropout == 0.2
    at.button(key=Keys.TRAIN_BUTTON).click().run()
    wait_for_training(at)
    assert_no_exception(at)
    run = at.session_state[Keys.RUN_INFO].run
    assert run.config.category_dropout == 0.2
    assert run.model.get_layer("category_dropout").fields == [True, False]


def test_advanced_field_weights_and_vector_learning_rate_reach_the_run(new_app, small_csv_bytes):
    """The two round-12 options: set on the page, trained with, shown on Interactions."""
    at = new_app().run()
    _upload_small(at, small_csv_bytes)
    at.switch_page("pages/train.py").run()
    _number_input(at, "Max epochs").set_value(1)
    _number_input(at, "Learning-rate factor of the category vectors").set_value(3.0)
    [weights] = [c for c in at.checkbox if c.label == "Weigh each pair of fields"]
    weights.check().run()
    config = at.session_state[Keys.CONFIG]
    assert config.fm_field_weights is True and config.embedding_lr_factor == 3.0
    at.button(key=Keys.TRAIN_BUTTON).click().run()
    wait_for_training(at)
    assert_no_exception(at)
    run = at.session_state[Keys.RUN_INFO].run
    assert run.config.embedding_lr_factor == 3.0
    assert run.fm_pair_weights() is not None
    at.switch_page("pages/interactions.py").run()
    assert_no_exception(at)
    assert any("times the pair's learned weight" in c.value for c in at.caption)


def test_a_train_click_starts_from_the_training_prepared_ahead(new_app, monkeypatch):
    """The app has the training process set up the training a click would start
    (``model.prepare``): as a session opens, and again when a setting changes."""
    import threading

    from embedding_core.model.train_worker import TrainerProcess

    asked: list[tuple[int, bool]] = []
    prepare = TrainerProcess.prepare

    def noting_prepare(self, frame, roles, config, **kwargs):
        answer = prepare(self, frame, roles, config, **kwargs)
        asked.append((config.epochs, answer))
        return answer

    def sent() -> None:  # the requests are on their way (each sent from a thread)
        for thread in threading.enumerate():
            if thread.name == "prepare-training":
                thread.join()

    monkeypatch.setattr(TrainerProcess, "prepare", noting_prepare)
    # earlier tests' sessions may still hold their frames: no turn to wait for here
    monkeypatch.setattr(TrainerProcess, "PREPARE_TURN_SECONDS", 0.0)
    at = new_app().run()
    assert_no_exception(at)
    assert asked and asked[0] == (20, True), asked  # the default sample, as it opened
    at.switch_page("pages/train.py").run()
    assert [answer for _, answer in asked[1:]] == [False] * (len(asked) - 1), asked  # no news
    _number_input(at, "Max epochs").set_value(1)
    at.run()
    assert (1, True) in asked, asked  # the changed setting's training
    sent()
    at.button(key=Keys.TRAIN_BUTTON).click().run()
    wait_for_training(at)
    assert_no_exception(at)
    metrics = at.session_state[Keys.RUN_INFO].run.metrics
    assert metrics["prepared_ahead"] is True and metrics["epochs_run"] == 1


def test_a_sessions_own_new_data_is_prepared_at_once(new_app, small_csv_bytes, monkeypatch):
    """Another session's data waits for its turn (``PREPARE_TURN_SECONDS``); the same
    session's next data (an upload after the default sample) does not."""
    from embedding_core.model.train_worker import TrainerProcess

    asked: list[tuple[int, bool]] = []
    prepare = TrainerProcess.prepare

    def noting_prepare(self, frame, roles, config, **kwargs):
        answer = prepare(self, frame, roles, config, **kwargs)
        asked.append((len(frame), answer))
        return answer

    monkeypatch.setattr(TrainerProcess, "prepare", noting_prepare)
    monkeypatch.setattr(TrainerProcess, "PREPARE_TURN_SECONDS", 0.0)
    at = new_app().run()
    assert asked and asked[0][1], asked  # the default sample
    monkeypatch.setattr(TrainerProcess, "PREPARE_TURN_SECONDS", 3600.0)
    _upload_small(at, small_csv_bytes)
    assert (600, True) in asked, asked  # the upload: this session's own, no turn to wait


def test_advanced_network_and_stopping_settings_reach_the_run(new_app, small_csv_bytes):
    """Hidden layers, patience, validation share and epoch tolerance are set on the page
    and trained with; bad layer text is refused with a message, and the Train button is
    disabled until it is fixed."""
    at = new_app().run()
    _upload_small(at, small_csv_bytes)
    at.switch_page("pages/train.py").run()
    _number_input(at, "Max epochs").set_value(3)
    at.text_input(key=Keys.CFG_HIDDEN).input("16, x").run()
    assert any("hidden layer sizes" in e.value for e in at.error)
    assert at.button(key=Keys.TRAIN_BUTTON).disabled
    at.text_input(key=Keys.CFG_HIDDEN).input("0").run()
    assert any("hidden layers of 1 to" in e.value for e in at.error)
    at.text_input(key=Keys.CFG_HIDDEN).input("16 8").run()
    _number_input(at, "Patience").set_value(0)
    _number_input(at, "Validation share").set_value(0.3)
    _number_input(at, "Epoch tolerance").set_value(0.0)
    at.run()
    assert not at.error and not at.button(key=Keys.TRAIN_BUTTON).disabled
    config = at.session_state[Keys.CONFIG]
    assert (config.hidden_units, config.patience) == ((16, 8), 0)
    assert (config.valid_fraction, config.epoch_tolerance) == (0.3, 0.0)

    at.button(key=Keys.TRAIN_BUTTON).click().run()
    wait_for_training(at)
    assert_no_exception(at)
    run = at.session_state[Keys.RUN_INFO].run
    assert run.config.hidden_units == (16, 8) and run.config.patience == 0
    assert run.config.valid_fraction == 0.3 and run.config.epoch_tolerance == 0.0
    deep = ("deep_0", "deep_1", "deep_2")
    units = {layer.name: layer.units for layer in run.model.layers if layer.name in deep}
    assert units == {"deep_0": 16, "deep_1": 8}
    speed = next(m for m in at.metric if m.label == "Rows / second")
    assert f"computed in {run.metrics['deep_precision']}" in speed.help
