"""Check records and failure messages: service, redacted target, latency, attempts, the fix."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest

from smoke.checks import (
    CheckRecorder,
    endpoint,
    fix_hint,
    service_of,
    unreachable,
    what_happened,
)
from smoke.outputs import StackOutputs
from tests.unit.smoke.helpers import dead_outputs


def test_recorder_stores_a_redacted_result_on_the_item() -> None:
    item = SimpleNamespace(nodeid="smoke/test_cache.py::test_ping", user_properties=[("x", "1")])
    check = CheckRecorder(item)  # type: ignore[arg-type]
    for _ in range(2):
        with check.timed("redis://default:pw-123456@127.0.0.1:6390/0"):
            pass
    result = check.result
    assert (result.service, result.target, result.attempts) == (
        "cache",
        "redis://***@127.0.0.1:6390/0",
        2,
    )
    names = [name for name, _ in item.user_properties]
    assert names == ["x", "service", "target", "latency_ms", "attempts"]
    assert dict(item.user_properties)["attempts"] == "2"


def test_recorder_records_even_when_the_call_raises() -> None:
    item = SimpleNamespace(nodeid="smoke/test_database.py::test_connect", user_properties=[])
    check = CheckRecorder(item)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError), check.timed("127.0.0.1:5432"):
        raise RuntimeError("down")
    assert dict(item.user_properties)["service"] == "database"


def test_service_and_endpoint() -> None:
    assert service_of("smoke/test_storage.py::test_put_get_delete") == "storage"
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
    assert isinstance(failure, pytest.fail.Exception) and failure.pytrace is False
