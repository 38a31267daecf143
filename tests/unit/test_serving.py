"""How the app is served: `make run` without the file watcher, `make dev` with it, both
through `ui.serve`; the training process starts with the server, under `ui.serve` and
under plain `streamlit run app.py` (``app.app``, an ``st.App``), which logs no warning
about its config file; a page icon that is a local file (nothing fetched from a public
host)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import free_port, wait_healthy  # noqa: E402

WORKER = "embedding_core.model.train_worker"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(("target", "watcher"), [("run", "none"), ("dev", "auto")])
def test_make_run_turns_the_file_watcher_off_and_make_dev_keeps_it(target, watcher):
    plan = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=30
    ).stdout
    command = plan[plan.index("-m ui.serve") :]
    assert re.search(rf"--server\.fileWatcherType {watcher}\b", command), command


def _workers(server: psutil.Process) -> list[psutil.Process]:
    return [p for p in server.children() if WORKER in " ".join(p.cmdline())]


@pytest.mark.parametrize(
    "command", [["-m", "ui.serve"], ["-m", "streamlit", "run", "app.py"]], ids=["serve", "plain"]
)
def test_the_server_starts_the_training_process_before_any_session_opens(command, tmp_path):
    port = free_port()
    options = ["--server.headless", "true", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"]  # fmt: skip
    cmd = [sys.executable, *command, *options]
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc=server)
        # nobody has opened the app: the training process is there all the same
        deadline = time.monotonic() + 10
        while not (workers := _workers(psutil.Process(server.pid))) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(workers) == 1, [p.cmdline() for p in psutil.Process(server.pid).children()]
    finally:
        server.terminate()
        server.wait(timeout=15)
    # the server gone, its training process follows (it reads the end of its pipe)
    workers[0].wait(timeout=15)
    # our limits are not in Streamlit's config file, so it has nothing to warn about
    assert "not a valid config option" not in log.read_text(), log.read_text()[-2000:]


# What ``ui.serve`` does before Streamlit runs ``app.py`` in the same process.
REUSE = textwrap.dedent(
    """
    import os
    from streamlit.testing.v1 import AppTest
    import ui.trainer as trainer
    from embedding_core.model.train_worker import NICENESS

    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert trainer.warm_up_trainer(before_sessions=True)
    first = trainer._trainer
    assert os.getpriority(os.PRIO_PROCESS, first._proc.pid) == own, "not at full priority"
    at = AppTest.from_file("app.py", default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert trainer._trainer is first and first.alive, "the session started another one"
    lowered = os.getpriority(os.PRIO_PROCESS, first._proc.pid)
    assert lowered == min(own + NICENESS, 19), "pages do not come first"
    print("REUSED")
    """
)


def test_the_first_session_uses_the_training_process_serve_started_and_lowers_it():
    done = subprocess.run(
        [sys.executable, "-c", REUSE], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "REUSED" in done.stdout


def test_the_page_icon_is_a_local_file():
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    [icon] = re.findall(r'ICON = Path\(__file__\)\.resolve\(\)\.parent / "(\w+)" / "([\w.]+)"',
                        source)  # fmt: skip
    assert (ROOT / icon[0] / icon[1]).is_file()
    assert "page_icon=str(ICON)" in source
