"""Streamlit entry point: page config, session defaults, navigation. Nothing else.

Run with ``make run`` (``python -m ui.serve``) or ``streamlit run app.py``. TensorFlow is
never imported on the page's path. The training process imports it on another core
(``ui.trainer.warm_up_trainer``), started with the server: ``streamlit run app.py`` finds
``app`` below (an ``st.App``) and serves it, and its lifespan (``ui.serve.lifespan``)
starts that process before any session opens, so a Train click soon after opening the
app finds it loaded. Each session runs this file as ``__main__``: the page. This process
imports TensorFlow too, for predictions, in a daemon thread once the page is drawn and
no training runs (``ui.training.warm_up_tensorflow``).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

if __name__ == "__main__":  # a session's script run: the page's modules
    from ui.trainer import warm_up_trainer

    # First of all (before the page's other imports): the training process, if the
    # server did not start it (an ``AppTest``), imports TensorFlow while the page is drawn.
    warm_up_trainer()

    from embedding_core.data.read_worker import warm_up_reader
    from embedding_core.errors import EmbeddingCoreError
    from ui import keras_guard, runs, state
    from ui.explore_data import warm_up_umap
    from ui.literal import literal
    from ui.training import prepare_training_ahead, warm_up_tensorflow
    from ui.widgets import show_error, training_banner

# A local file, not a ":material/..." icon: those are fetched from a public font host.
ICON = Path(__file__).resolve().parent / "assets" / "icon.png"


def _session_defaults() -> str | None:
    """Rebuild the session from its URL (a link or F5), else open on the default sample
    with its roles chosen; adopt finished background jobs. Returns a page to switch to."""
    target = runs.restore_from_url()
    if state.get_dataset() is None:
        from embedding_core.data.samples import DEFAULT_SAMPLE
        from ui.datasets import sample_dataset

        try:
            state.set_dataset(sample_dataset(DEFAULT_SAMPLE))
        except EmbeddingCoreError as exc:
            show_error(exc, "Upload a CSV on the Data page instead.")
    state.adopt_finished_job()
    if (lift := state.adopt_finished_lift_job()) is not None:
        from ui.lift_store import keep

        keep(lift)
    keras_guard.install()  # no-op until TensorFlow is loaded (see ui/keras_guard.py)
    runs.sync_url()
    return target


def _page() -> None:
    """Draw the page a session asks for (every script run)."""
    st.set_page_config(page_title="Category embeddings", page_icon=str(ICON), layout="wide")
    target_page = _session_defaults()
    training_banner()
    if link_error := state.get_link_error():
        st.warning(literal(link_error), icon=":material/link_off:")

    pages = {
        "Prepare": [
            st.Page("pages/data.py", title="Data", icon=":material/table_view:", default=True),
            st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
            st.Page("pages/runs.py", title="Runs", icon=":material/folder_open:"),
        ],
        "Explore": [
            st.Page("pages/explore.py", title="Explore", icon=":material/scatter_plot:"),
            st.Page("pages/neighbours.py", title="Neighbours", icon=":material/hub:"),
            st.Page("pages/interactions.py", title="Interactions", icon=":material/join_inner:"),
        ],
        "Evaluate": [
            st.Page("pages/lift.py", title="Lift", icon=":material/trending_up:"),
            st.Page("pages/whatif.py", title="What-if", icon=":material/tune:"),
            st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        ],
        "Share": [
            st.Page("pages/export.py", title="Export", icon=":material/download:"),
        ],
    }
    current = st.navigation(pages)
    # As early as can be (a session's first run: the training process may still import
    # TensorFlow, and reads the request once it has), and again after the page below,
    # whose settings may have changed: the training a Train click would start.
    prepare_training_ahead()
    by_path = {p.url_path or "data": p for group in pages.values() for p in group}
    wanted = by_path.get(target_page) if target_page else None
    if wanted is not None and wanted.url_path != current.url_path:
        # a link's page=...; read once (sync_url drops it); the page's settings go with it
        st.switch_page(wanted, query_params=runs.setting_params())
    current.run()
    runs.drop_stale_view()
    runs.sync_handles()
    prepare_training_ahead()
    # After the page is drawn, so the first page never waits for (or competes with) the import.
    warm_up_tensorflow()
    warm_up_umap()  # after TensorFlow: compiles UMAP's kernels (cached on disk) in the background
    warm_up_reader()  # a worker process that parses uploads, pandas imported (ui/datasets.py)


if __name__ == "__main__":
    _page()
else:  # ``streamlit run app.py`` imports this module to serve it (an ASGI app)
    from ui.serve import lifespan

    app = st.App(__file__, lifespan=lifespan)
