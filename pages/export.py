"""Export page: take the embeddings and the model out of the app."""

from __future__ import annotations

import streamlit as st

from embedding_core.errors import EmbeddingCoreError
from ui import state
from ui.export_data import (
    about,
    csv_zip_bytes,
    embedded_rows_csv,
    file_prefix,
    parquet_bytes,
    projector_files,
    projector_zip_bytes,
    report_html,
    saved_run_zip,
    sklearn_snippet,
    slug,
)
from ui.literal import literal
from ui.state import Keys, widget_key
from ui.widgets import require_run, show_error


def _projector(info: state.RunInfo) -> None:
    st.subheader("Embedding Projector (TSV)")
    st.caption(
        "Load a field's two files at projector.tensorflow.org (Load -> vectors, then "
        "metadata) to explore its vectors in 3D, or unzip all fields into a folder and run "
        "`tensorboard --logdir FOLDER` (the zip holds projector_config.pbtxt)."
    )
    try:
        st.download_button(
            "All fields (zip of TSV files)",
            projector_zip_bytes(info.run_id, info.run),
            file_name=f"{file_prefix(info)}_projector.zip",
            mime="application/zip",
            key=Keys.DL_PROJECTOR_ZIP,
            on_click="ignore",  # no rerun: other download links stay valid
        )
        for field_name in info.run.fields:
            vectors, metadata = projector_files(info.run_id, field_name, info.run)
            label, left, right, _ = st.columns([2, 1, 1, 3])
            left.download_button(
                "vectors.tsv",
                vectors,
                file_name=f"{file_prefix(info)}_{slug(field_name)}_vectors.tsv",
                mime="text/tab-separated-values",
                key=widget_key(Keys.DL_VECTORS, field_name),
                on_click="ignore",  # no rerun: other download links stay valid
            )
            right.download_button(
                "metadata.tsv",
                metadata,
                file_name=f"{file_prefix(info)}_{slug(field_name)}_metadata.tsv",
                mime="text/tab-separated-values",
                key=widget_key(Keys.DL_METADATA, field_name),
                on_click="ignore",  # no rerun: other download links stay valid
            )
            label.write(literal(field_name))
    except EmbeddingCoreError as exc:
        show_error(exc)


def _tables_and_model(info: state.RunInfo) -> None:
    left, right = st.columns(2)
    with left:
        st.subheader("All embedding tables (Parquet)")
        st.caption("One row per category with a `field` column, counts, target rate, vectors.")
        try:
            st.download_button(
                "embeddings.parquet",
                parquet_bytes(info.run_id, info.run),
                file_name=f"{file_prefix(info)}_embeddings.parquet",
                mime="application/octet-stream",
                key=Keys.DL_PARQUET,
                on_click="ignore",  # no rerun: other download links stay valid
            )
        except EmbeddingCoreError as exc:
            show_error(exc)
    with right:
        st.subheader("Saved run (zip)")
        st.caption(
            "The Keras model (.keras), "
            + (
                "the early-stopped weights its predictions are averaged with (.npz), "
                if info.run.averages_early
                else ""
            )
            + "the encoders and the metadata; load it back with `TrainedRun.load(folder)` "
            "or the command line."
        )
        try:
            st.download_button(
                "trained_run.zip",
                saved_run_zip(info.run_id, info.run, file_prefix(info), info),
                file_name=f"{file_prefix(info)}.zip",
                mime="application/zip",
                key=Keys.DL_RUN,
                on_click="ignore",  # no rerun: other download links stay valid
            )
        except EmbeddingCoreError as exc:
            show_error(exc, "The other downloads still work.")


def _sklearn(info: state.RunInfo) -> None:
    st.subheader("Use the vectors in scikit-learn")
    st.caption(
        "The entity-embedding workflow: this run's vectors as features of another model, "
        'next to numeric columns (`EmbeddingLookupEncoder`; README, "Entity embeddings in '
        'another model").'
    )
    st.code(sklearn_snippet(info), language="python")


def _report_and_csv(info: state.RunInfo) -> None:
    left, right = st.columns(2)
    lift = state.get_lift_result()
    source = state.get_lift_data()
    other_data = lift is not None and source is not None and source["key"] != info.dataset_key
    if other_data:
        lift = None  # measured on other data: not this run's report
    with left:
        st.subheader("Report (one HTML file)")
        st.caption(
            "Metrics, a map of every field, the nearest neighbours of frequent categories, "
            "the interaction map"
            + (" and the lift results" if lift is not None else "")
            + ": one file that opens in any browser, offline (e.g. from an e-mail)."
            + (" The lift results are for other data, so they are left out." if other_data else "")
        )
        try:
            lift_json = lift.to_json_dict() if lift is not None else None
            st.download_button(
                "report.html",
                report_html(
                    info.run_id, str(id(lift)) if lift else "", info.run, lift_json, about(info)
                ),
                file_name=f"{file_prefix(info)}_report.html",
                mime="text/html",
                key=Keys.DL_REPORT,
            )
        except EmbeddingCoreError as exc:
            show_error(exc, "The other downloads still work.")
    with right:
        st.subheader("Tables as CSV (zip)")
        st.caption(
            "One CSV per field for spreadsheets; names starting with = + - @ are "
            "prefixed with ' so they are never run as formulas."
        )
        try:
            st.download_button(
                "embeddings_csv.zip",
                csv_zip_bytes(info.run_id, info.run),
                file_name=f"{file_prefix(info)}_csv.zip",
                mime="application/zip",
                key=Keys.DL_CSV_ZIP,
            )
        except EmbeddingCoreError as exc:
            show_error(exc, "The other downloads still work.")


def _embedded_rows(info: state.RunInfo) -> None:
    st.subheader("Rows with their embeddings (CSV)")
    dataset = state.get_dataset()
    if dataset is None:
        st.info("Load data on the Data page to embed its rows.")
        return
    needed = [c for c in info.run.roles.features if c not in dataset.frame.columns]
    if needed:
        st.info(
            f"The current data ({literal(dataset.label)}) lacks columns the run needs: "
            + ", ".join(literal(c) for c in needed)
        )
        return
    same = dataset.key == info.dataset_key
    st.caption(
        f"Each categorical column of {literal(dataset.label)} replaced by its vector "
        f"(`<column>_emb_0..k-1`); {len(dataset.frame):,} rows."
        + ("" if same else " (Not the data the run was trained on, but it has the columns.)")
    )
    for chosen in info.run.embedding_names(dataset.frame.columns).values():
        if (note := chosen.note()) is not None:  # the user's own column is kept
            st.info(literal(note))
    # built on click, in Streamlit's download thread: large files never block the page
    st.download_button(
        "embedded_rows.csv",
        embedded_rows_csv(info.run, dataset.frame),
        # named after the run (and the data, when not its own): runs' files stay apart
        file_name=f"{file_prefix(info)}{'' if same else '_' + slug(dataset.label)}_embedded.csv",
        mime="text/csv",
        key=Keys.DL_EMBEDDED,
        on_click="ignore",  # no rerun: other download links stay valid
    )


st.title("Export")
run_info = require_run()
if run_info is not None:  # require_run's header names the run
    _projector(run_info)
    _tables_and_model(run_info)
    _sklearn(run_info)
    _report_and_csv(run_info)
    _embedded_rows(run_info)
