"""AppTest: the What-if page (no run, edits move the prediction, scenarios, sweep)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from app_helpers import assert_no_exception, plain, store_run

from embedding_core import formatting as fmt
from embedding_core.analysis.whatif import baseline_row, predict_row, row_at, sweep
from embedding_core.data.csv_reader import read_csv
from embedding_core.data.roles import Roles
from ui.state import Dataset, Keys

SMALL_CSV = Path(__file__).resolve().parents[1] / "data" / "small_churn.csv"
ROLES = Roles(("customer_city", "device", "plan", "channel"), "churned", ("age",), "binary")


def _whatif(at):
    at.session_state[Keys.DATASET] = Dataset(
        key="upload:test", label="small_churn.csv", frame=read_csv(SMALL_CSV),
        suggested=ROLES, source="upload",
    )  # fmt: skip
    at.switch_page("pages/whatif.py").run()
    assert_no_exception(at)
    return at


def _selectbox(at, label):
    return next(s for s in at.selectbox if plain(s.label) == label)


def test_without_a_run_the_page_points_to_train(new_app, tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDDING_CORE_RUNS", str(tmp_path))  # no saved run to point to
    at = new_app().run()
    at.switch_page("pages/whatif.py").run()
    assert_no_exception(at)
    assert "No trained run yet" in at.info[0].value


def test_editing_a_value_moves_the_prediction(app_with_run, small_run):
    at = _whatif(app_with_run)
    frame = read_csv(SMALL_CSV)
    base = baseline_row(frame, small_run.roles)
    start, changed = at.metric[0], at.metric[1]
    expected = predict_row(small_run, base)
    assert start.value == fmt.percent(expected) and changed.value == start.value
    assert changed.delta == "0.0 points"  # no arrow claims it went up
    # short labels (a narrow column cuts a long one); what is predicted is said above them
    assert [start.label, changed.label] == ["Starting row", "With your changes"]
    assert any(plain(c.value).startswith("Predicted: **P(churned") for c in at.caption)

    swept = sweep(small_run, base, "customer_city", top_n=50)
    gaps = (swept["prediction"] - expected).abs()
    other = str(swept.loc[gaps.idxmax(), "category"])  # the change that moves it most
    _selectbox(at, "customer_city").set_value(other).run()
    assert_no_exception(at)
    new = predict_row(small_run, {**base, "customer_city": other})
    assert new != expected
    assert at.metric[1].value == fmt.percent(new)
    shown = fmt.points(round(new, 3) - round(expected, 3))  # the move between the two shown
    assert at.metric[1].delta == shown
    # why it moved: the one changed value carries the whole move
    why = at.dataframe[0].value
    assert list(why.columns) == ["value", "effect with your other changes", "effect on its own"]
    assert why["value"].tolist() == [f"customer_city: {base['customer_city']} -> {other}"]
    assert why.iloc[0, 1] == fmt.points(new - expected) == why.iloc[0, 2]
    changes = [c.value.replace("\\", "") for c in at.caption if "Changes:" in c.value]
    assert changes and f"customer_city: {base['customer_city']} -> {other}" in changes[0]
    assert at.session_state[Keys.WHATIF_ROW]["customer_city"] == other

    # keep it as a scenario: a comparison table appears
    at.button(key=Keys.WHATIF_KEEP).click().run()
    assert_no_exception(at)
    scenarios = at.session_state[Keys.SCENARIOS]
    assert len(scenarios) == 1 and scenarios[0]["row"]["customer_city"] == other
    table = at.dataframe[1].value
    assert list(table["scenario"]) == ["Starting row", "Scenario 1"]
    # the outcome first, then the inputs
    assert list(table.columns[:4]) == ["scenario", "prediction", "change", "changes"]
    assert table["change"].iloc[1] == shown

    # an edit sent together with the click (a click right after typing) is the one kept
    third = next(
        c for c in swept["category"].astype(str) if c not in (other, base["customer_city"])
    )
    _selectbox(at, "customer_city").set_value(third)
    at.button(key=Keys.WHATIF_KEEP).click().run()
    assert_no_exception(at)
    kept = at.session_state[Keys.SCENARIOS]
    assert [s["row"]["customer_city"] for s in kept] == [other, third]


def test_start_from_a_data_row_and_sweep_a_field(app_with_run, small_run):
    at = _whatif(app_with_run)
    at.radio(key=Keys.WHATIF_START).set_value("A row of the data").run()
    at.number_input(key=Keys.WHATIF_ROW_NUMBER).set_value(7).run()
    assert_no_exception(at)
    row = row_at(read_csv(SMALL_CSV), small_run.roles, 7)
    assert at.metric[0].value == fmt.percent(predict_row(small_run, row))

    at.selectbox(key=Keys.WHATIF_SWEEP_FIELD).set_value("device").run()
    assert_no_exception(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    (bars,) = [t for t in spec["data"] if t["type"] == "bar"]
    n_devices = int((~small_run.embeddings("device")["is_unknown"]).sum()) - int(
        small_run.embeddings("device")["is_missing"].sum()
    )
    assert len(bars["y"]) == min(20, n_devices)
    xs = bars["x"] if isinstance(bars["x"], list) else None
    if xs is not None:  # drawn bottom-up: highest prediction last
        assert xs == sorted(xs)


def test_sweep_over_the_nearest_neighbours_of_the_current_value(app_with_run, small_run):
    at = _whatif(app_with_run)
    at.selectbox(key=Keys.WHATIF_SWEEP_FIELD).set_value("customer_city").run()
    at.radio(key=Keys.WHATIF_SWEEP_OVER).set_value("nearest neighbours of the current value")
    at.run()
    assert_no_exception(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    (bars,) = [t for t in spec["data"] if t["type"] == "bar"]
    current = baseline_row(read_csv(SMALL_CSV), small_run.roles)["customer_city"]
    assert current not in bars["y"] and len(bars["y"]) == 8
    assert spec["layout"]["xaxis"]["tickformat"] == ".1%"
    assert any("nearest to" in plain(c.value) for c in at.caption)


def test_an_edit_survives_a_reload(new_app, small_run, tmp_path, monkeypatch):
    """F5 (a fresh session on the same address) keeps the values the user changed: the
    edit widgets are bound to the URL, which the browser updates as the user edits."""
    run_id = store_run(small_run, tmp_path, monkeypatch)
    at = new_app()
    at.query_params.update(run=run_id, page="whatif")
    at.run()
    assert_no_exception(at)
    box = _selectbox(at, "customer_city")
    other = next(o for o in box.options if o != box.value)
    box.set_value(other).run()
    changed = at.metric[1].value
    assert changed != at.metric[0].value
    fresh = new_app()  # F5: the address now holds the edit under the widget's key
    fresh.query_params.update(run=run_id, page="whatif", **{box.key: other})
    fresh.run()
    assert_no_exception(fresh)
    assert _selectbox(fresh, "customer_city").value == other
    assert fresh.metric[1].value == changed


def test_the_sweep_offers_only_as_many_categories_as_the_field_has(app_with_run, small_run):
    """The slider's range is the field's own (12 cities: up to 12, and 11 neighbours);
    a field of fewer categories than the slider's low end gets no slider: all of them."""
    from embedding_core.analysis.whatif import learned_categories

    at = _whatif(app_with_run)
    cities = len(learned_categories(small_run, "customer_city"))
    at.selectbox(key=Keys.WHATIF_SWEEP_FIELD).set_value("customer_city").run()
    (slider,) = [s for s in at.slider if s.label == "Categories"]
    assert (slider.min, slider.max, slider.value) == (5, cities, min(20, cities))
    bars = [
        t for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"] if t["type"] == "bar"
    ]
    assert len(bars[0]["y"]) == cities
    at.radio(key=Keys.WHATIF_SWEEP_OVER).set_value("nearest neighbours of the current value")
    at.run()
    (slider,) = [s for s in at.slider if s.label == "Categories"]
    assert slider.max == cities - 1
    plans = len(learned_categories(small_run, "plan"))
    assert plans <= 5
    at.selectbox(key=Keys.WHATIF_SWEEP_FIELD).set_value("plan").run()
    assert_no_exception(at)
    assert not [s for s in at.slider if s.label == "Categories"]
    assert f"All {plans - 1} of its categories." in [plain(c.value) for c in at.caption]


def test_kept_scenarios_survive_a_reload_and_travel_in_a_link(
    new_app, small_run, tmp_path, monkeypatch
):
    """Kept scenarios are written to the run store and the address names them
    (``scenarios=``): F5 or a stakeholder's link shows the same table; clearing them
    drops the name; a name that is not theirs is ignored."""
    run_id = store_run(small_run, tmp_path, monkeypatch)
    at = new_app()
    at.query_params.update(run=run_id, page="whatif")
    at.run()
    box = _selectbox(at, "customer_city")
    other = next(o for o in box.options if o != box.value)
    box.set_value(other).run()
    at.button(key=Keys.WHATIF_KEEP).click().run()
    assert_no_exception(at)
    handle = at.query_params["scenarios"]
    assert len(handle) == 32 and list((tmp_path / ".scenarios").iterdir())
    kept = _scenario_table(at)

    fresh = new_app()  # F5, or the link in another browser
    fresh.query_params.update(run=run_id, page="whatif", scenarios=handle)
    fresh.run()
    assert_no_exception(fresh)
    table = _scenario_table(fresh)
    assert list(table.iloc[:, 0]) == ["Starting row", "Scenario 1"]
    assert other in set(table["customer_city"])
    pd.testing.assert_frame_equal(table, kept)

    fresh.button(key=Keys.WHATIF_CLEAR).click().run()
    assert "scenarios" not in fresh.query_params and _scenario_table(fresh) is None

    for hostile in ("../../etc/passwd", "0" * 32):
        other_session = new_app()
        other_session.query_params.update(run=run_id, page="whatif", scenarios=hostile)
        other_session.run()
        assert_no_exception(other_session)
        assert _scenario_table(other_session) is None


def _scenario_table(at):
    """The scenarios' table (its first column starts with the starting row), or None."""
    tables = [d.value for d in at.dataframe if "Starting row" in set(d.value.iloc[:, 0])]
    return tables[0] if tables else None
