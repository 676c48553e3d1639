"""Check records and failure messages: service, redacted target, latency, attempts, the fix."""

from __future__ import annotations

import socket

import pytest

from smoke.checks.common import (
    Recorder,
    endpoint,
    fix_hint,
    unreachable,
    what_happened,
)
from smoke.failures import CheckFailed
from smoke.outputs import StackOutputs
from tests.unit.smoke.helpers import dead_outputs


def test_recorder_keeps_a_redacted_target_and_counts_attempts() -> None:
    check = Recorder("cache", "test_ping")
    for _ in range(2):
        with check.timed("redis://default:pw-123456@127.0.0.1:6390/0"):
            pass
    assert (check.target, check.attempts) == ("redis://***@127.0.0.1:6390/0", 2)
    assert check.latency_ms > 0
    check.record("seen", "x")
    assert check.facts == [("seen", "x")]


def test_recorder_records_even_when_the_call_raises() -> None:
    check = Recorder("database", "test_connect")
    with pytest.raises(RuntimeError), check.timed("127.0.0.1:5432"):
        raise RuntimeError("down")
    assert check.attempts == 1 and check.target == "127.0.0.1:5432"


def test_endpoint() -> None:
    assert endpoint("postgresql://u:p@127.0.0.1:54322/db") == "127.0.0.1:54322"
    assert endpoint("https://s3.eu-west-1.amazonaws.com") == "s3.eu-west-1.amazonaws.com"
    assert endpoint("redis://:p@[::1]:6379") == "[::1]:6379"


def _refused() -> BaseException:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1)
    except OSError as exc:
        return exc
    raise AssertionError("port unexpectedly open")


def test_what_happened_reads_the_whole_cause_chain() -> None:
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError  # type: ignore[import-untyped]

    assert what_happened(_refused()) == "refused connection"
    wrapped = RuntimeError("outer")
    wrapped.__cause__ = _refused()
    assert what_happened(wrapped) == "refused connection"
    boto = EndpointConnectionError(endpoint_url="http://127.0.0.1:9", error=_refused())
    assert what_happened(boto) == "refused connection"
    assert what_happened(ConnectTimeoutError(endpoint_url="http://h")) == "timed out"


def test_what_happened_with_driver_errors() -> None:
    import psycopg
    import redis

    assert what_happened(psycopg.OperationalError("connection timeout expired")) == "timed out"
    assert (
        what_happened(
            psycopg.OperationalError('FATAL:  password authentication failed for user "app"')
        )
        == "rejected the credentials"
    )
    assert what_happened(redis.AuthenticationError("invalid username-password pair")) == (
        "rejected the credentials"
    )
    assert (
        what_happened(psycopg.OperationalError('could not translate host name "db.x" to address'))
        == "cannot be resolved"
    )
    assert what_happened(ValueError("odd")) == "is unreachable (ValueError)"


def _outputs(stack: str, target: str) -> StackOutputs:
    return StackOutputs.from_json({**dead_outputs(1, 2, 3), "target": target}, "test", stack)


def test_fix_depends_on_the_stack() -> None:
    local, prod = _outputs("local", "local"), _outputs("prod", "cloud")
    assert fix_hint(local, "refused connection") == "is the local stack up? run: make up"
    assert fix_hint(prod, "timed out") == (
        "is stack 'prod' up? run: pulumi up --stack prod --refresh"
    )
    assert fix_hint(local, "rejected the credentials") == "are the outputs stale? run: make up"
    # The target output decides, not the stack's name.
    assert fix_hint(_outputs("local", "cloud"), "timed out").endswith("--stack local --refresh")
    assert fix_hint(_outputs("laptop", "local"), "timed out").endswith("run: make up")


def test_unreachable_is_one_line_without_traceback_or_secret() -> None:
    failure = unreachable(
        "cache",
        "redis",
        "redis://default:Pw-Secret-9@127.0.0.1:6390/0",
        _refused(),
        _outputs("local", "local"),
    )
    assert str(failure) == (
        "cache: redis at 127.0.0.1:6390 refused connection (is the local stack up? run: make up)"
    )
    assert isinstance(failure, CheckFailed)  # a plain, typed error: no pytest in a check
