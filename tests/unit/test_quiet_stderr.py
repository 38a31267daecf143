"""``native_stderr_silenced``: file descriptor 2 is quiet inside the block only, and an
error raised in it is still reported."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _stderr_of(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )


def test_only_what_is_written_inside_the_block_is_dropped() -> None:
    done = _stderr_of(
        """
        import os, sys
        from embedding_core.quiet_stderr import native_stderr_silenced
        os.write(2, b"before\\n")
        with native_stderr_silenced():
            os.write(2, b"native, inside\\n")
            print("python, inside", file=sys.stderr)
        os.write(2, b"after\\n")
        """
    )
    assert done.returncode == 0 and done.stderr == "before\nafter\n", done.stderr


def test_an_error_in_the_block_is_reported_on_stderr() -> None:
    done = _stderr_of(
        """
        from embedding_core.quiet_stderr import native_stderr_silenced
        with native_stderr_silenced():
            raise ImportError("no tensorflow here")
        """
    )
    assert done.returncode == 1 and "ImportError: no tensorflow here" in done.stderr
