"""Prepare a training ahead of the click that starts it.

``train`` spends its first second or two before any row trains: the roles are checked,
the encoders fitted, the network built and compiled, and TensorFlow traces the training
step and the validation scoring on their first call (about 1.2 s of a 6 s training of
the bundled sample on 2 cores). ``prepare_training`` does all of that for a frame, roles
and config while nobody waits (the app's training process, while the user reads the
page), and ``train(..., prepared=...)`` starts from it when it is asked for the same
training.

Tracing needs a real call, so the warm-up runs one call of the training step (a few
batches) and scores the validation rows, then puts back every variable the call moved
(weights, the optimiser's step count and moments, the dropout seeds). The run that
follows is the run ``train`` gives without the preparation: same weights, history and
metrics (``tests/unit/test_prepare.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig
from embedding_core.model.graph_passes import lean_graph_passes

if TYPE_CHECKING:
    import pandas as pd

    from embedding_core.model.train import TrainingSetUp

__all__ = ["PreparedTraining", "prepare_training"]


class PreparedTraining:
    """A training set up and traced for one frame, roles and config; used at most once."""

    def __init__(
        self, frame: pd.DataFrame, roles: Roles, config: TrainConfig, setup: TrainingSetUp
    ) -> None:
        self.frame: pd.DataFrame | None = frame
        self.roles = roles
        self.config = config
        self._setup: TrainingSetUp | None = setup

    def matches(self, frame: pd.DataFrame, roles: Roles, config: TrainConfig) -> bool:
        """Whether this was prepared for ``frame``, ``roles`` and ``config`` (same values)
        and has not been used yet."""
        return (
            self._setup is not None
            and self.frame is not None
            and config == self.config
            and roles == self.roles
            and (frame is self.frame or frame.equals(self.frame))
        )

    def take(self, frame: pd.DataFrame, roles: Roles, config: TrainConfig) -> TrainingSetUp | None:
        """The set-up if it was prepared for this training (then never again), else None."""
        if not self.matches(frame, roles, config):
            return None
        setup, self._setup, self.frame = self._setup, None, None
        return setup


def prepare_training(
    frame: pd.DataFrame,
    roles: Roles,
    config: TrainConfig | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
    skip_tracing: Callable[[], bool] | None = None,
) -> PreparedTraining | None:
    """Set up ``train(frame, roles, config)`` up to its first epoch and trace its functions.

    Both callables are asked once, after the set-up. ``should_stop()`` true: the
    preparation is no longer wanted, None is returned. ``skip_tracing()`` true: the
    training is about to start (e.g. its request is waiting), so the set-up is returned
    untraced; the training traces as it goes, and the warm-up call would only add its
    few steps. Raises what ``train`` raises for bad roles (``DataError``).
    """
    from embedding_core.model.train import set_up

    config = config or TrainConfig()
    setup = set_up(frame, roles, config)
    if should_stop is not None and should_stop():
        return None
    if skip_tracing is None or not skip_tracing():
        _warm_up(setup, config.seed)
    return PreparedTraining(frame, roles, config, setup)


@lean_graph_passes()  # as in ``train``: the step it traces is the one training runs
def _warm_up(setup: TrainingSetUp, seed: int) -> None:
    """Trace the training step (one call: up to ``steps_per_execution`` batches) and the
    validation scoring, then restore every variable of the model and the optimiser."""
    from embedding_core.model.batches import array_batches
    from embedding_core.model.deepfm import predict_raw

    model = setup.model
    variables = [*model.variables, *model.optimizer.variables]
    saved = [v.numpy() for v in variables]
    batches, _ = array_batches(setup.x_train, setup.y_train, setup.batch_size, seed=seed)
    steps = int(model.steps_per_execution)
    model.fit(batches, steps_per_epoch=steps, epochs=1, shuffle=False, verbose=0)
    predict_raw(model, setup.x_valid, traced=True)
    for variable, value in zip(variables, saved, strict=True):
        variable.assign(value)
