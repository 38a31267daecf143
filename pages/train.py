"""Train page: settings, a Train button, live progress, a Stop button, a summary.

Training runs in a background thread (``ui.training.TrainingJob``) started only by the
button; the page polls it from a fragment. A rerun or a page switch never retrains, and
the finished run stays in the session until the next training replaces it.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import streamlit as st

from embedding_core import formatting as fmt
from embedding_core.analysis.signal import too_good, weak_signal
from embedding_core.model.config import TrainConfig, parse_hidden_units
from embedding_core.model.final_fit import BIG_TABLE_ROWS
from embedding_core.model.frequency import MIN_CATEGORIES
from embedding_core.model.metrics import HIGHER_IS_BETTER, metric_help, metric_label
from embedding_core.model.mlp import BF16_MIN_ROWS
from embedding_core.model.numeric import NUMERIC_ENCODING_LABELS, NUMERIC_ENCODINGS
from ui import reuse_widgets, state
from ui.charts import empty_history_figure, history_figure, history_frame
from ui.job_progress import live_progress
from ui.literal import literal
from ui.runs import store, stored_note
from ui.state import Keys
from ui.train_settings import changed_settings, start_values, within
from ui.training import TrainingJob
from ui.widgets import DATA_PAGE, EXPLORE_PAGE

BATCH_SIZES = [128, 256, 512, 1024, 2048, 4096]
MIN_NUMERIC_BINS, MAX_NUMERIC_BINS = 2, 256
MAX_EPOCHS, MAX_PATIENCE = 500, 500
MIN_VALID_FRACTION, MAX_VALID_FRACTION = 0.05, 0.5
MAX_EPOCH_TOLERANCE = 0.1
HIDDEN_LAYERS_MAX_CHARS = 200  # 16 layers of 8192 units and separators fit
MAX_DIM, MIN_LR, MAX_DROPOUT, MAX_MIN_COUNT, MAX_LR_FACTOR = 128, 1e-5, 0.9, 10_000, 100.0
MAX_SEED = 2**31 - 1


def _config_widgets() -> TrainConfig | None:
    defaults = TrainConfig()
    current = state.get_config()
    start = start_values(state.get_run_info())
    with st.expander("Advanced settings", expanded=False):
        st.caption(
            "The defaults work for most data; early stopping ends training when the "
            "validation loss stops improving."
        )
        c1, c2, c3, c4 = st.columns(4)
        with c1:
            dim = st.number_input(
                "Embedding dimension",
                1,
                MAX_DIM,
                within(start.embedding_dim, 1, MAX_DIM),
                key=Keys.CFG_DIM,
                persist_state="session",
                bind="query-params",
                help=f"Length of each category vector (default {defaults.embedding_dim}); "
                "DeepFM only: an entity network sizes each field itself.",
            )
            epochs = st.number_input(
                "Max epochs",
                1,
                MAX_EPOCHS,
                within(start.epochs, 1, MAX_EPOCHS),
                key=Keys.CFG_EPOCHS,
                persist_state="session",
                bind="query-params",
                help="Upper bound; early stopping (Patience below) usually ends sooner.",
            )
        with c2:
            lr = st.number_input(
                "Learning rate",
                MIN_LR,
                1.0,
                within(float(start.learning_rate), MIN_LR, 1.0),
                step=1e-4,
                format="%.5f",
                key=Keys.CFG_LR,
                persist_state="session",
                bind="query-params",
            )
            batch_options = sorted({*BATCH_SIZES, start.batch_size})
            batch = st.selectbox(
                "Batch size",
                batch_options,
                index=batch_options.index(start.batch_size),
                key=Keys.CFG_BATCH,
                persist_state="session",
                bind="query-params",
            )
        with c3:
            dropout = st.slider(
                "Dropout",
                0.0,
                MAX_DROPOUT,
                within(float(start.dropout), 0.0, MAX_DROPOUT),
                0.05,
                key=Keys.CFG_DROPOUT,
                persist_state="session",
                bind="query-params",
            )
            l2 = st.number_input(
                "L2 on embeddings",
                0.0,
                1.0,
                within(float(start.l2_embedding), 0.0, 1.0),
                step=1e-6,
                format="%.1e",
                key=Keys.CFG_L2,
                persist_state="session",
                bind="query-params",
            )
        with c4:
            min_count = st.number_input(
                "Rare-category threshold",
                1,
                MAX_MIN_COUNT,
                within(start.min_count, 1, MAX_MIN_COUNT),
                key=Keys.CFG_MIN_COUNT,
                persist_state="session",
                bind="query-params",
                help="Categories seen fewer times than this share one 'unknown' vector.",
            )
            seed = st.number_input(
                "Seed",
                0,
                MAX_SEED,
                within(start.seed, 0, MAX_SEED),
                key=Keys.CFG_SEED,
                persist_state="session",
                bind="query-params",
            )
        c1, c2, c3, c4 = st.columns(4)
        with c1:
            hidden = st.text_input(
                "Hidden layers",
                ", ".join(map(str, start.hidden_units)),
                max_chars=HIDDEN_LAYERS_MAX_CHARS,
                key=Keys.CFG_HIDDEN,
                persist_state="session",
                bind="query-params",
                help="Units of each layer of the deep part, comma-separated (default "
                f"{', '.join(map(str, defaults.hidden_units))}).",
            )
        with c2:
            patience = st.number_input(
                "Patience",
                0,
                MAX_PATIENCE,
                within(start.patience, 0, MAX_PATIENCE),
                key=Keys.CFG_PATIENCE,
                persist_state="session",
                bind="query-params",
                help="Epochs without a lower validation loss before training stops; the "
                f"best epoch is kept (default {defaults.patience}). From "
                f"{BIG_TABLE_ROWS:,} training rows up, {defaults.big_table_patience}: an "
                "epoch there is hundreds of steps.",
            )
        with c3:
            valid_fraction = st.number_input(
                "Validation share",
                MIN_VALID_FRACTION,
                MAX_VALID_FRACTION,
                within(float(start.valid_fraction), MIN_VALID_FRACTION, MAX_VALID_FRACTION),
                step=0.05,
                format="%.2f",
                key=Keys.CFG_VALID_FRACTION,
                persist_state="session",
                bind="query-params",
                help="Share of the rows held out to stop training and to report the "
                f"validation figures (default {defaults.valid_fraction:.2f}).",
            )
        with c4:
            tolerance = st.number_input(
                "Epoch tolerance",
                0.0,
                MAX_EPOCH_TOLERANCE,
                within(float(start.epoch_tolerance), 0.0, MAX_EPOCH_TOLERANCE),
                step=0.001,
                format="%.3f",
                key=Keys.CFG_EPOCH_TOLERANCE,
                persist_state="session",
                bind="query-params",
                help="Later epochs whose validation loss is within this share of the lowest "
                "tie with it, and the tied epoch with the best AUC (accuracy for classes) "
                f"is kept (default {defaults.epoch_tolerance}; 0: the lowest loss).",
            )
        refit = st.checkbox(
            "Final fit on all rows",
            start.refit,
            key=Keys.CFG_REFIT,
            persist_state="session",
            bind="query-params",
            help="After early stopping, let the model learn from the validation rows too. "
            "Below 200,000 training rows, or for a numeric target at any size, it trains "
            "again on all rows for the best number of epochs, and predictions then average "
            "that model with the early-stopped one (the vectors are the final model's). On "
            "bigger tables with classes it makes one pass over the validation rows instead "
            "(a fifth of an epoch).",
        )
        encodings = list(NUMERIC_ENCODINGS)
        numeric_encoding = st.selectbox(
            "Numeric columns",
            encodings,
            index=encodings.index(start.numeric_encoding),
            format_func=NUMERIC_ENCODING_LABELS.get,
            key=Keys.CFG_NUMERIC_ENCODING,
            persist_state="session",
            bind="query-params",
            help="Scaled: each number enters the model as one standardised value. Bins and "
            "piecewise-linear also give it a vector, which the model pairs with the "
            "categories like another field.",
        )
        numeric_bins = st.number_input(
            "Bins per numeric column",
            MIN_NUMERIC_BINS,
            MAX_NUMERIC_BINS,
            within(start.numeric_bins, MIN_NUMERIC_BINS, MAX_NUMERIC_BINS),
            key=Keys.CFG_NUMERIC_BINS,
            persist_state="session",
            bind="query-params",
            disabled=numeric_encoding == "scaled",
            help="With bins or piecewise-linear: at most this many quantile bins per numeric "
            "column (fewer on small data, and never more than its distinct values). More "
            "bins follow the numbers more finely and need more rows per bin.",
        )
        crosses = st.checkbox(
            "Cross columns of small whole numbers",
            start.crosses == "auto",
            key=Keys.CFG_CROSSES,
            persist_state="session",
            bind="query-params",
            help="Months, days, hours, codes: columns of a few dozen whole-number values "
            "(numeric with bins, or categorical) are crossed in pairs where the pair acts "
            "on the target beyond each column alone (a date: month x day), at most three "
            "pairs, each cell with its own vector.",
        )
        frequency = st.checkbox(
            "Frequency bands for fields of many categories",
            start.frequency_bands == "auto",
            key=Keys.CFG_FREQUENCY_BANDS,
            persist_state="session",
            bind="query-params",
            help=f"Fields of at least {MIN_CATEGORIES} categories also get a vector for how "
            "often a category was seen in training (bands on a log scale: 2, 3, 4-5, 6-7, "
            "8-11... rows), shared by all categories of that band, so the model knows a "
            "rare category is rare. Better predictions where rarity matters (access "
            "requests: +0.006 AUC), but neighbours get worse (on data with planted "
            "groups, the share of a category's neighbours from its own group fell from "
            "0.645 to 0.624): off by default.",
        )
        category_dropout = st.slider(
            "Category dropout for fields of many categories",
            0.0,
            MAX_DROPOUT,
            within(float(start.category_dropout), 0.0, MAX_DROPOUT),
            0.05,
            key=Keys.CFG_CATEGORY_DROPOUT,
            persist_state="session",
            bind="query-params",
            help=f"In training, a row's category of a field of at least {MIN_CATEGORIES} "
            "categories is replaced by the field's unknown vector with this probability, so "
            "that vector, which unseen and rare categories get when the model predicts, "
            f"learns from every category's rows (default {defaults.category_dropout}).",
        )
        lr_factor = st.number_input(
            "Learning-rate factor of the category vectors",
            0.1,
            MAX_LR_FACTOR,
            within(float(start.embedding_lr_factor), 0.1, MAX_LR_FACTOR),
            step=0.5,
            key=Keys.CFG_EMBEDDING_LR_FACTOR,
            persist_state="session",
            bind="query-params",
            help="The category vectors and weights learn at this multiple of the learning "
            "rate. 3 gives rare categories better neighbours, at some accuracy on tables of "
            "many small fields; 1 is the measured default.",
        )
        field_weights = st.checkbox(
            "Weigh each pair of fields",
            start.fm_field_weights,
            key=Keys.CFG_FM_FIELD_WEIGHTS,
            persist_state="session",
            bind="query-params",
            help="The pairwise (FM) part learns a weight for each pair of fields, so pairs "
            "that do not act on the target can fade out; the Interactions page then shows "
            "each pair's strength with its weight. Measured level on accuracy, a little "
            "slower on tables of many columns.",
        )
    try:
        config = current.replace(
            hidden_units=parse_hidden_units(hidden),
            patience=int(patience),
            valid_fraction=float(valid_fraction),
            epoch_tolerance=float(tolerance),
            embedding_dim=int(dim),
            epochs=int(epochs),
            learning_rate=float(lr),
            batch_size=int(batch),
            dropout=float(dropout),
            l2_embedding=float(l2),
            min_count=int(min_count),
            seed=int(seed),
            refit=bool(refit),
            numeric_encoding=str(numeric_encoding),
            numeric_bins=int(numeric_bins),
            crosses="auto" if crosses else "none",
            frequency_bands="auto" if frequency else "none",
            category_dropout=float(category_dropout),
            fm_field_weights=bool(field_weights),
            embedding_lr_factor=float(lr_factor),
        )
    except ValueError as exc:
        st.error(literal(f"{exc} Change that setting to train."), icon=":material/error:")
        return None
    changed = changed_settings(config)
    if changed:  # the expander is closed: say what in it differs from the defaults
        st.caption(literal(f"Advanced settings changed from the defaults: {'; '.join(changed)}."))
    state.set_config(config)
    return config


def _history_charts(epochs: list[dict[str, Any]]) -> None:
    """Loss and validation metric per epoch (two small line charts). Before the first
    epoch their empty frames: the browser loads its chart library while TensorFlow
    loads and the model is built, not while the first epochs compete with it for CPU."""
    charts = _history_figures(json.dumps(epochs, sort_keys=True)) or _empty_history_figures()
    for column, (caption, figure) in zip(st.columns(2), charts, strict=True):
        if figure is not None:
            with column:
                st.caption(caption)
                st.plotly_chart(figure)


@st.cache_resource(show_spinner=False)
def _empty_history_figures() -> list[tuple[str, Any]]:
    """The two charts' frames before the first epoch (a note, no lines)."""
    return [
        ("Loss per epoch", empty_history_figure("The loss shows after the first epoch.")),
        (
            "Validation metric per epoch",
            empty_history_figure("The validation metric shows after the first epoch."),
        ),
    ]


@st.cache_resource(show_spinner=False, max_entries=16)
def _history_figures(epochs_json: str) -> list[tuple[str, Any]]:
    """(caption, figure) of the loss and of the validation metric, from the epochs as JSON.

    Built once per epoch, not at every redraw of the progress (every second while training
    runs): building the plotly figures took a good share of a core from training (py-spy
    on a 1M-row run). A chart with nothing to draw leaves its column empty.
    """
    frame = history_frame(json.loads(epochs_json))
    if frame.empty:
        return []
    loss_cols = [c for c in ("loss", "val_loss") if c in frame.columns]
    metric_cols = [c for c in frame.columns if c.startswith("val_") and c != "val_loss"]
    charts: list[tuple[str, Any]] = [("", None), ("", None)]
    if loss_cols:
        charts[0] = ("Loss per epoch", history_figure(frame, loss_cols))
    if metric_cols:
        charts[1] = ("Validation metric per epoch", history_figure(frame, metric_cols))
    return charts


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(float(value)) else float(value)


def metric_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Validation figures of the model next to the trivial baseline's."""
    rows = []
    for key, value in metrics.items():
        if not key.startswith("valid_") or _number(value) is None:
            continue
        name = key.removeprefix("valid_")
        baseline = _number(metrics.get(f"baseline_{name}"))
        rows.append(
            {
                "key": name,
                "metric": metric_label(name),
                "model": float(value),
                "trivial baseline": baseline,
                "better": HIGHER_IS_BETTER.get(name, False),
            }
        )
    return rows


def _summary(info: state.RunInfo) -> None:
    run = info.run
    metrics = dict(run.metrics or {})
    history = list(run.history or [])
    st.subheader("Last run")
    st.caption(
        f"Data: {literal(info.dataset_label)} - {info.n_rows:,} rows; target "
        f"**{literal(run.roles.target)}** ({run.roles.task}); fields: "
        + ", ".join(literal(f) for f in run.fields)
    )
    started = reuse_widgets.init_caption(metrics)
    if run.config.model == "entity" or started:
        sizes = ", ".join(f"{f} {d}" for f, d in run.embedding_dims.items())
        st.caption(literal(f"Vector sizes: {sizes}.") + (f" {started}" if started else ""))
    if run.crosses:
        st.caption(
            literal(f"Crossed columns: {fmt.pairs(run.crosses)}")
            + " (each pair of values has its own vector: their effect together is not the "
            "sum of their effects alone)."
        )
    if run.frequency_fields:
        st.caption(
            literal(f"Frequency bands: {', '.join(run.frequency_fields)}")
            + " (how often a category was seen in training has a vector of its own)."
        )
    if metrics.get("stopped_by_user"):
        st.info("Stopped by you: the best weights so far were kept.")
    rows = metric_rows(metrics)
    if rows:
        cols = st.columns(len(rows))
        for col, row in zip(cols, rows, strict=True):
            baseline = row["trivial baseline"]
            delta = None
            flat = True
            if baseline is not None:
                gap = row["model"] - baseline
                flat = fmt.is_zero(gap)
                delta = f"{fmt.signed(gap)} vs trivial baseline {fmt.metric(row['key'], baseline)}"
            col.metric(
                f"Validation {row['metric']}",
                fmt.metric(row["key"], row["model"]),
                delta=delta,
                delta_color="off" if flat else "normal" if row["better"] else "inverse",
                delta_arrow="off" if flat else "auto",
                help=metric_help(row["key"])
                + " The trivial baseline predicts the training "
                + ("mean" if run.roles.task == "regression" else "class shares")
                + " for every row: the model should beat it.",
            )
    train_seconds = _number(metrics.get("train_seconds")) or info.seconds
    rows_per_second = _number(metrics.get("rows_per_second"))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "Training time",
        fmt.seconds(train_seconds),
        help="The fit loops and validation included"
        + (", and the final fit on all rows." if metrics.get("refit") else "."),
    )
    refit_epochs = int(metrics.get("refit_epochs") or 0) if metrics.get("refit") else 0
    holdout = bool(refit_epochs) and metrics.get("final_fit") == "holdout"
    final_step = (
        " Then a final pass over the validation rows"
        if holdout
        else f" Then a final fit on all rows for {refit_epochs} epochs"
    )
    refit_shown = refit_epochs and not holdout
    c2.metric(
        "Epochs (+ final fit)" if refit_shown else "Epochs",
        f"{metrics.get('epochs_run', len(history))}"
        + (f" + {refit_epochs}" if refit_shown else ""),
        help=f"Kept epoch {metrics.get('best_epoch', '?')} (the lowest validation loss, or "
        f"a later epoch tied with it); max {run.config.epochs} with early stopping."
        + (
            f"{final_step}; the validation figures above are those of the early-stopped model."
            + (
                " Predictions average the early-stopped and the final model."
                if run.averages_early
                else ""
            )
            if refit_epochs
            else ""
        ),
    )
    precision = metrics.get("deep_precision", "float32")
    c3.metric(
        "Rows / second",
        fmt.count(rows_per_second) if rows_per_second else "n/a",
        help=f"Training rows per second over the whole call. The deep part computed in "
        f"{precision}"
        + (
            "."
            if precision == "bfloat16"
            else f" (bfloat16 needs a CPU with bfloat16 instructions and {BF16_MIN_ROWS:,} "
            "training rows or more)."
        ),
    )
    if info.total_seconds > 0:  # trained in this session
        c4.metric(
            "Click to finish",
            fmt.seconds(info.total_seconds),
            help="Includes loading TensorFlow and preparing the data.",
        )
    else:  # opened from the run store: when it was trained, not a click's time
        when = time.localtime(info.created)
        today = time.strftime("%Y-%m-%d", when) == time.strftime("%Y-%m-%d")
        c4.metric(
            "Trained",
            time.strftime("%H:%M" if today else "%b %d", when),  # short: a metric is cut
            help="This run was opened from the run store, not trained in this session; it "
            f"was trained on {time.strftime('%Y-%m-%d at %H:%M', when)}.",
        )
    note = weak_signal(metrics, run.roles.task) or too_good(metrics, run.roles.task)
    if note:
        st.warning(note, icon=":material/warning:")
    if history:
        with st.expander("Training history", expanded=False):
            _history_charts(history)
    reuse_widgets.scratch_comparison(info)
    for warning in run.warnings:
        st.warning(literal(warning))
    st.page_link(
        EXPLORE_PAGE, label="Next: explore the embeddings", icon=":material/arrow_forward:"
    )


def _reuse_settings(
    dataset: state.Dataset, categorical: tuple[str, ...], config: TrainConfig
) -> TrainConfig | None:
    """Model type and sizes, and where the tables start (``ui.reuse_widgets``)."""
    model = reuse_widgets.model_settings(
        dataset, categorical, config, start_values(state.get_run_info())
    )
    start = reuse_widgets.init_settings(categorical)
    if model is None or start is None:
        return None
    try:
        config = config.replace(**model, **start)
    except ValueError as exc:
        st.error(f"{literal(exc)} Change that setting to train.", icon=":material/error:")
        return None
    state.set_config(config)
    return config


def _start(dataset: state.Dataset, roles: Any, config: TrainConfig) -> None:
    job = TrainingJob(
        frame=dataset.frame,
        roles=roles,
        config=config,
        dataset_label=dataset.label,
        dataset_key=dataset.key,
        path=dataset.path,
        store_root=str(store().root),
        store_data=state.get_store_data(),
    )
    state.set_job(job.start())


st.title("Train")
dataset = state.get_dataset()
roles = state.get_roles()
job = state.get_job()

if dataset is None or roles is None:
    reason = state.get_roles_error() if dataset is not None else "No data loaded."
    st.warning(f"Choose the data and its column roles first. ({literal(reason)})")
    st.page_link(DATA_PAGE, label="Go to Data", icon=":material/table_view:")
else:
    rows = f"{len(dataset.frame):,} rows"
    if dataset.path is not None:
        rows = "every row, streamed from the server" + (
            f" ({dataset.total_rows:,})" if dataset.total_rows else ""
        )
    st.write(
        f"**{literal(dataset.label)}**: {rows}; predict "
        f"**{literal(roles.target)}** ({roles.task}) from {len(roles.categorical)} categorical and "
        f"{len(roles.numeric)} numeric columns."
    )
    config = _config_widgets()
    if config is not None:
        config = _reuse_settings(dataset, roles.categorical, config)
    st.checkbox(
        "Store the data with the run",
        True,
        key=Keys.STORE_DATA,
        help="Every run is saved to the run store (the Runs page). With its training rows, "
        "What-if and Lift also work when the run is reopened later; unticked, the run is "
        "smaller and its rows are not copied into it.",
    )
    running = job is not None and job.running
    clicked = st.button(
        "Train",
        type="primary",
        key=Keys.TRAIN_BUTTON,
        disabled=config is None or running,
        help="Trains the chosen model; a new run replaces the current one when it finishes.",
    )
    # True only in the run the click triggered: a later rerun or page switch never
    # retrains. The settings are this run's widget values, so an edit made just
    # before the click is used.
    if clicked and config is not None and not running:
        _start(dataset, roles, config)
        st.rerun()

if job is not None and job.running:
    live_progress(
        state.get_job,
        stop_key=Keys.STOP_BUTTON,
        stop_help="Stop after the current batch and keep the best weights so far.",
        on_done=state.adopt_finished_job,
        details=lambda job: _history_charts(job.epochs),
    )
elif job is not None and job.done and job.error:
    st.error(literal(job.error), icon=":material/error:")

info = state.get_run_info()
if info is not None and not (job is not None and job.running):
    _summary(info)
    stored_note(info)
