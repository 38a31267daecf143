"""Explore page: a 2D/3D map of one field's category vectors (PCA, t-SNE or UMAP)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from embedding_core.analysis.neighbours import RELIABLE_MIN_COUNT
from embedding_core.analysis.projection import few_points_note
from embedding_core.analysis.whatif_explain import default_class
from embedding_core.errors import EmbeddingCoreError
from ui import state
from ui.charts import COLOUR_OPTIONS, STABILITY_ORDER, scatter_figure
from ui.explore_data import (
    cached_clusters,
    cached_projection,
    class_shares,
    count_steps,
    distinct_count,
    field_option_label,
    field_options,
    field_table,
    projection_points,
    rare_note,
    target_label,
    umap_ready,
)
from ui.literal import literal
from ui.runs import seed_group, show_view_link, stability_table
from ui.state import Keys, widget_key
from ui.widgets import require_run, show_error

METHODS = {"PCA": "pca", "t-SNE": "tsne", "UMAP": "umap"}


def _controls(info: state.RunInfo) -> dict[str, object]:
    run = info.run
    field_name = st.selectbox(
        "Field",
        field_options(run),
        format_func=field_option_label(run),
        key=widget_key(Keys.EXPLORE_FIELD, info.run_id),
        persist_state="session",
        help=(
            "A numeric column's bins have vectors in the same space as the categories: "
            "each point is then a range of its values."
            if run.binned_columns
            else None
        ),
    )
    label = (
        st.segmented_control(
            "Projection",
            list(METHODS),
            default="PCA",
            required=True,
            key=Keys.EXPLORE_METHOD,
            persist_state="session",
            bind="query-params",
        )
        or "PCA"
    )
    params: dict[str, float | int] = {}
    if label == "t-SNE":
        params["perplexity"] = st.slider(
            "Perplexity",
            2,
            50,
            30,
            key=Keys.EXPLORE_PERPLEXITY,
            persist_state="session",
            bind="query-params",
            help="Roughly how many neighbours each point keeps close.",
        )
        st.caption("t-SNE takes ~30 s on 2,000 points; results are cached.")
    elif label == "UMAP":
        params["n_neighbors"] = st.slider(
            "Neighbours (n_neighbors)",
            2,
            100,
            15,
            key=Keys.EXPLORE_NEIGHBOURS,
            persist_state="session",
            bind="query-params",
        )
        params["min_dist"] = st.slider(
            "Minimum distance (min_dist)",
            0.0,
            0.99,
            0.1,
            0.01,
            key=Keys.EXPLORE_MIN_DIST,
            persist_state="session",
            bind="query-params",
        )
        if umap_ready():
            st.caption("UMAP takes a few seconds on a few thousand points; results are cached.")
        else:
            st.caption(
                "UMAP is still being compiled in the background (once per server start): "
                "a first map now can take up to a minute; later ones take seconds."
            )
    three_d = st.toggle("3D", key=Keys.EXPLORE_3D, persist_state="session", bind="query-params")
    colour_by = st.radio(
        "Colour by",
        [*COLOUR_OPTIONS, "stability"] if len(seed_group(info)) > 1 else COLOUR_OPTIONS,
        horizontal=True,
        key=Keys.EXPLORE_COLOUR,
        persist_state="session",
        bind="query-params",
    )
    target_class = None
    if colour_by == "target rate" and run.roles.task == "multiclass":
        data = training_data(info)
        target = data[run.roles.target] if data is not None else None
        default = default_class(run, target) or run.classes[0]
        target_class = st.selectbox(
            "Class",
            run.classes,
            index=run.classes.index(default),
            key=widget_key(Keys.EXPLORE_CLASS, info.run_id),
            bind="query-params",
            help="Colour each category by the share of its rows in this class "
            "(the most frequent class first).",
        )
    n_clusters: int | str = "auto"
    if colour_by == "cluster":
        n_clusters = st.select_slider(
            "Clusters (k-means on the embeddings)",
            ["auto", *range(2, 13)],
            value="auto",
            key=Keys.EXPLORE_CLUSTERS,
            persist_state="session",
            bind="query-params",
            help="auto picks the number with the best silhouette score.",
        )
    search = st.text_input(
        "Search categories",
        key=widget_key(Keys.EXPLORE_SEARCH, info.run_id),
        bind="query-params",
        placeholder="part of a category name",
        persist_state="session",
    )
    table = field_table(info.run_id, field_name, run)
    steps = count_steps(int(table["count"].max()) if len(table) else 0)
    min_count = st.select_slider(
        "Hide categories seen fewer times than",
        steps,
        value=0,
        key=widget_key(Keys.EXPLORE_MIN_COUNT, info.run_id),
        persist_state="session",
        bind="query-params",
    )
    return {
        "field": field_name,
        "method": METHODS[label],
        "method_label": label,
        "params": params,
        "dims": 3 if three_d else 2,
        "colour_by": colour_by,
        "target_class": target_class,
        "n_clusters": None if n_clusters == "auto" else int(n_clusters),
        "search": search or "",
        "min_count": int(min_count),
    }


def training_data(info: state.RunInfo) -> pd.DataFrame | None:
    """The loaded data when it is the data the run was trained on, else None."""
    dataset = state.get_dataset()
    if dataset is None or not info.dataset_key or dataset.key != info.dataset_key:
        return None
    frame = dataset.frame
    return frame if info.run.roles.target in frame.columns else None


def _plot(info: state.RunInfo, choice: dict[str, object]) -> None:
    field_name = str(choice["field"])
    method = str(choice["method"])
    try:
        table = field_table(info.run_id, field_name, info.run)
        points, note = projection_points(info.run_id, field_name, method, table)
    except EmbeddingCoreError as exc:
        show_error(exc)
        return
    if len(points) < 2:
        st.info(
            f"Field {literal(field_name)} has fewer than two learned categories, so there is "
            "nothing to map. Pick another field, or lower the rare-category threshold."
        )
        return
    if note:
        st.caption(literal(note))
    if few := few_points_note(method, len(points)):
        st.info(few, icon=":material/scatter_plot:")
    spinner = f"Computing the {choice['method_label']} projection..."
    try:
        with st.spinner(literal(spinner)):
            coords = cached_projection(
                info.run_id,
                field_name,
                method,
                int(choice["dims"]),  # type: ignore[arg-type]
                tuple(sorted(dict(choice["params"]).items())),  # type: ignore[arg-type]
                points,
            )
        clusters = None
        if choice["colour_by"] == "cluster":
            clusters = cached_clusters(
                info.run_id,
                field_name,
                method,
                choice["n_clusters"],
                points,  # type: ignore[arg-type]
            )
    except EmbeddingCoreError as exc:
        show_error(exc, "Try PCA or other parameters.")
        return

    keep = points["count"].to_numpy() >= int(choice["min_count"])  # type: ignore[arg-type]
    if not keep.any():
        st.info("No category is that frequent: lower the count filter.")
        return
    hidden = int((~keep).sum())
    shown = points[keep].reset_index(drop=True)
    stability = None
    if choice["colour_by"] == "stability":
        try:
            badges = stability_table(
                tuple(seed_group(info)), field_name, 10, "cosine", RELIABLE_MIN_COUNT
            ).set_index("category")["reliability"]
        except EmbeddingCoreError as exc:
            show_error(exc)
            return
        stability = shown["category"].astype(str).map(badges).fillna(STABILITY_ORDER[-1])
    colour_by = str(choice["colour_by"])
    label = target_label(info.run)
    if choice.get("target_class") is not None:
        data = training_data(info)
        if data is None:
            st.info(
                "Colouring by a class needs the data this run was trained on; it is not "
                "loaded now, so the map is coloured by count instead."
            )
            colour_by = "count"
        else:
            shares = class_shares(
                info.run_id, info.dataset_key, field_name, str(choice["target_class"]),
                info.run, data,
            )  # fmt: skip
            shown = shown.assign(target_mean=shares[shown["index"].to_numpy(dtype=np.int64)])
            label = f"share of {choice['target_class']}"
    fig = scatter_figure(
        np.asarray(coords)[keep],
        shown,
        colour_by=colour_by,
        target_label=label,
        clusters=clusters[keep] if clusters is not None else None,
        search=str(choice["search"]),
        stability=stability.tolist() if stability is not None else None,
        dark=st.context.theme.type == "dark",
        target_is_share=info.run.roles.task in ("binary", "multiclass"),
    )
    st.plotly_chart(fig)
    learned = (
        int((~table["is_unknown"].astype(bool)).sum()) if "is_unknown" in table else len(table)
    )
    notes = [f"{len(shown):,} of {learned:,} categories of {literal(field_name)} shown"]
    if hidden:
        notes.append(f"{hidden:,} hidden by the count filter")
    if choice["search"]:
        needle = str(choice["search"]).lower()
        n_match = int(
            shown["category"].astype(str).str.lower().str.contains(needle, regex=False).sum()
        )
        notes.append(f"{n_match} match the search")
    notes.append("point size = count; the most frequent carry their name")
    st.caption("; ".join(notes) + ".")
    if field_name not in info.run.fields:  # a numeric column's bins: no rare categories
        return
    dataset = state.get_dataset()
    n_distinct = None
    if dataset is not None and dataset.key == info.dataset_key and field_name in dataset.frame:
        n_distinct = distinct_count(dataset.key, field_name, dataset.frame[field_name])
    rare = rare_note(table, info.run.config.min_count, n_distinct)
    if rare:
        st.caption(rare)


st.title("Explore")
run_info = require_run(weak_signal_note=True)
if run_info is not None:
    st.caption("Each point is one category; categories the model treats alike sit close together.")
    controls_col, chart_col = st.columns([1, 3])
    with controls_col:
        chosen = _controls(run_info)
        show_view_link("explore", field=str(chosen["field"]))
    with chart_col:
        _plot(run_info, chosen)
