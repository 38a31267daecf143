"""One guard against spreadsheet formula injection, for every CSV/TSV this project writes.

A cell (or a column name) from the user's data that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is run as a formula by Excel, LibreOffice and Google
Sheets when the file is opened (OWASP "CSV injection"). Such text gets a leading
``'``, which spreadsheets show as a plain-text marker; numbers such as ``-3.5`` are left
alone. Used by the app's CSV downloads, the Projector ``metadata.tsv`` and the CLI's
``predict`` and ``embed`` outputs (``--raw`` there writes values unchanged).

Examples
--------
>>> guard_cell("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> guard_cell("-3.5")
'-3.5'
"""

from __future__ import annotations

import pandas as pd

__all__ = ["FORMULA_START", "guard_cell", "guard_frame"]

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard_cell(value: object) -> object:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def guard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are guarded.

    Columns are taken by position, so any frame works, one with repeated names too.
    """
    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if pd.api.types.is_string_dtype(column) or column.dtype == object:
            out.isetitem(i, column.map(guard_cell))
    out.columns = pd.Index([guard_cell(c) for c in out.columns])
    return out
