"""A client-side deadline for a blocking call on one socket: when the call has not returned in
time, the socket is shut down, the blocked read returns at once, and the call's error is raised
as `TimeoutError` naming what timed out.

Why: psycopg has no client-side read timeout on an open connection. `statement_timeout` runs on
the server, so when the network drops the query (a blackhole) the call blocks for ever (measured
through Toxiproxy: still blocked after 10 s; `asyncio.wait_for` returns after 11 s because psycopg
then waits 10 s for a cancel request that goes through the same blackhole; `cancel_safe` times
out and the query stays blocked). Shutting the socket down ends it in the deadline.

>>> import socket
>>> a, b = socket.socketpair()
>>> with socket_deadline(a.fileno(), 0.1, "demo read"):  # doctest: +ELLIPSIS
...     a.recv(1)
Traceback (most recent call last):
TimeoutError: demo read: no answer within 0.1 s
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def socket_deadline(fileno: int, seconds: float, what: str) -> Iterator[None]:
    """Shut socket `fileno` down unless the block ends within `seconds` (see the module doc).

    The socket is unusable afterwards: treat its connection as dead. A block that returns
    normally just before the deadline is never cut (the timer and the exit share a lock)."""
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def fire() -> None:
        with lock:
            if state["done"]:
                return
            state["fired"] = True
        with contextlib.suppress(OSError):  # already closed: nothing left to unblock
            dup = socket.socket(fileno=os.dup(fileno))
            try:
                dup.shutdown(socket.SHUT_RDWR)
            finally:
                dup.close()

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except Exception as exc:
        with lock:
            state["done"] = True
        if state["fired"]:
            raise TimeoutError(f"{what}: no answer within {seconds:g} s") from exc
        raise
    else:
        with lock:
            state["done"] = True
        if state["fired"]:  # it returned although the socket was cut: say so, do not trust it
            raise TimeoutError(f"{what}: no answer within {seconds:g} s")
    finally:
        timer.cancel()
