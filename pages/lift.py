"""Lift page: do the embeddings help other models? Measured without leakage.

The Run button starts ``embedding_core.lift.run_lift`` in a background thread (a
``LiftJob``, stored in the session through ``state.set_lift_result``); a fragment polls
it, so a rerun or a page switch never restarts the work, and Stop ends it at the next
step. The job keeps the finished ``LiftResult``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from embedding_core.errors import EmbeddingCoreError, TrainingCancelled
from embedding_core.lift import ENCODING_LABELS, MODEL_LABELS, MODELS, LiftProgress, LiftResult
from ui import state
from ui.widgets import DATA_PAGE, md

POLL_SECONDS = 0.5
_log = logging.getLogger(__name__)


class LiftJob:
    """One ``run_lift`` call in a worker thread; the page only reads its attributes."""

    def __init__(
        self,
        frame: Any,
        roles: Any,
        config: Any,
        *,
        folds: int | None,
        models: tuple[str, ...],
        dataset_label: str,
        previous: LiftResult | None,
    ) -> None:
        self.frame = frame
        self.roles = roles
        self.config = config
        self.folds = folds
        self.models = models
        self.dataset_label = dataset_label
        self.previous = previous
        self.stop_event = threading.Event()
        self.last: LiftProgress | None = None
        self.result: LiftResult | None = None
        self.error: str | None = None
        self.started_at = time.perf_counter()
        self.finished_at: float | None = None
        self._thread = threading.Thread(target=self._work, name="lift", daemon=True)

    def start(self) -> LiftJob:
        self._thread.start()
        return self

    def request_stop(self) -> None:
        self.stop_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return self.done

    @property
    def done(self) -> bool:
        return self.finished_at is not None

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self.done

    @property
    def shown(self) -> LiftResult | None:
        """The result to show: this run's, else the previous one."""
        return self.result if self.result is not None else self.previous

    def status_text(self) -> str:
        elapsed = time.perf_counter() - self.started_at
        if self.stop_event.is_set():
            return f"Stopping after the current step... ({elapsed:.0f} s)"
        if self.last is None:
            return f"Preparing the data... ({elapsed:.0f} s)"
        if self.last.stage == "deepfm" and self.last.epoch is None:
            return f"{self.last.message} Loading TensorFlow the first time... ({elapsed:.0f} s)"
        return f"{self.last.message} ({elapsed:.0f} s)"

    def _on_progress(self, progress: LiftProgress) -> bool:
        self.last = progress
        return not self.stop_event.is_set()

    def _work(self) -> None:
        try:
            from embedding_core.lift import run_lift

            self.result = run_lift(
                self.frame,
                self.roles,
                folds=self.folds,
                models=self.models,
                config=self.config,
                seed=self.config.seed,
                on_progress=self._on_progress,
            )
        except TrainingCancelled:
            self.error = "Stopped before any result was ready; the previous results are kept."
        except EmbeddingCoreError as exc:
            self.error = str(exc)
        except MemoryError:
            self.error = "The lift run ran out of memory: use fewer rows or fewer columns."
        except Exception as exc:  # noqa: BLE001 - a worker error must reach the page as text
            _log.exception("lift failed")
            self.error = f"The lift run failed unexpectedly ({type(exc).__name__}: {exc})."
        finally:
            self.finished_at = time.perf_counter()


def _current_job() -> LiftJob | None:
    stored = state.get_lift_result()
    return stored if hasattr(stored, "stop_event") else None


def _current_result() -> LiftResult | None:
    stored = state.get_lift_result()
    if isinstance(stored, LiftResult):
        return stored
    job = _current_job()
    return job.shown if job is not None else None


def _start(dataset: state.Dataset, roles: Any, folds: int | None, models: list[str]) -> None:
    previous = _current_result()
    job = LiftJob(
        dataset.frame,
        roles,
        state.get_config(),
        folds=folds,
        models=tuple(models),
        dataset_label=dataset.label,
        previous=previous,
    )
    state.set_lift_result(job.start())


@st.fragment(run_every=POLL_SECONDS)
def _live_progress() -> None:
    job = _current_job()
    if job is None:
        return
    if job.done:
        st.rerun()
    fraction = job.last.fraction if job.last is not None else 0.0
    st.progress(fraction, text=job.status_text())
    st.button(
        "Stop",
        key="lift_stop",
        on_click=job.request_stop,
        disabled=job.stop_event.is_set(),
        help="Stop after the current step; finished results are kept.",
    )


def lift_figure(result: LiftResult) -> go.Figure:
    """Grouped bars (model x encoding) with error bars; DeepFM's own score as a line."""
    frame = result.to_frame()
    cells = frame[~frame["is_reference"]]
    fig = go.Figure()
    for enc in [e for e in ENCODING_LABELS if e in set(cells["encoding"])]:
        part = cells[cells["encoding"] == enc]
        fig.add_bar(
            name=ENCODING_LABELS[enc],
            x=[MODEL_LABELS[m] for m in part["model"]],
            y=part["mean"],
            error_y={"type": "data", "array": part["std"].fillna(0.0), "visible": True},
            customdata=part[["std", "fit_seconds"]].to_numpy(),
            hovertemplate="%{x}<br>%{fullData.name}<br>"
            + result.metric_label
            + " %{y:.4f} ± %{customdata[0]:.4f}<br>fit %{customdata[1]:.1f} s<extra></extra>",
        )
    low = (cells["mean"] - cells["std"].fillna(0)).min()
    high = (cells["mean"] + cells["std"].fillna(0)).max()
    ref = frame[frame["is_reference"]]
    if not ref.empty:
        value = float(ref["mean"].iloc[0])
        low, high = min(low, value), max(high, value)
        models = [MODEL_LABELS[m] for m in dict.fromkeys(cells["model"])]
        fig.add_scatter(
            x=models,
            y=[value] * len(models),
            mode="lines",
            line={"dash": "dash", "color": "grey"},
            name=f"DeepFM itself ({value:.4f})",
            hovertemplate=f"DeepFM's own predictions: {value:.4f}<extra></extra>",
        )
    pad = max((high - low) * 0.15, 1e-3)
    fig.update_layout(
        barmode="group",
        yaxis_title=result.metric_label,
        yaxis_range=[low - pad, high + pad],
        legend_title_text="Encoding",
        margin={"t": 30, "b": 10},
        height=420,
    )
    return fig


def _show_result(result: LiftResult, label: str = "") -> None:
    if not result.complete:
        st.warning("Stopped early: these numbers cover only the finished steps.", icon="⏹️")
    st.caption(result.mode_description + (f" Data: {md(label)}." if label else ""))
    for verdict in result.verdicts:
        st.markdown(f"- {md(verdict)}")
    if not result.lift:
        st.info("No lift to report: the embedding encoding did not finish.")
    better = "higher" if result.higher_is_better else "lower"
    st.plotly_chart(lift_figure(result), key="lift_chart")
    st.caption(
        f"{result.metric_label}: {better} is better. Error bars: ± one standard deviation. "
        "The axis does not start at zero, so small differences are visible."
    )
    table = result.to_frame()
    hidden = ["model", "encoding", "is_reference"] + (
        ["n_folds"] if result.mode == "holdout" else []
    )
    shown = table.drop(columns=hidden).rename(
        columns={"model_label": "model", "encoding_label": "encoding"}
    )
    st.dataframe(shown, hide_index=True)
    if result.lift:
        st.caption("Lift of embeddings over the best other encoding, per model")
        lift = result.lift_frame().drop(columns=["verdict"])
        lift["model"] = lift["model"].map(MODEL_LABELS)
        lift["best_baseline"] = lift["best_baseline"].map(ENCODING_LABELS)
        st.dataframe(lift, hide_index=True)
    for note in result.notes:
        st.caption(f"Note: {md(note)}")
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download CSV", result.to_csv(), file_name="lift.csv", mime="text/csv", key="lift_csv"
    )
    c2.download_button(
        "Download JSON",
        json.dumps(result.to_json_dict(), indent=2),
        file_name="lift.json",
        mime="application/json",
        key="lift_json",
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
job = _current_job()
running = job is not None and job.running

if dataset is None or roles is None:
    reason = state.get_roles_error() if dataset is not None else "No data loaded."
    st.warning(f"Choose the data and its column roles first. ({md(reason)})")
    st.page_link(DATA_PAGE, label="Go to Data", icon="📄")
else:
    st.caption(
        f"**{md(dataset.label)}**: {len(dataset.frame):,} rows; target **{md(roles.target)}**. "
        "DeepFM uses the settings of the Train page."
    )
    c1, c2 = st.columns([2, 3])
    with c1:
        mode = st.radio(
            "Mode",
            ["Fast: one holdout split", "Thorough: k-fold cross-validation"],
            key="lift_mode",
            help="Fast trains each model once and scores 20% held-out rows (error bars from "
            "a bootstrap of those rows). Thorough retrains everything, DeepFM included, "
            "in every fold.",
        )
        folds: int | None = None
        if mode.startswith("Thorough"):
            folds = int(st.number_input("Folds (k)", 2, 10, 5, key="lift_folds"))
    with c2:
        chosen = st.multiselect(
            "Models",
            list(MODELS),
            default=list(MODELS),
            format_func=lambda m: MODEL_LABELS[m],
            key="lift_models",
        )
    st.button(
        "Run lift",
        type="primary",
        key="lift_run",
        disabled=running or not chosen,
        on_click=_start,
        args=(dataset, roles, folds, chosen),
    )
    if not chosen:
        st.caption("Choose at least one model.")

if running:
    _live_progress()
elif job is not None and job.error:
    st.error(job.error, icon="⚠️")

result = _current_result()
if result is not None and not running:
    label = job.dataset_label if job is not None and job.result is result else ""
    _show_result(result, label)
