"""The live progress fragment shows a job's end as it comes when the job is nearly done."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


def _script(nearly: bool) -> None:
    import time

    import streamlit as st

    from ui.job_progress import live_progress
    from ui.jobs import WorkerJob

    class Job(WorkerJob):
        def _run(self) -> None:
            time.sleep(0.6)  # well within live_progress's wait, well after the first look

        def fraction_done(self) -> float:
            return 0.9

        def status_text(self) -> str:
            return "almost there"

        def nearly_done(self) -> bool:
            return nearly

    if "job" not in st.session_state:
        st.session_state.job = Job().start()
        st.session_state.adopted = 0

    def adopt() -> None:
        st.session_state.adopted += 1
        st.session_state.job = None

    live_progress(lambda: st.session_state.job, on_done=adopt)


@pytest.mark.parametrize("nearly", [True, False])
def test_a_nearly_done_job_is_adopted_in_the_same_run(nearly: bool) -> None:
    at = AppTest.from_function(_script, args=(nearly,), default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    if nearly:  # waited for the end, adopted it and redrew the page: no progress bar left
        assert at.session_state.adopted == 1 and not at.get("progress")
    else:  # the next poll will see the end
        assert at.session_state.adopted == 0 and at.get("progress")
