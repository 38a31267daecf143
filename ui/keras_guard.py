"""Stop Streamlit from resetting Keras after every script run while a model trains.

After each script run (and each fragment rerun) Streamlit calls
``keras.backend.clear_session()`` when Keras is loaded
(``streamlit.runtime.scriptrunner.script_runner._clean_problem_modules``). In Keras 3
that resets Keras' global state, TensorFlow's default graph and eager kernel cache,
and runs a full garbage collection (~0.4 s holding the GIL). Our training runs in a
background thread while the Train page polls it every second, so training crawled.

``install()`` wraps ``keras.backend.clear_session`` so calls coming from Streamlit's
own modules are skipped; calls from anywhere else (user code, the library) behave as
before. It is a no-op until Keras has been imported, and idempotent.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["install"]

_MARK = "_embedding_app_guard"


def install() -> bool:
    """Guard ``keras.backend.clear_session`` against Streamlit; True once installed."""
    keras = sys.modules.get("keras")
    backend = getattr(keras, "backend", None) if keras is not None else None
    original: Callable[..., Any] | None = getattr(backend, "clear_session", None)
    if backend is None or original is None:
        return False
    if getattr(original, _MARK, False):
        return True

    def clear_session(*args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if str(caller).startswith("streamlit."):
            return None
        return original(*args, **kwargs)

    setattr(clear_session, _MARK, True)
    clear_session.__doc__ = original.__doc__
    clear_session.__wrapped__ = original  # type: ignore[attr-defined]
    backend.clear_session = clear_session
    return True
