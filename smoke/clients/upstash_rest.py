"""Checks of the Upstash REST API the app's `@upstash/redis` client speaks.

Plain functions (usable outside pytest); each raises `UpstashRestError` naming the service, the
command, what came back and the fix. The protocol is Upstash's REST API
(https://upstash.com/docs/redis/features/restapi): a command is a JSON array POSTed to the REST
URL (`["SET", "k", "v"]`), `/pipeline` takes an array of them, auth is
`Authorization: Bearer <token>`, answers are `{"result": ...}` or `{"error": "..."}` (one per
command for `/pipeline`), and a wrong token is refused with HTTP 401. `@upstash/redis` reads
`UPSTASH_REDIS_REST_URL`/`UPSTASH_REDIS_REST_TOKEN` and refuses a URL that is not https.

>>> rest = upstash_rest_of(outputs.env, outputs.stack)  # doctest: +SKIP
>>> with httpx.Client(timeout=3) as client:  # doctest: +SKIP
...     check_ping(client, rest)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from smoke.checks.common import endpoint, fix_hint, what_happened

SERVICE = "upstash_rest"
NO_REST = (
    "the stack has no Upstash REST server (no UPSTASH_REDIS_REST_URL in its env output; "
    "the local stack cannot have one, see docs)"
)
URL_NAMES = ("UPSTASH_REDIS_REST_URL", "REDIS_REST_URL")
TOKEN_NAMES = ("UPSTASH_REDIS_REST_TOKEN", "REDIS_TOKEN")
KEY_TTL_S = 60


class UpstashRestError(Exception):
    """Raised when an Upstash REST check fails; the message is one line, with no token in it."""


@dataclass(frozen=True)
class UpstashRest:
    """The REST endpoint and token from the stack's `env` output (the token never in `repr`)."""

    url: str
    token: str = field(repr=False)
    stack: str = "file"


def upstash_rest_of(env: Mapping[str, str], stack: str) -> UpstashRest | None:
    """The REST endpoint, preferring the names `@upstash/redis` reads; None when there is none.

    >>> upstash_rest_of({"REDIS_REST_URL": "https://x.upstash.io", "REDIS_TOKEN": "t"}, "dev")
    UpstashRest(url='https://x.upstash.io', stack='dev')
    """
    url = next((env[n] for n in URL_NAMES if env.get(n)), "").rstrip("/")
    if not url:
        return None
    token = next((env[n] for n in TOKEN_NAMES if env.get(n)), "")
    if not token:
        raise UpstashRestError(
            f"{SERVICE}: the env output has a REST URL but no {' or '.join(TOKEN_NAMES)}; "
            f"{fix_hint(stack, 'rejected the credentials')}"
        )
    if urlsplit(url).scheme != "https":
        raise UpstashRestError(
            f"{SERVICE}: the REST URL {endpoint(url)} is not https: @upstash/redis refuses it; "
            "export the database's https REST endpoint as UPSTASH_REDIS_REST_URL"
        )
    return UpstashRest(url, token, stack)


def _post(
    client: httpx.Client, rest: UpstashRest, path: str, body: Any, token: str, what: str
) -> Any:
    try:
        response = client.post(
            f"{rest.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    except httpx.HTTPError as exc:
        happened = what_happened(exc)
        raise UpstashRestError(
            f"{SERVICE}: {what} at {endpoint(rest.url)} {happened} "
            f"({fix_hint(rest.stack, happened)})"
        ) from None
    if response.status_code == 401:
        raise UpstashRestError(
            f"{SERVICE}: {what} was refused (401): the REST token was rejected; "
            f"{fix_hint(rest.stack, 'rejected the credentials')}"
        )
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code != 200 or data is None:
        error = data.get("error") if isinstance(data, dict) else None
        raise UpstashRestError(
            f"{SERVICE}: {what} answered {response.status_code}"
            f"{f' ({error})' if error else ''}; is {endpoint(rest.url)} the database's REST URL? "
            f"{fix_hint(rest.stack, 'failed')}"
        )
    return data


def _result(answer: Any, command: str) -> Any:
    if isinstance(answer, dict) and "result" in answer:
        return answer["result"]
    error = answer.get("error") if isinstance(answer, dict) else answer
    raise UpstashRestError(f"{SERVICE}: {command} failed: {error}")


def command(client: httpx.Client, rest: UpstashRest, *args: str | int, token: str = "") -> Any:
    """One command's `result` (`command(client, rest, "GET", "k")`)."""
    name = str(args[0]).upper()
    answer = _post(client, rest, "", [*map(str, args)], token or rest.token, name)
    return _result(answer, name)


def pipeline(
    client: httpx.Client, rest: UpstashRest, commands: Sequence[Sequence[str]]
) -> list[Any]:
    """The `result` of each command of one `/pipeline` call, in order."""
    body = [list(c) for c in commands]
    answers = _post(client, rest, "/pipeline", body, rest.token, "POST /pipeline")
    if not isinstance(answers, list) or len(answers) != len(commands):
        raise UpstashRestError(
            f"{SERVICE}: POST /pipeline answered {type(answers).__name__} for {len(commands)} "
            "commands, not one result each"
        )
    return [_result(a, str(c[0]).upper()) for a, c in zip(answers, commands, strict=True)]


def check_ping(client: httpx.Client, rest: UpstashRest) -> None:
    """PING answers PONG."""
    if (got := command(client, rest, "PING")) != "PONG":
        raise UpstashRestError(f"{SERVICE}: PING answered {got!r}, not 'PONG'")


def check_pipeline(client: httpx.Client, rest: UpstashRest, run_id: str) -> None:
    """One `/pipeline` call of read-only commands answers each in order."""
    marker = f"smoke:{run_id}:echo"
    got = pipeline(client, rest, [["PING"], ["ECHO", marker]])
    if got != ["PONG", marker]:
        raise UpstashRestError(f"{SERVICE}: /pipeline [PING, ECHO] answered {got!r}")


def check_round_trip(client: httpx.Client, rest: UpstashRest, run_id: str) -> None:
    """SET (with a TTL), GET and DEL of a `smoke:<run_id>:` key; the key is gone afterwards."""
    key, value = f"smoke:{run_id}:rest", f"value-{run_id}"
    steps: list[tuple[tuple[str | int, ...], Any]] = [
        (("SET", key, value, "EX", KEY_TTL_S), "OK"),
        (("GET", key), value),
        (("DEL", key), 1),
        (("GET", key), None),
    ]
    for args, wanted in steps:
        got = command(client, rest, *args)
        if got != wanted:
            raise UpstashRestError(
                f"{SERVICE}: {' '.join(map(str, args[:2]))} answered {got!r}, expected {wanted!r}"
            )


def check_wrong_token_refused(client: httpx.Client, rest: UpstashRest) -> None:
    """A wrong token is refused (401): the database is not open to anyone with its URL."""
    try:
        got = command(client, rest, "PING", token=f"wrong-{rest.token[:4]}")
    except UpstashRestError as exc:
        if "refused (401)" in str(exc):
            return
        raise
    raise UpstashRestError(
        f"{SERVICE}: PING with a wrong token answered {got!r} instead of 401: the REST "
        "endpoint does not check its token"
    )
