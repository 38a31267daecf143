"""AppTest: the Data page (default sample, upload, bad upload, role validation)."""

from __future__ import annotations

import pytest
from app_helpers import assert_no_exception, markdown_text, plain, wait_for_training

from embedding_core.data.samples import DEFAULT_SAMPLE
from ui.state import Keys


def _dataset(at):
    return at.session_state[Keys.DATASET]


def _roles_widget(at, label_start: str):
    for widget in [*at.selectbox, *at.multiselect]:
        if widget.label.startswith(label_start):
            return widget
    raise AssertionError(f"no widget labelled {label_start!r}")


def _confirm(at) -> None:
    """Press the upload's confirm button ("Predict <target>")."""
    [button] = [b for b in at.button if b.label.startswith("Predict ")]
    button.click()
    at.run()


def test_opens_on_default_sample_ready_to_train(new_app):
    at = new_app().run()
    assert_no_exception(at)
    dataset = _dataset(at)
    assert dataset.key == f"sample:{DEFAULT_SAMPLE}"
    assert dataset.suggested is not None
    # the sample's roles are preselected and valid: a first-time user can go to Train
    assert at.session_state[Keys.ROLES_ERROR] is None
    roles = at.session_state[Keys.ROLES]
    assert roles.categorical == dataset.suggested.categorical
    assert roles.task in ("binary", "regression", "multiclass")
    assert any("Ready to train" in s.value for s in at.success)
    assert len(at.dataframe) >= 2  # preview + profile
    assert not at.error


def test_a_samples_changed_roles_survive_a_reload(new_app):
    """The default sample with a column taken out: the URL names the kept roles
    (``roles=``), and a fresh session on it (F5, a link) has the same columns; the
    sample's own roles need no handle."""
    at = new_app().run()
    dataset = _dataset(at)
    assert "roles" not in at.query_params  # its suggested roles
    dropped = dataset.suggested.categorical[-1]
    box = next(m for m in at.multiselect if m.label.startswith("Categorical"))
    box.set_value([c for c in box.value if c != dropped]).run()
    assert_no_exception(at)
    handle = at.query_params["roles"]
    assert dropped not in at.session_state[Keys.ROLES].categorical

    fresh = new_app()
    fresh.query_params.update(roles=handle)
    fresh.run()
    assert_no_exception(fresh)
    assert _dataset(fresh).key == dataset.key
    roles = fresh.session_state[Keys.ROLES]
    assert dropped not in roles.categorical and len(roles.categorical) == len(box.value)
    box = next(m for m in fresh.multiselect if m.label.startswith("Categorical"))
    assert dropped not in box.value
    assert any("Ready to train" in s.value for s in fresh.success)

    for hostile in ("../../x", "f" * 32):  # not a handle, or none kept under it
        other = new_app()
        other.query_params.update(roles=hostile)
        other.run()
        assert_no_exception(other)
        assert other.session_state[Keys.ROLES].categorical == dataset.suggested.categorical


def test_upload_then_choose_roles(new_app, small_csv_bytes):
    at = new_app().run()
    at.file_uploader(key=Keys.UPLOAD).set_value(("small_churn.csv", small_csv_bytes, "text/csv"))
    at.run()
    assert_no_exception(at)
    assert _dataset(at).label == "small_churn.csv"
    assert len(_dataset(at).frame) == 600
    # the bundled-sample box no longer shows the sample the app opened on
    assert [s for s in at.selectbox if s.label == "Bundled sample"][0].value is None

    _roles_widget(at, "Target").set_value("churned")  # already the guess: confirm it
    _confirm(at)
    _roles_widget(at, "Categorical").set_value(["customer_city", "device", "plan"])
    _roles_widget(at, "Numeric").set_value(["age"])
    at.run()
    assert_no_exception(at)
    roles = at.session_state[Keys.ROLES]
    assert roles.categorical == ("customer_city", "device", "plan")
    assert roles.numeric == ("age",)
    assert roles.target == "churned"
    assert roles.task == "binary"
    assert at.session_state[Keys.ROLES_ERROR] is None
    assert "600 rows" in markdown_text(at)

    # a rerun does not read the upload again nor reset the choice
    at.run()
    assert at.session_state[Keys.ROLES].categorical == ("customer_city", "device", "plan")


def test_bad_upload_shows_error_and_keeps_data(new_app):
    at = new_app().run()
    before = _dataset(at).key
    garbage = bytes(range(256)) * 40
    at.file_uploader(key=Keys.UPLOAD).set_value(("photo.csv", garbage, "text/csv"))
    at.run()
    assert_no_exception(at)
    assert at.error, "a bad upload must show an error"
    assert "photo.csv" in at.error[0].value
    assert _dataset(at).key == before


def test_empty_upload_shows_error(new_app):
    at = new_app().run()
    at.file_uploader(key=Keys.UPLOAD).set_value(("empty.csv", b"", "text/csv"))
    at.run()
    assert_no_exception(at)
    assert at.error


def test_an_upload_without_a_possible_target_says_why(new_app):
    """One column: the page says the file needs two, not "pick a categorical column";
    a target with one value: the note names it, and choosing it is refused."""
    at = new_app().run()
    at.file_uploader(key=Keys.UPLOAD).set_value(("one.csv", b"city\nParis\nLyon\n", "text/csv"))
    at.run()
    assert_no_exception(at)
    assert [plain(e.value) for e in at.error] == [
        "The file has one column: a model needs a target and at least one other column to "
        "learn it from. Upload a file with at least two columns."
    ]
    assert not [s for s in at.selectbox if s.label.startswith("Target")]
    assert at.session_state[Keys.ROLES] is None
    assert any(plain(c.value).startswith("2 rows x 1 column") for c in at.caption)
    assert not any("1 columns" in plain(c.value) for c in at.caption)

    rows = "".join(f"c{i % 4},p{i % 3},no\n" for i in range(60))
    at = new_app().run()
    at.file_uploader(key=Keys.UPLOAD).set_value(
        ("flat.csv", f"city,plan,churn\n{rows}".encode(), "text/csv")
    )
    at.run()
    assert_no_exception(at)
    assert "(churn has the same value in every row: nothing to predict)" in markdown_text(at)
    target = next(s for s in at.selectbox if s.label.startswith("Target"))
    target.set_value("churn").run()
    assert_no_exception(at)
    assert at.error and "churn" in plain(at.error[0].value)


def test_invalid_roles_show_specific_message(new_app, small_csv_bytes):
    at = new_app().run()
    at.file_uploader(key=Keys.UPLOAD).set_value(("small_churn.csv", small_csv_bytes, "text/csv"))
    at.run()
    _confirm(at)
    _roles_widget(at, "Categorical").set_value(["churned", "device"])
    _roles_widget(at, "Numeric").set_value([])
    at.run()
    assert_no_exception(at)
    assert at.error
    assert "churned" in at.error[0].value
    assert at.session_state[Keys.ROLES_ERROR]
    # and the Train page refuses politely, pointing back to Data
    at.switch_page("pages/train.py").run()
    assert_no_exception(at)
    assert any("column roles" in w.value for w in at.warning)
    assert [b for b in at.button if b.label == "Train"] == []


def test_pick_another_sample(new_app):
    at = new_app().run()
    sample_box = [s for s in at.selectbox if s.label == "Bundled sample"][0]
    assert len(sample_box.options) > 1, "there should be more than one bundled sample"
    sample_box.select_index(1 if sample_box.index == 0 else 0)
    at.run()
    assert_no_exception(at)
    assert _dataset(at).source == "sample"
    assert _dataset(at).key != f"sample:{DEFAULT_SAMPLE}"


def test_profile_warns_about_id_like_and_constant_columns(new_app):
    rows = ["row_id,country,const,label"]
    rows += [f"R{i:04d},{'ABC'[i % 3]},same,{i % 2}" for i in range(120)]
    data = ("\n".join(rows) + "\n").encode()
    at = new_app().run()
    at.file_uploader(key=Keys.UPLOAD).set_value(("ids.csv", data, "text/csv"))
    at.run()
    assert_no_exception(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "row\\_id" in warnings or "row_id" in warnings
    assert "const" in warnings
    profile = at.dataframe[1].value
    flagged = set(profile.loc[profile["warning"].astype(str) != "", "column"])
    assert {"row_id", "const"} <= flagged


def test_an_upload_says_what_the_reader_did(new_app):
    rows = ["Claims export 2026", "policy;region;premium;claim"]
    rows += [f"{i};{'NSE'[i % 3]};{100 + i},{i % 100:02d};{i % 2}" for i in range(120)]
    at = new_app().run()
    data = ("\n".join(rows) + "\n").encode()
    at.file_uploader(key=Keys.UPLOAD).set_value(("claims.csv", data, "text/csv"))
    at.run()
    assert_no_exception(at)
    infos = [plain(i.value) for i in at.info]
    assert any(i.startswith("Skipped line 1 of 'claims.csv' ('Claims export 2026')") for i in infos)
    assert "Read 'premium' as numbers written with decimal commas ('100,00' as 100.00)." in infos
    profile = at.dataframe[1].value
    assert profile.set_index("column").loc["premium", "suggested_role"] == "numeric"


def test_a_few_whole_number_targets_are_classes_and_the_page_says_so(new_app):
    rows = [f"s{i % 7},{1 + i % 5}" for i in range(120)]
    data = "\n".join(["shop,stars", *rows]).encode()
    at = new_app().run()
    at.file_uploader(key=Keys.UPLOAD).set_value(("ratings.csv", data, "text/csv"))
    at.run()
    assert _roles_widget(at, "Target").value == "stars"
    _confirm(at)
    _roles_widget(at, "Categorical").set_value(["shop"])
    _roles_widget(at, "Numeric").set_value([])
    at.run()
    assert_no_exception(at)
    assert at.session_state[Keys.ROLES].task == "multiclass"
    text = markdown_text(at)
    assert "5 numeric values (1, 2, 3, 4, 5): treated as classes" in text
    assert "choose regression to predict the value" in text


def test_an_upload_asks_to_confirm_the_guessed_target(new_app, small_csv_bytes):
    at = new_app().run()
    at.file_uploader(key=Keys.UPLOAD).set_value(("small_churn.csv", small_csv_bytes, "text/csv"))
    at.run()
    assert_no_exception(at)
    assert any(s.value == "What do you want to predict?" for s in at.subheader)
    assert _roles_widget(at, "Target").value == "churned"  # the guess, preselected
    text = markdown_text(at)
    assert "Suggested: **churned** (2 values" in text and "last column" in text
    assert "Ready to train" not in text  # not before the user has seen the target
    assert at.session_state[Keys.ROLES_ERROR]
    at.switch_page("pages/train.py").run()
    assert [b for b in at.button if b.label == "Train"] == []
    at.switch_page("pages/data.py").run()
    _confirm(at)
    assert_no_exception(at)
    assert any("Ready to train" in s.value for s in at.success)
    assert at.session_state[Keys.ROLES_ERROR] is None


def test_choosing_another_target_confirms_it_and_reassigns_the_inputs(
    new_app, small_csv_bytes, caplog
):
    at = new_app().run()
    at.file_uploader(key=Keys.UPLOAD).set_value(("small_churn.csv", small_csv_bytes, "text/csv"))
    at.run()
    _roles_widget(at, "Target").set_value("plan")
    with caplog.at_level("WARNING", logger="streamlit"):
        at.run()
    assert_no_exception(at)
    # the inputs are set by the target's callback, so the widgets take no default besides
    assert not [r for r in caplog.records if "Session State API" in r.getMessage()]
    categorical = _roles_widget(at, "Categorical").value
    assert "plan" not in categorical and "churned" in categorical
    assert at.session_state[Keys.ROLES].target == "plan"
    assert any("Ready to train" in s.value for s in at.success)

    # F5: the upload comes back with the target and inputs the user chose, confirmed
    reloaded = new_app()
    reloaded.query_params["data"] = at.query_params["data"]
    reloaded.run()
    assert_no_exception(reloaded)
    assert _roles_widget(reloaded, "Target").value == "plan"
    assert _roles_widget(reloaded, "Categorical").value == categorical
    assert not [b for b in reloaded.button if b.label.startswith("Predict ")]
    assert any("Ready to train" in s.value for s in reloaded.success)


@pytest.mark.slow
def test_server_table_is_sampled_then_trained_in_full(new_app, tmp_path, monkeypatch):
    import numpy as np
    import pandas as pd
    from app_helpers import wait_for_training

    rng = np.random.default_rng(0)
    n = 3000
    shop = rng.integers(0, 12, n)
    frame = pd.DataFrame(
        {
            "shop": [f"s{v}" for v in shop],
            "y": np.where(rng.random(n) < 0.2 + 0.05 * (shop % 4), "yes", "no"),
        }
    )
    (tmp_path / "big").mkdir()
    frame.iloc[:1500].to_parquet(tmp_path / "big" / "part-0.parquet", index=False)
    frame.iloc[1500:].to_parquet(tmp_path / "big" / "part-1.parquet", index=False)
    monkeypatch.setenv("EMBEDDING_CORE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("ui.datasets.SERVER_SAMPLE_ROWS", 1000)

    at = new_app().run()
    assert "Uploads up to 200 MB" in markdown_text(at)
    picker = _roles_widget(at, "...or a table on the server")
    assert picker.options == ["big/part-0.parquet", "big/part-1.parquet", "big/"]
    picker.set_value("big/").run()
    assert_no_exception(at)
    dataset = _dataset(at)
    assert dataset.source == "server" and len(dataset.frame) == 1000
    assert "first 1,000 of 3,000 rows" in markdown_text(at)
    _roles_widget(at, "Target").set_value("y")
    _roles_widget(at, "Categorical").set_value(["shop"])
    at.run()
    if any(b.label.startswith("Predict ") for b in at.button):
        _confirm(at)  # a server table's target is a guess, as an upload's
    assert at.session_state[Keys.ROLES_ERROR] is None

    at.switch_page("pages/train.py").run()
    at.button(key=Keys.TRAIN_BUTTON).click().run()
    wait_for_training(at)
    assert_no_exception(at)
    run = at.session_state[Keys.JOB].result
    assert run.metrics["streamed"] is True
    assert run.metrics["n_train"] + run.metrics["n_valid"] == n


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("image.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "looks like a PNG image"),
        ("cut.csv", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03KN", "is cut short"),
        ("rows.csv", b"city,y\nNancy,1\nMetz,0,9\n", "Line 3 of 'rows.csv' has 3 fields"),
    ],
    ids=["png", "gzip_cut_short", "long_row"],
)
def test_an_unreadable_server_table_shows_an_error_and_keeps_the_data(
    new_app, tmp_path, monkeypatch, name: str, content: bytes, needle: str
):
    (tmp_path / name).write_bytes(content)
    monkeypatch.setenv("EMBEDDING_CORE_DATA_DIR", str(tmp_path))
    at = new_app().run()
    before = _dataset(at).key
    _roles_widget(at, "...or a table on the server").set_value(name).run()
    assert_no_exception(at)
    [error] = [plain(e.value) for e in at.error if needle in plain(e.value)]
    assert "Pick another table or upload a CSV." in error
    assert _dataset(at).key == before


def test_target_spelled_differently_can_be_merged(new_app):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "shop": rng.choice(["a", "b", "c"], 120),
            "city": rng.choice(["x", "y"], 120),
            "answer": rng.choice(["yes", "Yes", "yes ", "no"], 120),
        }
    )
    at = new_app().run()
    data = frame.to_csv(index=False).encode()
    at.file_uploader(key=Keys.UPLOAD).set_value(("answers.csv", data, "text/csv"))
    at.run()
    _roles_widget(at, "Target").set_value("answer")
    at.run()
    _confirm(at)
    assert "differ only in capitals or spaces" in markdown_text(at)
    [merge] = [b for b in at.button if b.label.startswith("Merge the target classes")]
    merge.click()
    at.run()
    assert_no_exception(at)
    assert set(_dataset(at).frame["answer"]) == {"yes", "no"}
    assert at.session_state[Keys.ROLES].task == "binary"
    assert "differ only in capitals" not in markdown_text(at)


def test_a_click_on_the_roles_checks_only_what_it_changed(new_app, small_csv_bytes, monkeypatch):
    """At 1M rows each column's check costs a pass over it: a rerun after adding one
    column must check that column only, and the target once, whatever the clicks."""
    import streamlit as st

    from embedding_core.data import validation

    st.cache_data.clear()
    columns: list[str] = []
    targets: list[str] = []
    prepare_column, check_target = validation.prepare_column, validation.check_target

    def counted_column(values, role):
        columns.append(str(values.name))
        return prepare_column(values, role)

    def counted_target(values, task=None):
        targets.append(str(values.name))
        return check_target(values, task)

    monkeypatch.setattr(validation, "prepare_column", counted_column)
    monkeypatch.setattr(validation, "check_target", counted_target)
    at = new_app().run()  # the default sample
    columns.clear()
    targets.clear()
    at.file_uploader(key=Keys.UPLOAD).set_value(("small_churn.csv", small_csv_bytes, "text/csv"))
    at.run()
    _confirm(at)
    _roles_widget(at, "Numeric").set_value([])
    _roles_widget(at, "Categorical").set_value(["device"])
    at.run()
    for chosen in (["device", "plan"], ["device", "plan", "channel"], ["plan", "channel"]):
        _roles_widget(at, "Categorical").set_value(chosen)
        at.run()
        assert_no_exception(at)
        assert any("Ready to train" in s.value for s in at.success)
    assert len(columns) == len(set(columns))  # each column was checked once at most
    columns.clear()
    _roles_widget(at, "Categorical").set_value(["plan", "channel", "age"])
    at.run()
    assert columns == ["age"]  # a new column: checked alone
    assert targets == ["churned"]
    assert at.session_state[Keys.ROLES].categorical == ("plan", "channel", "age")


def test_an_upload_once_read_leaves_an_empty_uploader(new_app, small_csv_bytes):
    """Streamlit deep-copies an uploader's file at every rerun: once read, it is dropped."""
    at = new_app().run()
    at.file_uploader(key=Keys.UPLOAD).set_value(("small_churn.csv", small_csv_bytes, "text/csv"))
    at.run()
    assert_no_exception(at)
    assert _dataset(at).label == "small_churn.csv"
    [uploader] = at.file_uploader
    assert uploader.key != Keys.UPLOAD and not uploader.value
    at.run()
    assert _dataset(at).label == "small_churn.csv"


def test_a_big_upload_is_profiled_on_a_sample_and_the_page_says_so(
    new_app, small_csv_bytes, monkeypatch
):
    import streamlit as st

    from embedding_core.data import profile

    st.cache_data.clear()
    monkeypatch.setattr("ui.datasets.PROFILE_ROWS", 300)
    profiled = []
    profile_columns = profile.profile_columns
    monkeypatch.setattr(
        profile, "profile_columns", lambda df: profiled.append(len(df)) or profile_columns(df)
    )
    at = new_app().run()
    at.file_uploader(key=Keys.UPLOAD).set_value(("small_churn.csv", small_csv_bytes, "text/csv"))
    at.run()
    assert_no_exception(at)
    text = markdown_text(at)
    assert "600 rows x 6 columns; the profile and the suggested roles use 300 of its rows" in text
    assert profiled[-1] == 300
    _confirm(at)
    assert any("Ready to train: 600 rows" in s.value for s in at.success)  # checks: every row


def test_a_column_that_gives_the_target_away_is_left_out_and_flagged(new_app):
    """``status`` is written after the outcome: the suggestion leaves it out and says why;
    chosen anyway, it is trained with a warning."""
    lines = ["market,status,cancelled"]
    for i in range(400):
        cancelled = i % 3 == 0 or (i % 7 == 0)
        status = ("No-Show" if i % 11 == 0 else "Canceled") if cancelled else "Check-Out"
        lines.append(f"m{i % 4},{status},{'yes' if cancelled else 'no'}")
    at = new_app().run()
    upload = ("bookings.csv", "\n".join(lines).encode(), "text/csv")
    at.file_uploader(key=Keys.UPLOAD).set_value(upload)
    at.run()
    assert _roles_widget(at, "Target").value == "cancelled"
    _confirm(at)
    assert_no_exception(at)
    assert _roles_widget(at, "Categorical").value == ["market"]
    infos = [plain(i.value) for i in at.info]
    [left_out] = [i for i in infos if i.startswith("Left out of the inputs.")]
    assert "'status'" in left_out and "leakage" in left_out and "AUC 1.000" in left_out
    assert not [w for w in at.warning if "leakage" in plain(w.value)]

    _roles_widget(at, "Categorical").set_value(["market", "status"])
    at.run()
    assert_no_exception(at)
    assert at.session_state[Keys.ROLES].categorical == ("market", "status")  # still allowed
    warnings = [plain(w.value) for w in at.warning]
    assert [w for w in warnings if "leakage" in w and "'status'" in w]
    assert not [i for i in at.info if plain(i.value).startswith("Left out of the inputs.")]

    # trained anyway: the summary says the result is too good to trust
    at.switch_page("pages/train.py").run()
    [epochs] = [n for n in at.number_input if n.label == "Max epochs"]
    epochs.set_value(3)
    [rate] = [n for n in at.number_input if n.label == "Learning rate"]
    rate.set_value(0.05).run()
    at.button(key=Keys.TRAIN_BUTTON).click().run()
    wait_for_training(at)
    assert_no_exception(at)
    assert at.session_state[Keys.RUN_INFO].run.metrics["valid_auc"] >= 0.999
    assert [w for w in at.warning if "almost perfect" in plain(w.value)]
    at.switch_page("pages/explore.py").run()
    assert [w for w in at.warning if "almost perfect" in plain(w.value)]  # and on Explore
