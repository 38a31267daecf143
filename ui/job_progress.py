"""The live progress of a background job (``ui.jobs.WorkerJob``): one fragment for every page.

The fragment reruns on its own every ``POLL_SECONDS`` while the rest of the page stays
put: a progress bar with the job's status line, an optional Stop button and optional
job-specific details (the loss chart, the cells finished so far). When the job ends
it calls ``on_done`` (e.g. adopt the result) and reruns the whole page; in the job's
last moments (``WorkerJob.nearly_done``) it waits for the end rather than for the next
poll.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from ui.jobs import WorkerJob
from ui.literal import literal

__all__ = ["POLL_SECONDS", "live_progress"]

POLL_SECONDS = 1.0


@st.fragment(run_every=POLL_SECONDS)
def live_progress(
    get_job: Callable[[], WorkerJob | None],
    *,
    stop_key: str | None = None,
    stop_help: str = "",
    on_done: Callable[[], Any] | None = None,
    details: Callable[[Any], None] | None = None,
) -> None:
    """Show the progress of the session's job, until it ends.

    Parameters
    ----------
    get_job : callable
        Returns the job to follow (a ``ui.state`` getter), or None.
    stop_key : str, optional
        Widget key of the Stop button; no button when None.
    stop_help : str
        Tooltip of the Stop button (what stopping keeps).
    on_done : callable, optional
        Called once the job has finished, before the page reruns.
    details : callable, optional
        Draws job-specific content under the bar; receives the job.
    """
    job = get_job()
    if job is None:
        return
    if not job.done and job.nearly_done():
        job.wait(POLL_SECONDS)  # show the end as it comes, not at the next poll
    if job.done:
        if on_done is not None:
            on_done()
        st.rerun()
    waiting = job.queue_text()
    # status lines name columns, files and categories: Markdown would render them
    st.progress(job.fraction_done(), text=literal(waiting or job.status_text()))
    if stop_key is not None:
        st.button(
            "Stop",
            key=stop_key,
            on_click=job.request_stop,
            disabled=job.stop_event.is_set(),
            help=stop_help,
        )
    if details is not None:
        details(job)
