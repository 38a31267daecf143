"""End-to-end: a real Chromium drives `streamlit run app.py` like a user would.

Upload a CSV, choose its columns, train for two epochs, look at the projection (with the
right number of points), a neighbours table and the interaction heatmap; then run Lift in
fast (holdout) mode with two models and see its table and its chart with error bars, and
change a value on What-if and see the prediction move. Last, a second server process
(nothing in memory) opens the neighbours view's "copy link" in a fresh browser and shows
the same neighbours: runs live in the run store, not in the session. A screenshot of each page is
saved under the pytest temporary directory and checked not to be blank.

Skipped when Chromium is missing, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.e2e.harness import (
    PHONE,
    ROOT,
    VIEWPORT,
    choose_option,
    chromium_page,
    distinct_colours,
    open_page,
    page_problems,
    phone_page,
    plot_point_count,
    set_multiselect,
    set_number,
    streamlit_server,
    trace_length,
    upload_csv,
    wait_idle,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SMALL_CSV = ROOT / "tests" / "data" / "small_churn.csv"
CATEGORICAL = ["customer_city", "device", "plan"]
LIFT_MODELS = ["logistic regression", "gradient boosting"]  # the two fastest


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


def test_upload_train_explore_lift_whatif(page: Any, tmp_path: Path) -> None:
    # Data: the default sample is ready; upload our own CSV and choose its columns
    page.get_by_text("Ready to train").first.wait_for()
    upload_csv(page, SMALL_CSV)
    page.get_by_text("Suggested: churned").first.wait_for()
    page.get_by_role("button", name="Predict churned").click()
    page.get_by_text("Ready to train").first.wait_for()  # the target is confirmed
    wait_idle(page)
    set_multiselect(page, "Categorical columns", CATEGORICAL)
    set_multiselect(page, "Numeric columns", ["age"])
    page.get_by_text("Ready to train: 600 rows, 3 categorical and 1 numeric").wait_for()
    _screenshot(page, tmp_path / "data.png")

    # Train: two epochs at most, then wait for the summary. A high learning rate makes
    # the few steps (one batch per epoch) move the vectors enough for What-if to show it.
    open_page(page, "Train")
    page.get_by_text("small_churn.csv").first.wait_for()
    page.get_by_text("Advanced settings").click()
    set_number(page, "Max epochs", 2)
    set_number(page, "Learning rate", 0.05)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_role("heading", name="Last run").wait_for(timeout=180_000)
    page.get_by_text("Rows / second").first.wait_for()
    _screenshot(page, tmp_path / "train.png")
    _train_settings_survive_a_reload(page)

    # Explore: one point per category of the first field (customer_city: 12 cities)
    open_page(page, "Explore")
    n_cities = pd.read_csv(SMALL_CSV)["customer_city"].nunique()
    assert plot_point_count(page) == n_cities
    _screenshot(page, tmp_path / "explore.png")
    _reload_keeps(page, "Colour by", "count", "explore_colour=count")  # F5 keeps all
    assert plot_point_count(page) == n_cities

    # Neighbours: a table and a bar chart for the most frequent category
    open_page(page, "Neighbours")
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    assert page.locator('[data-testid="stDataFrame"]').first.is_visible()
    assert trace_length(page, "y") == min(10, n_cities - 1)
    _screenshot(page, tmp_path / "neighbours.png")
    link, before = _neighbours_link(page)
    assert "nb_metric=euclidean" in link  # the link carries the page's settings too
    _neighbours_across(page, n_ages=pd.read_csv(SMALL_CSV)["age"].nunique())

    # Interactions: a heatmap of the three fields
    open_page(page, "Interactions")
    page.wait_for_selector(".js-plotly-plot")
    trace_length(page, "x")
    heat_x = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullData[0].x")
    assert sorted(heat_x) == sorted(CATEGORICAL)
    _screenshot(page, tmp_path / "interactions.png")
    assert not page.locator('[data-testid="stException"]').count()

    _lift_fast_mode(page, tmp_path)
    _whatif_moves_the_prediction(page, tmp_path)
    _downloads_at_once(page)
    assert not page.locator('[data-testid="stException"]').count()
    _dark_theme_is_readable(page, tmp_path)
    _phone_width(page, tmp_path)
    assert page_problems(page) == []  # no console error, failed request or HTTP error
    _link_after_restart(page, link, before, tmp_path)


def _luminance(page: Any, selector: str, prop: str) -> float:
    """Relative luminance (0 black - 1 white) of a CSS colour property of an element."""
    rgb = page.evaluate(
        """([sel, prop]) => getComputedStyle(document.querySelector(sel))[prop]
            .match(/[0-9.]+/g).slice(0, 3).map(Number)""",
        [selector, prop],
    )
    r, g, b = (c / 255 for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _dark_theme_is_readable(page: Any, tmp_path: Path) -> None:
    """The OS asks for dark: the app follows, and the map's labels stay readable."""
    page.emulate_media(color_scheme="dark")
    open_page(page, "Explore")
    page.wait_for_selector(".js-plotly-plot .textpoint text")
    page.wait_for_timeout(500)
    assert _luminance(page, '[data-testid="stApp"]', "backgroundColor") < 0.2
    on_dark = _luminance(page, ".js-plotly-plot .textpoint text", "fill")
    assert on_dark > 0.6  # light labels on the dark background
    _screenshot(page, tmp_path / "explore-dark.png")
    page.emulate_media(color_scheme="light")
    page.wait_for_timeout(1500)
    wait_idle(page)
    assert _luminance(page, '[data-testid="stApp"]', "backgroundColor") > 0.8
    assert _luminance(page, ".js-plotly-plot .textpoint text", "fill") < on_dark - 0.3


_SIDEBAR_OPEN = """() => document.querySelector('[data-testid="stSidebar"]')
    .getBoundingClientRect().right > 10"""
_SIDEBAR_CLOSED = """() => !!document.querySelector('[data-testid="stExpandSidebarButton"]')
    && document.querySelector('[data-testid="stSidebar"]').getBoundingClientRect().right <= 0"""
PHONE_PAGES = ("Explore", "Neighbours", "Interactions", "Lift", "What-if")


def _phone_width(page: Any, tmp_path: Path) -> None:
    """On a phone (390 px, a mobile browser), light and dark: the address of the session so
    far opens the same data, run and lift; on each page with charts the sidebar closes
    after navigating, every chart fits the screen and nothing scrolls sideways."""
    phone = phone_page(page.context.browser)
    try:
        for scheme in ("light", "dark"):
            phone.emulate_media(color_scheme=scheme)
            phone.goto(page.url)
            phone.locator("h1").first.wait_for()
            wait_idle(phone)
            for title in PHONE_PAGES:
                if phone.evaluate(_SIDEBAR_CLOSED):
                    phone.locator('[data-testid="stExpandSidebarButton"]').click()
                phone.wait_for_function(_SIDEBAR_OPEN)
                phone.wait_for_timeout(300)  # the slide-in
                phone.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
                phone.get_by_role("heading", name=title, exact=True).first.wait_for()
                wait_idle(phone)
                phone.wait_for_function(_SIDEBAR_CLOSED)
                phone.wait_for_selector(".js-plotly-plot .main-svg")
                phone.wait_for_timeout(300)
                rights, overflow = phone.evaluate(
                    """() => [Array.from(document.querySelectorAll('.js-plotly-plot'))
                                .map(p => p.getBoundingClientRect().right),
                              Array.from(document.querySelectorAll('html, [data-testid="stMain"],'
                                  + ' [data-testid="stAppViewContainer"]'))
                                .map(e => e.scrollWidth - e.clientWidth)]"""
                )
                width = PHONE["viewport"]["width"]
                assert rights and max(rights) <= width, (scheme, title, rights)
                assert max(overflow) <= 1, (scheme, title, overflow)  # no sideways scrolling
            _screenshot(phone, tmp_path / f"whatif-phone-{scheme}.png")
        assert page_problems(phone) == [], page_problems(phone)
    finally:
        phone.context.close()


def _neighbours_table(page: Any) -> list[list[Any]]:
    """(names, similarities) of the neighbours bar chart, as drawn."""
    page.wait_for_selector(".js-plotly-plot .barlayer .trace")
    return page.evaluate(
        """() => { const t = document.querySelector('.js-plotly-plot')._fullData[0];
                   return [Array.from(t.y), Array.from(t.x)]; }"""
    )


def _checked(page: Any, label: str) -> str:
    radio = page.locator('[data-testid="stRadio"]').filter(has_text=label).first
    return radio.locator("label:has(input:checked)").inner_text().strip()


def _in_url(page: Any, text: str) -> None:
    """Wait until the address bar's query holds ``text`` (e.g. ``category=city_C``)."""
    page.wait_for_function("t => location.search.includes(t)", arg=text)


def _reload_keeps(page: Any, label: str, option: str, param: str) -> None:
    """Choose ``option`` in the radio ``label`` (``param`` appears in the URL), press F5:
    the page comes back with it."""
    radio = page.locator('[data-testid="stRadio"]').filter(has_text=label).first
    radio.get_by_text(option, exact=True).click()
    wait_idle(page)
    assert _checked(page, label) == option
    _in_url(page, param)
    heading = page.locator("h1").first.inner_text().strip()
    page.reload()
    page.get_by_role("heading", name=heading, exact=True).first.wait_for()
    wait_idle(page)
    radio = page.locator('[data-testid="stRadio"]').filter(has_text=label).first
    # retried: a widget first shows its default, then the value the URL gave it
    expect(radio.locator("label:has(input:checked)")).to_have_text(option)


def _train_settings_survive_a_reload(page: Any) -> None:
    """A setting changed after training goes into the address; F5 shows it, and the
    other settings are the trained run's (not the defaults)."""
    set_number(page, "Seed", 3)
    _in_url(page, "cfg_seed=3")
    page.reload()
    page.get_by_role("heading", name="Last run").wait_for()
    wait_idle(page)
    page.get_by_text("changed from the defaults").first.wait_for()
    page.get_by_text("Advanced settings", exact=True).click()
    for label, value in (("Seed", "3"), ("Max epochs", "2"), ("Learning rate", "0.05000")):
        field = page.locator('[data-testid="stNumberInput"]').filter(has_text=label).first
        expect(field.locator("input")).to_have_value(value)  # retried: default, then URL's


def _neighbours_link(page: Any) -> tuple[str, list[list[Any]]]:
    """Pick a city that is not the default, 5 neighbours by euclidean distance, reload
    (all of it is kept), then read "copy link to this view"."""
    choose_option(page, "Category", "city_C")
    _in_url(page, "category=city_C")
    set_number(page, "k", 5)
    _in_url(page, "=5")
    _reload_keeps(page, "Distance", "euclidean", "nb_metric=euclidean")
    # a number input shows its default (10) for a moment after a reload, then the URL's 5
    expect(page.locator('[data-testid="stNumberInput"] input').first).to_have_value("5")
    table = _neighbours_table(page)
    title = page.evaluate("() => document.querySelector('.js-plotly-plot').layout.title.text")
    assert "city_C" in title, title
    assert len(table[0]) == 5
    page.get_by_role("button", name="Copy link to this view").click()
    code = page.locator('[data-testid="stCode"] code').first
    code.wait_for()
    link = code.inner_text().strip()
    assert "run=" in link and "page=neighbours" in link and "category=city_C" in link, link
    page.keyboard.press("Escape")
    return link, table


def _neighbours_across(page: Any, n_ages: int) -> None:
    """city_C's nearest age bins, then back to its nearest cities (the page's own field)."""
    choose_option(page, "Look for neighbours among", "age (numeric bins)")
    _in_url(page, "nb_among")
    page.get_by_text("Neighbours among age (numeric bins)").first.wait_for()
    _bars_are(page, cities=False)
    names = _neighbours_table(page)[0]
    assert names and len(names) <= min(5, n_ages), names
    choose_option(page, "Look for neighbours among", "customer_city (this field)")
    _bars_are(page, cities=True)
    assert len(_neighbours_table(page)[0]) == 5
    assert not page.locator('[data-testid="stException"]').count()


def _bars_are(page: Any, *, cities: bool) -> None:
    """Wait until every bar of the neighbours chart is a city (or none is): the chart is
    redrawn a moment after the page's rerun."""
    page.wait_for_function(
        """c => Array.from(document.querySelector('.js-plotly-plot')._fullData[0].y)
                 .every(n => String(n).startsWith('city_') === c)""",
        arg=cities,
    )


def _link_after_restart(page: Any, link: str, before: list[list[Any]], tmp: Path) -> None:
    """A new server process (nothing in memory) and a fresh browser context (no cookies,
    no storage) open the copied link and show the same neighbours."""
    with streamlit_server(tmp / "server2.log") as url:
        context = page.context.browser.new_context(viewport=VIEWPORT)
        try:
            fresh = context.new_page()
            fresh.set_default_timeout(60_000)
            fresh.goto(url + link[link.index("/?") :])
            fresh.get_by_role("heading", name="Neighbours", exact=True).wait_for()
            wait_idle(fresh)
            after = _neighbours_table(fresh)
            assert after[0] == before[0]
            assert after[1] == pytest.approx(before[1], abs=1e-6)
            assert not fresh.locator('[data-testid="stException"]').count()
            _screenshot(fresh, tmp / "neighbours_from_link.png")
        finally:
            context.close()


def _lift_fast_mode(page: Any, tmp_path: Path) -> None:
    """Lift, fast mode, two models: a results table, a lift table, bars with error bars."""
    open_page(page, "Lift")
    set_multiselect(page, "Models", LIFT_MODELS)
    page.get_by_role("button", name="Run lift").click()
    page.get_by_text("Fast holdout mode").first.wait_for(timeout=180_000)
    wait_idle(page)
    for model in LIFT_MODELS:
        page.get_by_text(f"For {model}, embeddings").first.wait_for()
    tables = page.locator('[data-testid="stDataFrame"]')
    tables.nth(1).wait_for()  # the page may still be redrawing once the URL names the result
    assert tables.count() == 2  # results, lift per model
    page.wait_for_selector(".js-plotly-plot .barlayer .trace")
    bars = page.evaluate(
        """() => document.querySelector('.js-plotly-plot')._fullData
            .filter(t => t.type === 'bar')
            .map(t => ({n: t.x.length, errors: !!(t.error_y && t.error_y.visible)}))"""
    )
    assert len(bars) == 4  # one-hot, ordinal, target, embeddings
    assert all(b["n"] == len(LIFT_MODELS) and b["errors"] for b in bars), bars
    drawn = page.locator(".js-plotly-plot g.errorbar path.yerror").count()
    assert drawn == 4 * len(LIFT_MODELS), f"{drawn} error bars drawn"
    _screenshot(page, tmp_path / "lift.png")


def _whatif_moves_the_prediction(page: Any, tmp_path: Path) -> None:
    """What-if: pick the city the sweep says moves the prediction most; it moves."""
    open_page(page, "What-if")
    values = page.locator('[data-testid="stMetricValue"]')
    values.nth(1).wait_for()
    before = values.nth(1).inner_text()
    assert before == values.nth(0).inner_text()  # nothing edited yet
    page.wait_for_selector(".js-plotly-plot .barlayer .trace")
    names, predictions = page.evaluate(
        """() => { const t = document.querySelector('.js-plotly-plot')._fullData[0];
                   return [Array.from(t.y), Array.from(t.x)]; }"""
    )
    start = float(before.rstrip("%")) / 100  # binary task: shown as a percentage
    gaps = {name: abs(p - start) for name, p in zip(names, predictions, strict=True)}
    other = max(gaps, key=gaps.__getitem__)
    assert gaps[other] > 0.002, f"no city moves the prediction: {gaps}"
    choose_option(page, "customer_city", other)
    page.wait_for_function(
        """([before]) => {
            const v = document.querySelectorAll('[data-testid="stMetricValue"]');
            return v.length > 1 && v[1].innerText !== before;
        }""",
        arg=[before],
        timeout=30_000,
    )
    after = values.nth(1).inner_text()
    assert after != before and values.nth(0).inner_text() == before
    delta = page.locator('[data-testid="stMetricDelta"]').first.inner_text()
    assert "points" in delta and "0.00 points" not in delta, delta
    changes = page.locator('[data-testid="stCaptionContainer"]', has_text="Changes:").first
    assert other in changes.inner_text(), changes.inner_text()
    _screenshot(page, tmp_path / "whatif.png")


def _downloads_at_once(page: Any) -> None:
    """Export: click downloads as soon as the page shows them, one right after another."""
    page.locator('[data-testid="stSidebarNav"] a', has_text="Export").first.click()
    for name in ("embedded_rows.csv", "All fields (zip of TSV files)", "embedded_rows.csv"):
        button = page.get_by_role("button", name=name).first
        button.wait_for()
        with page.expect_download(timeout=60_000) as info:
            button.click()
        path = info.value.path()
        assert info.value.failure() is None and Path(path).stat().st_size > 100, name


MARKUP = [
    "![img](http://example.invalid/x.png)",
    "[link](http://example.invalid/a)",
    "<img src=http://example.invalid/y.png onerror=alert(1)>",
    ":red[red] $x^2$ **bold**",
]


def test_markup_in_names_and_values_stays_text(page: Any, server: str, tmp_path: Path) -> None:
    """A file full of markup: no outside request, no dialog, no link or image from data."""
    outside: list[str] = []
    dialogs: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith((server, "data:", "blob:")) else outside.append(r.url),
    )
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    rows = 80
    frame = pd.DataFrame(
        {
            MARKUP[0]: [MARKUP[i % 4] for i in range(rows)],
            MARKUP[1]: [MARKUP[1]] * rows,  # constant: its name appears in a warning
            MARKUP[2]: [f"v{i % 3}" for i in range(rows)],
            MARKUP[3]: [i % 2 for i in range(rows)],
        }
    )
    path = tmp_path / "markup.csv"
    frame.to_csv(path, index=False)
    upload_csv(page, path)
    # the suggested target (the 0/1 column) is named in a caption and a button: literally
    page.wait_for_function(
        "names => names.some(n => document.body.innerText.includes(n))", arg=MARKUP
    )
    page.wait_for_timeout(1_000)
    evil = '[href*="example.invalid"], [src*="example.invalid"]'
    found = page.locator(evil)
    assert found.count() == 0, [
        found.nth(i).evaluate("e => e.parentElement.outerHTML.slice(0, 300)")
        for i in range(found.count())
    ]
    assert outside == [] and dialogs == []


def test_a_column_that_gives_the_target_away_is_left_out(page: Any, tmp_path: Path) -> None:
    """An export with the outcome written next to it: the guessed inputs leave it out, and
    the page says why."""
    rows = 300
    cancelled = [i % 3 == 0 for i in range(rows)]
    frame = pd.DataFrame(
        {
            "market": [f"m{i % 4}" for i in range(rows)],
            "reservation_status": ["Canceled" if c else "Check-Out" for c in cancelled],
            "is_canceled": [int(c) for c in cancelled],
        }
    )
    path = tmp_path / "bookings.csv"
    frame.to_csv(path, index=False)
    upload_csv(page, path)
    page.get_by_role("button", name="Predict is_canceled").click()
    page.get_by_text("Left out of the inputs.").first.wait_for()
    note = page.get_by_text("Left out of the inputs.").first.inner_text()
    assert "'reservation_status'" in note and "leakage" in note, note
    chosen = page.locator('[data-testid="stMultiSelect"]').first.inner_text()
    assert "market" in chosen and "reservation_status" not in chosen, chosen
    _screenshot(page, tmp_path / "leak.png")
    assert page_problems(page) == []
