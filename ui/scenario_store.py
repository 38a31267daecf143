"""Keep the What-if page's scenarios on the server, so F5 and a link show them again.

The session's scenarios (``state.get_scenarios``: run id, name and row each) are written
as one document (``ui.kept_json``, folder ``.scenarios``) whenever they change; the URL
carries its digest (``scenarios=``). Clearing them drops the handle.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import state
from ui.kept_json import keep_json, read_kept
from ui.state import Keys

__all__ = ["set_kept", "scenarios_handle", "restore_scenarios"]

_DIR = ".scenarios"


def set_kept(scenarios: list[dict[str, Any]]) -> None:
    """Make ``scenarios`` the session's and keep them (no handle when there are none, or
    when writing failed: they then last for the session only)."""
    state.set_scenarios(scenarios)
    handle = keep_json(_DIR, {"scenarios": scenarios}) if scenarios else None
    st.session_state[Keys.SCENARIOS_HANDLE] = handle


def scenarios_handle() -> str | None:
    """The handle of the session's kept scenarios, or None."""
    return st.session_state.get(Keys.SCENARIOS_HANDLE)


def restore_scenarios(handle: str) -> bool:
    """Make kept scenarios the session's again; False if they are gone or malformed."""
    document = read_kept(_DIR, handle)
    items = document.get("scenarios") if isinstance(document, dict) else None
    if not isinstance(items, list):
        return False
    scenarios = [
        {"run_id": s["run_id"], "name": s["name"], "row": s["row"]}
        for s in items
        if isinstance(s, dict)
        and isinstance(s.get("run_id"), str)
        and isinstance(s.get("name"), str)
        and isinstance(s.get("row"), dict)
    ]
    state.set_scenarios(scenarios)
    st.session_state[Keys.SCENARIOS_HANDLE] = handle
    return True
