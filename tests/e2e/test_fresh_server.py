"""End-to-end: a fresh server whose first visitor opens a page's own URL (F5 on a page
after a restart, or a bookmarked page) gets the app: its navigation and its data, not
Streamlit's pages-folder mode (a sidebar of file names, the page's file run alone
without ``app.py``). Served as ``make run`` does and with plain ``streamlit run app.py``.

Skipped when Chromium is missing, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import (
    chromium_page,
    page_problems,
    streamlit_process,
    wait_idle,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _navigation(page) -> list[str]:
    """The sidebar's page names (without their icons' ligature text)."""
    texts = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    return [text.split("\n")[-1].strip() for text in texts]


@pytest.mark.parametrize("serve", [True, False], ids=["make-run", "plain-streamlit"])
def test_the_first_session_on_a_page_url_gets_the_app(chromium: str, serve: bool, tmp_path: Path):
    with (
        streamlit_process(tmp_path / "server.log", serve=serve) as (url, _proc),
        chromium_page(chromium) as page,
    ):
        for _ in range(2):  # opened on /train, then reloaded (F5)
            page.goto(url + "/train")
            page.get_by_role("heading", name="Train", exact=True).wait_for()
            page.get_by_text("Bank marketing").first.wait_for()  # the default sample
            wait_idle(page)
            names = _navigation(page)
            assert names[:2] == ["Data", "Train"] and "app" not in names, names
            assert "No data loaded" not in page.locator("main").inner_text()
        assert not page_problems(page), page_problems(page)
