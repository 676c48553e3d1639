"""What kind of fault a client error means: refused, timed out, reset, TLS, auth, DNS or other.

Built from the errors psycopg 3.3, redis-py 8.1, boto3/botocore 1.44 and httpx 0.28 really raise
through Toxiproxy and against a frozen server (measurements in docs/faults.md). Pure: it reads
exception types (by name, so no driver is imported), errno values and messages along the whole
cause chain, including botocore's `kwargs["error"]` and exceptions passed as args.

>>> classify(ConnectionRefusedError(111, "Connection refused")).phrase
'refused connection'
"""

from __future__ import annotations

import errno
from enum import Enum


class FaultKind(Enum):
    """One kind of network fault, with the phrase smoke prints after `<service>: <what> at <x>`."""

    REFUSED = "refused"
    TIMED_OUT = "timed_out"
    RESET = "reset"
    TLS = "tls"
    AUTH = "auth"
    DNS = "dns"
    OTHER = "other"

    @property
    def phrase(self) -> str:
        return _PHRASES[self]


_PHRASES = {
    FaultKind.REFUSED: "refused connection",
    FaultKind.TIMED_OUT: "timed out",
    FaultKind.RESET: "dropped the connection",
    FaultKind.TLS: "failed the TLS handshake",
    FaultKind.AUTH: "rejected the credentials",
    FaultKind.DNS: "cannot be resolved",
    FaultKind.OTHER: "is unreachable",
}

_ERRNOS = (
    (FaultKind.REFUSED, {errno.ECONNREFUSED}),
    (FaultKind.RESET, {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED}),
    (FaultKind.TIMED_OUT, {errno.ETIMEDOUT}),
)
# (kind, exception type names anywhere in an MRO of the chain, lowercased message needles);
# the first rule that matches wins. DNS and refused come before timeouts because urllib3's
# NewConnectionError (a refused or unresolved connect) subclasses its ConnectTimeoutError. TLS
# has no bare "ssl" needle: a TLS handshake to a hung server says "_ssl.c: ... timed out".
_RULES: tuple[tuple[FaultKind, frozenset[str], tuple[str, ...]], ...] = (
    (
        FaultKind.DNS,
        frozenset({"gaierror"}),
        (
            "name or service not known",
            "could not translate host name",
            "failed to resolve host",
            "temporary failure in name resolution",
            "nodename nor servname",
            "no address associated with hostname",
        ),
    ),
    (
        FaultKind.REFUSED,
        frozenset({"ConnectionRefusedError"}),
        ("connection refused", "errno 111", "econnrefused"),
    ),
    (
        FaultKind.TLS,
        frozenset({"SSLError", "SSLCertVerificationError", "CertificateError"}),
        ("[ssl:", "ssl validation failed", "certificate verify failed", "does not support ssl"),
    ),
    (
        FaultKind.TIMED_OUT,
        frozenset(
            {
                "ConnectionTimeout",  # psycopg: connect_timeout expired
                "QueryCanceled",  # psycopg: statement_timeout
                "ReadTimeoutError",  # botocore, urllib3
                "ConnectTimeoutError",  # botocore (urllib3's is NewConnectionError's base too)
                "TimeoutException",  # httpx/httpcore Read/Connect/Write/PoolTimeout
                "TimeoutError",  # builtins (socket.timeout), redis.exceptions, asyncio
            }
        ),
        ("timed out", "timeout expired", "timeout reading", "timeout connecting"),
    ),
    (
        FaultKind.RESET,
        frozenset({"ConnectionResetError", "BrokenPipeError", "ConnectionClosedError"}),
        (
            "connection reset",
            "errno 104",
            "server closed the connection unexpectedly",  # libpq, for a RST or a close alike
            "connection closed by server",  # redis-py
            "server disconnected without sending a response",  # httpx/httpcore
            "connection was closed before we received",  # botocore
            "connection aborted",
            "broken pipe",
        ),
    ),
    (
        FaultKind.AUTH,
        frozenset({"AuthenticationError", "InvalidPassword", "InvalidAuthorizationSpecification"}),
        (
            "password authentication failed",
            "invalid username-password",
            "wrongpass",
            "noauth",
            "must be called with the client already authenticated",
            "invalidaccesskeyid",
            "signaturedoesnotmatch",
            "invalidclienttokenid",
        ),
    ),
)


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and every exception behind it, nearest first."""
    found: list[BaseException] = []
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        kwargs = getattr(current, "kwargs", None)
        inner = kwargs.get("error") if isinstance(kwargs, dict) else None
        todo += [current.__cause__, current.__context__]
        todo += [inner] if isinstance(inner, BaseException) else []  # botocore may keep a str
        todo += [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
    return found


def _type_names(exc: BaseException) -> set[str]:
    return {klass.__name__ for klass in type(exc).__mro__}


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status of a botocore `ClientError` or an httpx `HTTPStatusError`, if any."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):  # botocore
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(status) if status else None
    status = getattr(response, "status_code", None)  # httpx
    return status if isinstance(status, int) else None


def classify(exc: BaseException) -> FaultKind:
    """The kind of fault behind a driver error (the whole cause chain is read)."""
    chain = _chain(exc)
    for kind, numbers in _ERRNOS:
        if any(getattr(e, "errno", None) in numbers for e in chain):
            return kind
    names = set().union(*(_type_names(e) for e in chain))
    text = " | ".join(f"{type(e).__name__}: {e}" for e in chain).lower()
    for kind, types, needles in _RULES:
        if names & types or any(needle in text for needle in needles):
            return kind
    if any(_http_status(e) in (401, 403) for e in chain):
        return FaultKind.AUTH
    return FaultKind.OTHER
