"""`classify` names the fault behind the errors the real clients raised in docs/faults.md.

Each case rebuilds an exception exactly as observed (type, message, cause chain; botocore keeps
the urllib3 error in `kwargs["error"]`) with psycopg 3.3.9, redis 8.1.0, botocore 1.44.5 and
httpx 0.28.1, through Toxiproxy v2.12.0 or against a SIGSTOPped server.
"""

from __future__ import annotations

import socket
import ssl

import httpx
import psycopg
import pytest
import redis.exceptions as redis_errors
from botocore import exceptions as boto
from urllib3 import exceptions as urllib3_errors

from smoke.faults import FaultKind, classify

URL = "http://127.0.0.1:42605/faults"
PG = 'connection failed: connection to server at "127.0.0.1", port 37193 failed: '


def chained(outer: BaseException, inner: BaseException) -> BaseException:
    """`outer` raised while handling `inner` (how the drivers wrap socket errors)."""
    outer.__context__ = inner
    return outer


def refused() -> BaseException:
    return ConnectionRefusedError(111, "Connection refused")


def reset() -> BaseException:
    return ConnectionResetError(104, "Connection reset by peer")


def boto_refused() -> BaseException:
    new_conn = urllib3_errors.NewConnectionError(
        None,  # type: ignore[arg-type]
        "AWSHTTPConnection(host='127.0.0.1', port=42605): Failed to establish a new connection: "
        "[Errno 111] Connection refused",
    )
    return boto.EndpointConnectionError(endpoint_url=URL, error=chained(new_conn, refused()))


def boto_dns() -> BaseException:
    gai = socket.gaierror(-2, "Name or service not known")
    new_conn = urllib3_errors.NewConnectionError(
        None,  # type: ignore[arg-type]
        "AWSHTTPConnection(host='no-such-host.invalid', port=9000): Failed to resolve "
        "'no-such-host.invalid' ([Errno -2] Name or service not known)",
    )
    return boto.EndpointConnectionError(endpoint_url=URL, error=chained(new_conn, gai))


CASES = {
    # refused: the proxy disabled (nothing listens)
    "psycopg refused": (
        psycopg.OperationalError(
            PG + "Connection refused Is the server running on that host and accepting TCP/IP "
            "connections?"
        ),
        FaultKind.REFUSED,
    ),
    "redis refused": (
        chained(
            redis_errors.ConnectionError(
                "Error 111 connecting to 127.0.0.1:37983. Connection refused."
            ),
            refused(),
        ),
        FaultKind.REFUSED,
    ),
    "boto3 refused (urllib3's NewConnectionError subclasses ConnectTimeoutError)": (
        boto_refused(),
        FaultKind.REFUSED,
    ),
    "httpx refused": (
        chained(httpx.ConnectError("[Errno 111] Connection refused"), refused()),
        FaultKind.REFUSED,
    ),
    # timed out: timeout toxic upstream, or a SIGSTOPped server
    "psycopg connect_timeout": (
        psycopg.errors.ConnectionTimeout("connection timeout expired"),
        FaultKind.TIMED_OUT,
    ),
    "psycopg statement_timeout": (
        psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
        FaultKind.TIMED_OUT,
    ),
    "redis socket_timeout": (
        chained(
            redis_errors.TimeoutError("Timeout reading from socket"), TimeoutError("timed out")
        ),
        FaultKind.TIMED_OUT,
    ),
    "redis TLS handshake to a server that never answers": (
        chained(
            redis_errors.TimeoutError("Timeout connecting to server"),
            TimeoutError("_ssl.c:989: The handshake operation timed out"),
        ),
        FaultKind.TIMED_OUT,
    ),
    "boto3 read timeout": (
        boto.ReadTimeoutError(
            endpoint_url=URL,
            error=chained(
                urllib3_errors.ReadTimeoutError(
                    None,  # type: ignore[arg-type]
                    URL,
                    "Read timed out. (read timeout=2.0)",
                ),
                TimeoutError("timed out"),
            ),
        ),
        FaultKind.TIMED_OUT,
    ),
    "boto3 connect timeout": (
        boto.ConnectTimeoutError(endpoint_url=URL, error="timed out"),
        FaultKind.TIMED_OUT,
    ),
    "httpx read timeout": (
        chained(httpx.ReadTimeout("timed out"), TimeoutError("timed out")),
        FaultKind.TIMED_OUT,
    ),
    "asyncio.wait_for around an async connect": (TimeoutError(), FaultKind.TIMED_OUT),
    # reset: reset_peer or limit_data toxics
    "psycopg reset or closed": (
        psycopg.OperationalError(
            PG + "server closed the connection unexpectedly This probably means the server "
            "terminated abnormally before or while processing the request."
        ),
        FaultKind.RESET,
    ),
    "redis reset": (
        chained(
            redis_errors.ConnectionError(
                "Error while reading from 127.0.0.1:37983 : (104, 'Connection reset by peer')"
            ),
            reset(),
        ),
        FaultKind.RESET,
    ),
    "redis closed": (
        redis_errors.ConnectionError("Connection closed by server."),
        FaultKind.RESET,
    ),
    "boto3 reset": (
        boto.ConnectionClosedError(
            endpoint_url=URL,
            error=urllib3_errors.ProtocolError("Connection aborted.", reset()),
        ),
        FaultKind.RESET,
    ),
    "boto3 closed without an answer (no errno)": (
        boto.ConnectionClosedError(endpoint_url=URL),
        FaultKind.RESET,
    ),
    "httpx reset": (
        chained(httpx.ReadError("[Errno 104] Connection reset by peer"), reset()),
        FaultKind.RESET,
    ),
    "httpx closed": (
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        FaultKind.RESET,
    ),
    # TLS: a TLS client against the plain local servers
    "psycopg sslmode=require": (
        psycopg.OperationalError(PG + "server does not support SSL, but SSL was required"),
        FaultKind.TLS,
    ),
    "httpx https to http": (
        chained(
            httpx.ConnectError("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"),
            ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"),
        ),
        FaultKind.TLS,
    ),
    "boto3 https to http": (
        boto.SSLError(
            endpoint_url=URL,
            error=urllib3_errors.SSLError(
                ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")
            ),
        ),
        FaultKind.TLS,
    ),
    # auth
    "psycopg wrong password": (
        psycopg.OperationalError(PG + 'FATAL: password authentication failed for user "postgres"'),
        FaultKind.AUTH,
    ),
    "redis wrong password": (
        redis_errors.AuthenticationError("invalid username-password pair or user is disabled."),
        FaultKind.AUTH,
    ),
    "boto3 unknown key": (
        boto.ClientError(
            {
                "Error": {"Code": "InvalidAccessKeyId", "Message": "not in our records"},
                "ResponseMetadata": {"HTTPStatusCode": 403},
            },
            "PutObject",
        ),
        FaultKind.AUTH,
    ),
    "boto3 HEAD 403 (no body, only the status)": (
        boto.ClientError(
            {
                "Error": {"Code": "403", "Message": "Forbidden"},
                "ResponseMetadata": {"HTTPStatusCode": 403},
            },
            "HeadBucket",
        ),
        FaultKind.AUTH,
    ),
    # dns
    "psycopg unresolvable": (
        psycopg.OperationalError(
            "failed to resolve host 'no-such-host.invalid': [Errno -2] Name or service not known"
        ),
        FaultKind.DNS,
    ),
    "redis unresolvable": (
        redis_errors.ConnectionError(
            "Error -2 connecting to no-such-host.invalid:6379. Name or service not known."
        ),
        FaultKind.DNS,
    ),
    "boto3 unresolvable": (boto_dns(), FaultKind.DNS),
    "httpx unresolvable": (
        httpx.ConnectError("[Errno -2] Name or service not known"),
        FaultKind.DNS,
    ),
    # other
    "boto3 404": (
        boto.ClientError(
            {
                "Error": {"Code": "404", "Message": "Not Found"},
                "ResponseMetadata": {"HTTPStatusCode": 404},
            },
            "HeadBucket",
        ),
        FaultKind.OTHER,
    ),
    "redis protocol error": (
        redis_errors.InvalidResponse("Protocol Error: b'HTTP/1.1 400 Bad Request'"),
        FaultKind.OTHER,
    ),
}


@pytest.mark.parametrize(("exc", "kind"), list(CASES.values()), ids=list(CASES))
def test_classify(exc: BaseException, kind: FaultKind) -> None:
    assert classify(exc) is kind


def test_a_cause_behind_a_wrapper_is_found() -> None:
    class CheckFailed(Exception):
        pass

    try:
        try:
            raise boto_refused()
        except boto.EndpointConnectionError as inner:
            raise CheckFailed("storage check failed") from inner
    except CheckFailed as outer:
        assert classify(outer) is FaultKind.REFUSED


def test_every_kind_has_a_phrase() -> None:
    assert {kind.phrase for kind in FaultKind} >= {"refused connection", "timed out"}
    assert len({kind.phrase for kind in FaultKind}) == len(FaultKind)
