"""Data page: pick a sample or upload a CSV, look at the columns, choose their roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from embedding_core.data.profile import (
    candidate_inputs,
    no_target_note,
    suggest_roles,
    target_guess,
)
from embedding_core.data.roles import TASKS, Roles
from embedding_core.errors import EmbeddingCoreError
from ui import state
from ui.datasets import (
    PROFILE_ROWS,
    SERVER_SAMPLE_ROWS,
    check_roles,
    leak_notes,
    profile_for,
    sample_dataset,
    sample_titles,
    server_dataset,
    server_tables,
    upload_dataset,
    with_normalised_target,
)
from ui.literal import literal
from ui.runs import remember_roles
from ui.state import Keys, widget_key
from ui.widgets import TRAIN_PAGE, show_error

if TYPE_CHECKING:  # pragma: no cover
    from streamlit.delta_generator import DeltaGenerator

AUTO_TASK = "auto"
PREVIEW_ROWS = 200
PROFILE_COLUMNS = [
    "column",
    "kind",
    "n_distinct",
    "missing_share",
    "examples",
    "suggested_role",
    "role_reason",
    "warning",
]


def _on_dataset_choice(key: str, load: Callable[[str], state.Dataset], retry: str) -> None:
    """Load the dataset picked in the select box ``key``; a refusal keeps the current one."""
    choice = st.session_state.get(key)
    if not choice:
        return
    try:
        state.set_dataset(load(choice))
    except EmbeddingCoreError as exc:  # drawn at the top of the page by Streamlit
        show_error(exc, retry)


def _server_section(dataset: state.Dataset | None) -> None:
    """A picker of the tables in the server's data folder (only when one is set)."""
    tables = server_tables()
    if tables is None:
        return
    current = dataset.label if dataset and dataset.source == "server" else None
    key = widget_key(Keys.SERVER_TABLE, dataset.key if dataset else "none")
    st.selectbox(
        "...or a table on the server (for files too big to upload)",
        tables,
        index=tables.index(current) if current in tables else None,
        placeholder="Pick a CSV or Parquet file, or a folder of shards"
        if tables
        else "The server's data folder has no CSV or Parquet file",
        key=key,
        on_change=_on_dataset_choice,
        args=(key, server_dataset, "Pick another table or upload a CSV."),
        help="Files and folders in the server's data folder (EMBEDDING_CORE_DATA_DIR). "
        f"The profile and suggestions use the first {SERVER_SAMPLE_ROWS:,} rows; "
        "training streams every row from disk.",
    )


def _source_section() -> None:
    dataset = state.get_dataset()
    titles = sample_titles()
    names = list(titles)
    current = dataset.key.split(":", 1)[1] if dataset and dataset.source == "sample" else None
    left, right = st.columns(2)
    with left:
        key = widget_key(Keys.SAMPLE, dataset.key if dataset else "none")
        st.selectbox(
            "Bundled sample",
            names,
            index=names.index(current) if current in names else None,
            format_func=lambda n: titles.get(n, n),
            placeholder="Pick a sample dataset",
            key=key,
            on_change=_on_dataset_choice,
            args=(key, sample_dataset, "Pick another sample or upload a CSV."),
            help="Small public datasets with sensible column roles already chosen.",
        )
    with right:
        uploaded = st.file_uploader(
            "...or upload a CSV",
            type=["csv", "tsv", "txt", "gz"],
            key=state.upload_key(),
            help="Comma, semicolon, tab or pipe separated; UTF-8 or Latin-1; may be gzipped.",
        )
        limit_mb = int(st.get_option("server.maxUploadSize"))
        bigger = (
            " Bigger tables: pick them from the server's data folder below."
            if server_tables() is not None
            else " Bigger tables: train with the CLI, or let the server's administrator "
            "set a data folder (EMBEDDING_CORE_DATA_DIR)."
        )
        st.caption(f"Uploads up to {limit_mb:,} MB (the server's limit).{bigger}")
    _server_section(dataset)
    if uploaded is not None:
        seen_id, _ = state.get_last_upload()
        if uploaded.file_id != seen_id:
            try:
                state.set_dataset(upload_dataset(uploaded.name, uploaded.getvalue()))
                state.set_last_upload(uploaded.file_id, None)
            except EmbeddingCoreError as exc:
                state.set_last_upload(uploaded.file_id, str(exc))
            else:
                state.upload_read()  # an empty uploader: its file is never copied again
                st.rerun()  # the sample box above was drawn for the old data: redraw it
        _, error = state.get_last_upload()
        if error:
            st.error(
                f"Could not use {literal(uploaded.name)}: {error} The dataset below is unchanged.",
                icon=":material/error:",
            )


def _profile_section(dataset: state.Dataset) -> None:
    frame = dataset.frame
    st.subheader(literal(dataset.label))
    if dataset.source == "server":
        total = f" of {dataset.total_rows:,}" if dataset.total_rows else ""
        st.caption(
            f"A table on the server: the preview, profile and suggested roles use its first "
            f"{len(frame):,}{total} rows; training reads every row from disk."
        )
    else:
        sampled = (
            f"; the profile and the suggested roles use {PROFILE_ROWS:,} of its rows, "
            "picked at random (the checks and training use every row)"
            if len(frame) > PROFILE_ROWS
            else ""
        )
        rows, cols = len(frame), frame.shape[1]
        st.caption(f"{rows:,} row{'s' * (rows != 1)} x {cols:,} column{'s' * (cols != 1)}{sampled}")
    for note in frame.attrs.get("notes", []):  # what the reader did: decimal commas read...
        st.info(literal(note), icon="ℹ️")
    with st.expander(f"Preview (first {min(PREVIEW_ROWS, len(frame))} rows)", expanded=False):
        st.dataframe(frame.head(PREVIEW_ROWS), hide_index=True)
    try:
        profile = profile_for(dataset.key, frame)
    except EmbeddingCoreError as exc:
        show_error(exc)
        return
    shown = [c for c in PROFILE_COLUMNS if c in profile.columns]
    st.dataframe(
        profile,
        hide_index=True,
        column_order=shown,
        column_config={
            "column": "Column",
            "kind": "Type",
            "n_distinct": st.column_config.NumberColumn("Distinct values", format="%d"),
            "missing_share": st.column_config.ProgressColumn(
                "Missing", min_value=0.0, max_value=1.0, format="percent"
            ),
            "examples": "Examples",
            "suggested_role": "Suggested role",
            "role_reason": st.column_config.TextColumn("Why", width="large"),  # not cut
            "warning": st.column_config.TextColumn("Warning", width="medium"),
        },
    )
    warned = profile[profile["warning"].astype(str).str.len() > 0]
    for column, warning in zip(warned["column"], warned["warning"], strict=True):
        st.warning(f"**{literal(column)}**: {literal(warning)}")


def _on_target_change(dataset: state.Dataset, keys: dict[str, str]) -> None:
    """A new target: it counts as seen, and the other columns get their suggested roles."""
    state.confirm_target(dataset)
    target = st.session_state.get(keys["target"])
    if target is None:
        return
    roles = suggest_roles(dataset.frame, profile_for(dataset.key, dataset.frame), target)
    st.session_state[keys["categorical"]] = list(roles.categorical) if roles else []
    st.session_state[keys["numeric"]] = list(roles.numeric) if roles else []


def _default(key: str, chosen: tuple[str, ...], columns: list[str]) -> list[str] | None:
    """A role multiselect's default: None once ``_on_target_change`` has set its value
    (Streamlit warns about a widget given both)."""
    if key in st.session_state:
        return None
    return [c for c in chosen if c in columns]


def _target_note(dataset: state.Dataset, target: str | None) -> bool:
    """Why the target was suggested and, for an upload, the confirm step.

    Returns whether the user has seen and kept the target (always True for samples).
    """
    if dataset.source == "sample":
        return True
    profile = profile_for(dataset.key, dataset.frame)
    guess = target_guess(profile)
    if guess is None:
        st.caption(literal(no_target_note(profile)))
    else:
        st.caption(f"Suggested: **{literal(guess[0])}** ({literal(guess[1])}).")
    if state.target_confirmed(dataset):
        return True
    if target is not None and st.button(
        f"Predict {literal(target)}", type="primary", key=widget_key(Keys.ROLE_CONFIRM, dataset.key)
    ):
        state.confirm_target(dataset)
        return True
    return False


def _roles_section(dataset: state.Dataset) -> None:
    frame = dataset.frame
    columns = [str(c) for c in frame.columns]
    chosen = state.get_roles_choice() or dataset.suggested
    scope = dataset.key
    keys = {
        "target": widget_key(Keys.ROLE_TARGET, scope),
        "categorical": widget_key(Keys.ROLE_CATEGORICAL, scope),
        "numeric": widget_key(Keys.ROLE_NUMERIC, scope),
    }
    st.subheader("What do you want to predict?")
    if len(columns) < 2:  # nothing to choose: say so, not "choose a categorical column"
        note = no_target_note(profile_for(dataset.key, frame))
        st.error(literal(note), icon=":material/error:")
        state.set_roles(None, note)
        return
    left, right = st.columns(2)
    with left:
        target = st.selectbox(
            "Target (what the model predicts)",
            columns,
            index=columns.index(chosen.target) if chosen and chosen.target in columns else None,
            placeholder="Choose the target column",
            key=keys["target"],
            persist_state="session",
            on_change=_on_target_change,
            args=(dataset, keys),
        )
        confirmed = _target_note(dataset, target)
    with right:
        task_options = [AUTO_TASK, *TASKS]
        default_task = chosen.task if chosen and chosen.task in TASKS else AUTO_TASK
        task = st.selectbox(
            "Task",
            task_options,
            index=task_options.index(default_task),
            format_func=lambda t: "detect from the target" if t == AUTO_TASK else t,
            key=widget_key(Keys.ROLE_TASK, scope),
            persist_state="session",
            help="binary: two classes; regression: a number; multiclass: a few labels.",
        )
    st.subheader("Inputs")
    st.caption(
        "Each categorical column gets its own table of learned vectors (embeddings). "
        "Numeric columns are optional extra inputs."
    )
    left, right = st.columns(2)
    with left:
        categorical = st.multiselect(
            "Categorical columns (learn an embedding for each)",
            columns,
            default=_default(keys["categorical"], chosen.categorical if chosen else (), columns),
            key=keys["categorical"],
            persist_state="session",
        )
    with right:
        numeric = st.multiselect(
            "Numeric columns (optional)",
            columns,
            default=_default(keys["numeric"], chosen.numeric if chosen else (), columns),
            key=keys["numeric"],
            persist_state="session",
        )

    if target is None:
        st.error("Choose a target column: the value the model should learn to predict.")
        state.set_roles(None, "No target chosen.")
        return
    roles = Roles(
        categorical=tuple(categorical),
        target=target,
        numeric=tuple(numeric),
        task=None if task == AUTO_TASK else task,
    )
    check = check_roles(dataset.key, roles.to_dict(), frame)
    if not check["ok"]:
        st.error(literal(check["error"]), icon=":material/error:")
        state.set_roles(roles, check["error"])
        return
    if not confirmed:
        st.info("Check the target above and confirm it: then the model can be trained.")
        state.set_roles(roles, "Confirm the target on the Data page.")
        return
    resolved = Roles.from_dict(check["roles"])
    state.set_roles(resolved, None)
    remember_roles()  # a reload of this upload comes back to them, confirmed
    for warning in check["warnings"]:
        st.warning(literal(warning))
    leaks = st.container()  # filled once the page is usable: it reads every column again
    if check["spelling_note"]:
        if st.button("Merge the target classes that differ only in capitals or spaces"):
            merged = with_normalised_target(dataset, resolved)
            state.set_dataset(merged)
            state.confirm_target(merged)
            st.rerun()
    rows = f"{check['rows']:,} rows"
    if dataset.source == "server":
        rows = f"every row (checked on the first {check['rows']:,})"
    st.success(
        f"Ready to train: {rows}, {len(resolved.categorical)} categorical and "
        f"{len(resolved.numeric)} numeric columns, task **{resolved.task}**."
    )
    st.page_link(TRAIN_PAGE, label="Next: Train", icon=":material/arrow_forward:")
    _leak_notes(dataset, resolved, leaks)


def _leak_notes(dataset: state.Dataset, roles: Roles, slot: DeltaGenerator) -> None:
    """In ``slot``: a warning for each chosen input that alone gives the target away, and
    a note for each the suggestion left out for that reason."""
    suggested = set(candidate_inputs(profile_for(dataset.key, dataset.frame), roles.target))
    inputs = {*roles.categorical, *roles.numeric}
    for column, why in leak_notes(
        dataset.key, roles.target, str(roles.task), dataset.frame
    ).items():
        if column in inputs:
            slot.warning(literal(why), icon=":material/warning:")
        elif column in suggested:
            slot.info(f"Left out of the inputs. {literal(why)}", icon=":material/block:")


st.title("Data")
_source_section()
current = state.get_dataset()
if current is None:
    st.info("Pick a sample or upload a CSV to begin.")
else:
    _profile_section(current)
    _roles_section(current)
