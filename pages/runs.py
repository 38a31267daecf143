"""Runs page: the run store. List, open, rename, delete, download and upload saved runs."""

from __future__ import annotations

import streamlit as st

from embedding_core.errors import EmbeddingCoreError
from embedding_core.model.store import RunRecord
from ui import state
from ui.literal import literal
from ui.run_labels import zip_file_name, zip_run_name
from ui.runs import open_run, records_frame, store, unique_labels
from ui.state import Keys
from ui.widgets import EXPLORE_PAGE, show_error


def _label(record: RunRecord) -> str:
    """The run's name, then its data and time unless the name says them already."""
    created = record.created.replace("T", " ")[:16]
    extra = [x for x in (record.dataset or "unknown data", created) if x not in record.name]
    return f"{record.name}  ({', '.join(extra)})" if extra else record.name


def _open(run_id: str) -> None:
    try:
        open_run(run_id)
    except EmbeddingCoreError as exc:
        show_error(exc)
        return
    st.switch_page(EXPLORE_PAGE)


def _is_current(run_id: str) -> bool:
    current = state.get_run_info()
    return current is not None and current.stored and current.run_id == run_id


def _rename(run_id: str) -> None:
    """Save name's callback: before the page is drawn, so the picker shows the new name."""
    name = st.session_state.get(f"{Keys.RUNS_NAME}_{run_id}", "")
    try:
        record = store().rename(run_id, name)
    except EmbeddingCoreError as exc:
        st.session_state[Keys.RUNS_NOTICE] = ("error", str(exc))
        return
    if _is_current(run_id):
        state.get_run_info().name = record.name
    st.session_state[Keys.RUNS_CHOICE] = run_id  # set again: the picker redraws its label
    st.session_state[Keys.RUNS_NOTICE] = ("success", f"Renamed the run to '{record.name}'.")


def _delete(run_id: str, name: str) -> None:
    """Delete run's callback: the picker then moves to the current run, or the newest."""
    try:
        store().delete(run_id)
    except OSError as exc:
        st.session_state[Keys.RUNS_NOTICE] = ("error", f"Could not delete the run: {exc}.")
        return
    if _is_current(run_id):
        state.clear_run()
    # set, not dropped: a dropped choice leaves the deleted run's name in the picker
    st.session_state[Keys.RUNS_CHOICE] = _default_choice([r.id for r in store().list() if r.ok])
    st.session_state[Keys.RUNS_NOTICE] = ("success", f"Deleted the run '{name}'.")


def _default_choice(ids: list[str]) -> str | None:
    """The current run (the one the URL names) if it is stored, else the newest."""
    current = state.get_run_info()
    if current is not None and current.stored and current.run_id in ids:
        return current.run_id
    return ids[0] if ids else None


def _actions(record: RunRecord) -> None:
    runs = store()
    is_current = _is_current(record.id)
    c1, c2, c3, c4 = st.columns(4)  # one row of actions (Delete wrapped under Rename)
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
            file_name=zip_file_name(record),
            mime="application/zip",
            key=f"{Keys.RUNS_ZIP}_{record.id}",
            on_click="ignore",
        )
    with c3:
        with st.popover("Rename"):
            st.text_input("New name", record.name, key=f"{Keys.RUNS_NAME}_{record.id}")
            st.button(
                "Save name",
                key=f"{Keys.RUNS_RENAME}_{record.id}",
                on_click=_rename,
                args=(record.id,),
            )
    with c4:
        with st.popover("Delete"):
            st.write("Delete this run and its files? Links to it will stop working.")
            sure = st.checkbox("Yes, delete it", key=f"{Keys.RUNS_CONFIRM}_{record.id}")
            st.button(
                "Delete run",
                disabled=not sure,
                key=f"{Keys.RUNS_DELETE}_{record.id}",
                on_click=_delete,
                args=(record.id, record.name),
            )
    details = [f"id `{record.id}`"]
    if record.sibling_of:
        details.append(f"seed {record.seed}, sibling of {literal(record.sibling_of)}")
    if record.siblings:
        details.append(f"{len(record.siblings)} seed siblings (stability checked)")
    if record.initialised_from:
        source = store().record_at(record.initialised_from)  # a run of this store: its name
        shown = f"the run '{source.name}'" if source else record.initialised_from
        details.append(f"initialised from {literal(shown)}")
    if not record.has_data:
        details.append("stored without its data (What-if and Lift need the data again)")
    st.caption("; ".join(details) + ".")  # ids are hex; names are shown in widgets only


def _import() -> None:
    """The uploader's callback: add the zip, then point the picker at the new run (before
    the page is drawn, like rename and delete)."""
    upload = st.session_state.get(Keys.RUNS_UPLOAD)
    if upload is None:  # the file was taken out of the box
        st.session_state.pop(Keys.RUNS_IMPORTED, None)
        return
    try:
        # the run's own name (its run.json) first: a file name is only a fallback
        record = store().import_zip(upload.getvalue(), default_name=zip_run_name(upload.name))
    except EmbeddingCoreError as exc:
        st.session_state[Keys.RUNS_IMPORTED] = ("error", f"{exc} Nothing was added.")
        return
    st.session_state[Keys.RUNS_CHOICE] = record.id
    data = f"trained on {record.dataset}" if record.dataset else "its training data is not named"
    try:
        twins = [r.name for r in store().copies(record.id)]
    except EmbeddingCoreError:
        twins = []
    again = (
        f" The store already held it (as '{twins[0]}'): delete one if you need only one."
        if twins
        else ""
    )
    st.session_state[Keys.RUNS_IMPORTED] = (
        "warning" if twins else "success",
        f"Added the run '{record.name}' ({data}); it is chosen above: Open it to explore it."
        + again,
    )


def _upload() -> None:
    st.file_uploader(
        "Add a saved run (a zip from this page or of a `train --out` folder)",
        type=["zip"],
        key=Keys.RUNS_UPLOAD,
        on_change=_import,
    )
    if notice := st.session_state.get(Keys.RUNS_IMPORTED):
        kind, text = notice
        {"error": st.error, "warning": st.warning}.get(kind, st.success)(literal(text))


st.title("Runs")
if notice := st.session_state.pop(Keys.RUNS_NOTICE, None):
    kind, text = notice
    (st.error if kind == "error" else st.success)(literal(text))
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
        column_config={  # names and data narrow: the figures stay in view at 1280 px
            "name": st.column_config.TextColumn(width="medium"),
            "dataset": st.column_config.TextColumn(width="small"),
            "value": st.column_config.NumberColumn(format="%.3f"),
            "size MB": st.column_config.NumberColumn(format="%.1f"),
            "rows": st.column_config.NumberColumn(format="localized"),
        },
    )
    by_id = {r.id: r for r in readable}
    labels = unique_labels({i: _label(r) for i, r in by_id.items()})
    if st.session_state.get(Keys.RUNS_CHOICE) not in by_id:  # first visit, or deleted since
        st.session_state[Keys.RUNS_CHOICE] = _default_choice(list(by_id))
    chosen = st.selectbox(
        "Run",
        list(by_id),
        format_func=labels.get,
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
