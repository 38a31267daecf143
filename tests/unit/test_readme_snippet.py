"""The README's "Reuse embeddings in your own Keras model" snippet runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig
from embedding_core.model.train import train

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "### Reuse embeddings in your own Keras model"


def _snippet() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(HEADING) :]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


def _frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    job = rng.choice(["admin.", "student", "retired", "=cmd", "services"], size=n)
    age = rng.integers(18, 90, size=n).astype(float)
    balance = rng.normal(1500, 3000, size=n)
    logit = np.where(np.isin(job, ["student", "retired"]), 1.0, -1.0) + (age - 50) / 30
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"job": job, "age": age, "balance": balance, "y": y})


def test_readme_snippet_trains_a_keras_model_on_the_saved_vectors(tmp_path, monkeypatch) -> None:
    frame = _frame()
    roles = Roles(categorical=("job",), target="y")
    step1 = train(frame, roles, TrainConfig(model="entity", epochs=1, batch_size=64))
    monkeypatch.chdir(tmp_path)
    step1.save("runs/step1")
    namespace = {"frame": frame.drop(columns="y"), "y": frame["y"].to_numpy()}
    exec(compile(_snippet(), "README.md", "exec"), namespace)  # noqa: S102 - our own README
    model, table, rows = namespace["model"], namespace["table"], namespace["rows"]
    assert table.shape == (len(step1.vocabulary("job")), step1.embedding_dims["job"])
    assert rows.shape == (len(frame),) and rows.max() < len(table)
    # frozen as written: the Embedding layer still holds the saved vectors
    layer = next(x for x in model.layers if x.__class__.__name__ == "Embedding")
    np.testing.assert_array_equal(layer.get_weights()[0], table)
    assert np.isfinite(model.history.history["loss"]).all()
