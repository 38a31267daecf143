"""Small reusable pieces shared by the pages."""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.literal import literal

__all__ = [
    "TRAIN_PAGE",
    "DATA_PAGE",
    "EXPLORE_PAGE",
    "NEIGHBOURS_PAGE",
    "require_run",
    "show_error",
    "training_banner",
]

DATA_PAGE = "pages/data.py"
TRAIN_PAGE = "pages/train.py"
EXPLORE_PAGE = "pages/explore.py"
NEIGHBOURS_PAGE = "pages/neighbours.py"


def require_run() -> state.RunInfo | None:
    """Return the current run, or say there is none (with a link to Train) and return None.

    Pages call ``info = require_run()`` and ``st.stop()``-free ``return`` when it is None.
    """
    info = state.get_run_info()
    if info is not None:
        return info
    job = state.get_job()
    if job is not None and job.running:
        st.info("Training is in progress: this page fills in as soon as it finishes.")
    else:
        st.info("No trained run yet. Train a model first: it takes a few seconds on the sample.")
    st.page_link(TRAIN_PAGE, label="Go to Train", icon=":material/model_training:")
    return None


def show_error(error: BaseException, what_to_do: str = "") -> None:
    """Show a library error as one readable message (never a traceback)."""
    message = str(error).strip() or type(error).__name__
    if what_to_do:
        message = f"{message} {what_to_do}"
    st.error(literal(message), icon=":material/error:")


def training_banner() -> None:
    """A note in the sidebar while a training job runs, on any page.

    It polls the job every two seconds and reruns the app when training ends, so a
    page waiting for the run (e.g. Explore opened during training) fills in by itself.
    """
    job = state.get_job()
    if job is not None and job.running:
        with st.sidebar:
            _banner()


@st.fragment(run_every=2.0)
def _banner() -> None:
    job = state.get_job()
    if job is None or job.done:
        st.rerun()  # the full run adopts the result and drops this banner
    st.info("Training in progress: see the Train page.")
