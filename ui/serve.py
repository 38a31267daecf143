"""Serve the app with its training process started before the server (``make run``).

``python -m ui.serve [streamlit options]`` is ``streamlit run app.py [options]`` that
first starts the training process (``ui.trainer.warm_up_trainer``), before Streamlit
loads. Plain ``streamlit run app.py`` starts it too, a moment later: ``app.py`` defines
``app``, an ``st.App`` whose lifespan is ``lifespan`` below, and ``streamlit run`` serves
it. Either way the TensorFlow import runs while the server starts and before anyone
opens the page, at the server's priority (no page waits yet), so a Train click right
after opening a fresh server does not wait for it. ``app.py`` finds the process alive
and uses it (it runs in this same Python process); the first session lowers its
priority, so pages come first.

Examples
--------
.. code-block:: bash

    .venv/bin/python -m ui.serve --server.headless true --server.port 8501
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ui.trainer import warm_up_trainer

__all__ = ["APP", "lifespan", "main", "navigate_from_app"]

#: The app's entry point, served by ``main``.
APP = Path(__file__).resolve().parents[1] / "app.py"


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """The served app's lifespan (``app.app``, an ``st.App``): the training process
    starts as the server does, before any session opens, and every session runs
    ``app.py``'s navigation (``navigate_from_app``)."""
    navigate_from_app()
    warm_up_trainer(before_sessions=True)
    yield


def navigate_from_app() -> None:
    """Every session runs ``app.py``, whose ``st.navigation`` names the pages, from the
    server's first session on.

    With a ``pages/`` folder beside ``app.py``, Streamlit runs a fresh server's sessions
    in its older pages-folder mode until one of them calls ``st.navigation``: the sidebar
    lists the files (``app``, ``compare``, ``data``, ...), and a first session opened on
    a link (``/explore?run=...``, or F5 on a page after a restart) ran that page's file
    alone, without ``app.py``: no data, no run, and the same for every session after it
    until someone opened the main page. Setting the flag ``st.navigation`` itself sets,
    before any session, leaves only ``app.py``'s navigation.
    """
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


def main() -> None:
    """Start the training process, then ``streamlit run app.py`` with this command's
    options."""
    warm_up_trainer(before_sessions=True)
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
