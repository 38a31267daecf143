"""What-if page: change a row's values and watch the prediction move.

Start from a typical row (most common category, median number) or from a row of the
data, edit any value, and compare the new prediction with the starting one. Keep
scenarios side by side, and sweep one field over its most common categories.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from embedding_core import formatting as fmt
from embedding_core.analysis.whatif import (
    RELIABLE_COUNT,
    baseline_row,
    compare_scenarios,
    describe_changes,
    learned_categories,
    predict_rows,
    row_at,
    scalar_prediction,
    sweep,
    value_text,
)
from embedding_core.analysis.whatif_explain import contributions, default_class, neighbour_sweep
from embedding_core.errors import EmbeddingCoreError
from embedding_core.model.run import TrainedRun
from ui import state
from ui.charts import prediction_text, shown_move, sweep_figure
from ui.literal import literal
from ui.scenario_store import set_kept
from ui.state import Keys
from ui.widgets import require_run, show_error

MAX_OPTIONS = 2000  # categories offered in a selectbox (most frequent first); typing works too
TYPICAL = "A typical row (most common values)"
MOST_COMMON = "most common categories"
NEAREST = "nearest neighbours of the current value"
FROM_DATA = "A row of the data"
SWEEP_MIN, SWEEP_MAX = 5, 50  # the sweep's slider, within the field's own count


def _categories(run: TrainedRun, field: str) -> list[str]:
    table = run.embeddings(field)
    real = table[~table["is_unknown"].astype(bool) & ~table["is_missing"].astype(bool)]
    real = real.sort_values("count", ascending=False, kind="mergesort")
    return [str(c) for c in real["category"].head(MAX_OPTIONS)]


def _typical_from_run(run: TrainedRun) -> dict[str, Any]:
    """A typical row when the current data does not hold the run's columns."""
    row: dict[str, Any] = {c: None for c in run.roles.features}
    for c in run.roles.categorical:
        options = _categories(run, c)
        row[c] = options[0] if options else None
    return row


def _label(run: TrainedRun) -> str:
    target = run.roles.target
    if run.roles.task == "regression":
        return f"Predicted {target}"
    positive = run.positive_label
    if run.roles.task == "binary" and positive is not None:
        return f"P({target} = {positive})"
    return f"P({target})"


def _delta(value: float, task: str) -> str:
    return fmt.signed_number(value) if task == "regression" else fmt.points(value)


def _is_flat(value: float, task: str) -> bool:
    return _delta(value, task) in ("0", "0.0 points")


def _class_choice(run: Any, frame: pd.DataFrame | None, base: dict[str, Any]) -> str:
    """Multiclass: which class to show; the most frequent one first (never silently another)."""
    classes = run.classes
    target = run.roles.target
    default = default_class(run, frame[target] if frame is not None and target in frame else None)
    if default is None:  # no data at hand: the class the model finds most likely here
        default = classes[int(np.argmax(predict_rows(run, [base])[0]))]
    return st.selectbox(
        "Show the probability of",
        classes,
        index=classes.index(default),
        key=state.widget_key(Keys.WHATIF_CLASS, run_scope(run)),
        bind="query-params",
        help="Defaults to the most frequent class.",
    )


def run_scope(run: Any) -> str:
    info = state.get_run_info()
    return info.run_id if info is not None else "none"


def _why_it_moved(run: Any, base: dict[str, Any], edited: dict[str, Any], target_class, task):
    """Each changed value's part in the move (see ``whatif_explain.contributions``)."""
    parts = contributions(run, base, edited, target_class=target_class)
    if parts.empty:
        return
    st.markdown("**Why it moved**")
    shown = pd.DataFrame(
        {
            "value": [
                f"{c}: {value_text(a)} -> {value_text(b)}"
                for c, a, b in zip(parts["column"], parts["from"], parts["to"], strict=True)
            ],
            "effect with your other changes": [_delta(v, task) for v in parts["in context"]],
            "effect on its own": [_delta(v, task) for v in parts["alone"]],
        }
    )
    st.dataframe(shown, hide_index=True)
    st.caption(
        "With your other changes: how much the prediction falls back if only this value is "
        "reset. On its own: how much it moves if only this value is changed on the starting "
        "row. They differ when values interact."
    )


def _row_id(row: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()[:10]


def _value_key(column: str, scope: str) -> str:
    """The key of ``column``'s widget for the run and starting row ``scope``."""
    return state.widget_key(f"{Keys.WHATIF_VALUE}_{column}", scope)


def _edit_row(run: TrainedRun, base: dict[str, Any], scope: str) -> dict[str, Any]:
    """One widget per feature, prefilled with the base row; returns the edited row."""
    roles = run.roles
    edited = dict(base)
    columns = st.columns(3)
    for i, col in enumerate(roles.features):
        with columns[i % 3]:
            key = _value_key(col, scope)
            if col in roles.categorical:
                options = _categories(run, col)
                value = base.get(col)
                if value is not None and value not in options:
                    options = [value, *options]
                edited[col] = st.selectbox(
                    literal(col),
                    options,
                    index=None if value is None else options.index(value),
                    format_func=fmt.category,
                    accept_new_options=True,
                    placeholder="(missing)",
                    key=key,
                    bind="query-params",  # an edit survives F5 and travels with a link
                    help="Pick a category or type a new one (unseen ones use the "
                    "model's 'unknown' vector).",
                )
            else:
                value = base.get(col)
                edited[col] = st.number_input(
                    literal(col),
                    value=None if value is None else float(value),
                    key=key,
                    bind="query-params",
                    format="%g",
                )
    return edited


st.title("What-if")
info = require_run()
if info is not None:
    run = info.run
    roles = run.roles
    task = str(roles.task)
    dataset = state.get_dataset()
    frame = dataset.frame if dataset is not None else None
    if frame is not None and not set(roles.features) <= set(map(str, frame.columns)):
        frame = None
    try:
        st.write(
            "Start from a row, change any value, and see how the prediction of "
            f"**{literal(roles.target)}** moves."
        )
        options = [TYPICAL, FROM_DATA] if frame is not None else [TYPICAL]
        start = st.radio(
            "Start from", options, key=Keys.WHATIF_START, horizontal=True, bind="query-params"
        )
        if start == FROM_DATA and frame is not None:
            position = int(
                st.number_input(
                    "Row number",
                    0,
                    len(frame) - 1,
                    0,
                    help="Counted from 0: row 0 is the data's first row (below the header).",
                    key=Keys.WHATIF_ROW_NUMBER,
                    bind="query-params",
                )
            )
            base = row_at(frame, roles, position)
        elif frame is not None:
            base = baseline_row(frame, roles)
        else:
            base = _typical_from_run(run)
            st.caption("The current data does not hold this model's columns; typical values "
                       "come from the model's training counts.")  # fmt: skip

        target_class: str | None = None
        if task == "multiclass":
            target_class = _class_choice(run, frame, base)

        scope = f"{info.run_id}/{_row_id(base)}"
        with st.expander("Values (edit any of them)", expanded=True):
            edited = _edit_row(run, base, scope)
        state.set_whatif_row(edited)

        label = _label(run) if task != "multiclass" else f"P({roles.target} = {target_class})"
        preds, _ = scalar_prediction(predict_rows(run, [base, edited]), run, target_class)
        st.caption(f"Predicted: **{literal(label)}**")  # above: a metric's label is cut short
        c1, c2, c3 = st.columns([1, 1, 2])
        c1.metric("Starting row", prediction_text(preds[0], task), help=literal(label))
        c2.metric(
            "With your changes",
            prediction_text(preds[1], task),
            help=literal(label),
            delta=_delta(shown_move(preds[1], preds[0], task), task),
            delta_color="off",  # up is not necessarily good
            delta_arrow="off" if _is_flat(shown_move(preds[1], preds[0], task), task) else "auto",
        )
        c3.caption("Changes: " + literal(describe_changes(base, edited, roles)))
        _why_it_moved(run, base, edited, target_class, task)

        # ---- scenarios
        st.subheader("Scenarios")
        kept = [s for s in state.get_scenarios() if s.get("run_id") == info.run_id]

        def _keep(base: dict[str, Any], scope: str, name: str) -> None:
            # the values as the widgets hold them now: an edit sent with the click (a
            # click right after typing) is not yet in the row this page drew last
            row = dict(base)
            for col in roles.features:
                key = _value_key(col, scope)
                if key in st.session_state:
                    row[col] = st.session_state[key]
            entry = {"run_id": info.run_id, "name": name, "row": row}
            set_kept([*state.get_scenarios(), entry])  # kept on the server: F5, links

        b1, b2 = st.columns([1, 4])
        b1.button(
            "Keep this scenario",
            key=Keys.WHATIF_KEEP,
            on_click=_keep,
            args=(base, scope, f"Scenario {len(kept) + 1}"),
        )
        if kept:
            b2.button("Clear scenarios", key=Keys.WHATIF_CLEAR, on_click=set_kept, args=([],))
            table = compare_scenarios(
                run,
                [base, *(s["row"] for s in kept)],
                names=["Starting row", *(s["name"] for s in kept)],
                target_class=target_class,
            )
            outcome = [c for c in table.columns if c not in roles.features]
            table = table[[*outcome, *roles.features]]  # the outcome first, then the inputs
            prediction = outcome[1]
            first = float(table[prediction].iloc[0])  # the starting row's
            table["change"] = [_delta(shown_move(v, first, task), task) for v in table[prediction]]
            table[prediction] = [prediction_text(v, task) for v in table[prediction]]
            for col in roles.categorical:
                table[col] = [fmt.category(v) for v in table[col]]
            st.dataframe(
                table,
                hide_index=True,
                # every change from the starting row, in full: kept rows often share most
                column_config={"changes": st.column_config.TextColumn(width="large")},
            )
            st.caption(
                "'change' is the difference from the starting row. The scenarios are kept "
                "with the run store: F5 and a copied link show them too."
            )
        else:
            st.caption("Keep a few edited rows here to compare them side by side.")

        # ---- sweep
        st.subheader("Sweep one field")
        s1, s2, s3 = st.columns([2, 2, 1])
        field = s1.selectbox(
            "Field", list(roles.categorical), key=Keys.WHATIF_SWEEP_FIELD, bind="query-params"
        )
        over = s2.radio(
            "Try",
            [MOST_COMMON, NEAREST],
            key=Keys.WHATIF_SWEEP_OVER,
            bind="query-params",
            help="Nearest: the categories whose vectors are closest to the row's own value.",
        )
        available = len(learned_categories(run, field)) - (over == NEAREST)  # not itself
        low, high = min(SWEEP_MIN, available), min(SWEEP_MAX, available)
        if high > low:  # the range is the field's own: no "20" for 12 categories
            top_n = s3.slider(
                "Categories",
                low,
                high,
                min(20 if over == MOST_COMMON else 8, high),
                key=state.widget_key(Keys.WHATIF_SWEEP_N, f"{over}/{field}"),
                bind="query-params",
            )
        else:
            top_n = max(available, 1)
            s3.caption(f"All {available} of its categories." if available else "No other one.")
        if over == NEAREST:
            swept = neighbour_sweep(run, edited, field, k=top_n, target_class=target_class)
            what = (
                f"each of the {len(swept)} categories of **{literal(field)}** nearest to "
                f"**{literal(fmt.category(edited.get(field)))}** (most similar first)"
            )
        else:
            swept = sweep(run, edited, field, top_n=top_n, target_class=target_class)
            what = f"each of the {len(swept)} most common categories of **{literal(field)}**"
        st.plotly_chart(
            sweep_figure(swept, label, float(preds[1]), task, dark=st.context.theme.type == "dark"),
            key=Keys.WHATIF_SWEEP_CHART,
        )
        st.caption(
            f"Prediction for {what}, the rest of the edited row fixed; the dashed line is the "
            f"edited row. Grey hatched bars: seen fewer than {RELIABLE_COUNT} times in "
            "training, so the model has barely seen them."
        )
    except EmbeddingCoreError as exc:
        show_error(exc)
