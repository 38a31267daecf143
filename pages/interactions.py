"""Interactions page: how strongly the FM part links each pair of fields."""

from __future__ import annotations

import streamlit as st

from embedding_core import formatting as fmt
from embedding_core.analysis.interactions import heatmap_fields, top_pairs
from embedding_core.analysis.signal import weak_signal
from embedding_core.errors import EmbeddingCoreError
from ui.charts import interactions_figure
from ui.explore_data import cached_interactions
from ui.literal import literal, literal_marked
from ui.runs import show_view_link
from ui.widgets import require_run, show_error

MAX_HEATMAP_FIELDS = 15  # more and the cells are too small to read at 1280 px

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
            if note := weak_signal(run_info.run.metrics, run_info.run.task):
                st.warning(
                    f"{note} Its pairwise terms are no exception: a model that learned little "
                    "has interactions that mean little.",
                    icon=":material/warning:",
                )
            shown = heatmap_fields(matrix, MAX_HEATMAP_FIELDS)
            left, right = st.columns([3, 2])
            with left:
                if len(shown) < len(matrix):
                    st.caption(
                        f"The {len(shown)} fields with the strongest interactions, of "
                        f"{len(matrix)}: every pair is in the table below."
                    )
                st.plotly_chart(
                    interactions_figure(
                        matrix.loc[shown, shown], dark=st.context.theme.type == "dark"
                    )
                )
            with right:
                st.subheader("Reading")
                st.markdown("\n".join(f"- {literal_marked(sentence)}" for sentence in sentences))
            pairs = top_pairs(matrix)
            st.subheader("Strongest pairs")
            st.dataframe(
                pairs.assign(share=100 * pairs["share"]).rename(
                    columns={
                        "field_a": "field",
                        "field_b": "with field",
                        "share": "share of all (%)",
                        "vs_typical": "x a typical pair",
                    }
                ),
                hide_index=True,
                column_config={
                    "strength": st.column_config.NumberColumn(format="%.4f"),
                    "share of all (%)": st.column_config.ProgressColumn(
                        format="%.1f%%", min_value=0.0, max_value=100.0
                    ),
                    "x a typical pair": st.column_config.NumberColumn(format="%.1f"),
                },
                height=min(400, 38 + 35 * len(pairs)),
            )
