"""Opening the app starts loading TensorFlow in the background, and no page waits for it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from app_helpers import APP, ROOT

# The warm-up's import is replaced by one that blocks until released (it stands in for
# the 6-10 s TensorFlow import), so "the page did not wait" is a fact, not a timing.
SCRIPT = textwrap.dedent(
    f"""
    import sys
    import threading
    from streamlit.testing.v1 import AppTest
    import ui.training as training

    started, release = threading.Event(), threading.Event()

    def slow_import():
        started.set()
        release.wait()

    training._import_tensorflow = slow_import
    at = AppTest.from_file({str(APP)!r}, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Ready to train" in s.value for s in at.success)
    assert started.wait(10), "the session did not start the TensorFlow warm-up"
    for page in ("pages/explore.py", "pages/neighbours.py", "pages/interactions.py"):
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    at.switch_page("pages/data.py").run()
    loaded = sorted(m for m in ("tensorflow", "keras", "umap") if m in sys.modules)
    print("LOADED", loaded)
    release.set()
    """
)


def test_first_page_does_not_wait_for_the_tensorflow_warm_up():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # the pages were drawn while the warm-up was blocked, and none imported TensorFlow itself
    assert "LOADED []" in done.stdout, done.stdout
