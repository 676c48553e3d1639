"""The HTTP layer of the Supabase Management API client: token, timeouts, retries, errors.

`SupabaseHttp.request` sends one call and retries it (tenacity) on 429, 5xx and transport errors
until a deadline, logging each failed attempt; 429 waits as long as `Retry-After` says. Calls
that are not idempotent (project creation) are retried only on 429 and on failures that cannot
have reached the API (connect errors), so a retry never creates a second project.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NoReturn, Self

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception

from components.cloud.errors import SupabaseApiError, SupabaseConnectError, SupabaseError, scrub

API_URL = "https://api.supabase.com"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
RETRY_DEADLINE_S = 120.0
MAX_BACKOFF_S = 30.0
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_NO_ANSWER = (httpx.ConnectError, httpx.ConnectTimeout)  # the request never reached the API

log = logging.getLogger(__name__)

TransportFactory = Callable[[], httpx.BaseTransport]


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return None  # absent, or an HTTP date: fall back to exponential backoff


def _backoff(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, SupabaseApiError) and error.retry_after is not None:
        return min(error.retry_after, 60.0)
    return min(2.0 ** (state.attempt_number - 1), MAX_BACKOFF_S)


def _retryable(error: BaseException, *, idempotent: bool) -> bool:
    if isinstance(error, SupabaseApiError):
        return error.status == 429 or (idempotent and error.status in _RETRY_STATUSES)
    if isinstance(error, SupabaseConnectError):
        return idempotent or not error.sent
    return False


class SupabaseHttp:
    """Owns one `httpx.Client` to the Management API: its token, timeouts and retry policy.

    Use it as a context manager. `transport` lets tests answer with `httpx.MockTransport`;
    `sleep` and `clock` let them skip real waiting. `secrets` (database passwords) are scrubbed,
    like the token, from every error message.
    """

    def __init__(
        self,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        secrets: Sequence[str] = (),
        retry_deadline_s: float = RETRY_DEADLINE_S,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not token:
            raise SupabaseError("supabase: the access token is empty; set it as a config secret")
        self._secrets = tuple(s for s in (token, *secrets) if s)
        self._deadline_s, self._sleep, self._clock = retry_deadline_s, sleep, clock
        self._http = httpx.Client(
            base_url=API_URL,
            transport=transport,
            timeout=TIMEOUT,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "mentora-infra"},
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        missing_ok: bool = False,
        idempotent: bool = True,
        text: bool = False,
    ) -> Any:
        """The decoded JSON answer ({} if empty; None for a 404 when `missing_ok`); with `text`,
        the body as text (endpoints answering `text/plain`, e.g. action-run logs)."""
        start = self._clock()
        retrying = Retrying(
            retry=retry_if_exception(partial(_retryable, idempotent=idempotent)),
            wait=_backoff,
            stop=lambda state: self._clock() - start + state.upcoming_sleep > self._deadline_s,
            sleep=self._sleep,
            before_sleep=partial(self._log_retry, f"{method} {path}"),
            retry_error_callback=self._give_up,
        )
        return retrying(self._send, method, path, body, params, missing_ok, text)

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        params: dict[str, str] | None,
        missing_ok: bool,
        text: bool = False,
    ) -> Any:
        try:
            response = self._http.request(method, path, json=body, params=params)
        except httpx.TransportError as exc:
            detail = scrub(f"{type(exc).__name__}: {exc}", self._secrets)
            raise SupabaseConnectError(
                method, path, detail, sent=not isinstance(exc, _NO_ANSWER)
            ) from None
        if response.status_code == 404 and missing_ok:
            return None
        if response.is_error:
            raise SupabaseApiError(
                method,
                path,
                response.status_code,
                self._api_message(response),
                retry_after=_retry_after(response),
            )
        if text:
            return scrub(response.text, self._secrets)
        try:
            return response.json() if response.content else {}
        except ValueError:
            status = response.status_code
            raise SupabaseApiError(method, path, status, "the answer is not JSON") from None

    def _api_message(self, response: httpx.Response) -> str:
        try:
            data = response.json()
        except ValueError:
            data = None
        text = response.text
        if isinstance(data, dict):
            text = next((str(data[k]) for k in ("message", "error", "msg") if k in data), text)
        # Scrub before cutting: a cut could leave part of a secret that no longer matches.
        return scrub(" ".join(text.split()), self._secrets)[:300] or response.reason_phrase

    def _log_retry(self, call: str, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "supabase: %s attempt %d failed (%s); retrying in %.1fs (gives up after %.0fs)",
            call,
            state.attempt_number,
            error,
            state.upcoming_sleep,
            self._deadline_s,
        )

    def _give_up(self, state: RetryCallState) -> NoReturn:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, SupabaseApiError | SupabaseConnectError):
            raise error.after(state.attempt_number) from None
        raise SupabaseError(f"supabase: request failed: {error}")  # not reached: retry filter
