"""The browser tests' Chromium: skipped when it is missing, except in CI (``CI=true``),
where that is a failure."""

from __future__ import annotations

import os

import pytest

from tests.e2e.harness import find_chromium


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is missing: install the Debian `chromium` package.")
        pytest.skip("Chromium is not installed")
    return path
