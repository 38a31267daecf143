"""Small helpers shared by the AppTest files (imported as ``app_helpers``)."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
SMALL_CSV = ROOT / "tests" / "data" / "small_churn.csv"
SMALL_ROLES = {
    "categorical": ["customer_city", "device", "plan", "channel"],
    "numeric": ["age"],
    "target": "churned",
    "task": "binary",
}
TIMEOUT = 120


def plain(markdown: str) -> str:
    """The text a reader sees for Markdown source written by ``ui.literal.literal``."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def assert_no_exception(at: AppTest) -> None:
    """Fail with the script's own traceback text if the page raised."""
    assert not at.exception, [e.value for e in at.exception]


def wait_for_training(at: AppTest, timeout: float = TIMEOUT) -> None:
    """Rerun the app until the training job has finished (the worker is a real thread)."""
    from ui.state import Keys

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = at.session_state[Keys.JOB] if Keys.JOB in at.session_state else None
        if job is not None and job.done:
            at.run()  # adopt the result and render the summary
            return
        if job is not None:
            job.wait(0.5)
        at.run()
    raise AssertionError("training did not finish in time")


def markdown_text(at: AppTest) -> str:
    """All markdown, captions, successes, infos, warnings and errors of the page."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "success", "info", "warning", "error"):
        parts.extend(plain(str(e.value)) for e in getattr(at, kind))
    return "\n".join(parts)


def plotly_array(value: Any) -> list:
    """A plotly JSON array as a list (plotly 7 writes numpy arrays as typed base64)."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            shape = [int(n) for n in str(value["shape"]).split(",")]
            array = array.reshape(shape)
        return array.tolist()
    return list(value)


def plotly_chart(at: AppTest, index: int = 0) -> dict:
    """The JSON figure of the index-th plotly chart on the page."""
    charts = at.get("plotly_chart")
    assert charts, "no plotly chart on the page"
    return json.loads(charts[index].proto.spec)


def upload_small(at: AppTest, small_csv_bytes: bytes) -> None:
    """Upload the small CSV, confirm its target and pick its known roles."""
    upload_with_roles(at, "small_churn.csv", small_csv_bytes, SMALL_ROLES)


def upload_with_roles(at: AppTest, name: str, data: bytes, roles: dict[str, Any]) -> None:
    """Upload a CSV, confirm the suggested target and pick ``roles`` (``Roles.to_dict``)."""
    from ui.state import Keys

    at.file_uploader(key=Keys.UPLOAD).set_value((name, data, "text/csv"))
    at.run()
    [confirm] = [b for b in at.button if b.label.startswith("Predict ")]
    confirm.click().run()
    for widget in [*at.selectbox, *at.multiselect]:
        if widget.label.startswith("Target"):
            widget.set_value(roles["target"])
        elif widget.label.startswith("Categorical"):
            widget.set_value(list(roles["categorical"]))
        elif widget.label.startswith("Numeric"):
            widget.set_value(list(roles["numeric"]))
    at.run()


def store_run(run: Any, root: Path, monkeypatch: Any) -> str:
    """Save ``run`` with the small CSV as its data in a fresh run store at ``root``, which
    the app then uses (``EMBEDDING_CORE_RUNS``); returns the run's id, for ``run=`` links."""
    from embedding_core.data.csv_reader import read_csv
    from embedding_core.model.store import RunStore

    monkeypatch.setenv("EMBEDDING_CORE_RUNS", str(root))
    record = RunStore(root).save(run, name="r", data=read_csv(SMALL_CSV), dataset="small_churn.csv")
    return record.id
