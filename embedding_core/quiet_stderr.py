"""Keep what native code writes straight to file descriptor 2 off stderr, around a block
that does nothing else (TensorFlow's import)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["native_stderr_silenced"]


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null inside the block.

    TensorFlow's C++ start-up lines (absl's "All log messages before
    absl::InitializeLog()", the oneDNN notice, CPU-feature hints) are written to fd 2
    past Python, and ``TF_CPP_MIN_LOG_LEVEL`` does not hide them; setting
    ``TF_ENABLE_ONEDNN_OPTS=0`` would hide one of them but halves training speed. The
    redirection is process-wide, so use it only where no other thread writes to stderr
    meanwhile. An exception raised in the block is reported after stderr is back.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:  # noqa: PTH123
            os.dup2(devnull.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
    finally:
        os.close(saved)
