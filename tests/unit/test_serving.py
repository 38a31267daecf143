"""How the app is served: `make run` without the file watcher, `make dev` with it, and a
page icon that is a local file (nothing fetched from a public host)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(("target", "watcher"), [("run", "none"), ("dev", "auto")])
def test_make_run_turns_the_file_watcher_off_and_make_dev_keeps_it(target, watcher):
    plan = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=30
    ).stdout
    command = plan[plan.index("streamlit run app.py") :]
    assert re.search(rf"--server\.fileWatcherType {watcher}\b", command), command


def test_the_page_icon_is_a_local_file():
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    [icon] = re.findall(r'ICON = Path\(__file__\)\.resolve\(\)\.parent / "(\w+)" / "([\w.]+)"',
                        source)  # fmt: skip
    assert (ROOT / icon[0] / icon[1]).is_file()
    assert "page_icon=str(ICON)" in source
