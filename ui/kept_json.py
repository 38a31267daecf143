"""Small JSON documents kept in the run store under their content's digest.

The URL carries only the digest (``lift=``, ``scenarios=``), so F5 or a copied link
brings the content back without putting it in the address. A document is written once,
to ``<run store>/<folder>/<digest>.json``, and never changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from embedding_core.atomic import atomic_file
from ui.runs import store

__all__ = ["keep_json", "read_kept"]

_log = logging.getLogger(__name__)
_HANDLE = re.compile(r"^[0-9a-f]{32}$")


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers, anything else JSON does not know as text."""
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def keep_json(folder: str, payload: Any) -> str | None:
    """Write ``payload`` under its digest; returns the digest (the handle), or None if
    writing failed (logged: the page goes on without a handle)."""
    text = json.dumps(payload, sort_keys=True, default=_plain)
    handle = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    try:
        with atomic_file(store().root / folder / f"{handle}.json", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        _log.warning("keeping %s/%s failed: %s", folder, handle, exc)
        return None
    return handle


def read_kept(folder: str, handle: str) -> Any | None:
    """The document kept under ``handle``, or None (not a handle, gone, or unreadable)."""
    if not _HANDLE.match(str(handle)):
        return None
    try:
        return json.loads((store().root / folder / f"{handle}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _log.warning("reading %s/%s failed: %s", folder, handle, exc)
        return None
