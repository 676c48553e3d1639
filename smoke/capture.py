"""What each check writes (stdout, stderr, log records), kept per thread for its own result.

For the length of an engine run `sys.stdout` and `sys.stderr` are replaced by streams that keep
a worker thread's writes for the step it runs now (other threads' writes pass through), and one
logging handler on the root logger does the same for log records. Output written straight to
file descriptors 1 and 2 (by C code) is not captured.

>>> with per_thread(None):
...     begin()
...     print("hello")
...     collect()
{'stdout': 'hello\\n'}
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

STREAMS = ("stdout", "stderr", "log")
# pytest's own default, so a check's captured log reads as in any pytest run.
LOG_FORMAT = "%(levelname)-8s %(name)s:%(filename)s:%(lineno)d %(message)s"
_local = threading.local()  # .buffers: {stream: StringIO} while a thread's step is captured


class _PerThreadStream(io.TextIOBase):
    """`sys.stdout` or `sys.stderr`: a captured thread's writes go to its buffer, the rest to
    `real`."""

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


class _PerThreadLog(logging.Handler):
    """Keeps the records a captured thread logs, formatted, for its current step."""

    def emit(self, record: logging.LogRecord) -> None:
        buffers = getattr(_local, "buffers", None)
        if buffers is not None:
            try:
                buffers["log"].write(self.format(record) + "\n")
            except Exception:  # a record that cannot format
                self.handleError(record)


def begin() -> None:
    """From now on this thread's output is kept (call at the start of a step)."""
    _local.buffers = {name: io.StringIO() for name in STREAMS}


def collect() -> dict[str, str]:
    """What this thread wrote since `begin`, by stream (empty ones left out); stops keeping."""
    buffers = getattr(_local, "buffers", None) or {}
    _local.buffers = None
    return {name: buf.getvalue() for name, buf in buffers.items() if buf.getvalue()}


@contextmanager
def per_thread(log_level: int | None) -> Iterator[None]:
    """For the length of the block: sys streams and log records split by thread. `log_level`
    (e.g. pytest's --log-level) lowers or raises the root logger's level meanwhile."""
    root = logging.getLogger()
    handler = _PerThreadLog()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    saved_level = root.level
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = _PerThreadStream("stdout", real_out)
    sys.stderr = _PerThreadStream("stderr", real_err)
    root.addHandler(handler)
    if log_level is not None:
        root.setLevel(log_level)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
        sys.stdout, sys.stderr = real_out, real_err
