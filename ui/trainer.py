"""The server's training process (``embedding_core.model.train_worker.TrainerProcess``).

One per server process, shared by every session, started with the server (by
``ui.serve`` for ``make run``, by the lifespan of ``app.app`` for plain ``streamlit run
app.py``), else by ``app.py`` before anything else when a session opens (an ``AppTest``,
or after the process has ended): it imports TensorFlow on another core (before the
first page, or while it is drawn), so a Train click soon after finds it loaded and the
server's own interpreter lock never waits for the import. No Streamlit here, so
starting it is the first thing a session does. ``training_process = 0`` in the server
limits (``ui.limits``) turns it off.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from embedding_core.model.train_worker import NICENESS, TrainerProcess

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from embedding_core.data.roles import Roles
    from embedding_core.model.config import TrainConfig

__all__ = [
    "TRAINER_MAX_FRAME_BYTES",
    "PREPARE_MAX_FRAME_BYTES",
    "prepare_in_trainer",
    "warm_up_trainer",
    "free_trainer",
    "trainer_started",
    "trainer_has_trained",
]

#: Frames up to this size (bytes, ``DataFrame.memory_usage``) train in the training
#: process; a bigger one trains in the server, so it is not held twice (the copy sent).
TRAINER_MAX_FRAME_BYTES = 256 * 1024 * 1024
#: Frames up to this size are prepared ahead (``prepare_in_trainer``): the child holds
#: the prepared arrays and network until the next training, so not for any frame.
PREPARE_MAX_FRAME_BYTES = 64 * 1024 * 1024

_LOCK = threading.Lock()
_trainer: TrainerProcess | None = None


def warm_up_trainer(*, before_sessions: bool = False) -> bool:
    """Start the training process, once per server process (again if it has ended),
    unless the server's ``training_process`` limit is 0 (``ui.limits``).

    ``before_sessions``: called before the server serves anything (``ui.serve``, the
    lifespan of ``app.app``): the child then imports TensorFlow at the server's own
    priority, as no page waits yet. Every other call (``app.py``, at each script run)
    runs it at ``NICENESS`` below the server from then on, so the first page comes first.

    Returns True if a process was started.
    """
    global _trainer
    from ui.limits import limits

    if not limits().training_process:
        return False
    with _LOCK:
        if _trainer is not None and _trainer.alive:
            if not before_sessions:
                _trainer.lower_priority(NICENESS)
            return False
        _trainer = TrainerProcess(niceness=0 if before_sessions else NICENESS)
        return True


def trainer_started() -> bool:
    """Whether this server has started a training process."""
    return _trainer is not None


def trainer_has_trained() -> bool:
    """Whether the training process has finished a training."""
    trainer = _trainer
    return trainer is not None and trainer.trained > 0


def free_trainer(frame: pd.DataFrame, config: TrainConfig) -> TrainerProcess | None:
    """The training process if it can take this training now, else None (train here).

    Not for an earlier run given as an object (``init_embeddings``: it is not sent), nor
    for a frame over ``TRAINER_MAX_FRAME_BYTES``; not while it trains for another session.
    """
    init = config.init_embeddings
    if init is not None and not isinstance(init, (str, os.PathLike)):
        return None
    if frame.memory_usage(index=True, deep=False).sum() > TRAINER_MAX_FRAME_BYTES:
        return None
    with _LOCK:
        trainer = _trainer
    if trainer is None or not trainer.alive or trainer.busy:
        return None
    return trainer


def prepare_in_trainer(
    frame: pd.DataFrame, roles: Roles, config: TrainConfig, *, owner: str | None = None
) -> bool:
    """Have the training process set up and trace the training a Train click would start
    now (``TrainerProcess.prepare``; ``owner``: the session asking), so the click starts
    at the first epoch.

    Not while it trains, nor for a frame over ``PREPARE_MAX_FRAME_BYTES``; the same
    frame, roles and config are sent once. Returns True if a request was sent.
    """
    if frame.memory_usage(index=True, deep=False).sum() > PREPARE_MAX_FRAME_BYTES:
        return False
    trainer = free_trainer(frame, config)
    return trainer is not None and trainer.prepare(frame, roles, config, owner=owner)
