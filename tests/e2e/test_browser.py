"""End-to-end: a real Chromium drives `streamlit run app.py` like a user would.

Upload a CSV, choose its columns, train for two epochs, look at the projection (with the
right number of points) and at a neighbours table; a screenshot of each page is saved
under the pytest temporary directory and checked not to be blank.

Skipped when Chromium is missing, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.e2e.harness import (
    ROOT,
    choose_option,
    chromium_page,
    distinct_colours,
    find_chromium,
    open_page,
    plot_point_count,
    set_multiselect,
    set_number,
    streamlit_server,
    trace_length,
    upload_csv,
    wait_idle,
)

pytestmark = pytest.mark.e2e

SMALL_CSV = ROOT / "tests" / "data" / "small_churn.csv"
CATEGORICAL = ["customer_city", "device", "plan"]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is missing: install the Debian `chromium` package.")
        pytest.skip("Chromium is not installed")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with streamlit_server(log) as url:
        yield url


@pytest.fixture
def page(chromium: str, server: str) -> Iterator[Any]:
    with chromium_page(chromium) as page:
        page.goto(server)
        page.get_by_role("heading", name="Data", exact=True).wait_for()
        wait_idle(page)
        yield page


def _screenshot(page: Any, path: Path) -> Path:
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000, f"{path.name} looks empty"
    assert distinct_colours(path) > 30, f"{path.name} looks blank"
    return path


def test_upload_train_explore_neighbours(page: Any, tmp_path: Path) -> None:
    # Data: the default sample is ready; upload our own CSV and choose its columns
    page.get_by_text("Ready to train").first.wait_for()
    upload_csv(page, SMALL_CSV)
    choose_option(page, "Target", "churned")
    set_multiselect(page, "Categorical columns", CATEGORICAL)
    set_multiselect(page, "Numeric columns", ["age"])
    page.get_by_text("Ready to train: 600 rows, 3 categorical and 1 numeric").wait_for()
    _screenshot(page, tmp_path / "data.png")

    # Train: two epochs at most, then wait for the summary
    open_page(page, "Train")
    page.get_by_text("small_churn.csv").first.wait_for()
    page.get_by_text("Advanced settings").click()
    set_number(page, "Max epochs", 2)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_role("heading", name="Last run").wait_for(timeout=180_000)
    page.get_by_text("Rows / second").first.wait_for()
    _screenshot(page, tmp_path / "train.png")

    # Explore: one point per category of the first field (customer_city: 12 cities)
    open_page(page, "Explore")
    n_cities = pd.read_csv(SMALL_CSV)["customer_city"].nunique()
    assert plot_point_count(page) == n_cities
    _screenshot(page, tmp_path / "explore.png")

    # Neighbours: a table and a bar chart for the most frequent category
    open_page(page, "Neighbours")
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    assert page.locator('[data-testid="stDataFrame"]').first.is_visible()
    assert trace_length(page, "y") == min(10, n_cities - 1)
    _screenshot(page, tmp_path / "neighbours.png")

    # Interactions: a heatmap of the three fields
    open_page(page, "Interactions")
    page.wait_for_selector(".js-plotly-plot")
    trace_length(page, "x")
    heat_x = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullData[0].x")
    assert sorted(heat_x) == sorted(CATEGORICAL)
    _screenshot(page, tmp_path / "interactions.png")
    assert not page.locator('[data-testid="stException"]').count()
