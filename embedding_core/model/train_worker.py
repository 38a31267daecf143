"""Train in a separate process that has TensorFlow loaded already.

Importing TensorFlow costs 5-10 s of CPU, nearly all of it Python holding the
interpreter lock: in a server, a thread that imports it while a page is drawn makes the
page wait as long. ``TrainerProcess`` imports it in a child process instead (``python -m
embedding_core.model.train_worker``), started with the server or as soon as a session
opens, so the import runs on another core before or while the user looks at the first
page, and the training itself then runs outside the server's interpreter lock too.

``TrainerProcess.train`` does what ``embedding_core.model.train.train`` does (same
arguments, progress events, stop, refusals and messages); the child saves the run to a
folder and the caller gets ``TrainedRun.load`` of it, whose Keras model is read only
when something needs it (predicting), so the caller does not import TensorFlow for
the tables, metrics or saving. One training at a time per process; ``busy`` says when
one runs.

Messages are pickled objects on the child's stdin/stdout, in order: the child sends
``("ready",)`` once imported, then per request ``("progress", Progress)`` events and one
``("done",)`` or ``("error", exception)``; the parent sends ``("train", frame, roles,
config, folder)``, to stop, ``("stop",)``, and, while the child is idle, ``("prepare",
frame, roles, config)``: set up and trace that training (``model.prepare``) so that a
``train`` request for the same values starts at its first epoch. A preparation gets no
answer; the child keeps only the latest and drops it when a training starts.

Plain ``subprocess`` rather than ``multiprocessing``: Streamlit installs each page
script as the ``__main__`` module, which ``multiprocessing``'s spawn and forkserver
methods would run again in the child.
"""

from __future__ import annotations

import gc
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from embedding_core.errors import EmbeddingCoreError

if TYPE_CHECKING:
    import pandas as pd

    from embedding_core.data.roles import Roles
    from embedding_core.model.config import TrainConfig
    from embedding_core.model.run import TrainedRun
    from embedding_core.model.train import Progress

__all__ = ["TrainerProcess", "TrainerBusy", "TrainerLost", "NICENESS"]

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
#: Scheduling priority of the child, below the server's own (``os.nice`` increment): its
#: import starts while the first page is drawn, and must not slow it down.
NICENESS = 19


class TrainerLost(EmbeddingCoreError):
    """The training process ended before it answered (killed, or out of memory)."""


class TrainerBusy(RuntimeError):
    """A training already runs in this process (train elsewhere)."""


class TrainerProcess:
    """A child process with TensorFlow imported that trains one model at a time.

    The child holds one prepared training (``prepare``); another owner's request (another
    session's) replaces the latest one only after ``PREPARE_TURN_SECONDS``, so two
    sessions with different data do not make it prepare in turn at every page they draw.

    Parameters
    ----------
    python : str, optional
        Interpreter to start (default: this one).
    niceness : int, default=NICENESS
        How far below this process's priority the child runs; ``lower_priority`` can
        lower it later.
    """

    PREPARE_TURN_SECONDS = 10.0

    def __init__(self, python: str | None = None, *, niceness: int = NICENESS) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p
        )
        self._niceness = niceness
        self._proc = subprocess.Popen(
            [python or sys.executable, "-m", "embedding_core.model.train_worker", str(niceness)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=_PACKAGE_ROOT,
            env=env,
        )
        self._lock = threading.Lock()
        # Messages reach the child's stdin one at a time, in the order they were asked for
        # (a preparation is sent from a thread of its own, so a later request must wait
        # for it): each takes a ticket, and writes when the tickets before it are done.
        self._turn = threading.Condition()  # guards _written
        self._ticket_lock = threading.Lock()  # guards _tickets
        self._tickets = 0  # tickets handed out
        self._written = 0  # tickets done (written or skipped)
        self._latest_prepare = 0  # the ticket of the newest preparation asked for
        self._busy = False
        self._trained = 0
        self._prepared_for: tuple[weakref.ref[pd.DataFrame], Roles, TrainConfig] | None = None
        self._prepared_at = float("-inf")  # time.monotonic() of the latest request sent
        self._prepared_owner: str | None = None  # ...and who asked for it

    @property
    def niceness(self) -> int:
        """How far below this process's priority the child runs (``os.nice`` increment)."""
        return self._niceness

    def lower_priority(self, niceness: int = NICENESS) -> None:
        """Run the child ``niceness`` below this process from now on, every thread of it
        (on Linux each thread has its own priority; threads it starts later inherit it).

        A child started with a smaller increment (``ui.serve`` starts it at the server's
        priority, when no page is being drawn) is lowered once pages are to be served.
        Only lowering is possible without privileges: a ``niceness`` at or under the
        current one changes nothing.
        """
        if niceness <= self._niceness or not self.alive or not hasattr(os, "setpriority"):
            return
        target = min(os.getpriority(os.PRIO_PROCESS, 0) + niceness, 19)
        pid = self._proc.pid
        # the main thread first: threads it starts from now on inherit the new priority
        for tid in [pid, *_thread_ids(pid)]:
            try:
                os.setpriority(os.PRIO_PROCESS, tid, target)
            except (ProcessLookupError, PermissionError):  # a thread that has just ended
                pass
        self._niceness = niceness

    @property
    def alive(self) -> bool:
        """True while the child runs."""
        return self._proc.poll() is None

    @property
    def busy(self) -> bool:
        """True while a training runs in the child."""
        return self._busy

    @property
    def trained(self) -> int:
        """Trainings the child has finished (with a run or an error)."""
        return self._trained

    def prepare(
        self,
        frame: pd.DataFrame,
        roles: Roles,
        config: TrainConfig,
        *,
        owner: str | None = None,
    ) -> bool:
        """Have the child set up and trace ``train(frame, roles, config)`` while it is idle
        (``prepare.prepare_training``), so a ``train`` call with the same values starts
        at its first epoch (1-2 s sooner on small data). Returns True if the request was
        sent: not while a training runs, nor again for the values last sent, nor for
        another owner's frame (``owner``: e.g. a session) within ``PREPARE_TURN_SECONDS``
        of a request for a frame still in use (else the latest would win, each in turn).

        The frame is sent from a background thread: the caller (a page) never waits.
        """
        with self._lock:
            if self._busy or not self.alive:
                return False
            now = time.monotonic()
            last = self._prepared_for
            if last is not None and last[0]() is frame:
                if (last[1], last[2]) == (roles, config):
                    return False
            elif last is not None and last[0]() is not None and owner != self._prepared_owner:
                if now - self._prepared_at < self.PREPARE_TURN_SECONDS:
                    return False
            self._prepared_for = (weakref.ref(frame), roles, config)
            self._prepared_at, self._prepared_owner = now, owner
            ticket = self._latest_prepare = self._ticket()
        try:
            threading.Thread(
                target=self._send_quietly,
                args=(("prepare", frame, roles, config), ticket),
                name="prepare-training",
                daemon=True,
            ).start()
        except RuntimeError:  # no thread to be had: give up this turn, or later ones wait
            self._send((), ticket, unless=lambda: True)
            return False
        return True

    def _ticket(self) -> int:
        """The next place in the order of messages to the child."""
        with self._ticket_lock:
            self._tickets += 1
            return self._tickets

    def _send_quietly(self, message: tuple[Any, ...], ticket: int) -> None:
        """Send a preparation in its turn, unless a newer one was asked for meanwhile."""
        try:
            self._send(message, ticket, unless=lambda: ticket != self._latest_prepare)
        except (BrokenPipeError, OSError):  # the child has ended: the next train says so
            pass

    def _send(
        self,
        message: tuple[Any, ...],
        ticket: int | None = None,
        *,
        unless: Callable[[], bool] | None = None,
    ) -> None:
        """Write ``message`` once every earlier ticket is done (a new ticket if none);
        skip it if ``unless()`` is true by then."""
        assert self._proc.stdin is not None
        ticket = self._ticket() if ticket is None else ticket
        with self._turn:
            self._turn.wait_for(lambda: self._written == ticket - 1)
        try:  # alone now: the later tickets wait for this one (pickling a frame takes time)
            if unless is None or not unless():
                _send(self._proc.stdin, message)
        finally:
            with self._turn:
                self._written = ticket
                self._turn.notify_all()

    def close(self) -> None:
        """End the child (its current training, if any, is lost)."""
        if self.alive:
            self._proc.kill()
        self._proc.wait()

    def train(
        self,
        frame: pd.DataFrame,
        roles: Roles,
        config: TrainConfig,
        folder: str | Path,
        *,
        on_progress: Callable[[Progress], bool | None] | None = None,
    ) -> TrainedRun:
        """Train in the child as ``train.train`` would; the run is saved to ``folder``.

        ``on_progress`` receives the same events; returning False stops training after
        the current batch (the best weights are kept). Raises what ``train`` raises
        (``DataError``, ``TrainingCancelled``...), ``TrainerLost`` if the child ends
        first, and ``TrainerBusy`` if a training already runs in it.
        """
        from embedding_core.model.run import TrainedRun

        with self._lock:
            if self._busy:
                raise TrainerBusy("A training already runs in this process.")
            self._busy = True
            self._prepared_for = None  # the child drops its preparation: make it again after
        answered = False
        try:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            try:
                self._send(("train", frame, roles, config, str(folder)))
            except (BrokenPipeError, OSError) as exc:
                raise TrainerLost("The training process ended before training started.") from exc
            stop_sent = False
            while True:
                message = _receive(self._proc.stdout)
                if message is None:
                    raise TrainerLost(
                        "The training process ended unexpectedly (out of memory?). "
                        "Use fewer rows or columns, or a smaller embedding or batch size."
                    )
                kind = message[0]
                if kind == "progress":
                    keep_going = on_progress(message[1]) if on_progress is not None else True
                    if keep_going is False and not stop_sent:
                        self._send(("stop",))
                        stop_sent = True
                elif kind in ("error", "done"):
                    answered = True
                    self._trained += 1
                    if kind == "error":
                        raise message[1]
                    return TrainedRun.load(folder)
        finally:
            if not answered:  # left mid-training (e.g. on_progress raised): the child
                self._proc.kill()  # would answer the next request with this one's messages
            self._busy = False


def _send(stream: BinaryIO, message: tuple[Any, ...]) -> None:
    pickle.dump(message, stream, protocol=pickle.HIGHEST_PROTOCOL)
    stream.flush()


def _receive(stream: BinaryIO) -> tuple[Any, ...] | None:
    try:
        return pickle.load(stream)  # noqa: S301 - our own child process, over its pipe
    except (EOFError, pickle.UnpicklingError, OSError):
        return None


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301
        return exc
    except Exception:  # noqa: BLE001 - any exception that does not travel is re-made
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _import_engine() -> None:
    """Import TensorFlow, Keras and the engine, Keras without scikit-learn.

    ``import keras`` imports scikit-learn (and with it most of SciPy) for its
    ``keras.wrappers``: about 1 s of the child's 5 s import, which training never uses
    (``metrics.auc`` is NumPy). A None in ``sys.modules`` makes Keras take scikit-learn
    as not installed; it is removed afterwards, so a later ``import sklearn`` works.
    """
    blocked = "sklearn" not in sys.modules
    if blocked:
        sys.modules["sklearn"] = None  # type: ignore[assignment]
    try:
        import embedding_core.model.deepfm  # noqa: F401 - imports keras, registers the layers
        import embedding_core.model.train  # noqa: F401
    finally:
        if blocked and "sklearn" in sys.modules and sys.modules["sklearn"] is None:
            del sys.modules["sklearn"]


def _superseded(inbox: queue.Queue[tuple[Any, ...]]) -> bool:
    """Whether a newer preparation waits in ``inbox`` (this one is no longer wanted)."""
    with inbox.mutex:
        return any(message[0] == "prepare" for message in inbox.queue)


def _serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """The child: import TensorFlow, say ready, then prepare or train each request in turn."""
    from embedding_core.quiet_stderr import native_stderr_silenced

    with native_stderr_silenced():  # TensorFlow's C++ start-up lines; nothing else runs yet
        _import_engine()
    from embedding_core.model.prepare import PreparedTraining, prepare_training
    from embedding_core.model.train import train

    _send(replies, ("ready",))
    inbox: queue.Queue[tuple[Any, ...]] = queue.Queue()
    stop = threading.Event()

    def read() -> None:  # requests and stops arrive while a training runs
        while (message := _receive(requests)) is not None:
            if message[0] == "stop":
                stop.set()
            else:
                inbox.put(message)
        os._exit(0)  # the parent has gone: so has whatever it asked for

    threading.Thread(target=read, name="requests", daemon=True).start()
    prepared: PreparedTraining | None = None
    while True:
        message = inbox.get()
        if message[0] == "prepare":
            _, frame, roles, config = message
            if prepared is not None and prepared.matches(frame, roles, config):
                message = frame = None  # another session's copy of the same values
                continue
            prepared = None  # one preparation at a time: free the last one first
            if not _superseded(inbox):
                try:
                    prepared = prepare_training(
                        frame,
                        roles,
                        config,
                        should_stop=lambda: _superseded(inbox),
                        skip_tracing=lambda: not inbox.empty(),  # a training waits already
                    )
                except Exception:  # noqa: BLE001 - bad roles etc.: the training reports them
                    prepared = None
            message = frame = None
            continue
        _, frame, roles, config, folder = message
        message = None
        if prepared is not None and not prepared.matches(frame, roles, config):
            prepared = None  # not held next to the training it was not made for
            gc.collect()
        stop.clear()

        def on_progress(progress: Progress) -> bool:
            _send(replies, ("progress", progress))
            return not stop.is_set()

        try:
            run = train(frame, roles, config, on_progress=on_progress, prepared=prepared)
            prepared = None
            run.save(folder)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
            _send(replies, ("error", _portable(exc)))
            if not isinstance(exc, Exception):
                raise
        else:
            _send(replies, ("done",))
        run = frame = prepared = None  # the next request's data is not held next to this one's
        gc.collect()  # the model's reference cycles, after the parent has its answer


def _thread_ids(pid: int) -> list[int]:
    """The ids of a process's threads (Linux), or none where they cannot be listed."""
    try:
        return [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
    except OSError:
        return []


def main() -> None:
    """Entry point of the child process (``python -m embedding_core.model.train_worker
    [NICENESS]``; ``NICENESS`` defaults to the module's)."""
    niceness = int(sys.argv[1]) if len(sys.argv) > 1 else NICENESS
    if hasattr(os, "nice") and niceness:
        os.nice(niceness)  # the server's pages come first; the import takes the spare CPU
    replies = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything printed goes to the log, not into the messages
    _serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
