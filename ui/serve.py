"""Serve the app with its training process started before the server (``make run``).

``python -m ui.serve [streamlit options]`` is ``streamlit run app.py [options]`` that
first starts the training process (``ui.trainer.warm_up_trainer``). With plain
``streamlit run`` that process starts only when the first session opens, so a Train
click right after opening a fresh server waits for its TensorFlow import; here the
import runs while Streamlit starts and before anyone opens the page, at the server's
priority (no page waits yet). ``app.py`` finds the process alive and uses it (it runs in
this same Python process); the first session lowers its priority, so pages come first.

Examples
--------
.. code-block:: bash

    .venv/bin/python -m ui.serve --server.headless true --server.port 8501
"""

from __future__ import annotations

import sys
from pathlib import Path

from ui.trainer import warm_up_trainer

__all__ = ["APP", "main"]

#: The app's entry point, served by ``main``.
APP = Path(__file__).resolve().parents[1] / "app.py"


def main() -> None:
    """Start the training process, then ``streamlit run app.py`` with this command's
    options."""
    warm_up_trainer(before_sessions=True)
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
