"""AppTest: Explore, Neighbours, Interactions (with a seeded run) and the no-run state."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from app_helpers import assert_no_exception, markdown_text, plotly_array, plotly_chart

from ui.state import Keys

RUN_PAGES = ["pages/explore.py", "pages/neighbours.py", "pages/interactions.py", "pages/export.py"]


@pytest.mark.parametrize("page", RUN_PAGES)
def test_pages_without_a_run_link_to_train(new_app, page, tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDDING_CORE_RUNS", str(tmp_path))  # no saved run to point to
    at = new_app().run()
    at.switch_page(page).run()
    assert_no_exception(at)
    assert any("No trained run yet" in i.value for i in at.info)
    links = at.get("page_link")
    assert any("train" in link.proto.page.lower() for link in links)
    assert not at.get("plotly_chart")


def test_explore_pca_map_has_one_point_per_category(app_with_run, small_run):
    at = app_with_run
    at.switch_page("pages/explore.py").run()
    assert_no_exception(at)
    field = [s for s in at.selectbox if s.label == "Field"][0].value
    table = small_run.embeddings(field)
    n_categories = int((~table["is_unknown"].astype(bool)).sum())
    data = plotly_chart(at)["data"]
    assert data[0]["type"] == "scatter"
    assert len(plotly_array(data[0]["x"])) == n_categories
    hover = data[0]["hovertemplate"]
    assert "count" in hover and "positive rate" in hover
    # point size grows with the count
    sizes = plotly_array(data[0]["marker"]["size"])
    assert len(set(sizes)) > 1


def test_explore_search_count_filter_3d_and_clusters(app_with_run):
    at = app_with_run
    at.switch_page("pages/explore.py").run()
    [s for s in at.selectbox if s.label == "Field"][0].set_value("customer_city")
    at.run()
    at.text_input[0].set_value("city_A")
    at.run()
    assert_no_exception(at)
    data = plotly_chart(at)["data"]
    assert len(data) == 2, "search matches are drawn as a second, ringed trace"
    assert plotly_array(data[1]["customdata"])[0][0] == "city_A"
    assert "1 match the search" in markdown_text(at)

    at.text_input[0].set_value("")
    at.select_slider[0].set_value(50)
    at.run()
    assert_no_exception(at)
    counts = [int(c[1]) for c in plotly_array(plotly_chart(at)["data"][0]["customdata"])]
    assert counts and min(counts) >= 50
    assert "hidden by the count filter" in markdown_text(at)

    at.toggle[0].set_value(True)
    at.radio[0].set_value("cluster")
    at.run()
    assert_no_exception(at)
    trace = plotly_chart(at)["data"][0]
    assert trace["type"] == "scatter3d"
    assert "cluster" in json.dumps(trace["marker"]["colorbar"])


def test_explore_tsne_and_umap(app_with_run):
    at = app_with_run
    at.switch_page("pages/explore.py").run()
    [s for s in at.selectbox if s.label == "Field"][0].set_value("customer_city")
    for method in ("t-SNE", "UMAP"):
        at.get("button_group")[0].set_value(method)
        at.run()
        assert_no_exception(at)
        assert len(plotly_array(plotly_chart(at)["data"][0]["x"])) >= 10
        # 12 cities: the page says a manifold map has little to arrange
        assert [i.value for i in at.info if "has little to arrange" in i.value] == [
            f"With only 12 categories, {method} has little to arrange: its layout depends "
            "more on its settings and seed than on the vectors. PCA shows them as they are."
        ]
    assert any("UMAP" in c.value and "cached" in c.value or "background" in c.value
               for c in at.caption)  # fmt: skip
    at.get("button_group")[0].set_value("PCA")
    at.run()
    assert not [i for i in at.info if "has little to arrange" in i.value]


def test_neighbours_table_chart_and_click_through(app_with_run):
    at = app_with_run
    at.switch_page("pages/neighbours.py").run()
    assert_no_exception(at)
    [s for s in at.selectbox if s.label == "Field"][0].set_value("customer_city")
    at.run()
    category_box = [s for s in at.selectbox if s.label.startswith("Category")][0]
    first = category_box.value
    table = at.dataframe[0].value
    assert list(table.columns)[:2] == ["category", "similarity"]
    assert "reliable" in table.columns and "count" in table.columns
    assert first not in table["category"].tolist()
    assert len(table) == min(10, 11)
    rates = table["positive rate"]  # in percent, one decimal shown in every row
    assert rates.between(0, 100).all() and rates.max() > 1
    chart = plotly_chart(at)
    assert chart["data"][0]["type"] == "bar"
    assert len(plotly_array(chart["data"][0]["y"])) == len(table)

    # one click on a neighbour makes it the query
    goto = at.get("button_group")[0]
    target = table["category"].iloc[0]
    goto.set_value(target)
    at.run()
    assert_no_exception(at)
    category_box = [s for s in at.selectbox if s.label.startswith("Category")][0]
    assert category_box.value == target
    assert target not in at.dataframe[0].value["category"].tolist()

    # euclidean distances, rare categories flagged
    at.radio[0].set_value("euclidean")
    at.slider[0].set_value(500)
    at.run()
    assert_no_exception(at)
    table = at.dataframe[0].value
    assert "distance" in table.columns
    assert not table["reliable"].any()
    said = [c.value for c in at.caption if "rare: seen fewer than 500 times" in c.value]
    assert said and said[0].startswith(f"{len(table)} of the neighbours are rare")


def test_a_numeric_columns_bins_are_mapped_and_have_neighbours(app_with_run, small_run):
    """``age`` is binned (the default numeric encoding): Explore and Neighbours offer it
    after the categorical fields, one point / row per bin, labelled by its range."""
    assert small_run.binned_columns == ["age"]
    bins = small_run.embeddings("age")
    at = app_with_run
    at.switch_page("pages/explore.py").run()
    field_box = [s for s in at.selectbox if s.label == "Field"][0]
    assert field_box.options[-1] == "age (numeric bins)"
    field_box.set_value("age")
    at.run()
    assert_no_exception(at)
    names = [row[0] for row in plotly_array(plotly_chart(at)["data"][0]["customdata"])]
    assert sorted(names) == sorted(bins.loc[bins["count"] > 0, "category"])
    assert not [c for c in at.caption if "share the unknown vector" in c.value]

    at.switch_page("pages/neighbours.py").run()
    [s for s in at.selectbox if s.label == "Field"][0].set_value("age")
    at.run()
    assert_no_exception(at)
    query = [s for s in at.selectbox if s.label.startswith("Category")][0].value
    assert query == bins.sort_values("count", ascending=False)["category"].iloc[0]
    listed = set(at.dataframe[0].value["category"])
    assert listed and listed <= set(bins["category"]) - {query}


def test_neighbours_k_is_kept_per_field_and_similarity_is_explained(app_with_run, small_run):
    at = app_with_run
    at.switch_page("pages/neighbours.py").run()
    field_box = [s for s in at.selectbox if s.label == "Field"][0]
    field_box.set_value("plan")
    at.run()
    n_plans = int((~small_run.embeddings("plan")["is_unknown"].astype(bool)).sum())
    at.number_input[0].set_value(1)
    at.run()
    assert len(at.dataframe[0].value) == 1
    [s for s in at.selectbox if s.label == "Field"][0].set_value("customer_city")
    at.run()
    assert_no_exception(at)
    assert at.number_input[0].value == 10  # not the 1 chosen for plan
    assert len(at.dataframe[0].value) == 10
    assert "below 0 opposite" in markdown_text(at)
    [s for s in at.selectbox if s.label == "Field"][0].set_value("plan")
    at.run()
    assert at.number_input[0].value == 1 and n_plans >= 2


def test_neighbours_across_fields_and_back(app_with_run, small_run):
    """A plan's nearest age bins (the DeepFM's shared space), then one click turns around:
    the chosen bin becomes the query and its nearest plans are listed."""
    from embedding_core.analysis.neighbours import nearest_neighbours

    at = app_with_run
    at.switch_page("pages/neighbours.py").run()
    [s for s in at.selectbox if s.label == "Field"][0].set_value("plan")
    at.run()
    among = [s for s in at.selectbox if s.label == "Look for neighbours among"][0]
    assert among.options[0] == "plan (this field)"
    assert set(among.options[1:]) == {
        *(f for f in small_run.fields if f != "plan"),
        "age (numeric bins)",
    }
    n_plans = int((~small_run.embeddings("plan")["is_unknown"].astype(bool)).sum())
    assert at.number_input[0].max == min(50, n_plans - 1)
    among.set_value("age")
    at.run()
    assert_no_exception(at)
    query = [s for s in at.selectbox if s.label.startswith("Category")][0].value
    bins = small_run.embeddings("age")
    n_bins = int((~bins["is_unknown"].astype(bool)).sum())
    assert at.number_input[0].max == min(50, n_bins)  # k counts the bins searched
    expected = nearest_neighbours(small_run.embeddings("plan"), query, k=50, among=bins)
    expected = expected[expected["count"] > 0]  # an unused unknown bin is not listed
    table = at.dataframe[0].value
    assert 1 <= len(table) <= 10
    assert table["category"].tolist() == expected["category"].head(len(table)).tolist()
    assert table["similarity"].to_numpy() == pytest.approx(
        expected["similarity"].head(len(table)).to_numpy()
    )
    assert "Neighbours among age (numeric bins)" in markdown_text(at)

    goto = at.get("button_group")[0]
    assert goto.label == "Find the plan neighbours of"
    target = table["category"].iloc[0]
    goto.set_value(target)
    at.run()
    assert_no_exception(at)
    assert [s for s in at.selectbox if s.label == "Field"][0].value == "age"
    assert [s for s in at.selectbox if s.label.startswith("Category")][0].value == target
    assert [s for s in at.selectbox if s.label == "Look for neighbours among"][0].value == "plan"
    plans = set(small_run.embeddings("plan")["category"])
    listed = set(at.dataframe[0].value["category"])
    assert listed and listed <= plans

    # k is bounded by what is searched: 11 other cities, but only the age bins across
    [s for s in at.selectbox if s.label == "Field"][0].set_value("customer_city")
    at.run()
    n_cities = int((~small_run.embeddings("customer_city")["is_unknown"].astype(bool)).sum())
    assert at.number_input[0].max == min(50, n_cities - 1) > n_bins
    [s for s in at.selectbox if s.label == "Look for neighbours among"][0].set_value("age")
    at.run()
    assert_no_exception(at)
    assert at.number_input[0].max == n_bins and len(at.dataframe[0].value) == n_bins


def test_an_entity_networks_fields_are_not_compared_with_each_other():
    """Only a DeepFM's FM term puts the fields in one space."""
    from types import SimpleNamespace

    from ui.explore_data import among_options

    def run(model: str) -> SimpleNamespace:
        config = SimpleNamespace(model=model)
        return SimpleNamespace(config=config, fields=["a", "b"], binned_columns=["x"])

    assert among_options(run("deepfm"), "b") == ["b", "a", "x"]
    assert among_options(run("entity"), "b") == ["b"]


def test_interactions_heatmap_and_reading(app_with_run, small_run):
    at = app_with_run
    at.switch_page("pages/interactions.py").run()
    assert_no_exception(at)
    heat = plotly_chart(at)["data"][0]
    assert heat["type"] == "heatmap"
    assert len(plotly_array(heat["x"])) == len(small_run.fields)
    text = markdown_text(at)
    assert "interact most strongly" in text
    assert "`" not in text and text.count("**") >= 4  # the fields' names bold, no backticks
    n = len(small_run.fields)
    pairs = at.dataframe[0].value  # every pair, strongest first
    assert len(pairs) == n * (n - 1) // 2
    assert pairs["strength"].is_monotonic_decreasing
    assert pairs["share of all (%)"].sum() == pytest.approx(100)
    assert not at.warning  # the small run learned something: no caveat


def test_interactions_of_a_model_that_learned_little_say_so(app_with_run):
    at = app_with_run
    info = at.session_state[Keys.RUN_INFO]
    before = info.run.metrics  # the session's shared run: put back afterwards
    info.run.metrics = {**before, "valid_auc": 0.52}
    try:
        at.switch_page("pages/interactions.py").run()
        assert_no_exception(at)
        (warning,) = [w.value for w in at.warning]
        assert "barely beats guessing" in warning and "interactions that mean little" in warning
    finally:
        info.run.metrics = before


def test_the_heatmap_keeps_the_fields_of_the_strongest_pairs() -> None:
    import numpy as np

    from embedding_core.analysis.interactions import heatmap_fields

    fields = [f"f{i}" for i in range(6)]
    m = pd.DataFrame(np.full((6, 6), 0.1), index=fields, columns=fields)
    for a, b, v in (("f4", "f5", 0.9), ("f0", "f5", 0.8), ("f2", "f3", 0.7)):
        m.loc[a, b] = m.loc[b, a] = v
    assert heatmap_fields(m, 6) == fields
    assert heatmap_fields(m, 3) == ["f0", "f4", "f5"]
    assert heatmap_fields(m, 4) == ["f0", "f2", "f4", "f5"]


def test_export_page_offers_every_download(app_with_run, small_run, small_csv_bytes, tmp_path):
    import io
    import zipfile

    from embedding_core.model.run import TrainedRun
    from embedding_core.reuse.export import read_parquet_tables
    from ui.export_data import parquet_bytes, saved_run_zip

    at = app_with_run
    at.switch_page("pages/export.py").run()
    assert_no_exception(at)
    assert sum("Run trained on" in c.value for c in at.caption) == 1  # named once
    # the default sample lacks the run's columns: no embedded-rows download, a note instead
    assert "embedded_rows.csv" not in [b.label for b in at.download_button]
    assert any("lacks columns" in i.value for i in at.info)

    at.switch_page("pages/data.py").run()
    at.file_uploader(key=Keys.UPLOAD).set_value(("small_churn.csv", small_csv_bytes, "text/csv"))
    at.run()
    at.switch_page("pages/export.py").run()
    assert_no_exception(at)
    labels = [b.label for b in at.download_button]
    assert "All fields (zip of TSV files)" in labels
    assert labels.count("vectors.tsv") == len(small_run.fields)
    assert labels.count("metadata.tsv") == len(small_run.fields)
    assert {"embeddings.parquet", "trained_run.zip", "embedded_rows.csv"} <= set(labels)
    assert not at.error

    # the saved run zip holds the .keras model and loads back
    data = saved_run_zip("export-test", small_run)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert any(name.endswith(".keras") for name in names)
        archive.extractall(tmp_path)
    loaded = TrainedRun.load(tmp_path / "trained_run")
    assert loaded.fields == small_run.fields
    # the caption names the early-stopped weights only when the zip carries them
    carries = any(name.endswith(".npz") for name in names)
    assert carries == small_run.averages_early
    assert any(".npz" in c.value for c in at.caption) == carries
    assert loaded.averages_early == small_run.averages_early
    tables = read_parquet_tables(parquet_bytes("export-test", small_run))
    assert list(tables) == small_run.fields


def test_an_exported_run_zip_comes_back_under_its_name_and_data(small_run, tmp_path):
    """The Export page's saved run carries its name, data and training time (run.json,
    not the rows): the Runs page adds it back under them, and the files of two runs are
    named apart."""
    from embedding_core.model.store import RunStore
    from ui.export_data import file_prefix, saved_run_zip
    from ui.state import RunInfo

    info = RunInfo(
        run=small_run, run_id="exp-1", dataset_label="claims.csv", n_rows=600, seconds=1.0,
        total_seconds=2.0, created=1_780_000_000.0, name="claims model, 2026-05-28 20:26",
    )  # fmt: skip
    assert file_prefix(info) == "claims_model_2026-05-28_20_26"
    data = saved_run_zip("exp-1", small_run, file_prefix(info), info)
    record = RunStore(tmp_path).import_zip(data)
    assert record.name == "claims model, 2026-05-28 20:26" and record.dataset == "claims.csv"
    assert record.created.startswith("2026-05-28T") and record.rows == 600
    assert not record.has_data  # the training rows stay on the server
    assert file_prefix(RunInfo(small_run, "x", "d.csv", 1, 0.0, 0.0)) == "d"


@pytest.mark.parametrize("page", [*RUN_PAGES, "pages/whatif.py"])
def test_every_analysis_page_names_its_run_and_flags_a_stale_one(app_with_run, page):
    at = app_with_run
    info = at.session_state[Keys.RUN_INFO]
    info.dataset_key = "upload:0123456789"  # not the data loaded now (the default sample)
    at.session_state[Keys.RUN_INFO] = info
    at.switch_page(page).run()
    assert_no_exception(at)
    text = markdown_text(at)
    header = "Run trained on **small_churn.csv** (600 rows) just now: target **churned** (binary)"
    assert header in text
    stale = [w.value for w in at.warning if "This run was trained on" in w.value]
    assert stale and "Train again to see" in stale[0]
    # a link's reader sees which run: its name first, when it has one
    info.name = "small_churn.csv, seed 3"
    at.session_state[Keys.RUN_INFO] = info
    at.run()
    assert "Run **seed 3** trained on **small_churn.csv** (600 rows)" in markdown_text(at)


@pytest.mark.slow
def test_multiclass_colour_by_class_share_starts_on_the_most_frequent_class(new_app):
    from synthetic import MULTICLASS_ROLES, TINY_CONFIG, make_multiclass_frame

    from embedding_core.model.train import train
    from ui.state import Dataset, RunInfo

    frame = make_multiclass_frame(n=400).astype(str)
    run = train(frame, MULTICLASS_ROLES, TINY_CONFIG)
    at = new_app().run()
    at.session_state[Keys.DATASET] = Dataset(
        key="upload:multi", label="multi.csv", frame=frame, suggested=None, source="upload"
    )
    at.session_state[Keys.RUN_INFO] = RunInfo(
        run=run, run_id="multi-run", dataset_label="multi.csv", n_rows=len(frame),
        seconds=1.0, total_seconds=1.0, dataset_key="upload:multi",
    )  # fmt: skip
    at.switch_page("pages/explore.py").run()
    assert_no_exception(at)
    box = [s for s in at.selectbox if s.label == "Class"][0]
    assert box.value == frame[MULTICLASS_ROLES.target].value_counts().index[0]
    data = plotly_chart(at)["data"][0]
    field = [s for s in at.selectbox if s.label == "Field"][0].value
    shares = frame.groupby(field)[MULTICLASS_ROLES.target].apply(lambda s: (s == box.value).mean())
    colours = plotly_array(data["marker"]["color"])
    names = [row[0] for row in plotly_array(data["customdata"])]
    assert colours == pytest.approx([shares[n] for n in names])
    assert data["marker"]["colorbar"]["title"]["text"] == f"share of {box.value}"


def test_missing_values_read_missing_on_every_page_that_shows_categories(new_app, keras_loaded):
    """A CSV whose empty cells are written ``__NA__`` (as the shared datasets do): every page
    that names categories says ``(missing)``, never the marker or the library's own labels."""
    import io

    from app_helpers import SMALL_CSV, SMALL_ROLES

    from embedding_core.data.csv_reader import read_csv
    from embedding_core.data.roles import Roles
    from embedding_core.model.config import TrainConfig
    from embedding_core.model.train import train
    from ui.state import Dataset, RunInfo, widget_key

    header, *lines = SMALL_CSV.read_text().splitlines()
    rows = [line.split(",") for line in lines]
    for cells in rows[::4]:
        cells[1] = "__NA__"  # device (no cell of this file holds a comma)
    marked = [header, *(",".join(cells) for cells in rows)]
    frame = read_csv(io.BytesIO("\n".join(marked).encode()), name="marked.csv")
    assert frame["device"].isna().sum() == 150 and not (frame == "__NA__").any().any()
    roles = Roles.from_dict(SMALL_ROLES)
    run = train(frame, roles, TrainConfig(epochs=1, hidden_units=(8,), min_count=1))
    at = new_app().run()
    at.session_state[Keys.DATASET] = Dataset(
        key="upload:marked", label="marked.csv", frame=frame, suggested=roles, source="upload"
    )
    info = RunInfo(run=run, run_id="marked-run", dataset_label="marked.csv", n_rows=len(frame),
                   seconds=1.0, total_seconds=1.0, dataset_key="upload:marked")  # fmt: skip
    at.session_state[Keys.RUN_INFO] = info
    at.session_state[widget_key(Keys.EXPLORE_FIELD, info.run_id)] = "device"
    at.session_state[widget_key(Keys.NB_FIELD, info.run_id)] = "device"
    at.session_state[Keys.WHATIF_SWEEP_FIELD] = "device"
    at.session_state[Keys.WHATIF_START] = "A row of the data"  # row 0: device is missing
    for page in ("explore", "neighbours", "whatif"):
        at.switch_page(f"pages/{page}.py").run()
        if page == "whatif":  # give the missing device a value: "(missing) -> tv"
            [device] = [b for b in at.selectbox if b.label == "device"]
            assert device.value is None
            device.set_value("tv").run()
        assert_no_exception(at)
        shown = "\n".join(
            [markdown_text(at)]
            + [json.dumps(json.loads(c.proto.spec)["data"]) for c in at.get("plotly_chart")]
            + [df.value.to_csv() for df in at.dataframe]
            + [str(o) for box in at.selectbox for o in box.options]
        )
        assert "(missing)" in shown, page
        for raw in ("__NA__", "<missing>", "<unknown>"):
            assert raw not in shown, (page, raw)


def test_a_run_that_barely_beats_the_baseline_is_flagged_on_train_and_explore(new_app, small_run):
    import copy

    from ui.state import RunInfo

    weak = copy.copy(small_run)
    weak.metrics = {**small_run.metrics, "valid_auc": 0.56, "baseline_auc": 0.5}
    at = new_app().run()
    at.session_state[Keys.RUN_INFO] = RunInfo(
        run=weak, run_id="weak-run", dataset_label="small_churn.csv", n_rows=600,
        seconds=1.0, total_seconds=1.0,
    )  # fmt: skip
    for page in ("train", "explore"):
        at.switch_page(f"pages/{page}.py").run()
        assert_no_exception(at)
        assert any("noise" in w.value for w in at.warning), (page, [w.value for w in at.warning])
    at.session_state[Keys.RUN_INFO] = RunInfo(
        run=small_run, run_id="strong-run", dataset_label="small_churn.csv", n_rows=600,
        seconds=1.0, total_seconds=1.0,
    )  # fmt: skip
    at.run()
    assert small_run.metrics["valid_auc"] > 0.65
    assert not any("noise" in w.value for w in at.warning)


def test_embedded_rows_download_guards_formulas_in_the_header_and_cells(
    tiny_binary_run, binary_frame
) -> None:
    """Issue 12, item 9: the embedded-rows CSV goes through the one formula guard."""
    from ui.export_data import embedded_rows_csv

    frame = binary_frame.head(20).assign(**{"=cmd|'/C calc'!A0": "@SUM(1)"})
    text = embedded_rows_csv(tiny_binary_run, frame)().decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    assert "'=cmd|'/C calc'!A0" in header and ",=cmd" not in header
    assert "'@SUM(1)" in first


def test_embedded_rows_download_keeps_a_column_named_like_a_vector(
    tiny_binary_run, binary_frame
) -> None:
    """A column named like a new one stays; the vectors get '_new': no repeated header."""
    import csv
    import io

    import pandas as pd

    from ui.export_data import embedded_rows_csv

    frame = binary_frame.head(20).assign(shop_emb_0="mine")
    text = embedded_rows_csv(tiny_binary_run, frame)().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert len(header) == len(set(header)) and "shop_emb_0_new" in header
    assert pd.read_csv(io.StringIO(text))["shop_emb_0"].eq("mine").all()


def test_export_page_says_when_the_vectors_are_renamed(app_with_run, small_csv_bytes):
    text = small_csv_bytes.decode("utf-8").splitlines()
    clashing = "\n".join([text[0] + ",plan_emb_0", *(line + ",7" for line in text[1:])])
    at = app_with_run
    at.switch_page("pages/data.py").run()
    at.file_uploader(key=Keys.UPLOAD).set_value(("clash.csv", clashing.encode(), "text/csv"))
    at.run()
    at.switch_page("pages/export.py").run()
    assert_no_exception(at)
    assert "embedded_rows.csv" in [b.label for b in at.download_button]
    notes = [i.value for i in at.info if "kept as it is" in i.value]
    assert len(notes) == 1 and "plan\\_emb\\_0\\_new" in notes[0], [i.value for i in at.info]


@pytest.mark.parametrize("name", ["L" * 5000, "ü" * 3000 + ".csv"])
def test_download_names_stay_short_and_apart(name) -> None:
    from embedding_core.reuse.export import MAX_STEM
    from ui.export_data import slug

    assert len(slug(name)) <= MAX_STEM and slug(name) != slug(name + "2")
    assert slug("my data.csv") == "my_data"  # short names as before


def test_the_sklearn_snippet_runs_on_the_exported_run(small_run, tmp_path, monkeypatch):
    """The Export page's scikit-learn code, as shown, on the saved-run zip unzipped next
    to the user's data: it fits and predicts (vectors for the categories, age as is)."""
    import io
    import shutil
    import zipfile

    from app_helpers import SMALL_CSV

    from ui.export_data import file_prefix, saved_run_zip, sklearn_snippet
    from ui.state import RunInfo

    info = RunInfo(small_run, "snip-1", "small_churn.csv", 600, 1.0, 2.0, name="churn model")
    with zipfile.ZipFile(io.BytesIO(saved_run_zip("snip-1", small_run, file_prefix(info)))) as z:
        z.extractall(tmp_path)
    shutil.copy(SMALL_CSV, tmp_path / "your_data.csv")
    monkeypatch.chdir(tmp_path)
    code = sklearn_snippet(info)
    assert "EmbeddingLookupEncoder.from_saved('churn_model')" in code
    namespace: dict = {}
    exec(compile(code, "snippet", "exec"), namespace)  # the code a user copies
    model, X = namespace["model"], namespace["X"]
    assert model.predict_proba(X).shape == (600, 2)
    names = model[0].get_feature_names_out()
    assert "age" in names and any(n.startswith("customer_city_") for n in names)
