"""Which column plays which part: categorical fields, numeric inputs, the target."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["Task", "TASKS", "Roles"]

Task = Literal["binary", "regression", "multiclass"]
TASKS: tuple[str, ...] = ("binary", "regression", "multiclass")


@dataclass(frozen=True)
class Roles:
    """The user's choice of columns.

    Parameters
    ----------
    categorical : tuple of str
        Columns treated as categorical fields; each gets its own embedding table.
    target : str
        The column to predict.
    numeric : tuple of str, default=()
        Optional numeric inputs (standardised, missing values imputed and flagged).
    task : {"binary", "regression", "multiclass"} or None, default=None
        ``None`` means "infer from the target" (see ``infer_task``).
    """

    categorical: tuple[str, ...]
    target: str
    numeric: tuple[str, ...] = field(default_factory=tuple)
    task: Task | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "categorical", tuple(self.categorical))
        object.__setattr__(self, "numeric", tuple(self.numeric))

    @property
    def features(self) -> tuple[str, ...]:
        """Categorical then numeric columns, in order."""
        return self.categorical + self.numeric

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation."""
        d = asdict(self)
        d["categorical"] = list(self.categorical)
        d["numeric"] = list(self.numeric)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Roles:
        """Inverse of ``to_dict``."""
        return cls(
            categorical=tuple(d["categorical"]),
            target=d["target"],
            numeric=tuple(d.get("numeric", ())),
            task=d.get("task"),
        )
