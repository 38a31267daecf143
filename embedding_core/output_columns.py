"""Names of the columns this project adds to a user's table, never clashing with theirs.

``embed`` adds ``<field>_emb_<d>`` and ``predict`` adds ``proba_<class>`` and
``prediction``. When the data already has a column of one of those names, the user's
column is kept as it is and every column of the new block gets one suffix (``_new``,
else ``_new2``, ``_new3``...), so an output never has two columns of the same name and
the user's data is never overwritten. ``OutputNames.note`` says so in one sentence.

Examples
--------
>>> free_names(["prediction"], ["city", "prediction"]).names
['prediction_new']
>>> free_names(["city_emb_0", "city_emb_1"], ["job"]).note() is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from embedding_core.text import NAME_LIMIT, printable

__all__ = ["NEW_SUFFIX", "OutputNames", "free_names"]

#: Appended to every name of a block of new columns when one of them is taken.
NEW_SUFFIX = "_new"


@dataclass(frozen=True)
class OutputNames:
    """The names chosen for a block of new columns.

    ``taken`` lists the usual names the data already had; ``suffix`` is what every name
    of the block got appended because of them (``""`` when nothing clashed).
    """

    names: list[str]
    taken: list[str]
    suffix: str = ""

    def note(self) -> str | None:
        """One sentence for the user when the block was renamed; ``None`` otherwise."""
        if not self.taken:
            return None
        clash = ", ".join(f"'{printable(c, NAME_LIMIT)}'" for c in self.taken[:3])
        more = f" and {len(self.taken) - 3:,} more" if len(self.taken) > 3 else ""
        shown = [printable(n, NAME_LIMIT) for n in self.names]
        if len(shown) == 1:
            new = f"the new column is named {shown[0]}"
        else:
            listed = ", ".join(shown) if len(shown) <= 3 else f"{shown[0]} … {shown[-1]}"
            new = f"the new columns are named with '{self.suffix}' appended ({listed})"
        return f"The data already has a column named {clash}{more}: it is kept as it is, and {new}."


def free_names(wanted: Sequence[str], taken: Iterable[object]) -> OutputNames:
    """``wanted`` if none is among ``taken``, else each with the first suffix that frees all.

    Parameters
    ----------
    wanted : sequence of str
        The block's usual names (``city_emb_0``, ``city_emb_1``...).
    taken : iterable
        Column names already in the output; compared as text, as a CSV header shows them.

    Returns
    -------
    OutputNames
        ``names`` (same length and order as ``wanted``) and the wanted names that clashed.
    """
    used = {str(c) for c in taken}
    clashes = [w for w in wanted if w in used]
    if not clashes:
        return OutputNames(list(wanted), [])
    attempt = 1
    while True:
        suffix = NEW_SUFFIX if attempt == 1 else f"{NEW_SUFFIX}{attempt}"
        names = [f"{w}{suffix}" for w in wanted]
        if not used.intersection(names):
            return OutputNames(names, clashes, suffix)
        attempt += 1
