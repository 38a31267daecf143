"""Interactions page: how strongly the FM part links each pair of fields."""

from __future__ import annotations

import streamlit as st

from embedding_core import formatting as fmt
from embedding_core.errors import EmbeddingCoreError
from ui.charts import interactions_figure
from ui.explore_data import cached_interactions
from ui.literal import literal, literal_marked
from ui.runs import show_view_link
from ui.widgets import require_run, show_error

st.title("Interactions")
run_info = require_run()
if run_info is not None:
    show_view_link("interactions")
    if run_info.run.crosses:
        st.caption(
            literal(f"Crossed in the model: {fmt.pairs(run_info.run.crosses)}.")
            + " Each pair of their values has a vector of its own, on top of the pairwise "
            "terms measured here (Train page, Advanced settings)."
        )
    if run_info.run.config.model == "entity":
        st.info(
            "This run is an entity-embedding network: it has no FM term, so there are no "
            "pairwise field interactions to measure (its fields meet only inside the MLP). "
            "Explore, Neighbours, What-if and Lift work as usual; train a DeepFM on the "
            "Train page to see interactions."
        )
    elif len(run_info.run.fields) < 2:
        st.info("Interactions need at least two categorical fields; this run has one.")
    else:
        try:
            matrix, sentences = cached_interactions(run_info.run_id, run_info.run)
        except EmbeddingCoreError as exc:
            show_error(exc)
        else:
            weighted = run_info.run.fm_pair_weights() is not None
            regression = run_info.run.task == "regression"
            unit = "standard deviations of the target" if regression else "log-odds"
            st.caption(
                "Strength: how much the model's score moves with the two fields' values "
                "together, on top of each field alone (the typical size of the pairwise term "
                f"the FM part adds for that pair, in {unit}"
                + (", times the pair's learned weight" if weighted else "")
                + "). Bigger means the model relies more on that combination; the numbers "
                "are for comparing pairs with each other. (Technically: the "
                "frequency-weighted mean absolute inner product of the fields' vectors.)"
            )
            left, right = st.columns([3, 2])
            with left:
                st.plotly_chart(interactions_figure(matrix, dark=st.context.theme.type == "dark"))
            with right:
                st.subheader("Reading")
                st.markdown("\n".join(f"- {literal_marked(sentence)}" for sentence in sentences))
