"""Lift page: do the embeddings help other models? Measured without leakage.

The Run button starts ``embedding_core.analysis.lift.run_lift`` in a background thread
(a ``ui.lift_job.LiftJob``, stored with ``state.set_lift_job``);
``ui.job_progress.live_progress`` polls it and shows the cells finished so far, so a
rerun or a page switch never restarts the work, and Stop ends it at the next step. When
the job ends, app.py stores its ``LiftResult`` (``state.adopt_finished_lift_job``); a
failed or empty run keeps the previous result.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from embedding_core.analysis.lift import (
    ENCODING_LABELS,
    MODELS,
    LiftResult,
    model_label,
    network_name,
)
from embedding_core.analysis.lift.verdict import headline
from embedding_core.model.metrics import LIFT_HELP, metric_help, metric_label
from embedding_core.text import capitalised
from ui import lift_job, state
from ui.charts import lift_figure
from ui.job_progress import live_progress
from ui.lift_job import LiftJob
from ui.lift_source import changes_since
from ui.literal import literal
from ui.state import Keys
from ui.widgets import DATA_PAGE

DEFAULT_FOLDS = 5  # thorough mode's k until the user picks another


def _start(dataset: state.Dataset, roles: Any) -> None:
    # the choices as the widgets hold them now: a change sent with the click (a click
    # right after picking) is not yet in the values this page drew last
    thorough = str(st.session_state.get(Keys.LIFT_MODE, "")).startswith("Thorough")
    folds = int(st.session_state.get(Keys.LIFT_FOLDS, DEFAULT_FOLDS)) if thorough else None
    models = list(st.session_state.get(Keys.LIFT_MODELS, MODELS))
    if not models:
        return  # the button is disabled then; a click sent with the last removal
    job = LiftJob(
        frame=dataset.frame,
        roles=roles,
        # Lift refits without the scored rows: never start from vectors that saw them.
        config=state.get_config().replace(init_embeddings=None, freeze_embeddings=False),
        models=tuple(models),
        folds=folds,
        dataset_label=dataset.label,
        dataset_key=dataset.key,
    )
    state.set_lift_job(job.start())
    lift_job.remember(_link(dataset), job)  # a reload while it runs takes it back


def _link(dataset: state.Dataset) -> str | None:
    info = state.get_run_info()
    return lift_job.link_key(info.run_id if info is not None and info.stored else None, dataset.key)


def _partial_table(job: LiftJob) -> None:
    """The cells finished so far (plain scores; error bars come with the full result)."""
    table = job.partial_frame()
    if table.empty:
        return
    metric = str(table["metric"].iloc[0])
    where = "on the held-out rows" if job.folds is None else "mean over the folds done"
    shown = table.assign(
        model=[model_label(m, job.roles.task) for m in table["model"]],
        encoding=table["encoding"].map(
            {**ENCODING_LABELS, "embedding": f"{network_name(job.config.to_dict())} embeddings"}
        ),
    ).rename(columns={"score": metric})
    columns = ["model", "encoding", metric, "fit_seconds"]
    if job.folds is not None:
        columns.insert(3, "splits")
    st.caption(
        f"Finished so far: {metric} {where}. Error bars, lift and verdicts "
        "appear when the run ends."
    )
    number = st.column_config.NumberColumn
    st.dataframe(
        shown[columns],
        hide_index=True,
        column_config={
            metric: number(metric, format="%.4f"),
            "fit_seconds": number("fit time (s)", format="%.1f"),
        },
    )


def _cell_columns(metric: str, metric_key: str = "") -> dict[str, Any]:
    """Readable headers and number formats for the per-cell table."""
    number = st.column_config.NumberColumn
    config: dict[str, Any] = {
        "mean": number(metric, format="%.4f", help=metric_help(metric_key)),
        "std": number("±", format="%.4f", help="Standard deviation over folds or bootstraps."),
        "fit_seconds": number(
            "fit time (s)", format="%.2f", help="Seconds to train the model on this encoding."
        ),
        "n_train": number("training rows", format="localized"),
        "n_folds": number("folds", format="%d"),
    }
    for column in ("logloss", "rmse", "r2", "mae", "accuracy"):
        config[f"{column}_mean"] = number(metric_label(column), format="%.4f")
        config[f"{column}_std"] = number("±", format="%.4f")
    return config


def _show_result(result: LiftResult, label: str = "") -> None:
    if not result.complete:
        st.warning(
            "Stopped early: these numbers cover only the finished steps.",
            icon=":material/stop_circle:",
        )
    if result.lift:
        st.markdown(
            f"**{literal(headline(result.lift, result.task, result.metric))}**",
            help=LIFT_HELP + " " + metric_help(result.metric),
        )
    st.caption(result.mode_description + (f" Data: {literal(label)}." if label else ""))
    for verdict in result.verdicts:
        st.markdown(f"- {literal(verdict)}")
    if not result.lift:
        st.info("No lift to report: the embedding encoding did not finish.")
    better = "higher" if result.higher_is_better else "lower"
    st.plotly_chart(lift_figure(result), key=Keys.LIFT_CHART)
    st.caption(
        f"{result.metric_label}: {better} is better. Error bars: ± one standard deviation "
        "of each score. The ± in the sentences above is the spread of the difference itself "
        "(both encodings scored on the same rows), which is usually smaller. The axis does "
        "not start at zero, so small differences are visible."
    )
    table = result.to_frame()
    hidden = ["model", "encoding", "is_reference"] + (
        ["n_folds"] if result.mode == "holdout" else []
    )
    shown = table.drop(columns=hidden).rename(
        columns={"model_label": "model", "encoding_label": "encoding"}
    )
    config = _cell_columns(result.metric_label, result.metric)
    st.dataframe(
        shown, hide_index=True, column_config={k: v for k, v in config.items() if k in shown}
    )
    if result.lift:
        st.caption("Lift of embeddings over the best other encoding, per model")
        lift = result.lift_frame().drop(columns=["verdict"])
        lift["model"] = [model_label(m, result.task) for m in lift["model"]]
        lift["best_baseline"] = lift["best_baseline"].map(ENCODING_LABELS)
        st.dataframe(
            lift,
            hide_index=True,
            column_config={
                "best_baseline": "best other encoding",
                "lift": st.column_config.NumberColumn(
                    "lift",
                    format="%+.4f",
                    help=LIFT_HELP,
                ),
                "std": st.column_config.NumberColumn("±", format="%.4f"),
            },
        )
    for note in result.notes:
        st.caption(f"Note: {literal(note)}")
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download CSV",
        result.to_csv(),
        file_name="lift.csv",
        mime="text/csv",
        key=Keys.LIFT_CSV,
        on_click="ignore",  # no rerun: other download links stay valid
    )
    c2.download_button(
        "Download JSON",
        json.dumps(result.to_json_dict(), indent=2),
        file_name="lift.json",
        mime="application/json",
        key=Keys.LIFT_JSON,
        on_click="ignore",  # no rerun: other download links stay valid
    )


st.title("Lift")
st.write(
    "**Do the embeddings help other models?** Each model is trained on one-hot, ordinal "
    "and target encodings of the categorical columns and on the DeepFM embeddings, with the "
    "same numeric columns. Embeddings are learned only from the rows a model is trained on, "
    "never from the rows it is scored on."
)
dataset = state.get_dataset()
roles = state.get_roles()
job = state.get_lift_job()
if job is None and dataset is not None and (job := lift_job.job_for(_link(dataset))):
    state.set_lift_job(job)  # reloaded while it ran, or a link opened meanwhile
    if job.done:
        job.adopted = False  # this session has not taken its result in yet
        st.rerun()  # app.py does, as for a job of this session
running = job is not None and job.running

if dataset is None or roles is None:
    reason = state.get_roles_error() if dataset is not None else "No data loaded."
    st.warning(f"Choose the data and its column roles first. ({literal(reason)})")
    st.page_link(DATA_PAGE, label="Go to Data", icon=":material/table_view:")
else:
    st.caption(
        f"**{literal(dataset.label)}**: {len(dataset.frame):,} rows; "
        f"target **{literal(roles.target)}**. "
        f"{capitalised(network_name(state.get_config().to_dict()))} (the network that "
        "learns the embeddings) uses the Train page's settings."
    )
    c1, c2 = st.columns([2, 3])
    with c1:
        mode = st.radio(
            "Mode",
            ["Fast: one holdout split", "Thorough: k-fold cross-validation"],
            key=Keys.LIFT_MODE,
            bind="query-params",
            help="Fast trains each model once and scores 20% held-out rows (error bars from "
            "a bootstrap of those rows); DeepFM keeps the model early stopping chose. "
            "Thorough retrains everything, DeepFM included (refitted), in every fold.",
        )
        folds: int | None = None
        if mode.startswith("Thorough"):
            folds = int(
                st.number_input(
                    "Folds (k)", 2, 10, DEFAULT_FOLDS, key=Keys.LIFT_FOLDS, bind="query-params"
                )
            )
    with c2:
        chosen = st.multiselect(
            "Models",
            list(MODELS),
            default=list(MODELS),
            format_func=lambda m: model_label(m, roles.task),
            key=Keys.LIFT_MODELS,
            bind="query-params",
        )
    st.button(
        "Run lift",
        type="primary",
        key=Keys.LIFT_RUN,
        disabled=running or not chosen,
        on_click=_start,
        args=(dataset, roles),
    )
    if not chosen:
        st.caption("Choose at least one model.")

if running:
    live_progress(
        state.get_lift_job,
        stop_key=Keys.LIFT_STOP,
        stop_help="Stop after the current step; finished results are kept.",
        details=_partial_table,
    )
elif job is not None and job.error:
    st.error(literal(job.error), icon=":material/error:")

result = state.get_lift_result()
if result is not None and not running:
    source = state.get_lift_data()
    if dataset is not None:
        changes = changes_since(
            result, source, dataset.key, dataset.label, roles, state.get_config()
        )
        if changes:
            st.warning(
                " ".join([*changes, "Run lift again to measure what is chosen now."]),
                icon=":material/history:",
            )
    _show_result(result, source["label"] if source else "")
