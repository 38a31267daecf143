"""Neighbours page: the categories whose vectors are closest to a chosen one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from embedding_core import formatting as fmt
from embedding_core.analysis.neighbours import (
    RELIABLE_MIN_COUNT,
    categories_by_count,
    nearest_neighbours,
)
from embedding_core.errors import EmbeddingCoreError
from ui import state
from ui.charts import neighbours_figure
from ui.explore_data import (
    among_options,
    field_option_label,
    field_options,
    field_table,
    target_label,
)
from ui.literal import literal
from ui.runs import show_view_link
from ui.stability import stability_panel
from ui.state import Keys, neighbour_category_key, widget_key
from ui.widgets import require_run, show_error

N_GOTO = 8
SHORT_NAME = 24  # characters that fit a "medium" table column


def _go_to(field_name: str, goto_key: str) -> None:
    """Pills callback: make the clicked neighbour the query (one click)."""
    choice = st.session_state.get(goto_key)
    if choice:
        st.session_state[neighbour_category_key(field_name)] = choice
        st.session_state[goto_key] = None


def _go_across(run_id: str, field_name: str, among: str, goto_key: str) -> None:
    """Pills callback across fields: the clicked category of ``among`` becomes the query,
    and its neighbours are looked for in ``field_name`` (back where the user came from)."""
    choice = st.session_state.get(goto_key)
    if choice:
        st.session_state[widget_key(Keys.NB_FIELD, run_id)] = among
        st.session_state[neighbour_category_key(among)] = choice
        st.session_state[widget_key(Keys.NB_AMONG, f"{run_id}/{among}")] = field_name
        st.session_state[goto_key] = None


def _page(info: state.RunInfo) -> None:
    run = info.run
    top = st.columns([2, 3, 1, 2])
    with top[0]:
        field_name = st.selectbox(
            "Field",
            field_options(run),
            format_func=field_option_label(run),
            key=widget_key(Keys.NB_FIELD, info.run_id),
            persist_state="session",
        )
    try:
        table = field_table(info.run_id, field_name, run)
    except EmbeddingCoreError as exc:
        show_error(exc)
        return
    categories = categories_by_count(table)
    if len(categories) < 2:
        st.info(f"Field {literal(field_name)} has fewer than two learned categories.")
        return
    category_key = neighbour_category_key(field_name)
    with top[1]:
        category = st.selectbox(
            "Category (type to search; most frequent first)",
            categories,
            format_func=fmt.category,
            key=category_key,
            persist_state="session",
        )
    label = field_option_label(run)
    places = among_options(run, field_name)
    among = field_name
    if len(places) > 1:
        among = st.selectbox(
            "Look for neighbours among",
            places,
            format_func=lambda name: (
                f"{label(name)} (this field)" if name == field_name else label(name)
            ),
            key=widget_key(Keys.NB_AMONG, f"{info.run_id}/{field_name}"),
            persist_state="session",
            bind="query-params",
            help=(
                "Another field or numeric column: which of its categories or bins have "
                "vectors closest to this category's (e.g. which age band sits nearest a job)."
            ),
        )
    across = among != field_name
    searched, n_candidates, scope = table, len(categories) - 1, f"{info.run_id}/{field_name}"
    if across:
        try:
            searched = field_table(info.run_id, among, run)
        except EmbeddingCoreError as exc:
            show_error(exc)
            return
        n_candidates, scope = len(categories_by_count(searched)), f"{scope}/{among}"
        if n_candidates < 1:
            st.info(f"{literal(label(among))} has no learned categories to compare with.")
            return
    with top[2]:
        k = st.number_input(
            "k",
            1,
            max(1, min(50, n_candidates)),
            min(10, n_candidates),
            key=widget_key(Keys.NB_K, scope),  # per field (and field searched)
            persist_state="session",
            bind="query-params",
            help="How many neighbours to list.",
        )
    with top[3]:
        metric = st.radio(
            "Distance",
            ["cosine", "euclidean"],
            horizontal=True,
            key=Keys.NB_METRIC,
            persist_state="session",
            bind="query-params",
        )
    show_view_link("neighbours", field=field_name, category=str(category))
    reliable_count = st.slider(
        "Call a category reliable when seen at least this many times",
        1,
        500,
        RELIABLE_MIN_COUNT,
        key=Keys.NB_MIN_COUNT,
        persist_state="session",
        bind="query-params",
        help="Vectors of rare categories are learned from few rows and are noisy.",
    )
    try:
        result = nearest_neighbours(
            table,
            category,
            k=int(k),
            metric=metric,
            reliable_min_count=int(reliable_count),
            field=field_name,
            among=searched if across else None,
            include_unused=False,
        )
    except EmbeddingCoreError as exc:
        show_error(exc)
        return

    value_column = "similarity" if metric == "cosine" else "distance"
    other = "distance" if value_column == "similarity" else "similarity"
    result = result.drop(columns=[other], errors="ignore")
    query_row = table.loc[table["category"].astype(str) == category].iloc[0]
    query_count = int(query_row["count"])
    rate = query_row.get("target_mean", float("nan"))
    show = fmt.percent if run.roles.task == "binary" else fmt.number
    rate_text = "" if pd.isna(rate) else f", {target_label(run)} {show(float(rate))}"
    st.caption(
        f"{literal(fmt.category(category))}: seen {query_count:,} times in training{rate_text}."
    )
    if across:
        st.caption(
            f"Neighbours among {literal(label(among))}. DeepFM keeps every field's vectors in "
            "one space: its FM term multiplies each with the other fields' vectors, so two "
            "close vectors of different fields move the prediction alike with every other "
            "field. Closeness across fields is weaker evidence than within one field: the "
            "deep part reads each field in its own place."
        )
    if metric == "cosine":
        st.caption(
            "Similarity is the cosine of the angle between two vectors: 1 means the model "
            "treats the two categories alike, 0 unrelated, below 0 opposite. Neighbours below "
            "0 are not alike at all and are drawn pale."
        )
    else:
        st.caption("Distance between the vectors: smaller means the model treats them more alike.")
    if query_count < reliable_count:
        st.warning(
            f"{literal(category)} was seen only {query_count} times in training: its neighbours "
            "are a rough guess."
        )
    options = result["category"].astype(str).tolist()[:N_GOTO]
    goto_key = widget_key(Keys.NB_GOTO, f"{info.run_id}/{field_name}/{among}")
    if options and across:
        st.pills(
            f"Find the {literal(label(field_name))} neighbours of",
            options,
            format_func=lambda c: literal(fmt.category(c)),
            key=goto_key,
            on_change=_go_across,
            args=(info.run_id, field_name, among, goto_key),
            help=f"One click makes that category of {literal(among)} the query.",
        )
    elif options:
        st.pills(
            "Show the neighbours of",
            options,
            format_func=lambda c: literal(fmt.category(c)),
            key=goto_key,
            on_change=_go_to,
            args=(field_name, goto_key),
            help="One click makes that category the query.",
        )
    agreement = None  # across fields, the seed runs are not compared
    if not across:
        agreement = stability_panel(info, field_name, category, int(k), metric, int(reliable_count))
    if agreement is not None:
        votes, n_runs = agreement
        result = result.assign(
            **{"in runs": [f"{votes.get(c, 0)} of {n_runs}" for c in result["category"]]}
        )
    left, right = st.columns([1, 1])
    with left:
        rate = target_label(run)
        shown = result.rename(columns={"target_mean": rate})
        shown["category"] = [fmt.category(c) for c in shown["category"]]
        if run.roles.task == "binary":  # one decimal in every row ("10.0%", not "10%")
            shown[rate] = shown[rate] * 100
        n_opposite = int((shown[value_column] < 0).sum()) if value_column == "similarity" else 0
        # names are never cut off; short ones (bins, codes) leave room for the other columns
        longest = max((len(c) for c in shown["category"]), default=0)
        name_width = "large" if longest > SHORT_NAME else "medium"
        st.dataframe(
            shown,
            hide_index=True,
            column_config={
                "category": st.column_config.TextColumn("category", width=name_width),
                value_column: st.column_config.NumberColumn(format="%.3f"),
                "count": st.column_config.NumberColumn(format="localized"),  # 10,422
                rate: st.column_config.NumberColumn(  # wide enough for its header
                    format="%.1f%%" if run.roles.task == "binary" else "%.3g", width="medium"
                ),
                "reliable": st.column_config.CheckboxColumn(
                    "reliable", help=f"seen at least {reliable_count} times"
                ),
            },
        )
        n_unreliable = int((~result["reliable"].astype(bool)).sum()) if len(result) else 0
        if n_unreliable:
            many = f"{n_unreliable} of the neighbours are"
            said = "One of the neighbours is" if n_unreliable == 1 else many
            st.caption(
                f"{said} rare: seen fewer than {reliable_count} times, so less reliable (grey "
                "bars, and unticked in the table's *reliable* column)."
            )
        if n_opposite:
            st.caption(
                f"{n_opposite} of the neighbours have a negative similarity (pale bars): "
                f"fewer than {int(k)} categories point the same way as this one."
            )
    with right:
        st.plotly_chart(
            neighbours_figure(
                result,
                value_column=value_column,
                query=category,
                dark=st.context.theme.type == "dark",
            ),
        )


st.title("Neighbours")
run_info = require_run()
if run_info is not None:
    _page(run_info)
