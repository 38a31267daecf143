"""Streamlit entry point: page config, session defaults, navigation. Nothing else.

Run with ``streamlit run app.py``. TensorFlow is never imported on the page's path: once
the first page of a session has been drawn, a daemon thread starts importing it
(``ui.training.warm_up_tensorflow``), so a Train click soon after opening the app does not
wait for the import.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from embedding_core.errors import EmbeddingCoreError
from ui import keras_guard, state
from ui.training import warm_up_tensorflow
from ui.widgets import show_error, training_banner

# A local file, not a ":material/..." icon: those are fetched from a public font host.
ICON = Path(__file__).resolve().parent / "assets" / "icon.png"
st.set_page_config(page_title="Category embeddings", page_icon=str(ICON), layout="wide")


def _session_defaults() -> None:
    """Open on the default sample with its roles chosen; adopt finished background jobs."""
    if state.get_dataset() is None:
        from embedding_core.data.samples import DEFAULT_SAMPLE
        from ui.datasets import sample_dataset

        try:
            state.set_dataset(sample_dataset(DEFAULT_SAMPLE))
        except EmbeddingCoreError as exc:
            show_error(exc, "Upload a CSV on the Data page instead.")
    state.adopt_finished_job()
    state.adopt_finished_lift_job()
    keras_guard.install()  # no-op until TensorFlow is loaded (see ui/keras_guard.py)


_session_defaults()
training_banner()

pages = {
    "Prepare": [
        st.Page("pages/data.py", title="Data", icon=":material/table_view:", default=True),
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    ],
    "Explore": [
        st.Page("pages/explore.py", title="Explore", icon=":material/scatter_plot:"),
        st.Page("pages/neighbours.py", title="Neighbours", icon=":material/hub:"),
        st.Page("pages/interactions.py", title="Interactions", icon=":material/join_inner:"),
    ],
    "Evaluate": [
        st.Page("pages/lift.py", title="Lift", icon=":material/trending_up:"),
        st.Page("pages/whatif.py", title="What-if", icon=":material/tune:"),
    ],
    "Share": [
        st.Page("pages/export.py", title="Export", icon=":material/download:"),
    ],
}
st.navigation(pages).run()
# After the page is drawn, so the first page never waits for (or competes with) the import.
warm_up_tensorflow()
