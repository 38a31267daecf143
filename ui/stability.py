"""The Neighbours page's "check stability": train 2 more seeds, then show agreement.

The seeds train in a background job (``ui.training.StabilityJob``) and are saved to the
run store as siblings of the current run, so the check is done once per run and
survives reloads. With siblings present, each neighbour shows in how many of the runs
it is among the ``k`` nearest, and the query category gets a badge.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from embedding_core.errors import EmbeddingCoreError
from ui import state
from ui.job_progress import live_progress
from ui.literal import literal
from ui.runs import group_runs, seed_group, stability_table, store
from ui.state import Keys
from ui.training import StabilityJob

__all__ = ["stability_panel", "EXTRA_SEEDS", "BADGE_COLOURS"]

EXTRA_SEEDS = 2
BADGE_COLOURS = {"stable": "green", "unstable": "orange", "too rare": "gray"}


def _frame_for(info: state.RunInfo) -> pd.DataFrame | None:
    """The rows the run was trained on: stored with it, or the current dataset."""
    dataset = state.get_dataset()
    if dataset is not None and info.dataset_key and dataset.key == info.dataset_key:
        return dataset.frame
    try:
        return store().data(info.run_id)
    except EmbeddingCoreError:
        return None


def _start(info: state.RunInfo, frame: pd.DataFrame) -> None:
    seed = int(info.run.config.seed)
    job = StabilityJob(
        primary_id=info.run_id,
        store_root=str(store().root),
        frame=frame,
        roles=info.run.roles,
        config=info.run.config,
        seeds=tuple(seed + i for i in range(1, EXTRA_SEEDS + 1)),
        dataset_label=info.dataset_label,
        dataset_key=info.dataset_key,
    )
    state.set_stability_job(job.start())


def stability_panel(
    info: state.RunInfo, field_name: str, category: str, k: int, metric: str, rare: int
) -> tuple[dict[str, int], int] | None:
    """Draw the stability line for ``category``; return (neighbour -> runs in which it
    is among the ``k`` nearest, number of runs).

    Returns None (after offering the check) when the run has no seed siblings yet.
    ``rare``: categories seen fewer times are badged "too rare".
    """
    group = seed_group(info)
    job = state.get_stability_job()
    mine = job is not None and getattr(job, "primary_id", None) == info.run_id
    if mine and job.running:
        live_progress(state.get_stability_job)
        return None
    if mine and job.error:
        st.error(job.error, icon=":material/error:")
    if len(group) >= 2:
        return _show(group, field_name, category, k, metric, rare)
    if not info.stored:
        st.caption("Check stability needs the run in the run store (it was not saved).")
        return None
    frame = _frame_for(info)
    st.button(
        f"Check stability (train {EXTRA_SEEDS} more seeds in the background)",
        key=Keys.STABILITY_BUTTON,
        disabled=frame is None,
        on_click=_start,
        args=(info, frame),
        help="Same data and settings, other seeds. Neighbours that stay are worth "
        "acting on; the extra runs are kept in the run store.",
    )
    if frame is None:
        st.caption("The data of this run was not kept: load it on the Data page to check.")
    return None


def stability_caption(table: pd.DataFrame, overlap: float, seeds: int) -> str:
    """How a category's badge was decided: its agreement against chance and the line."""
    k, asked = table.attrs["k"], table.attrs.get("asked_k", table.attrs["k"])
    judged = (
        f" (judged on {k}, not {asked}: with {len(table):,} categories, {asked} neighbours "
        "are most of the others, which random vectors would share too)"
        if k < asked
        else ""
    )
    return (
        f"Across {seeds} seeds, {overlap:.0%} of its {k} nearest neighbours agree on "
        f"average{judged}; random vectors would share {table.attrs['chance']:.0%}. Stable: "
        f"at least {table.attrs['line']:.0%}, half of the way from chance to full "
        "agreement. Too rare: seen fewer times than the reliability threshold."
    )


def _show(
    group: list[str], field_name: str, category: str, k: int, metric: str, rare: int
) -> tuple[dict[str, int], int] | None:
    from embedding_core.analysis.stability import neighbour_votes

    try:
        table = stability_table(tuple(group), field_name, k, metric, rare)
        votes = neighbour_votes(group_runs(group), field_name, category, k, metric=metric)
    except EmbeddingCoreError as exc:
        st.caption(literal(f"Stability cannot be shown for this field: {exc}"))
        return None
    row = table.loc[table["category"] == category]
    if row.empty:
        st.caption(f"Not every seed learned this category: no stability badge ({len(group)} runs).")
    else:
        badge = str(row["reliability"].iloc[0])
        overlap = float(row["overlap"].iloc[0])
        st.badge(badge, color=BADGE_COLOURS[badge])
        st.caption(stability_caption(table, overlap, len(group)))
    return votes, len(group)
