"""A scripted Supabase Management API (httpx.MockTransport) and a fake clock for the tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

TOKEN = "sbp_0123456789abcdef0123456789abcdef01234567"
PASSWORD = "pw-Sup3r/Secret@#x"
REF = "abcdefghijklmnopqrst"
# Shapes from the Management API's OpenAPI types (supabase/cli pkg/api/types.gen.go:
# ApiKeyResponse {type: legacy | publishable | secret, name, api_key}; SupavisorConfigResponse).
LEGACY_KEYS = [
    {"name": "anon", "api_key": "eyJ.anon.key", "type": "legacy"},
    {"name": "service_role", "api_key": "eyJ.service.key", "type": "legacy"},
]
NEW_KEYS = [
    {"name": "default", "api_key": "sb_publishable_x", "type": "publishable"},
    {"name": "default", "api_key": "sb_secret_x", "type": "secret"},
]
KEYS = [*LEGACY_KEYS, *NEW_KEYS]
POOLER_HOST = "aws-1-eu-central-1.pooler.supabase.com"
POOLER = [
    {
        "identifier": REF,
        "database_type": "PRIMARY",
        "is_using_scram_auth": True,
        "db_host": POOLER_HOST,
        "db_port": 6543,
        "db_user": f"postgres.{REF}",
        "db_name": "postgres",
        "pool_mode": "transaction",
        "connection_string": f"postgresql://postgres.{REF}:[YOUR-PASSWORD]@{POOLER_HOST}:6543/postgres",
        "default_pool_size": 15,
        "max_client_conn": 200,
    }
]

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def reply(status: int, body: Any = None, **headers: str) -> httpx.Response:
    """A JSON answer (an empty body when `body` is None)."""
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers=headers)


def project(status: str) -> httpx.Response:
    """GET /v1/projects/{ref} answering with `status`."""
    return reply(200, {"id": REF, "ref": REF, "name": "mentora-prod", "status": status})


class FakeApi:
    """Answers (method, path) from queued replies (the last one repeats); records requests."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *replies: Reply) -> FakeApi:
        self.routes[(method, path)] = list(replies)
        return self

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get((request.method, request.url.path))
        if not queue:
            return reply(418, {"message": f"unexpected {request.method} {request.url.path}"})
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer if isinstance(answer, httpx.Response) else answer(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if (r.method, r.url.path) == (method, path)]

    def body(self, method: str, path: str) -> Any:
        """The JSON body of the last such request."""
        return json.loads(self.calls(method, path)[-1].content)


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
