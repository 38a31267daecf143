"""The training process: the same run as ``train``, its progress, stop, refusals, and death."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import BINARY_ROLES, TINY_CONFIG, make_binary_frame

from embedding_core.data.roles import Roles
from embedding_core.errors import DataError
from embedding_core.model.train_worker import (
    NICENESS,
    TrainerBusy,
    TrainerLost,
    TrainerProcess,
    _import_engine,
)


@pytest.fixture(scope="module")
def trainer() -> Iterator[TrainerProcess]:
    process = TrainerProcess()
    yield process
    process.close()


def test_the_process_trains_the_run_train_would(trainer: TrainerProcess, tmp_path: Path) -> None:
    from embedding_core.model.train import train

    frame = make_binary_frame()
    config = TINY_CONFIG.replace(epochs=2)
    kinds: list[str] = []
    busy: list[bool] = []

    def on_progress(progress) -> bool:
        kinds.append(progress.kind)
        busy.append(trainer.busy)
        return True

    run = trainer.train(frame, BINARY_ROLES, config, tmp_path / "run", on_progress=on_progress)
    here = train(frame, BINARY_ROLES, config)
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 2
    assert all(busy) and not trainer.busy
    assert (tmp_path / "run" / "model.keras").is_file()
    assert run.metrics["epochs_run"] == here.metrics["epochs_run"]
    for field in run.fields:
        pd.testing.assert_frame_equal(run.embeddings(field), here.embeddings(field), atol=1e-6)
    np.testing.assert_allclose(run.predict(frame), here.predict(frame), atol=1e-6)


def test_stop_keeps_the_best_model_so_far(trainer: TrainerProcess, tmp_path: Path) -> None:
    epochs: list[int] = []

    def on_progress(progress) -> bool:
        if progress.kind == "epoch":
            epochs.append(progress.epoch)
        return not epochs  # stop once the first epoch is done

    config = TINY_CONFIG.replace(epochs=5, patience=5)
    run = trainer.train(
        make_binary_frame(), BINARY_ROLES, config, tmp_path / "run", on_progress=on_progress
    )
    assert run.metrics["stopped_by_user"] is True and run.metrics["epochs_run"] < 5


def test_refusals_come_back_as_the_same_errors(trainer: TrainerProcess, tmp_path: Path) -> None:
    from embedding_core.model.train import train

    frame = make_binary_frame()
    roles = Roles(categorical=("shop", "no_such_column"), target="y")
    with pytest.raises(DataError) as here:
        train(frame, roles, TINY_CONFIG)
    with pytest.raises(DataError) as there:
        trainer.train(frame, roles, TINY_CONFIG, tmp_path / "run")
    assert str(there.value) == str(here.value)
    assert trainer.alive and not trainer.busy  # and it trains again afterwards
    assert trainer.train(frame, BINARY_ROLES, TINY_CONFIG, tmp_path / "again").fields


def test_one_training_at_a_time(trainer: TrainerProcess, tmp_path: Path) -> None:
    refused: list[str] = []

    def on_progress(progress) -> bool:
        if not refused:
            with pytest.raises(TrainerBusy, match="already runs") as info:
                trainer.train(make_binary_frame(), BINARY_ROLES, TINY_CONFIG, tmp_path / "b")
            refused.append(str(info.value))
        return True

    trainer.train(
        make_binary_frame(), BINARY_ROLES, TINY_CONFIG, tmp_path / "a", on_progress=on_progress
    )
    assert refused


def test_messages_reach_the_child_in_the_order_they_were_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each preparation is sent from a thread of its own: a slow one (a big frame) must
    not be overtaken by later messages, and one superseded before its turn is not sent."""
    from embedding_core.model import train_worker

    written: list[tuple[str, int | None]] = []

    def slow_first(stream, message) -> None:
        seed = message[3].seed if message[0] == "prepare" else None
        if seed == 1:
            time.sleep(0.5)
        written.append((message[0], seed))

    monkeypatch.setattr(train_worker, "_send", slow_first)
    process = TrainerProcess()
    try:
        frame = make_binary_frame()
        assert process.prepare(frame, BINARY_ROLES, TINY_CONFIG.replace(seed=1))
        time.sleep(0.1)  # the first is being written
        assert process.prepare(frame, BINARY_ROLES, TINY_CONFIG.replace(seed=2))
        assert process.prepare(frame, BINARY_ROLES, TINY_CONFIG.replace(seed=3))
        process._send(("stop",))  # a later message waits for the preparations before it
        assert written == [("prepare", 1), ("prepare", 3), ("stop", None)]
    finally:
        process.close()


def test_a_prepared_training_starts_from_the_preparation(
    trainer: TrainerProcess, tmp_path: Path
) -> None:
    from embedding_core.model.train import train

    frame = make_binary_frame()
    config = TINY_CONFIG.replace(epochs=2, seed=5)
    assert trainer.prepare(frame, BINARY_ROLES, config)
    assert not trainer.prepare(frame, BINARY_ROLES, config)  # sent once
    assert trainer.prepare(frame, BINARY_ROLES, config.replace(seed=6))  # replaces it
    assert trainer.prepare(frame, BINARY_ROLES, config)  # ...and back
    run = trainer.train(frame.copy(), BINARY_ROLES, config, tmp_path / "run")
    assert run.metrics["prepared_ahead"] is True
    here = train(frame, BINARY_ROLES, config)
    assert run.metrics["epochs_run"] == here.metrics["epochs_run"]
    for field in run.fields:
        pd.testing.assert_frame_equal(run.embeddings(field), here.embeddings(field), atol=1e-6)
    # used up: the next training of the same values is set up afresh, unless prepared again
    again = trainer.train(frame, BINARY_ROLES, config, tmp_path / "again")
    assert again.metrics["prepared_ahead"] is False
    assert trainer.prepare(frame, BINARY_ROLES, config)  # forgotten once a training started


def test_another_frame_is_prepared_only_after_a_turn(
    trainer: TrainerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, theirs = make_binary_frame(), make_binary_frame(seed=1)
    monkeypatch.setattr(trainer, "PREPARE_TURN_SECONDS", 0.0)
    assert trainer.prepare(mine, BINARY_ROLES, TINY_CONFIG, owner="me")  # no turn to wait
    monkeypatch.setattr(trainer, "PREPARE_TURN_SECONDS", 3600.0)
    assert not trainer.prepare(theirs, BINARY_ROLES, TINY_CONFIG, owner="them")
    assert trainer.prepare(mine, BINARY_ROLES, TINY_CONFIG.replace(seed=9), owner="me")
    my_new_data = make_binary_frame(seed=2)  # my own next data: at once
    assert trainer.prepare(my_new_data, BINARY_ROLES, TINY_CONFIG, owner="me")
    assert trainer.prepare(mine, BINARY_ROLES, TINY_CONFIG, owner="me")
    assert not trainer.prepare(theirs, BINARY_ROLES, TINY_CONFIG, owner="them")
    _join_prepare_threads()  # the requests are sent (each holds its frame)
    del mine  # that session has let its data go: the other's turn has come
    gc.collect()
    assert trainer.prepare(theirs, BINARY_ROLES, TINY_CONFIG, owner="them")
    # Let the last request's thread drop "their" frame before the next test: while it is
    # alive it holds the trainer's turn for "them" and the next prepare() is refused.
    _join_prepare_threads()


def _join_prepare_threads() -> None:
    for thread in threading.enumerate():
        if thread.name == "prepare-training":
            thread.join()


def test_a_preparation_for_other_values_is_not_used(
    trainer: TrainerProcess, tmp_path: Path
) -> None:
    frame = make_binary_frame()
    assert trainer.prepare(frame, BINARY_ROLES, TINY_CONFIG.replace(seed=7))
    run = trainer.train(frame, BINARY_ROLES, TINY_CONFIG.replace(seed=8), tmp_path / "run")
    assert run.metrics["prepared_ahead"] is False and run.config.seed == 8


def test_a_preparation_that_fails_leaves_the_training_to_refuse(
    trainer: TrainerProcess, tmp_path: Path
) -> None:
    frame = make_binary_frame()
    roles = Roles(categorical=("shop", "no_such_column"), target="y")
    assert trainer.prepare(frame, roles, TINY_CONFIG)  # no answer: nothing to report yet
    with pytest.raises(DataError, match="no_such_column"):
        trainer.train(frame, roles, TINY_CONFIG, tmp_path / "run")
    assert trainer.train(frame, BINARY_ROLES, TINY_CONFIG, tmp_path / "again").fields


def test_no_preparation_while_a_training_runs(trainer: TrainerProcess, tmp_path: Path) -> None:
    answers: list[bool] = []

    def on_progress(progress) -> bool:
        if not answers:
            answers.append(trainer.prepare(make_binary_frame(), BINARY_ROLES, TINY_CONFIG))
        return True

    trainer.train(
        make_binary_frame(), BINARY_ROLES, TINY_CONFIG, tmp_path / "a", on_progress=on_progress
    )
    assert answers == [False]


def _kill(process: TrainerProcess) -> None:
    process._proc.kill()  # as the system's out-of-memory killer would


def _leave(process: TrainerProcess) -> None:
    raise KeyboardInterrupt  # the caller gives up while the child still trains


@pytest.mark.parametrize(
    ("during", "raised"),
    [
        (_kill, pytest.raises(TrainerLost, match="ended unexpectedly")),
        (_leave, pytest.raises(KeyboardInterrupt)),
    ],
    ids=["killed", "caller-left"],
)
def test_a_training_left_halfway_ends_the_process(during, raised, tmp_path: Path) -> None:
    # reported if it died; ended if the caller left, so it never answers a next request
    # with this one's messages
    process = TrainerProcess()

    def on_progress(progress) -> bool:
        during(process)
        return True

    with raised:
        process.train(
            make_binary_frame(),
            BINARY_ROLES,
            TINY_CONFIG,
            tmp_path / "run",
            on_progress=on_progress,
        )
    process._proc.wait(30)
    assert not process.alive and not process.busy


def test_the_process_ends_with_its_parent() -> None:
    process = TrainerProcess()
    assert process.alive
    process._proc.stdin.close()  # what the parent's exit does to the pipe
    assert process._proc.wait(120) == 0
    assert not process.alive


def test_the_process_runs_below_the_server(trainer: TrainerProcess) -> None:
    import psutil

    assert trainer.alive
    assert psutil.Process(trainer._proc.pid).nice() >= min(os.nice(0) + NICENESS, 19)


def _thread_niceness(pid: int) -> dict[int, int]:
    """Each thread's niceness, from ``/proc/PID/task/TID/stat`` (field 19)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        out[int(task.name)] = int(stat[stat.rindex(")") + 2 :].split()[16])
    return out


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="per-thread priority: Linux")
def test_a_process_started_at_full_priority_can_be_lowered_thread_by_thread(
    tmp_path: Path,
) -> None:
    own = os.getpriority(os.PRIO_PROCESS, 0)
    target = min(own + NICENESS, 19)
    process = TrainerProcess(niceness=0)
    try:
        assert process.niceness == 0
        assert _thread_niceness(process._proc.pid)[process._proc.pid] == own
        process.lower_priority()
        assert process.niceness == NICENESS
        assert set(_thread_niceness(process._proc.pid).values()) == {target}
        # TensorFlow's thread pools, started by the training, inherit it
        process.train(make_binary_frame(), BINARY_ROLES, TINY_CONFIG, tmp_path / "run")
        threads = _thread_niceness(process._proc.pid)
        assert len(threads) > 2 and set(threads.values()) == {target}
    finally:
        process.close()


def test_the_import_leaves_out_scikit_learn() -> None:
    code = (
        "import sys\n"
        f"from {_import_engine.__module__} import _import_engine\n"
        "_import_engine()\n"
        "import keras\n"
        "print(sorted(m for m in ('sklearn', 'keras') if m in sys.modules))\n"
        "import sklearn.metrics\n"  # still importable afterwards
        "print(sklearn.metrics.roc_auc_score([0, 1], [0.2, 0.7]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    ).stdout.split()
    assert out == ["['keras']", "1.0"]


def test_the_process_starts_without_tensorflows_start_up_lines() -> None:
    """The training process starts with the server, in the terminal of whoever runs it:
    TensorFlow's C++ start-up lines (absl, oneDNN) stay off its stderr (kept for real
    problems: ``tests/unit/test_quiet_stderr.py``)."""
    from embedding_core.model.train_worker import _receive

    child = subprocess.Popen(
        [sys.executable, "-m", "embedding_core.model.train_worker", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert _receive(child.stdout) == ("ready",)
        child.stdin.close()  # the parent "goes": the child ends
        assert child.wait(120) == 0
        err = child.stderr.read().decode()
    finally:
        child.kill()
    assert "InitializeLog" not in err and "oneDNN" not in err, err
