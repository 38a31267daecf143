"""Exceptions whose message is meant for the user: one line, says what to do."""

from __future__ import annotations

__all__ = ["EmbeddingCoreError", "DataError", "ModelFormatError", "TrainingCancelled"]


class EmbeddingCoreError(Exception):
    """Base class; ``str(error)`` is a complete, user-facing sentence."""


class DataError(EmbeddingCoreError, ValueError):
    """The data or the chosen column roles cannot be used as given."""


class ModelFormatError(EmbeddingCoreError):
    """A saved run directory is missing, unreadable or from an incompatible version."""


class TrainingCancelled(EmbeddingCoreError):
    """Training was stopped by the caller before a usable model existed."""
