"""Runs page: the run store. List, open, rename, delete, download and upload saved runs."""

from __future__ import annotations

import streamlit as st

from embedding_core.errors import EmbeddingCoreError
from embedding_core.model.store import RunRecord
from ui import state
from ui.literal import literal
from ui.runs import open_run, records_frame, store
from ui.state import Keys
from ui.widgets import EXPLORE_PAGE, show_error


def _label(record: RunRecord) -> str:
    created = record.created.replace("T", " ")[:16]
    return f"{record.name}  ({record.dataset or 'unknown data'}, {created})"


def _open(run_id: str) -> None:
    try:
        open_run(run_id)
    except EmbeddingCoreError as exc:
        show_error(exc)
        return
    st.switch_page(EXPLORE_PAGE)


def _actions(record: RunRecord) -> None:
    runs = store()
    current = state.get_run_info()
    is_current = current is not None and current.stored and current.run_id == record.id
    c1, c2, c3 = st.columns([1, 1, 2])
    with c1:
        if st.button(
            "Open", type="primary", key=f"{Keys.RUNS_OPEN}_{record.id}", disabled=is_current
        ):
            _open(record.id)
        if is_current:
            st.caption("This is the current run.")
    with c2:
        st.download_button(
            "Download zip",
            lambda: runs.zip_bytes(record.id),
            file_name=f"run-{record.id}.zip",
            mime="application/zip",
            key=f"{Keys.RUNS_ZIP}_{record.id}",
            on_click="ignore",
        )
    with c3:
        with st.popover("Rename"):
            new_name = st.text_input("New name", record.name, key=f"{Keys.RUNS_NAME}_{record.id}")
            if st.button("Save name", key=f"{Keys.RUNS_RENAME}_{record.id}"):
                try:
                    runs.rename(record.id, new_name)
                except EmbeddingCoreError as exc:
                    show_error(exc)
                else:
                    if is_current and current is not None:
                        current.name = " ".join(new_name.split())
                    st.rerun()
        with st.popover("Delete"):
            st.write("Delete this run and its files? Links to it will stop working.")
            sure = st.checkbox("Yes, delete it", key=f"{Keys.RUNS_CONFIRM}_{record.id}")
            if st.button("Delete run", disabled=not sure, key=f"{Keys.RUNS_DELETE}_{record.id}"):
                runs.delete(record.id)
                if is_current:
                    state.clear_run()
                st.rerun()
    details = [f"id `{record.id}`"]
    if record.sibling_of:
        details.append(f"seed {record.seed}, sibling of {literal(record.sibling_of)}")
    if record.siblings:
        details.append(f"{len(record.siblings)} seed siblings (stability checked)")
    if record.initialised_from:
        details.append(f"initialised from {literal(record.initialised_from)}")
    if not record.has_data:
        details.append("stored without its data (What-if and Lift need the data again)")
    st.caption("; ".join(details) + ".")  # ids are hex; names are shown in widgets only


def _upload() -> None:
    upload = st.file_uploader(
        "Add a saved run (a zip from this page or of a `train --out` folder)",
        type=["zip"],
        key=Keys.RUNS_UPLOAD,
    )
    if upload is None:
        return
    marker = f"{Keys.RUNS_IMPORTED}_{upload.file_id}"
    if marker in st.session_state:
        st.success(st.session_state[marker])
        return
    try:
        record = store().import_zip(upload.getvalue(), name=upload.name.removesuffix(".zip"))
    except EmbeddingCoreError as exc:
        show_error(exc, "Nothing was added.")
        return
    st.session_state[marker] = f"Added the run '{literal(record.name)}' ({record.id})."
    st.rerun()


st.title("Runs")
runs_store = store()
records = runs_store.list()
readable = [r for r in records if r.ok]
st.caption(
    f"Every run trained in this app, and every run the CLI writes into the run store "
    f"({literal(runs_store.root.resolve())}), newest first. Opening one needs no retraining."
)
if not readable:
    st.info("No saved runs yet: train one on the Train page, or add a saved-run zip below.")
else:
    st.dataframe(
        records_frame(readable),
        hide_index=True,
        column_config={
            "value": st.column_config.NumberColumn(format="%.3f"),
            "size MB": st.column_config.NumberColumn(format="%.1f"),
            "rows": st.column_config.NumberColumn(format="localized"),
        },
    )
    by_id = {r.id: r for r in readable}
    if st.session_state.get(Keys.RUNS_CHOICE) not in by_id:  # deleted since
        st.session_state.pop(Keys.RUNS_CHOICE, None)
    chosen = st.selectbox(
        "Run",
        list(by_id),
        format_func=lambda i: _label(by_id[i]),
        key=Keys.RUNS_CHOICE,
        persist_state="session",  # kept while the user looks at another page
    )
    if chosen is not None:
        _actions(by_id[chosen])
broken = [r for r in records if not r.ok]
if broken:
    with st.expander(f"{len(broken)} folders in the store are not readable runs"):
        st.dataframe(
            {"folder": [r.id for r in broken], "reason": [r.error for r in broken]},
            hide_index=True,
        )
_upload()
