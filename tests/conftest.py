"""Shared fixtures: tiny synthetic frames generated in code and small trained runs.

The trained-run fixtures are session-scoped (one training each per test session, a
few seconds on 2 cores); treat them as read-only. Frames are plain pandas with text
categorical columns, as ``read_csv`` would give.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pandas as pd
import pytest
from synthetic import (
    BINARY_ROLES,
    MULTICLASS_ROLES,
    REGRESSION_ROLES,
    TINY_CONFIG,
    make_binary_frame,
    make_multiclass_frame,
    make_regression_frame,
)


@pytest.fixture(autouse=True, scope="session")
def _run_store(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Runs the app or the CLI save go to a temporary run store, never to ./runs.

    Set in ``os.environ`` so the servers the browser tests start inherit it.
    """
    os.environ["EMBEDDING_CORE_RUNS"] = str(tmp_path_factory.mktemp("run_store"))


@pytest.fixture(scope="session")
def binary_frame() -> pd.DataFrame:
    return make_binary_frame()


@pytest.fixture(scope="session")
def regression_frame() -> pd.DataFrame:
    return make_regression_frame()


@pytest.fixture(scope="session")
def multiclass_frame() -> pd.DataFrame:
    return make_multiclass_frame()


@pytest.fixture(scope="session")
def tiny_binary_run(binary_frame: pd.DataFrame):
    """A binary run (2 epochs, k=4) on ``make_binary_frame()`` with ``BINARY_ROLES``."""
    from embedding_core.model.train import train

    return train(binary_frame, BINARY_ROLES, TINY_CONFIG)


@pytest.fixture(scope="session")
def tiny_regression_run(regression_frame: pd.DataFrame):
    """A regression run (2 epochs, k=4) on ``make_regression_frame()``."""
    from embedding_core.model.train import train

    return train(regression_frame, REGRESSION_ROLES, TINY_CONFIG)


@pytest.fixture(scope="session")
def tiny_multiclass_run(multiclass_frame: pd.DataFrame):
    """A multiclass run (2 epochs, k=4) on ``make_multiclass_frame()``."""
    from embedding_core.model.train import train

    return train(multiclass_frame, MULTICLASS_ROLES, TINY_CONFIG)


@pytest.fixture(scope="session")
def tiny_binary_run_dir(tiny_binary_run, tmp_path_factory: pytest.TempPathFactory):
    """``tiny_binary_run`` saved to a directory (read-only for tests)."""
    return tiny_binary_run.save(tmp_path_factory.mktemp("binary_run"))
