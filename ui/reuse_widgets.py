"""Train page pieces of the reuse workflow: model type and sizes, starting from an earlier
run's embeddings, and the side-by-side with the same model trained from scratch."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pandas as pd
import streamlit as st

from embedding_core.errors import EmbeddingCoreError
from embedding_core.model.config import TrainConfig
from embedding_core.model.metrics import metric_label
from embedding_core.model.store import RunRecord
from ui import state
from ui.job_progress import live_progress
from ui.literal import literal
from ui.run_labels import time_first
from ui.runs import store
from ui.state import Keys
from ui.widgets import show_error

__all__ = [
    "model_settings",
    "init_settings",
    "init_caption",
    "scratch_comparison",
    "scratch_verdict",
]

MODELS = {"deepfm": "DeepFM", "entity": "Entity embeddings"}
UPLOAD = "upload"
FREEZE = {False: "Fine-tune them", True: "Freeze them"}
SCRATCH_MODES = {"fast": "Fast (1 seed)", "thorough": "Thorough (3 seeds, mean ± spread)"}


@st.cache_data(show_spinner=False, max_entries=32)
def _planned_sizes(
    dataset_key: str,
    categorical: tuple[str, ...],
    min_count: int,
    overrides: tuple[tuple[str, int], ...],
    _frame: pd.DataFrame,
) -> dict[str, int]:
    from embedding_core.model.sizes import planned_embedding_dims

    return planned_embedding_dims(_frame, categorical, min_count, dict(overrides))


def model_settings(
    dataset: state.Dataset, categorical: tuple[str, ...], config: TrainConfig, start: TrainConfig
) -> dict[str, Any] | None:
    """The model choice (DeepFM or entity) and, for entity, the sizes it will use;
    ``start`` gives their first values (both are bound to the URL, like the Train page's
    settings).

    Returns the config changes, or None when the size overrides cannot be used (an error
    is shown).
    """
    model = st.radio(
        "Model",
        list(MODELS),
        index=list(MODELS).index(start.model),
        format_func=MODELS.get,
        horizontal=True,
        key=Keys.CFG_MODEL,
        bind="query-params",
        help="DeepFM learns vectors that also explain pairwise field interactions; an "
        "entity-embedding network (Guo & Berkhahn 2016) gives every field a vector size "
        "of its own.",
    )
    if model != "entity":
        return {"model": "deepfm", "embedding_dims": None}
    st.caption(
        "DeepFM needs one shared vector size because its FM term takes dot products between "
        "the vectors of different fields; an entity network only concatenates them, so each "
        "field gets min(50, ceil(categories / 2)) dimensions unless you set another size."
    )
    current = ", ".join(f"{k}={v}" for k, v in (start.embedding_dims or {}).items())
    text = st.text_input(
        "Sizes to override (optional)",
        value=current,
        placeholder="job=12, month=4",
        key=Keys.CFG_DIMS,
        bind="query-params",
    )
    overrides: dict[str, int] = {}
    try:
        if text.strip():
            from embedding_core.model.sizes import parse_embedding_dims

            overrides = parse_embedding_dims(text)
        sizes = _planned_sizes(
            dataset.key,
            tuple(categorical),
            config.min_count,
            tuple(sorted(overrides.items())),
            dataset.frame,
        )
    except EmbeddingCoreError as exc:
        show_error(exc, "Fix the sizes to train.")
        return None
    st.dataframe(
        pd.DataFrame({"field": list(sizes), "vector size": list(sizes.values())}),
        hide_index=True,
    )
    st.caption(
        "Counted on all rows; training counts categories on its training split, so a "
        "field can come out one smaller."
    )
    return {"model": "entity", "embedding_dims": overrides or None}


def _sizes(config: dict[str, Any]) -> str:
    """A run's vector size as a DeepFM has to match it ("vectors of 16"), or "sizes per
    field" for an entity network."""
    if config.get("model") == "entity":
        return "sizes per field"
    return f"vectors of {config.get('embedding_dim')}"


def _run_label(info: state.RunInfo, position: int) -> str:
    run = info.run
    figure = next((k for k in ("valid_auc", "valid_r2", "valid_accuracy") if k in run.metrics), "")
    score = f", {metric_label(figure.removeprefix('valid_'))} {run.metrics[figure]:.3f}"
    return (
        f"{position}. {info.dataset_label} - {MODELS.get(run.config.model, run.config.model)} "
        f"({_sizes(run.config.to_dict())}) - {', '.join(run.fields)}" + (score if figure else "")
    )


def _record_label(record: RunRecord) -> str:
    model = str(record.config.get("model", "deepfm"))
    return (
        f"{time_first(record.name, record.created)} - {MODELS.get(model, model)} "
        f"({_sizes(record.config)}) - {', '.join(record.fields)}"
    )


def _source(info: state.RunInfo) -> Any:
    """What ``init_embeddings`` gets for a session run: its folder in the run store when
    it was saved (the new run then names it), else the run itself."""
    return str(store().path(info.run_id)) if info.stored else info.run


def _uploaded_zip_path() -> str | None:
    """Write the uploaded saved-run zip to a temporary file once; its path (or None)."""
    upload = st.file_uploader(
        "Saved run (the Export page's trained_run.zip)", type=["zip"], key=Keys.INIT_UPLOAD
    )
    if upload is None:
        return None
    known = state.get_init_upload_path()
    if known is not None and known[0] == upload.file_id and os.path.isfile(known[1]):
        return known[1]
    handle, path = tempfile.mkstemp(prefix="embedding_init_", suffix=".zip")
    with os.fdopen(handle, "wb") as out:
        out.write(upload.getvalue())
    state.set_init_upload_path((upload.file_id, path))
    return path


def init_settings(categorical: tuple[str, ...]) -> dict[str, Any] | None:
    """ "Start from a saved run's embeddings": which run, and freeze or fine-tune.

    Returns the config changes (``init_embeddings``, ``freeze_embeddings``), or None
    when the chosen source cannot be used (an error is shown).
    """
    runs = state.get_session_runs()
    in_session = {info.run_id for info in runs}
    stored = {r.id: r for r in store().list() if r.ok and r.id not in in_session}
    with st.expander("Start from a saved run's embeddings", expanded=False):
        enabled = st.checkbox(
            "Start the embedding tables from an earlier run",
            key=Keys.INIT_ENABLE,
            help="Every field the earlier run knows starts from its vectors, matched by "
            "category name; categories it did not see start from its unknown vector.",
        )
        if not enabled:
            return {"init_embeddings": None, "freeze_embeddings": False}
        options = [info.run_id for info in runs] + list(stored) + [UPLOAD]
        labels = {info.run_id: _run_label(info, i + 1) for i, info in enumerate(runs)}
        labels.update({i: _record_label(r) for i, r in stored.items()})
        labels[UPLOAD] = "Upload a saved run (zip)"
        choice = st.selectbox(
            "Earlier run",
            options,
            format_func=labels.get,
            key=Keys.INIT_SOURCE,
            help="This session's runs first, then the run store's.",
        )
        # a stored run by its folder, so the new run says which one it started from
        source: Any = next((_source(info) for info in runs if info.run_id == choice), None)
        if choice in stored:
            source = str(stored[choice].path)
        if choice == UPLOAD:
            source = _uploaded_zip_path()
            if source is None:
                st.info("Upload the zip of a saved run, or train a run first in this session.")
                return None
        freeze = st.radio(
            "The loaded vectors",
            list(FREEZE),
            format_func=FREEZE.get,
            horizontal=True,
            key=Keys.INIT_FREEZE,
            help="Freeze: they stay exactly as loaded and only the rest of the model "
            "trains. Fine-tune: they keep training with the rest.",
        )
        try:
            from embedding_core.model.init import load_source_tables

            known = load_source_tables(source)
        except EmbeddingCoreError as exc:
            show_error(exc, "Choose another run.")
            return None
        shared = [f for f in categorical if f in known]
        if not shared:
            st.error(
                literal(
                    "That run has none of the categorical columns chosen on the Data page "
                    f"({', '.join(categorical)}); it has {', '.join(known)}."
                ),
                icon=":material/error:",
            )
            return None
        new = [f for f in categorical if f not in known]
        st.caption(
            literal(
                f"Starts from that run: {', '.join(shared)}."
                + (f" From scratch: {', '.join(new)}." if new else "")
            )
        )
    return {"init_embeddings": source, "freeze_embeddings": bool(freeze)}


def init_caption(metrics: dict[str, Any]) -> str | None:
    """One line on where a run's tables started, or None if from scratch."""
    fields = metrics.get("init_fields") or []
    if not fields:
        return None
    matched = metrics.get("init_matched") or {}
    shares = ", ".join(f"{f} ({100 * float(matched.get(f, 0)):.0f}% matched)" for f in fields)
    how = "frozen" if metrics.get("frozen_fields") else "fine-tuned"
    return literal(f"Started from an earlier run's embeddings ({how}): {shares}.")


#: Where a stored run keeps its comparison with training from scratch (``run.json``).
SCRATCH_KEY = "scratch_comparison"


def scratch_comparison(info: state.RunInfo) -> None:
    """After a run that started from saved embeddings: the same model from scratch."""
    run = info.run
    if run.config.init_embeddings is None:
        return
    from ui.comparison import ScratchJob

    st.subheader("Compared with the same model from scratch")
    job = state.get_scratch_job()
    if job is not None and job.run_id == info.run_id and job.running:
        live_progress(
            state.get_scratch_job,
            stop_key=f"{Keys.SCRATCH_RUN}_stop",
            stop_help="Stop after the current training and keep the rows finished so far.",
        )
        return
    mode = st.radio(
        "Comparison",
        list(SCRATCH_MODES),
        format_func=SCRATCH_MODES.get,
        horizontal=True,
        key=Keys.SCRATCH_MODE,
        help="Thorough trains both variants with 3 seeds (this run counts as the first), "
        "so you see how much the figure moves from seed to seed.",
    )
    dataset = state.get_dataset()
    same_data = dataset is not None and dataset.key == info.dataset_key
    if st.button(
        "Train from scratch to compare",
        key=Keys.SCRATCH_RUN,
        disabled=not same_data,
        help=None if same_data else "Load the data this run was trained on first.",
    ):
        seed = int(run.config.seed)
        seeds = (seed, seed + 1, seed + 2) if mode == "thorough" else (seed,)
        state.set_scratch_job(
            ScratchJob(
                frame=dataset.frame,
                roles=run.roles,
                config=run.config,
                first=run,
                run_id=info.run_id,
                seeds=seeds,
            ).start()
        )
        st.rerun()
    if job is None or job.run_id != info.run_id or not job.done:
        kept = _kept_comparison(info)  # measured before a reload, or in another session
        if kept is not None:
            _show_comparison(kept)
        return
    if job.error:
        st.error(literal(job.error), icon=":material/error:")
    if job.results is not None and not job.results.empty:
        _keep_comparison(info, job.results)
        _show_comparison(job.results)


def _kept_comparison(info: state.RunInfo) -> pd.DataFrame | None:
    """The comparison kept with the stored run (``run.json``, key ``scratch``), or None."""
    if not info.stored:
        return None
    try:
        rows = store().meta(info.run_id).get(SCRATCH_KEY)
    except EmbeddingCoreError:
        return None
    return pd.DataFrame(rows) if isinstance(rows, list) and rows else None


def _keep_comparison(info: state.RunInfo, results: pd.DataFrame) -> None:
    """Write the comparison into the stored run's ``run.json`` once, so F5 shows it."""
    rows = results.to_dict("records")
    if not info.stored or _kept_rows(info) == rows:
        return
    try:
        store().update(info.run_id, **{SCRATCH_KEY: rows})
    except (OSError, EmbeddingCoreError):
        pass  # the page still shows it; only a reload would lose it


def _kept_rows(info: state.RunInfo) -> Any:
    kept = _kept_comparison(info)
    return None if kept is None else kept.to_dict("records")


def _show_comparison(results: pd.DataFrame) -> None:
    from embedding_core.analysis.scratch import VARIANTS, summarise

    table = summarise(results)
    metric = metric_label(str(table["metric"].iloc[0]).removeprefix("valid_"))
    st.dataframe(
        table.rename(columns={"mean": f"validation {metric}", "std": "±", "seeds": "seeds"}),
        hide_index=True,
        column_config={"metric": None},
    )
    means = dict(zip(table["variant"], table["mean"], strict=True))
    if set(VARIANTS) <= set(means):
        diff = means[VARIANTS[0]] - means[VARIANTS[1]]
        verdict = scratch_verdict(diff, float(table["std"].max()), int(table["seeds"].min()))
        st.write(
            f"Starting from the saved embeddings: {metric} {diff:+.4f} against the same model "
            f"from scratch, {verdict}"
        )


def scratch_verdict(diff: float, spread: float, seeds: int) -> str:
    """How to read the gain of starting from saved embeddings (higher is better): with
    one seed each there is no spread to judge it by, so no "better" or "worse"."""
    if diff == 0:
        return "the same."
    direction = "higher" if diff > 0 else "lower"
    if seeds < 2:
        return (
            f"{direction} with one seed each, which cannot tell a real difference from seed "
            "noise: choose Thorough (3 seeds) to know."
        )
    if abs(diff) <= spread:
        return f"within the seed-to-seed spread (± {spread:.4f}): no clear difference."
    better = "better" if diff > 0 else "worse"
    return f"{better}: more than the seed-to-seed spread (± {spread:.4f})."
