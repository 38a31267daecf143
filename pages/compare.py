"""Compare page: what changed in one field between two stored runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from embedding_core import formatting as fmt
from embedding_core.analysis.compare import chance_note
from embedding_core.errors import EmbeddingCoreError
from ui.charts import movement_figure
from ui.literal import literal
from ui.run_labels import MODEL_NAMES, default_pair, time_first
from ui.runs import cached_run, show_view_link, stop_page, store, unique_labels
from ui.state import Keys
from ui.widgets import show_error

MAX_DRAWN = 300  # most frequent shared categories drawn on the projection


@st.cache_data(show_spinner="Aligning the two runs...", max_entries=16)
def _compare(a_id: str, b_id: str, field_name: str, k: int) -> tuple[pd.DataFrame, dict]:
    from embedding_core.analysis.compare import align_field, compare_runs
    from embedding_core.analysis.projection import project

    _, run_a = cached_run(a_id)
    _, run_b = cached_run(b_id)
    table = compare_runs(run_a, run_b, field_name, k=k)
    aligned = align_field(run_a, run_b, field_name)
    order = np.argsort(-(aligned.count_a + aligned.count_b), kind="stable")[:MAX_DRAWN]
    coords = project(np.vstack([aligned.a[order], aligned.b[order]]), "pca", 2)
    n = len(order)
    points = {
        "categories": [aligned.categories[i] for i in order],
        "before": coords[:n],
        "after": coords[n:],
        "counts": (aligned.count_a + aligned.count_b)[order],
        "attrs": dict(table.attrs),
    }
    return table, points


def _model(record) -> str:  # noqa: ANN001 - a RunRecord
    return str(record.config.get("model", "deepfm"))


def _label(record) -> str:  # noqa: ANN001 - a RunRecord
    """When first: a narrow picker cuts a long name, and the time tells runs apart; an
    entity network says so (its vectors compare only with runs of the same sizes)."""
    model = _model(record)
    kind = f" · {MODEL_NAMES.get(model, model)}" if model != "deepfm" else ""
    return time_first(record.name, record.created) + kind


st.title("Compare")
st.write(
    "What changed between two runs: last month's data and this month's, or a run and "
    "its fine-tuned copy. Run A is rotated onto run B (orthogonal Procrustes, fitted on "
    "the categories both know, weighted by count), so what remains is how the runs differ: "
    "a real change, or training noise (two seeds of the same data differ too; the "
    "Neighbours page's stability check shows by how much)."
)
records = {r.id: r for r in store().list() if r.ok}
if len(records) < 2:
    st.info("Compare needs two saved runs: train another one, or add one on the Runs page.")
    stop_page()
ids = list(records)
labels = unique_labels({i: _label(r) for i, r in records.items()})
pair = default_pair(list(records.values()))
for key, default in zip((Keys.COMPARE_A, Keys.COMPARE_B), pair, strict=True):
    if st.session_state.get(key) not in records:  # first visit, or a run deleted since
        st.session_state[key] = default
c1, c2 = st.columns(2)
with c1:
    a_id = st.selectbox(
        "Run A (before)",
        ids,
        format_func=labels.get,
        key=Keys.COMPARE_A,
        persist_state="session",
    )
with c2:
    b_id = st.selectbox(
        "Run B (after)",
        ids,
        format_func=labels.get,
        key=Keys.COMPARE_B,
        persist_state="session",
    )
show_view_link("compare", needs_run=False, a=a_id, b=b_id)  # the runs by id, not by label
shared = [f for f in records[a_id].fields if f in records[b_id].fields]
if a_id == b_id:
    st.info("Pick two different runs.")
elif not shared:
    st.warning("These two runs share no categorical field: pick runs trained on related data.")
elif _model(records[a_id]) != _model(records[b_id]):
    st.warning(
        "One run is an entity network and the other a DeepFM: an entity network sizes each "
        "field's vectors itself, so the two cannot be aligned. Pick two runs of the same model."
    )
else:
    c3, c4 = st.columns([3, 1])
    if st.session_state.get(Keys.COMPARE_FIELD) not in (None, *shared):
        del st.session_state[Keys.COMPARE_FIELD]  # a field the runs chosen now do not share
    with c3:
        field_name = st.selectbox(
            "Field",
            shared,
            key=Keys.COMPARE_FIELD,
            persist_state="session",
            bind="query-params",
        )
    with c4:
        k = int(
            st.number_input(
                "Neighbours (k)",
                1,
                50,
                10,
                key=Keys.COMPARE_K,
                persist_state="session",
                bind="query-params",
            )
        )
    try:
        table, points = _compare(a_id, b_id, field_name, k)
    except EmbeddingCoreError as exc:
        show_error(exc)
        stop_page()
    both = table.dropna(subset=["overlap"])
    if note := chance_note(points["attrs"]["k"], points["attrs"]["shared"]):
        st.warning(note, icon=":material/casino:")
    m1, m2, m3 = st.columns(3)
    m1.metric("Shared categories", f"{points['attrs']['shared']:,}")
    m2.metric(
        f"Neighbour overlap@{points['attrs']['k']}",
        f"{both['overlap'].mean():.0%}",
        delta=f"random vectors: {points['attrs']['chance']:.0%}",
        delta_color="off",
        delta_arrow="off",
        help="Share of each category's nearest neighbours that are the same in both runs, "
        "averaged over the shared categories. 100%: the field means the same in both; "
        "the figure under it is what two runs of random vectors would share.",
    )
    m3.metric("Only in A / only in B", f"{int((~table['in_b']).sum())} / "
              f"{int((~table['in_a']).sum())}")  # fmt: skip
    st.plotly_chart(
        movement_figure(
            points["categories"],
            np.asarray(points["before"]),
            np.asarray(points["after"]),
            np.asarray(points["counts"]),
            labels=(f"A: {records[a_id].name}", f"B: {records[b_id].name}"),
        )
    )
    st.caption(
        f"The {len(points['categories']):,} most frequent shared categories of "
        f"{literal(field_name)} on one PCA projection; lines join each category's place in A "
        "to its place in B."
    )
    st.subheader("Moved most (weighted by how often they occur)")
    st.caption(
        "Ranked by how far each category moved times its share of the rows: a frequent "
        "category that moved comes before a rare one that moved further."
    )
    moved = both.head(20)[["category", "count_a", "count_b", "share", "moved_relative", "overlap"]]
    st.dataframe(
        moved.assign(
            category=[fmt.category(c) for c in moved["category"]],
            share=100 * moved["share"],
            moved_relative=100 * moved["moved_relative"],
            overlap=moved["overlap"] * 100,
        )[["category", "count_a", "count_b", "share", "moved_relative", "overlap"]],
        hide_index=True,
        column_config={
            "count_a": st.column_config.NumberColumn("rows in A", format="localized"),
            "count_b": st.column_config.NumberColumn("rows in B", format="localized"),
            "share": st.column_config.NumberColumn(
                "share of rows", format="%.1f%%", help="Its rows in A and B, of all rows."
            ),
            "moved_relative": st.column_config.NumberColumn(
                "moved (% of a vector)",
                format="%.0f%%",
                help="How far the category's vector moved from A to B, as a share of a "
                "typical vector's length: 0% is the same place, 100% as far as a vector is "
                "long.",
            ),
            "overlap": st.column_config.NumberColumn(
                f"overlap@{points['attrs']['k']}", format="%.0f%%"
            ),
        },
    )
    st.download_button(
        "Download the comparison (CSV)",
        table.to_csv(index=False).encode("utf-8"),
        file_name=f"compare-{field_name}.csv".replace("/", "_"),
        mime="text/csv",
        key=Keys.COMPARE_CSV,
        on_click="ignore",  # no rerun: other download links stay valid
    )
    if records[b_id].compared_with != a_id:
        try:
            store().update(b_id, compared_with=a_id)
        except (OSError, EmbeddingCoreError):
            pass  # only a note in run.json
