"""Fixtures for the AppTest suite: an app factory, a small CSV and a small trained run."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import streamlit.testing.v1.app_test as app_test_module
from app_helpers import APP, SMALL_CSV, SMALL_ROLES, TIMEOUT
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest


@pytest.fixture(scope="session")
def small_csv_bytes() -> bytes:
    """A 600-row churn CSV with 4 categorical columns (committed under tests/data/)."""
    return SMALL_CSV.read_bytes()


class _NavigationPagesManager(PagesManager):
    """PagesManager as ``streamlit run`` has it once app.py has called ``st.navigation``.

    ``st.navigation`` turns the legacy ``pages/`` directory mode off for the whole
    process (``PagesManager.uses_pages_directory = False``). AppTest (1.67) resets
    that flag to ``None`` before every run, so the next ``PagesManager`` sees our
    ``pages/`` folder and switches to the legacy mode, which runs the page file alone
    and skips app.py (the router that sets session defaults). This subclass restores
    the server's behaviour: app.py runs on every rerun, as it does in the browser.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture(autouse=True)
def _navigation_like_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_test_module, "PagesManager", _NavigationPagesManager)


@pytest.fixture(scope="session")
def keras_loaded() -> None:
    """Import Keras/TensorFlow in the main thread before a test trains in a worker thread.

    Under pytest, importing TensorFlow in a worker thread runs pytest's assertion
    rewriter on TF's ``test_util.py`` (it matches ``test_*.py``), i.e. ``ast.parse`` in
    that thread, while AppTest parses the page script in its own thread; CPython 3.11's
    AST constructor keeps a per-interpreter recursion counter, and the two race
    (``SystemError: AST constructor recursion depth mismatch``, gh-106905). Outside
    pytest nothing rewrites TF's modules, so the app itself is not affected.
    """
    import keras  # noqa: F401


@pytest.fixture(scope="session")
def small_run(keras_loaded: None) -> Any:
    """A DeepFM run trained on the small CSV (shared by the session; a few seconds).

    Small but not degenerate: a high learning rate and a few epochs, so the vectors and
    predictions react to the categories (the What-if tests rely on that).
    """
    from embedding_core.data.csv_reader import read_csv
    from embedding_core.data.roles import Roles
    from embedding_core.model.config import TrainConfig
    from embedding_core.model.train import train

    frame = read_csv(SMALL_CSV)
    config = TrainConfig(
        epochs=8, patience=8, batch_size=64, learning_rate=1e-2, hidden_units=(16,), min_count=1
    )
    return train(frame, Roles.from_dict(SMALL_ROLES), config)


@pytest.fixture
def new_app() -> Callable[[], AppTest]:
    """Factory for a fresh AppTest of app.py (the default page: Data)."""

    def make() -> AppTest:
        return AppTest.from_file(str(APP), default_timeout=TIMEOUT)

    return make


@pytest.fixture
def app_with_run(new_app: Callable[[], AppTest], small_run: Any) -> AppTest:
    """An AppTest whose session already holds ``small_run`` as the current run."""
    from ui.state import Keys, RunInfo

    at = new_app()
    at.run()
    at.session_state[Keys.RUN_INFO] = RunInfo(
        run=small_run,
        run_id=f"test-run-{time.time_ns()}",
        dataset_label="small_churn.csv",
        n_rows=600,
        seconds=1.0,
        total_seconds=2.0,
    )
    return at
