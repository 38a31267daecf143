"""The app starts without TensorFlow: it is loaded only when training is near."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from app_helpers import APP, ROOT

SCRIPT = textwrap.dedent(
    f"""
    import sys
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file({str(APP)!r}, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Ready to train" in s.value for s in at.success)
    for page in ("pages/explore.py", "pages/neighbours.py", "pages/interactions.py"):
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    at.switch_page("pages/data.py").run()
    loaded = sorted(m for m in ("tensorflow", "keras", "umap") if m in sys.modules)
    print("LOADED", loaded)
    """
)


def test_opening_the_app_does_not_import_tensorflow():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "LOADED []" in done.stdout, done.stdout
