"""The shared read cache keeps to its memory budget and forgets unused files; limits parse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from embedding_core.model.config import TrainConfig
from ui.limits import CONFIG, LIMITS, Limits, limits
from ui.read_cache import FrameCache


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(n, dtype=np.int64)})


def test_budget_drops_least_recently_used_and_skips_oversized_frames() -> None:
    size = int(_frame(1000).memory_usage(deep=True).sum())
    cache = FrameCache(max_bytes=int(size * 2.5), ttl_seconds=60)
    calls: list[str] = []

    def make(key: str, n: int = 1000):
        return lambda: calls.append(key) or _frame(n)

    cache.get_or_compute("a", make("a"))
    cache.get_or_compute("b", make("b"))
    cache.get_or_compute("a", make("a"))  # a is now the most recent
    cache.get_or_compute("c", make("c"))  # over budget: b goes
    assert calls == ["a", "b", "c"]
    assert cache.size_bytes <= cache.max_bytes and len(cache) == 2
    cache.get_or_compute("b", make("b"))
    assert calls[-1] == "b"
    huge = cache.get_or_compute("huge", make("huge", 10_000))
    assert len(huge) == 10_000 and len(cache) == 2  # returned, never kept


def test_entries_expire_and_callers_cannot_change_the_cached_frame() -> None:
    now = [0.0]
    cache = FrameCache(max_bytes=10**9, ttl_seconds=10, clock=lambda: now[0])
    first = cache.get_or_compute("k", lambda: _frame(3))
    first["y"] = 1  # a caller adds a column: the cache must not see it
    first.loc[0, "x"] = 99
    again = cache.get_or_compute("k", lambda: _frame(5))
    assert list(again.columns) == ["x"] and again["x"].tolist() == [0, 1, 2]
    now[0] = 11.0
    assert len(cache.get_or_compute("k", lambda: _frame(5))) == 5  # expired, recomputed


def test_limits_come_from_the_limits_file_with_defaults(tmp_path: Path) -> None:
    own = tmp_path / "limits.toml"
    own.write_text("[embedding_core]\nmax_rows = 7\ncache_mb = 64\n")
    got = limits(own, tmp_path / "missing.toml")
    assert (got.max_rows, got.cache_mb) == (7, 64) and got.max_columns == Limits().max_columns
    assert got.trainings >= 1 and got.training_process == 1
    shipped = limits(LIMITS, CONFIG)
    assert shipped.max_columns == 5_000 and shipped.max_rows == 2_000_000
    assert shipped.max_bytes == 200_000_000 and shipped.training_process == 1


def test_a_section_left_in_streamlits_config_file_is_still_read_and_wins(tmp_path: Path) -> None:
    own = tmp_path / "limits.toml"
    own.write_text("[embedding_core]\nmax_rows = 7\ncache_mb = 64\n")
    config = tmp_path / "config.toml"
    config.write_text("[server]\nmaxUploadSize = 10\n[embedding_core]\nmax_rows = 9\n")
    got = limits(own, config)
    assert (got.max_rows, got.cache_mb) == (9, 64)
    broken = tmp_path / "broken.toml"
    broken.write_text("[embedding_core\nmax_rows = 9\n")  # not TOML: ignored, not fatal
    assert limits(own, broken).max_rows == 7


def test_streamlits_config_file_holds_only_streamlits_options() -> None:
    """Every section and key of the shipped config.toml is one Streamlit knows, so the
    server starts without "not a valid config option" lines."""
    import tomllib

    from streamlit import config as st_config

    shipped = tomllib.loads(CONFIG.read_text())
    assert "embedding_core" not in shipped
    options = st_config.get_config_options()
    keys = [f"{section}.{key}" for section, values in shipped.items() for key in values]
    assert keys and all(key in options for key in keys), keys


def test_training_process_0_keeps_trainings_in_the_server(monkeypatch) -> None:
    from ui import limits as limits_module
    from ui import trainer

    monkeypatch.setattr(limits_module, "limits", lambda: Limits(training_process=0))
    monkeypatch.setattr(trainer, "_trainer", None)
    assert trainer.warm_up_trainer() is False
    assert not trainer.trainer_started() and trainer.free_trainer(_frame(3), TrainConfig()) is None
