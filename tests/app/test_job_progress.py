"""The live progress of a background job (``ui.job_progress.live_progress``)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _page_with_a_job(seconds: float) -> None:
    from dataclasses import dataclass

    import streamlit as st

    from ui.job_progress import live_progress
    from ui.jobs import WorkerJob

    @dataclass(eq=False, kw_only=True)
    class Job(WorkerJob):
        def _run(self) -> None:
            self.stop_event.wait(seconds)  # a job slot is held until then

        def fraction_done(self) -> float:
            return 0.5

        def status_text(self) -> str:
            return "Working"

    if "job" not in st.session_state:
        st.session_state.job = Job().start()
        st.session_state.adopted = 0

    def adopt() -> None:
        st.session_state.adopted += 1
        st.session_state.job = None

    live_progress(lambda: st.session_state.job, on_done=adopt)
    st.write(f"adopted {st.session_state.adopted}")


def test_a_job_that_ends_while_its_progress_is_drawn_is_adopted_in_that_run() -> None:
    # The job ends 0.05 s after it starts, within the run's wait: no second poll needed
    # (an AppTest run never polls again on its own).
    at = AppTest.from_function(_page_with_a_job, args=(0.05,), default_timeout=60)
    at.run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["adopted 1"]
    assert not at.get("progress")


def test_a_longer_job_shows_its_progress_and_is_not_adopted_yet() -> None:
    at = AppTest.from_function(_page_with_a_job, args=(30.0,), default_timeout=60)
    at.run()
    assert not at.exception
    (bar,) = at.get("progress")
    assert "Working" in bar.proto.text
    assert [m.value for m in at.markdown] == ["adopted 0"]
    job = at.session_state.job
    job.request_stop()
    assert job.wait(10)
