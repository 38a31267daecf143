"""Opening the app starts loading TensorFlow in the background (in the training process,
then in the server), and no page waits for it; trainings go to the training process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from app_helpers import APP, ROOT, SMALL_CSV

# The warm-up's import is replaced by one that blocks until released (it stands in for
# the 6-10 s TensorFlow import), so "the page did not wait" is a fact, not a timing.
SCRIPT = textwrap.dedent(
    f"""
    import sys
    import threading
    from streamlit.testing.v1 import AppTest
    import ui.trainer as trainer
    import ui.training as training

    started, release = threading.Event(), threading.Event()

    def slow_import():
        started.set()
        release.wait()

    training._import_tensorflow = slow_import
    training._IDLE_S = 1.0  # the server's own import: once no training came for this long
    at = AppTest.from_file({str(APP)!r}, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Ready to train" in s.value for s in at.success)
    assert trainer._trainer is not None and trainer._trainer.alive, "no training process"
    assert started.wait(15), "the session did not start the TensorFlow warm-up"
    for page in ("pages/explore.py", "pages/neighbours.py", "pages/interactions.py"):
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    at.switch_page("pages/data.py").run()
    loaded = sorted(m for m in ("tensorflow", "keras", "umap") if m in sys.modules)
    print("LOADED", loaded)
    release.set()
    """
)


def _run(script: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a fresh interpreter (nothing imported yet) from the project root."""
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=180
    )


def test_first_page_does_not_wait_for_the_tensorflow_warm_up():
    done = _run(SCRIPT)
    assert done.returncode == 0, done.stderr[-2000:]
    # the pages were drawn while the warm-up was blocked, and none imported TensorFlow itself
    assert "LOADED []" in done.stdout, done.stdout


# A Train click made while TensorFlow still loads: the job starts the warm-up if no page
# has, and checks and encodes the data meanwhile instead of waiting for the import first.
CLICK_SCRIPT = textwrap.dedent(
    f"""
    import os
    import sys
    import threading
    import pandas as pd
    import ui.training as training
    from embedding_core.data.roles import Roles
    from embedding_core.model import features
    from embedding_core.model.config import TrainConfig

    started, release, prepared = threading.Event(), threading.Event(), threading.Event()

    def slow_import():
        started.set()
        release.wait()

    fit_transform = features.FeatureEncoder.fit_transform

    def noting_fit_transform(self, *args, **kwargs):
        out = fit_transform(self, *args, **kwargs)
        print("TF LOADED WHILE PREPARING", "tensorflow" in sys.modules, flush=True)
        prepared.set()
        return out

    training._import_tensorflow = slow_import
    features.FeatureEncoder.fit_transform = noting_fit_transform
    frame = pd.read_csv({str(SMALL_CSV)!r})
    roles = Roles(categorical=("plan", "device"), target="churned", task="binary")
    job = training.TrainingJob(frame=frame, roles=roles, config=TrainConfig(epochs=1)).start()
    assert started.wait(30), "the click did not start the TensorFlow warm-up"
    assert prepared.wait(60), "the data was not prepared while TensorFlow was loading"
    assert not job.done, job.error
    print("OK", flush=True)
    os._exit(0)  # the job would now import TensorFlow itself: not needed here
    """
)


def test_a_click_prepares_the_data_while_tensorflow_still_loads():
    done = _run(CLICK_SCRIPT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "TF LOADED WHILE PREPARING False" in done.stdout and "OK" in done.stdout, done.stdout


# A training with the training process started: the run comes back from it (the Train
# button's, the stability check's seeds, the Lift page's DeepFM), and this process does
# not import TensorFlow for it (the tables, metrics and the store do not need it).
TRAINER_SCRIPT = textwrap.dedent(
    f"""
    import sys
    import tempfile
    import pandas as pd
    import ui.trainer as trainer
    import ui.training as training
    from embedding_core.data.roles import Roles
    from embedding_core.model.config import TrainConfig

    assert trainer.warm_up_trainer() and not trainer.warm_up_trainer()  # once
    frame = pd.read_csv({str(SMALL_CSV)!r})
    roles = Roles(categorical=("plan", "device"), target="churned", task="binary")
    store = tempfile.mkdtemp()
    job = training.TrainingJob(
        frame=frame, roles=roles, config=TrainConfig(epochs=2), store_root=store
    ).start()
    assert job.wait(300), "the training did not end"
    assert job.error is None, job.error
    assert [e["epoch"] for e in job.epochs][:1] == [1] and job.train_seconds > 0
    assert job.record is not None and not job.save_error, job.save_error
    assert len(job.result.embeddings("plan")) > 1
    assert trainer._trainer.trained == 1
    # the Neighbours page's stability check trains its seeds there too
    stability = training.StabilityJob(
        primary_id=job.record.id, store_root=store, frame=frame, roles=roles,
        config=TrainConfig(epochs=1), seeds=(1, 2),
    ).start()
    assert stability.wait(300) and stability.error is None, stability.error
    assert trainer._trainer.trained == 3 and stability.done_seeds == [1, 2]
    from embedding_core.model.store import RunStore

    runs = RunStore(store)
    assert runs.record(job.record.id).siblings == stability.sibling_ids
    assert [runs.record(s).seed for s in stability.sibling_ids] == [1, 2]
    print("TF HERE", "tensorflow" in sys.modules, flush=True)
    # the Lift page's DeepFM trains there too (its own predictions, the reference cell,
    # then load its model here)
    from ui.lift_job import LiftJob

    lift = LiftJob(
        frame=frame, roles=roles, config=TrainConfig(epochs=1), models=("logistic",)
    ).start()
    assert lift.wait(300) and lift.error is None, lift.error
    assert trainer._trainer.trained == 4 and lift.result.lift
    # taken by another session's training between the check and the call: trained here
    from embedding_core.model.train_worker import TrainerBusy

    def busy(*args, **kwargs):
        raise TrainerBusy("A training already runs in this process.")

    trainer._trainer.train = busy
    here = training.TrainingJob(frame=frame, roles=roles, config=TrainConfig(epochs=1)).start()
    assert here.wait(300) and here.error is None, here.error
    print("TF AFTER A BUSY ONE", "tensorflow" in sys.modules, flush=True)
    # bigger than the process takes: trained here, the process not asked
    del trainer._trainer.train
    trainer.TRAINER_MAX_FRAME_BYTES = 0
    assert trainer.free_trainer(frame, TrainConfig()) is None
    big = training.TrainingJob(frame=frame, roles=roles, config=TrainConfig(epochs=1)).start()
    assert big.wait(300) and big.error is None, big.error
    assert trainer._trainer.trained == 4
    print("BIG TRAINED HERE", flush=True)
    """
)


def test_a_training_runs_in_the_training_process_and_big_or_busy_ones_here():
    done = _run(TRAINER_SCRIPT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "TF HERE False" in done.stdout, done.stdout
    assert "TF AFTER A BUSY ONE True" in done.stdout, done.stdout
    assert "BIG TRAINED HERE" in done.stdout, done.stdout
