"""A training prepared ahead (``model.prepare``) is the training ``train`` gives, used once,
and only for the frame, roles and config it was made for."""

from __future__ import annotations

from typing import Any

import numpy as np
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

from embedding_core.data.roles import Roles
from embedding_core.errors import DataError
from embedding_core.model.config import TrainConfig
from embedding_core.model.prepare import prepare_training
from embedding_core.model.train import train

#: Metrics that are timings (they differ between any two runs) or say how the run began.
_VARYING = {"prepared_ahead", "time_to_first_epoch_seconds"}


def _same_run(a: Any, b: Any) -> None:
    """Bit for bit: weights (dropout seeds included), history and metrics."""
    assert len(a.model.variables) == len(b.model.variables)
    for x, y in zip(a.model.variables, b.model.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=x.path)
    drop = {"seconds"}
    assert [{k: v for k, v in h.items() if k not in drop} for h in a.history] == [
        {k: v for k, v in h.items() if k not in drop} for h in b.history
    ]
    timing = {k for k in a.metrics if "seconds" in k or k.endswith("per_second")}
    keep = set(a.metrics) - timing - _VARYING
    assert {k: a.metrics[k] for k in keep} == {k: b.metrics[k] for k in keep}


# A few epochs with dropout, weight averaging and the final fit: every piece of state that
# the warm-up call moves (weights, optimiser moments and step, dropout seeds) matters.
_CONFIG = TINY_CONFIG.replace(epochs=3, dropout=0.3, ema_epochs=0.5, refit=True)


@pytest.mark.parametrize(
    ("frame", "roles", "config"),
    [
        (make_binary_frame(), BINARY_ROLES, _CONFIG),
        (make_regression_frame(), REGRESSION_ROLES, _CONFIG),
        (make_multiclass_frame(), MULTICLASS_ROLES, _CONFIG),
        (make_binary_frame(), BINARY_ROLES, _CONFIG.replace(numeric_encoding="scaled")),
        (make_binary_frame(), BINARY_ROLES, _CONFIG.replace(row_bias_correction=True)),
        (make_binary_frame(), BINARY_ROLES, _CONFIG.replace(fm_field_weights=True, seed=3)),
    ],
    ids=["binary", "regression", "multiclass", "scaled", "row-adam", "pair-weights"],
)
def test_a_prepared_training_is_the_training_train_gives(
    frame: pd.DataFrame, roles: Roles, config: TrainConfig
) -> None:
    prepared = prepare_training(frame, roles, config)
    assert prepared is not None
    assert prepared._setup is not None and prepared._setup.model.train_function is not None
    ahead = train(frame, roles, config, prepared=prepared)
    plain = train(frame, roles, config)
    assert ahead.metrics["prepared_ahead"] is True
    assert plain.metrics["prepared_ahead"] is False
    _same_run(ahead, plain)


def test_a_preparation_serves_only_its_own_training() -> None:
    frame = make_binary_frame()
    config = TINY_CONFIG.replace(epochs=2)
    prepared = prepare_training(frame, BINARY_ROLES, config)
    assert prepared is not None
    other_seed = config.replace(seed=1)
    changed = frame.copy()
    changed.iloc[0, 0] = "a category never seen"
    other_roles = Roles(
        categorical=BINARY_ROLES.categorical[:1],
        numeric=BINARY_ROLES.numeric,
        target=BINARY_ROLES.target,
        task=BINARY_ROLES.task,
    )
    assert not prepared.matches(frame, BINARY_ROLES, other_seed)
    assert not prepared.matches(changed, BINARY_ROLES, config)
    assert not prepared.matches(frame, other_roles, config)
    assert prepared.matches(frame.copy(), BINARY_ROLES, config)  # equal values will do

    run = train(frame, BINARY_ROLES, other_seed, prepared=prepared)  # not this one's
    assert run.metrics["prepared_ahead"] is False
    _same_run(run, train(frame, BINARY_ROLES, other_seed))

    used = train(frame.copy(), BINARY_ROLES, config, prepared=prepared)
    assert used.metrics["prepared_ahead"] is True
    again = train(frame, BINARY_ROLES, config, prepared=prepared)  # used up
    assert again.metrics["prepared_ahead"] is False
    assert not prepared.matches(frame, BINARY_ROLES, config)
    _same_run(used, again)


def test_a_preparation_no_longer_wanted_stops_before_tracing() -> None:
    asked: list[bool] = []

    def should_stop() -> bool:
        asked.append(True)
        return True

    frame = make_binary_frame()
    assert prepare_training(frame, BINARY_ROLES, TINY_CONFIG, should_stop=should_stop) is None
    assert asked == [True]


def test_a_training_about_to_start_gets_the_set_up_untraced() -> None:
    frame = make_binary_frame()
    config = TINY_CONFIG.replace(epochs=2)
    prepared = prepare_training(frame, BINARY_ROLES, config, skip_tracing=lambda: True)
    assert prepared is not None
    model = prepared._setup.model
    assert model.train_function is None  # not traced: the training will
    run = train(frame, BINARY_ROLES, config, prepared=prepared)
    assert run.metrics["prepared_ahead"] is True
    _same_run(run, train(frame, BINARY_ROLES, config))


def test_bad_roles_are_refused_as_train_refuses_them() -> None:
    frame = make_binary_frame()
    roles = Roles(categorical=["no such column"], numeric=[], target=BINARY_ROLES.target)
    with pytest.raises(DataError) as prepared:
        prepare_training(frame, roles, TINY_CONFIG)
    with pytest.raises(DataError) as trained:
        train(frame, roles, TINY_CONFIG)
    assert str(prepared.value) == str(trained.value)
