"""Small reusable pieces shared by the pages."""

from __future__ import annotations

import time

import streamlit as st

from embedding_core import formatting as fmt
from ui import state
from ui.literal import literal

__all__ = [
    "TRAIN_PAGE",
    "DATA_PAGE",
    "EXPLORE_PAGE",
    "NEIGHBOURS_PAGE",
    "RUNS_PAGE",
    "require_run",
    "run_header",
    "show_error",
    "training_banner",
]

DATA_PAGE = "pages/data.py"
TRAIN_PAGE = "pages/train.py"
EXPLORE_PAGE = "pages/explore.py"
NEIGHBOURS_PAGE = "pages/neighbours.py"
RUNS_PAGE = "pages/runs.py"


def require_run(*, weak_signal_note: bool = False) -> state.RunInfo | None:
    """Return the current run under a header naming it, or say there is none and return None.

    Pages call ``info = require_run()`` and ``st.stop()``-free ``return`` when it is None.
    ``weak_signal_note`` adds the warning of ``run_header`` when the model barely beats
    the trivial baseline, or is too good to trust (``signal.too_good``).
    """
    info = state.get_run_info()
    if info is not None:
        run_header(info, weak_signal_note=weak_signal_note)
        return info
    job = state.get_job()
    if job is not None and job.running:
        st.info("Training is in progress: this page fills in as soon as it finishes.")
        st.page_link(TRAIN_PAGE, label="Go to Train", icon=":material/model_training:")
        return None
    from ui.runs import store

    saved = sum(r.ok for r in store().list())
    if saved:
        runs = "One run is" if saved == 1 else f"{saved:,} runs are"
        st.info(f"No run is open. {runs} saved: open one, or train a new model.")
        st.page_link(RUNS_PAGE, label="Open a saved run", icon=":material/folder_open:")
    else:
        st.info("No trained run yet. Train a model first: it takes a few seconds on the sample.")
    st.page_link(TRAIN_PAGE, label="Go to Train", icon=":material/model_training:")
    return None


def run_header(info: state.RunInfo, *, weak_signal_note: bool = False) -> None:
    """Which run the page shows (its name, data, target, when trained), and whether it
    is stale.

    A run is stale when the data loaded now is not the data it was trained on.
    """
    from embedding_core.analysis.signal import too_good, weak_signal
    from embedding_core.model.metrics import metric_label

    run = info.run
    metrics = dict(run.metrics or {})
    headline = next((k for k in metrics if k.startswith("valid_")), None)
    score = (
        f"; validation {metric_label(headline.removeprefix('valid_'))} "
        f"{fmt.metric(headline, metrics[headline])}"
        if headline
        else ""
    )
    from ui.run_labels import distinct_name

    # the run's own name first: two runs of one data differ by it (a link names one)
    name = distinct_name(info.name, info.dataset_label)
    called = f"Run **{literal(name)}**" if name else "Run"
    st.caption(
        f"{called} trained on **{literal(info.dataset_label or 'unknown data')}** "
        f"({fmt.count(info.n_rows)} rows) {fmt.age(time.time() - info.created)}: target "
        f"**{literal(run.roles.target)}** ({run.roles.task}){score}."
    )
    dataset = state.get_dataset()
    if dataset is not None and info.dataset_key and dataset.key != info.dataset_key:
        st.warning(
            f"This run was trained on {literal(info.dataset_label)}; the data loaded now is "
            f"{literal(dataset.label)}. Train again to see {literal(dataset.label)}.",
            icon=":material/history:",
        )
    note = None
    if weak_signal_note:
        note = weak_signal(metrics, run.roles.task) or too_good(metrics, run.roles.task)
    if note:
        st.warning(note, icon=":material/warning:")


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
