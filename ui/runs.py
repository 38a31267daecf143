"""The run store and the URL, for the app: open stored runs, links, and reloads.

What is kept where:

- The run store (``embedding_core.model.store``, the folder ``./runs`` or
  ``$EMBEDDING_CORE_RUNS``) holds every trained run, its training data (unless the user
  unticks "store the data with the run") and uploaded CSVs (``.uploads/<sha256>``).
- The URL holds only handles: ``run=<id>`` (random, 96 bits), ``data=<sha256 of the
  upload>`` (or ``data=sample:<name>`` for a sample other than the run's or the default
  one), ``lift=<digest>``, ``scenarios=<digest>`` and, for a sample's changed roles,
  ``roles=<digest>`` (``ui.kept_json``), and on Explore and Neighbours ``field=`` /
  ``category=``.
  A link opened in a fresh browser, or F5, rebuilds the session from those: same data,
  same run, same view, with no retraining.
- The settings of the page on screen (projection, colour, k, distance, lift models...)
  are widgets bound to the URL (``bind="query-params"``, named by their key, left out
  while at their default), so F5 and a copied link keep them too (``setting_params``).
- Everything else lives in the session (``ui.state``) and is rebuilt from the above.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn
from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st

from embedding_core.data.roles import Roles
from embedding_core.data.samples import DEFAULT_SAMPLE
from embedding_core.errors import EmbeddingCoreError, ModelFormatError
from embedding_core.model.metrics import metric_label
from embedding_core.model.run import TrainedRun
from embedding_core.model.store import RunRecord, RunStore
from ui import state
from ui.literal import literal
from ui.run_labels import model_name
from ui.state import Keys, neighbour_category_key, widget_key

__all__ = [
    "store",
    "open_run",
    "cached_run",
    "restore_from_url",
    "remember_roles",
    "sync_url",
    "sync_handles",
    "drop_stale_view",
    "stop_page",
    "unique_labels",
    "show_view_link",
    "view_link",
    "PAGE_PARAM",
    "setting_params",
    "stored_note",
    "records_frame",
    "seed_group",
    "group_runs",
    "stability_table",
]

_log = logging.getLogger(__name__)
PAGE_PARAM = "page"
#: URL parameters that describe the current view of one page (set by that page):
#: Explore's and Neighbours' field and category, Compare's runs A and B.
VIEW_PARAMS = ("field", "category", "a", "b")
#: URL parameters naming what the session holds (``_url_state``).
HANDLES = ("run", "data", "roles", "lift", "scenarios")


def store() -> RunStore:
    """The app's run store (``$EMBEDDING_CORE_RUNS`` or ``./runs``)."""
    return RunStore()


@st.cache_resource(show_spinner=False, max_entries=16)
def _load(root: str, run_id: str, created: str) -> TrainedRun:
    # keyed by the store, the id and the creation time: ids are random and never reused
    return RunStore(root).open(run_id)


def cached_run(run_id: str) -> tuple[RunRecord, TrainedRun]:
    """(record, run) of a stored run, loaded once per server (runs are read-only).

    Raises
    ------
    ModelFormatError
        No such run, or it cannot be read.
    """
    runs = store()
    record = runs.record(run_id)
    if not record.ok:
        raise ModelFormatError(f"Run '{run_id}' cannot be opened: {record.error}.")
    return record, _load(str(runs.root), run_id, record.created)


def open_run(run_id: str, *, keep_data: str | None = None) -> state.RunInfo:
    """Make a stored run the session's current run (no retraining), with its data.

    The dataset becomes the one the run was trained on when it can be found: the
    bundled sample, the kept upload, or the data stored with the run. The chosen
    roles become the run's. ``keep_data``: the key of data a link chose; kept (and the
    roles with it) unless it is the run's own.
    """
    record, run = cached_run(run_id)
    info = state.set_run(
        run,
        dataset_label=record.dataset or record.name,
        dataset_key=record.dataset_key,
        n_rows=record.rows or 0,
        run_id=record.id,
        name=record.name,
        stored=True,
        created=record.created_ts,
    )
    if keep_data is not None and keep_data != record.dataset_key:
        return info  # the pages say the run was trained on other data
    dataset = _dataset_of(record)
    if dataset is not None:
        current = state.get_dataset()
        if current is None or current.key != dataset.key:
            state.set_dataset(dataset)
        state.set_roles(run.roles)
    return info


def _dataset_of(record: RunRecord) -> state.Dataset | None:
    from ui.datasets import sample_dataset, upload_dataset

    key = record.dataset_key
    try:
        if key.startswith("sample:"):
            return sample_dataset(key.split(":", 1)[1])
        if key.startswith("upload:"):
            kept = store().load_upload(key.split(":", 1)[1])
            if kept is not None:
                return upload_dataset(*kept)
        frame = store().data(record.id)
    except EmbeddingCoreError as exc:
        _log.warning("the data of run %s could not be read: %s", record.id, exc)
        return None
    if frame is None:
        return None
    return state.Dataset(
        key=key or f"run:{record.id}",
        label=record.dataset or record.name,
        frame=frame,
        suggested=None,
        source="upload",
    )


def _restore_dataset(handle: str) -> None:
    """The URL's ``data=``: an upload's digest, or ``sample:<name>``."""
    from ui.datasets import sample_dataset, upload_dataset

    if handle.startswith("sample:"):
        try:
            state.set_dataset(sample_dataset(handle.split(":", 1)[1]))
        except EmbeddingCoreError:
            state.set_link_error("The sample in this link is not bundled with this app.")
        return
    digest = handle

    kept = store().load_upload(digest)
    if kept is None:
        state.set_link_error(
            "The data in this link is no longer on the server: upload it again on the Data page."
        )
        return
    try:
        dataset = upload_dataset(*kept)
    except EmbeddingCoreError as exc:
        state.set_link_error(f"The data in this link could not be read again: {exc}")
        return
    state.set_dataset(dataset)
    confirmed = store().upload_roles(digest)
    if confirmed is not None:
        try:
            roles = Roles.from_dict(confirmed)
            known = {*roles.features, roles.target} <= set(map(str, dataset.frame.columns))
        except (TypeError, ValueError, KeyError):
            return
        if known:
            state.set_roles(roles)  # the Data page checks them again as it draws
            state.confirm_target(dataset)


def remember_roles() -> None:
    """Keep the roles confirmed for an upload next to it in the run store, so a reload
    (``?data=``) comes back to them instead of asking for the target again; for a
    bundled sample, roles other than its suggested ones go to ``ui.kept_json`` and the
    URL names them (``roles=``). The Data page calls it once the roles are valid and
    the target confirmed."""
    dataset, roles = state.get_dataset(), state.get_roles()
    if dataset is not None and roles is not None and dataset.key.startswith("sample:"):
        _keep_sample_roles(dataset, roles)
    if dataset is None or roles is None or not dataset.key.startswith("upload:"):
        return
    if not state.target_confirmed(dataset):
        return
    digest = dataset.key.split(":", 1)[1]
    if store().upload_roles(digest) != roles.to_dict():
        try:
            store().save_upload_roles(digest, roles.to_dict())
        except OSError as exc:
            _log.warning("keeping the roles of an upload failed: %s", exc)


_ROLES_DIR = ".roles"


def _same_columns(a: Roles, b: Roles) -> bool:
    return (a.target, a.categorical, a.numeric) == (b.target, b.categorical, b.numeric)


def _keep_sample_roles(dataset: state.Dataset, roles: Roles) -> None:
    """A sample's roles, when not its suggested ones, kept under a handle for the URL."""
    from ui.kept_json import keep_json

    handle = None
    if dataset.suggested is None or not _same_columns(roles, dataset.suggested):
        handle = keep_json(_ROLES_DIR, {"dataset": dataset.key, "roles": roles.to_dict()})
    st.session_state[Keys.ROLES_HANDLE] = (dataset.key, handle) if handle else None


def _roles_handle() -> str | None:
    """The URL's ``roles=``: only while the data it was kept for is loaded."""
    kept = st.session_state.get(Keys.ROLES_HANDLE)
    dataset = state.get_dataset()
    if kept is None or dataset is None or kept[0] != dataset.key:
        return None
    return kept[1]


def _restore_roles(handle: str) -> None:
    """The URL's ``roles=``: a sample's roles as the user chose them, if that sample is
    the data loaded now and has those columns."""
    from ui.kept_json import read_kept

    document = read_kept(_ROLES_DIR, handle)
    if not isinstance(document, dict):
        return
    if state.get_dataset() is None and str(document.get("dataset")).startswith("sample:"):
        _restore_dataset(str(document["dataset"]))  # the default sample's own: no data=
    dataset = state.get_dataset()
    if dataset is None or document.get("dataset") != dataset.key:
        return
    try:
        roles = Roles.from_dict(document["roles"])
    except (TypeError, ValueError, KeyError):
        return
    if {*roles.features, roles.target} <= set(map(str, dataset.frame.columns)):
        state.set_roles(roles)  # the Data page checks them again as it draws
        st.session_state[Keys.ROLES_HANDLE] = (dataset.key, handle)


def restore_from_url() -> str | None:
    """On a session's first run, rebuild it from the URL; returns the page to show.

    Reads ``data``, ``run``, ``roles``, ``lift``, ``scenarios``, ``field`` and ``category``; a run
    that cannot be opened leaves a plain message (``state.get_link_error``) instead of an
    error.
    """
    if state.url_restored():
        return None
    try:
        target = _restore(st.query_params.to_dict())
    except Exception:
        state.mark_url_restored()  # a failing link is not tried again at every rerun
        raise
    # Only now: a rerun that stops this first run half-way (Streamlit raises it at the
    # next st.* call, e.g. while the run opens) would otherwise lose the link's view.
    state.mark_url_restored()
    return target


def _restore(params: dict[str, str]) -> str | None:
    """Apply the URL's ``params`` to the session (``restore_from_url``)."""
    if params.get("data"):
        _restore_dataset(params["data"])
    chosen = state.get_dataset() if params.get("data") else None
    run_id = params.get("run")
    if run_id:
        try:
            info = open_run(run_id, keep_data=chosen.key if chosen is not None else None)
        except ModelFormatError as exc:
            state.set_link_error(str(exc))
        else:
            _apply_view(info, params.get("field"), params.get("category"))
    if params.get("roles"):
        _restore_roles(params["roles"])
    if params.get("lift"):
        from ui.lift_store import restore_lift

        restore_lift(params["lift"])
    if params.get("scenarios"):
        from ui.scenario_store import restore_scenarios

        restore_scenarios(params["scenarios"])
    _apply_compared(params.get("a"), params.get("b"))
    return params.get(PAGE_PARAM)


def _apply_compared(a_id: str | None, b_id: str | None) -> None:
    """Preset the Compare page's runs A and B to the link's (stored runs)."""
    for run_id, key in ((a_id, Keys.COMPARE_A), (b_id, Keys.COMPARE_B)):
        if not run_id:
            continue
        try:
            record = store().record(run_id)
        except ModelFormatError as exc:
            state.set_link_error(f"{exc} Compare shows the two newest runs instead.")
            continue
        if record.ok:
            st.session_state[key] = record.id
        else:
            state.set_link_error(f"Run '{record.id}' cannot be opened: {record.error}.")


def _apply_view(info: state.RunInfo, field_name: str | None, category: str | None) -> None:
    """Preset the Explore and Neighbours widgets to the link's field and category."""
    if not field_name:
        return
    if field_name not in info.run.fields and field_name not in info.run.binned_columns:
        state.set_link_error(
            f"The run has no field {field_name!r}; showing its first field instead."
        )
        return
    st.session_state[widget_key(Keys.EXPLORE_FIELD, info.run_id)] = field_name
    st.session_state[widget_key(Keys.NB_FIELD, info.run_id)] = field_name
    if category:
        names = set(info.run.embeddings(field_name)["category"].astype(str))
        if category in names:
            st.session_state[neighbour_category_key(field_name)] = category
        else:
            state.set_link_error(
                f"The run has no category {category!r} in {field_name!r}; showing the "
                "most frequent one instead."
            )


def _url_state() -> dict[str, str]:
    params: dict[str, str] = {}
    info = state.get_run_info()
    if info is not None and info.stored:
        params["run"] = info.run_id
    dataset = state.get_dataset()
    if dataset is not None and dataset.key.startswith("upload:"):
        params["data"] = dataset.key.split(":", 1)[1]
    elif dataset is not None and dataset.key.startswith("sample:"):
        # only when F5 would not load it anyway: the run's own data, or the default sample
        default = f"sample:{DEFAULT_SAMPLE}"
        if dataset.key != (info.dataset_key if info is not None else default):
            params["data"] = dataset.key
    from ui.lift_store import lift_handle
    from ui.scenario_store import scenarios_handle

    kept = (("roles", _roles_handle()), ("lift", lift_handle()), ("scenarios", scenarios_handle()))
    for key, handle in kept:
        if handle:
            params[key] = handle
    return params


def sync_url() -> None:
    """Write the session's handles into the URL (so F5 or a copied address restores it)
    and drop the one-off ``page``; at the start of a script run."""
    st.session_state[Keys.VIEW_SET] = set()  # filled by show_view_link
    sync_handles()


def sync_handles() -> None:
    """Write the session's handles into the URL (and drop the one-off ``page``): at the
    start of a script run, and again after the page, which may have kept something new
    (a sample's roles) with no rerun to follow."""
    wanted = _url_state()
    current = st.query_params.to_dict()
    for key in [PAGE_PARAM, *HANDLES]:
        if key in current and key not in wanted:
            del st.query_params[key]
    for key, value in wanted.items():
        if current.get(key) != value:
            st.query_params[key] = value


def drop_stale_view() -> None:
    """After the page: drop the view parameters it did not set (another page's, or a
    view it no longer shows). Never dropped and set again within one run: a run stopped
    half-way by the next click would leave the address without them."""
    kept = st.session_state.get(Keys.VIEW_SET, set())
    for key in VIEW_PARAMS:
        if key in st.query_params and key not in kept:
            del st.query_params[key]


def stop_page() -> NoReturn:
    """End the page here (``st.stop``), its view parameters settled first: ``app.py``
    drops another page's only after a page that runs to its end."""
    drop_stale_view()
    st.stop()


def unique_labels(labels: dict[str, str]) -> dict[str, str]:
    """Run labels by id, each one told apart: a label two runs share (same name, same
    minute) gets the start of the run's id. A picker matches a choice by its label, so
    twins could not be picked otherwise."""
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    return {i: f"{t} · {i[:6]}" if seen[t] > 1 else t for i, t in labels.items()}


def setting_params() -> list[tuple[str, str]]:
    """The page's widget settings the URL holds now (widgets bound to the URL), as pairs:
    a multiselect's choices are one pair each."""
    handles = {*VIEW_PARAMS, PAGE_PARAM, *HANDLES}
    return [
        (key, value)
        for key in st.query_params
        if key not in handles
        for value in st.query_params.get_all(key)
    ]


def view_link(page: str, **view: str) -> str:
    """The full URL of a page's current view (run, data, the given parameters and the
    page's settings)."""
    params = [
        *_url_state().items(),
        (PAGE_PARAM, page),
        *((k, v) for k, v in view.items() if v),
        *setting_params(),
    ]
    base = "http://localhost:8501/"
    url = getattr(st.context, "url", None)
    if url:
        parts = urlsplit(str(url))
        path = parts.path.rstrip("/")
        segments = path.split("/")
        if segments and segments[-1] in _PAGE_PATHS:
            path = "/".join(segments[:-1])
        base = f"{parts.scheme}://{parts.netloc}{path}/"
    return f"{base}?{urlencode(params)}"


_PAGE_PATHS = {
    "data",
    "train",
    "explore",
    "neighbours",
    "interactions",
    "lift",
    "whatif",
    "export",
    "runs",
    "compare",
}


def show_view_link(page: str, *, needs_run: bool = True, **view: str) -> None:
    """Put the view into the URL and offer "copy link to this view".

    Without a stored run there is nothing a link could reopen, and the page says so;
    ``needs_run=False``: the view names its stored runs itself (Compare).
    """
    info = state.get_run_info()
    kept = st.session_state.setdefault(Keys.VIEW_SET, set())
    for key, value in view.items():
        if value:
            kept.add(key)
            if st.query_params.get(key) != value:
                st.query_params[key] = value
    with st.popover("Copy link to this view", icon=":material/link:"):
        if needs_run and (info is None or not info.stored):
            st.caption(
                "This run is not in the run store, so a link could not reopen it. "
                + literal(info.save_error if info is not None else "")
            )
            return
        st.caption("Anyone who can reach this server opens exactly this view with it.")
        st.code(view_link(page, **view), language=None, wrap_lines=True)


def stored_note(info: state.RunInfo) -> None:
    """One line under a run's summary: where it was saved, or why it was not."""
    if info.save_error:
        st.warning(literal(f"{info.save_error} The run stays open in this session only."))
    elif info.stored:
        record = store().record(info.run_id)
        text = f"Saved in the run store as '{literal(info.name)}' (Runs page)."
        if not record.has_data:
            text += " Its data was not kept: reopened later, What-if and Lift need the data again."
        st.caption(text)


def seed_group(info: state.RunInfo) -> list[str]:
    """Ids of the run and of its seed siblings that can still be opened ([] outside the
    store). Siblings come from "check stability" or ``train --seeds``."""
    if not info.stored:
        return []
    try:
        record = store().record(info.run_id)
    except ModelFormatError:
        return []
    group = [info.run_id]
    for sibling in record.siblings:
        try:
            cached_run(sibling)
        except ModelFormatError:
            continue  # deleted meanwhile: fewer runs to compare
        group.append(sibling)
    return group


def group_runs(group: list[str]) -> list[TrainedRun]:
    """The loaded runs of a seed group (see ``seed_group``)."""
    return [cached_run(run_id)[1] for run_id in group]


@st.cache_data(show_spinner="Comparing the seeds...", max_entries=32)
def stability_table(
    group: tuple[str, ...], field_name: str, k: int, metric: str, rare: int
) -> pd.DataFrame:
    """``embedding_core.analysis.stability.stability`` of a stored seed group."""
    from embedding_core.analysis.stability import stability

    runs = group_runs(list(group))
    return stability(runs, field_name, k, metric=metric, reliable_min_count=rare)


def records_frame(records: list[RunRecord]) -> pd.DataFrame:
    """The Runs page's table: one row per readable run, newest first."""
    rows: list[dict[str, Any]] = []
    for r in records:
        if not r.ok:
            continue
        rows.append(
            {
                "name": r.name,
                "dataset": r.dataset,
                "rows": r.rows,
                "task": r.task,
                "model": model_name(r),
                "metric": metric_label(r.metric.removeprefix("valid_")),
                "value": r.metric_value,
                "fields": len(r.fields),
                "created": r.created.replace("T", " ").removesuffix("+00:00"),
                "size MB": r.size_bytes / 1e6,
                "seed of": r.sibling_of or "",
                "id": r.id,
            }
        )
    return pd.DataFrame(rows)
