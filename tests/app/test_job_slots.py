"""The server-wide cap on concurrent jobs: a FIFO queue that says each job's place."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from ui.job_slots import SlotQueue, slots
from ui.jobs import WorkerJob


def _until(predicate, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_queue_runs_capacity_jobs_and_the_rest_in_order() -> None:
    queue = SlotQueue(1)
    never = threading.Event()
    assert queue.acquire("a", never)
    order: list[str] = []

    def wait(key: str) -> None:
        if queue.acquire(key, never, poll=0.01):
            order.append(key)
            queue.release(key)

    b = threading.Thread(target=wait, args=("b",))
    b.start()
    assert _until(lambda: queue.waiting_for("b") == 1)
    c = threading.Thread(target=wait, args=("c",))
    c.start()
    assert _until(lambda: queue.waiting_for("c") == 2)
    assert queue.running == 1
    queue.release("a")
    b.join(5)
    c.join(5)
    assert order == ["b", "c"] and queue.running == 0


def test_stop_leaves_the_queue() -> None:
    queue = SlotQueue(1)
    assert queue.acquire("a", threading.Event())
    stop = threading.Event()
    result: list[bool] = []
    t = threading.Thread(target=lambda: result.append(queue.acquire("b", stop, poll=0.01)))
    t.start()
    assert _until(lambda: queue.waiting_for("b") == 1)
    stop.set()
    t.join(5)
    assert result == [False] and queue.waiting_for("b") is None


@dataclass(eq=False)
class _Hold(WorkerJob):
    release: threading.Event = field(default_factory=threading.Event)
    _kind = "hold"

    def _run(self) -> None:
        self.release.wait(10)

    def fraction_done(self) -> float:
        return 0.0

    def status_text(self) -> str:
        return "running"


def test_jobs_beyond_the_cap_wait_and_say_how_many_are_ahead() -> None:
    holders = [_Hold() for _ in range(slots().capacity)]
    for job in holders:
        job.start()
    assert _until(lambda: slots().running >= len(holders))
    queued = _Hold().start()
    assert _until(
        lambda: queued.queue_text() is not None and "Waiting for 1 other" in queued.queue_text()
    )
    queued.request_stop()
    assert queued.wait(5) and queued.cancelled
    for job in holders:
        job.release.set()
        assert job.wait(5) and job.error is None
    assert slots().running == 0


def test_stop_during_a_server_tables_data_passes_ends_the_training(tmp_path) -> None:
    import pandas as pd

    from embedding_core.data.roles import Roles
    from embedding_core.model.config import TrainConfig
    from ui.training import TrainingJob

    frame = pd.DataFrame(
        {"shop": [f"s{i % 7}" for i in range(600)], "y": ["yes", "no", "no"] * 200}
    )
    frame.to_parquet(tmp_path / "table.parquet", index=False)

    @dataclass(eq=False)
    class StopAtFirstStatusLine(TrainingJob):
        def _on_data_status(self, line: str) -> None:
            super()._on_data_status(line)
            self.request_stop()  # the user presses Stop while the rows are being read

    job = StopAtFirstStatusLine(
        frame=frame,
        roles=Roles(("shop",), "y"),
        config=TrainConfig(epochs=1),
        path=str(tmp_path / "table.parquet"),
    ).start()
    assert job.wait(300)
    assert job.data_status.startswith("vocabulary: 600 rows in")  # the first pass ended...
    assert job.cancelled and job.result is None  # ... and the second one stopped
    assert job.last is None  # training never started
