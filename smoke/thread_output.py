"""Output capture per thread, for a concurrent smoke run (smoke/concurrency.py).

pytest's capture is one process-wide redirection of stdout and stderr, resumed and suspended
around every phase of every check: with checks running at once, one check's output would land
in another's report, or on the terminal unmasked while the main thread reports. For the length
of a concurrent run pytest's capture is replaced by a no-op (as with `-s`) and `sys.stdout` and
`sys.stderr` by streams that keep each worker thread's writes for its current check; the main
thread's writes pass through. The caller masks what it collects before a report shows it.
Output written straight to file descriptors 1 and 2 (by C code) is not captured.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from _pytest.capture import MultiCapture

_local = threading.local()  # .buffers: {"stdout": StringIO, "stderr": StringIO} in a worker
STREAMS = ("stdout", "stderr")


class _PerThreadStream(io.TextIOBase):
    """`sys.stdout` or `sys.stderr`: a worker's writes go to its buffer, the rest to `real`."""

    def __init__(self, name: str, real: Any) -> None:
        self.name = name
        self.real = real

    def write(self, text: str) -> int:
        buffers = getattr(_local, "buffers", None)
        if buffers is None:
            return int(self.real.write(text))
        return int(buffers[self.name].write(text))

    def flush(self) -> None:
        if getattr(_local, "buffers", None) is None:
            self.real.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.real, "encoding", "utf-8"))


def start_capturing() -> None:
    """From now on this thread's writes are kept (call in a worker thread)."""
    _local.buffers = {name: io.StringIO() for name in STREAMS}


def collect() -> dict[str, str]:
    """What this thread wrote since the last collect, by stream (empty ones left out)."""
    buffers = getattr(_local, "buffers", None) or {}
    written = {name: buf.getvalue() for name, buf in buffers.items() if buf.getvalue()}
    start_capturing()
    return written


def stop_capturing() -> None:
    _local.buffers = None


@contextmanager
def per_thread(config: pytest.Config) -> Iterator[None]:
    """For the length of the block: pytest's capture off, sys streams split by thread."""
    capman = config.pluginmanager.getplugin("capturemanager")
    saved = None
    if capman is not None and capman._global_capturing is not None:
        capman.suspend_global_capture(in_=True)
        saved, capman._global_capturing = (
            capman._global_capturing,
            MultiCapture(in_=None, out=None, err=None),  # what `--capture=no` runs with
        )
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = _PerThreadStream("stdout", real_out)
    sys.stderr = _PerThreadStream("stderr", real_err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = real_out, real_err
        if saved is not None:
            capman._global_capturing = saved
