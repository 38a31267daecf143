"""The Train page's advanced settings after F5 and in links: they start from the open
run's, the URL keeps what the user changed, and a hostile URL value is ignored."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import assert_no_exception, plain, store_run

from embedding_core.model.config import TrainConfig
from ui.state import Keys
from ui.train_settings import changed_settings, start_values, within

pytestmark = pytest.mark.usefixtures("keras_loaded")

SMALL_CSV = Path(__file__).resolve().parents[1] / "data" / "small_churn.csv"


def _train_page(new_app, **params):
    at = new_app()
    at.query_params.update(page="train", **params)
    at.run()
    assert_no_exception(at)
    return at


def _number(at, label: str):
    return next(n for n in at.number_input if n.label == label)


def test_a_reload_shows_the_open_runs_settings(new_app, small_run, tmp_path, monkeypatch):
    """F5 or a link with ``run=``: the settings are those the run was trained with (not
    the defaults), and the page says which differ from the defaults."""
    at = _train_page(new_app, run=store_run(small_run, tmp_path, monkeypatch))
    config = at.session_state[Keys.CONFIG]
    assert config.learning_rate == small_run.config.learning_rate == 1e-2
    assert config.hidden_units == (16,) and config.min_count == 1 and config.epochs == 8
    assert _number(at, "Learning rate").value == pytest.approx(1e-2)
    captions = " ".join(plain(c.value) for c in at.caption)
    assert "changed from the defaults" in captions
    assert "Learning rate 0.01" in captions and "Hidden layers 16" in captions


def test_a_changed_setting_is_kept_by_the_url(new_app, small_run, tmp_path, monkeypatch):
    """The browser writes a changed setting into the address under the widget's key (the
    browser test checks that); a fresh session on that address (F5) shows it, on top of
    the run's other settings."""
    run_id = store_run(small_run, tmp_path, monkeypatch)
    at = _train_page(new_app, run=run_id)
    _number(at, "Embedding dimension").set_value(24).run()
    assert at.session_state[Keys.CONFIG].embedding_dim == 24
    fresh = _train_page(new_app, run=run_id, **{Keys.CFG_DIM: "24"})
    assert _number(fresh, "Embedding dimension").value == 24
    config = fresh.session_state[Keys.CONFIG]
    assert config.embedding_dim == 24 and config.learning_rate == 1e-2


def test_without_a_run_the_settings_start_at_the_defaults(new_app):
    at = _train_page(new_app, **{Keys.CFG_SEED: "7", Keys.CFG_DROPOUT: "0.3"})
    config = at.session_state[Keys.CONFIG]
    assert config.seed == 7 and config.dropout == pytest.approx(0.3)
    assert config.replace(seed=0, dropout=0.1) == TrainConfig()
    assert any("Dropout 0.3; Seed 7" in plain(c.value) for c in at.caption)


@pytest.mark.parametrize(
    "key, value",
    [
        (Keys.CFG_DIM, "abc"),
        (Keys.CFG_DIM, "100000"),
        (Keys.CFG_BATCH, "333"),
        (Keys.CFG_NUMERIC_ENCODING, "<script>"),
        (Keys.CFG_LR, "nan"),
        (Keys.CFG_HIDDEN, "64, x"),
    ],
)
def test_a_hostile_url_value_is_not_a_traceback(new_app, key, value):
    """A hand-edited address: the page runs, and every setting stays trainable or says
    what to change (never an exception)."""
    at = _train_page(new_app, **{key: value})
    assert not at.exception
    if key == Keys.CFG_HIDDEN:
        assert any("hidden" in plain(e.value).lower() for e in at.error)
    else:
        assert not at.error


def test_start_values_take_the_runs_shown_settings_only(small_run):
    """The start is the run's settings where the page shows them, the defaults elsewhere;
    ``within`` brings a value from a run trained elsewhere into a widget's range."""
    from ui.state import RunInfo

    assert start_values(None) == TrainConfig()
    info = RunInfo(
        run=small_run, run_id="x", dataset_label="d", n_rows=1, seconds=0, total_seconds=0
    )
    start = start_values(info)
    assert start.learning_rate == 1e-2 and start.hidden_units == (16,)
    assert start.ema_epochs == TrainConfig().ema_epochs  # not on the page: the default
    assert within(1024, 1, 128) == 128 and within(0.5, 0.0, 0.9) == 0.5


def test_changed_settings_read_like_the_page():
    assert changed_settings(TrainConfig()) == []
    changed = changed_settings(
        TrainConfig(refit=False, crosses="none", hidden_units=(64, 32), learning_rate=1e-3)
    )
    assert changed == [
        "Learning rate 0.001",
        "Hidden layers 64, 32",
        "Final fit on all rows off",
        "Crossed columns off",
    ]
