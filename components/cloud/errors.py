"""Errors of the cloud clients and providers (Supabase Management API, Sentry alerts API).

Exception tree::

    SupabaseError               base; invalid input or an unusable answer (e.g. no API keys)
    ├── SupabaseApiError        the API answered non-2xx (after retries for 429/5xx)
    ├── SupabaseConnectError    no answer: connect/read failure or timeout (after retries)
    ├── SupabaseNotHealthyError a project did not reach ACTIVE_HEALTHY before its deadline,
    │                           or reached a status it never leaves by waiting (INACTIVE = paused)
    ├── SupabaseSizeError       an instance size the compute add-on cannot be resized to (nano)
    ├── SupabasePoolerError     the pooler API reports no usable PRIMARY Supavisor entry
    ├── SupabaseRestrictionsPendingError  network restrictions not `applied` by their deadline
    ├── SupabaseDatabaseUnreachableError  the database accepts no connection on the session
    │                           pooler by its deadline (e.g. after the SSL-enforcement restart)
    └── SupabaseBranchError     a preview branch did not get its migrations applied: its status
                                became MIGRATIONS_FAILED (names the failed migration) or it was
                                not MIGRATIONS_PASSED by its deadline
    SentryApiError              Sentry's API (alert rules) unreachable or answered non-2xx

Messages name the method, the path (project ref), the HTTP status and the API's own message,
and say what to do. They never hold the access token or a password: every message goes through
`scrub` with the secrets the client knows.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

_HINTS = {
    401: "; the access token was rejected: create a personal access token at "
    "https://supabase.com/dashboard/account/tokens and store it as a Pulumi config secret",
    403: "; the access token has no access to this organization or project (or the plan does "
    "not include this feature)",
    429: "; the Management API allows 60 requests per minute per user: wait a minute and retry",
}


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with each secret (and its URL-encoded form) replaced by `***`.

    >>> scrub("bad password hunter2", ["hunter2"])
    'bad password ***'
    """
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text


class SupabaseError(Exception):
    """Base of every error raised by `supabase_api` and the `SupabaseProject` provider."""


class SupabaseApiError(SupabaseError):
    """Raised when the Management API answers with a non-2xx status.

    Carries `method`, `path`, `status`, the API's `api_message` and, for 429, `retry_after`
    (seconds). 429 and 5xx are retried first; `attempts` says how many requests were made.
    """

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        api_message: str,
        *,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        self.method, self.path, self.status = method, path, status
        self.api_message, self.retry_after, self.attempts = api_message, retry_after, attempts
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(
            f"supabase: {method} {path} failed{tried} with HTTP {status}: {api_message}"
            f"{_HINTS.get(status, '')}"
        )

    def after(self, attempts: int) -> SupabaseApiError:
        """The same error, saying how many attempts were made."""
        return SupabaseApiError(
            self.method,
            self.path,
            self.status,
            self.api_message,
            retry_after=self.retry_after,
            attempts=attempts,
        )


class SupabaseConnectError(SupabaseError):
    """Raised when a request got no HTTP answer (DNS, connect, TLS, read timeout).

    `sent` is False when the request cannot have reached the API (connect failures): only then
    is a non-idempotent request (project creation) retried.
    """

    def __init__(
        self, method: str, path: str, detail: str, *, sent: bool, attempts: int = 1
    ) -> None:
        self.method, self.path, self.detail, self.sent = method, path, detail, sent
        self.attempts = attempts
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(
            f"supabase: {method} {path} got no answer{tried} ({detail}); check network access "
            "to api.supabase.com and retry"
        )

    def after(self, attempts: int) -> SupabaseConnectError:
        """The same error, saying how many attempts were made."""
        return SupabaseConnectError(
            self.method, self.path, self.detail, sent=self.sent, attempts=attempts
        )


class SupabaseNotHealthyError(SupabaseError):
    """Raised by `wait_healthy` on its deadline or when the project reached a final bad status."""

    def __init__(self, project: str, ref: str, status: str, reason: str) -> None:
        self.project, self.ref, self.status = project, ref, status
        super().__init__(
            f"supabase: project {project} (ref {ref}) {reason} (last status {status}); "
            f"see https://supabase.com/dashboard/project/{ref}"
        )


class SupabaseSizeError(SupabaseError):
    """Raised before a resize to a size that has no compute add-on variant (`ci_<size>`)."""

    def __init__(self, size: str, allowed: str) -> None:
        self.size = size
        super().__init__(
            f"supabase: instance size {size!r} cannot be set by a resize (the compute add-on has "
            f"no ci_{size} variant); set mentora:supabaseInstanceSize to one of {allowed}, or "
            "leave it unset to keep the current size"
        )


class SupabasePoolerError(SupabaseError):
    """Raised when `GET .../config/database/pooler` has no usable PRIMARY Supavisor entry."""

    def __init__(self, ref: str, reason: str) -> None:
        self.ref = ref
        super().__init__(
            f"supabase: project {ref}: {reason}; migrations and the app need the shared pooler "
            f"(Supavisor): check Database -> Connection pooling at "
            f"https://supabase.com/dashboard/project/{ref}/database/settings and run `pulumi up` "
            "again"
        )


class SupabaseRestrictionsPendingError(SupabaseError):
    """Raised when network restrictions stay `stored` (not `applied`) past their deadline."""

    def __init__(self, ref: str, status: str, deadline_s: float) -> None:
        self.ref, self.status, self.deadline_s = ref, status, deadline_s
        super().__init__(
            f"supabase: project {ref}: network restrictions were not applied within "
            f"{deadline_s:.0f}s (last status {status}); see "
            f"https://supabase.com/dashboard/project/{ref}/database/settings and run `pulumi up` "
            "again"
        )


class SupabaseDatabaseUnreachableError(SupabaseError):
    """Raised when the session pooler accepts no Postgres connection before the deadline."""

    def __init__(self, ref: str, target: str, deadline_s: float, reason: str) -> None:
        self.ref, self.target, self.deadline_s = ref, target, deadline_s
        super().__init__(
            f"supabase: project {ref}: the database at {target} accepted no connection within "
            f"{deadline_s:.0f}s ({reason}); if mentora:supabaseAllowedCidrs is set, this "
            "machine's address must be in it; then run `pulumi up` again"
        )


_SENTRY_HINTS = {
    401: "; the token was rejected: create an internal-integration token with scope alerts:write "
    "(Settings -> Developer Settings) and store it: pulumi config set --secret "
    "mentora:sentryAlertsToken <value> -s <stack>",
    403: "; the token lacks scope alerts:write on this organization",
    404: "; check mentora:sentryOrg and mentora:sentryProject",
}


class SupabaseBranchError(SupabaseError):
    """Raised when a preview branch's migrations failed (`migration` is the failed file's name
    when the run's logs say it, else None) or did not pass by the deadline."""

    def __init__(self, branch: str, status: str, reason: str, migration: str | None = None) -> None:
        self.branch, self.status, self.migration = branch, status, migration
        super().__init__(f"supabase: branch {branch} is {status}: {reason}")


class SentryApiError(Exception):
    """Raised when Sentry's API cannot be reached or answers non-2xx (the alert rules).

    Carries `method`, `path`, `status` (0: no answer) and the API's text, never the token.
    """

    def __init__(self, method: str, path: str, status: int, text: str) -> None:
        self.method, self.path, self.status = method, path, status
        super().__init__(
            f"sentry: {method} {path} answered {status or 'nothing'}: {text}"
            f"{_SENTRY_HINTS.get(status, '')}"
        )
