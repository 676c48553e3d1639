"""The Upstash REST checks against a fake Upstash REST server (httpx.MockTransport).

The fake follows https://upstash.com/docs/redis/features/restapi: `POST <url>` with a JSON
array command, `POST <url>/pipeline` with an array of them (an array of `{"result"}` /
`{"error"}` back, in order: https://upstash.com/blog/pipeline), `Authorization: Bearer
<token>`, 401 for a wrong token; and `@upstash/redis` (Redis.fromEnv) reads
UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN and refuses a non-https URL.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from smoke.clients import upstash_rest
from tests.unit.smoke.helpers import SMOKE_DIR, dead_outputs, free_port, run_smoke

URL, TOKEN = "https://eu1-fake-12345.upstash.io", "AXfakeRestToken0123456789"
REST = upstash_rest.UpstashRest(URL, TOKEN, "dev")


class FakeUpstash:
    """A dict-backed Redis behind the REST protocol."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.requests: list[httpx.Request] = []

    def run(self, command: list[str]) -> dict[str, Any]:
        name, args = command[0].upper(), command[1:]
        if name == "PING":
            return {"result": "PONG"}
        if name == "ECHO":
            return {"result": args[0]}
        if name == "SET":
            assert args[2:] == ["EX", "60"], args  # the smoke key always expires
            self.data[args[0]] = args[1]
            return {"result": "OK"}
        if name == "GET":
            return {"result": self.data.get(args[0])}
        if name == "DEL":
            return {"result": int(self.data.pop(args[0], None) is not None)}
        return {"error": f"ERR unknown command '{name}'"}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"error": "WRONGPASS invalid or missing auth token"})
        body = json.loads(request.content)
        if request.url.path == "/pipeline":
            return httpx.Response(200, json=[self.run(c) for c in body])
        assert request.url.path in ("", "/"), request.url.path
        return httpx.Response(200, json=self.run(body))


def client_for(handler: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler), timeout=1)


def test_ping_pipeline_round_trip_and_wrong_token_pass_against_the_contract() -> None:
    fake = FakeUpstash()
    client = client_for(fake)
    upstash_rest.check_ping(client, REST)
    upstash_rest.check_pipeline(client, REST, "run1")
    upstash_rest.check_round_trip(client, REST, "run1")
    upstash_rest.check_wrong_token_refused(client, REST)
    assert fake.data == {}  # the smoke key is gone
    paths = [(r.method, r.url.path) for r in fake.requests]
    assert ("POST", "/pipeline") in paths
    set_body = json.loads(next(r.content for r in fake.requests if b'"SET"' in r.content))
    assert set_body == ["SET", "smoke:run1:rest", "value-run1", "EX", "60"]


def test_a_rejected_token_names_the_service_and_the_fix() -> None:
    rest = upstash_rest.UpstashRest(URL, "stale-token", "dev")
    with pytest.raises(upstash_rest.UpstashRestError) as caught:
        upstash_rest.check_ping(client_for(FakeUpstash()), rest)
    assert str(caught.value) == (
        "upstash_rest: PING was refused (401): the REST token was rejected; are the outputs "
        "stale? run: pulumi up --stack dev --refresh"
    )


def test_an_endpoint_that_ignores_the_token_fails() -> None:
    open_server = lambda request: httpx.Response(200, json={"result": "PONG"})  # noqa: E731
    with pytest.raises(upstash_rest.UpstashRestError, match="does not check its token"):
        upstash_rest.check_wrong_token_refused(client_for(open_server), REST)


def test_a_command_error_and_a_lost_write_are_named() -> None:
    class Broken(FakeUpstash):
        def run(self, command: list[str]) -> dict[str, Any]:
            if command[0] == "GET":
                return {"result": None}
            return super().run(command)

    with pytest.raises(upstash_rest.UpstashRestError, match="GET smoke:r:rest answered None"):
        upstash_rest.check_round_trip(client_for(Broken()), REST, "r")
    error = lambda request: httpx.Response(200, json={"error": "ERR max daily request limit"})  # noqa: E731
    with pytest.raises(upstash_rest.UpstashRestError, match="PING failed: ERR max daily request"):
        upstash_rest.check_ping(client_for(error), REST)


def test_a_pipeline_answer_of_the_wrong_shape_fails() -> None:
    short = lambda request: httpx.Response(200, json=[{"result": "PONG"}])  # noqa: E731
    with pytest.raises(upstash_rest.UpstashRestError, match="not one result each"):
        upstash_rest.check_pipeline(client_for(short), REST, "r")


def test_no_answer_names_the_host_and_the_fix() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out")

    with pytest.raises(upstash_rest.UpstashRestError) as caught:
        upstash_rest.check_ping(client_for(slow), REST)
    assert str(caught.value) == (
        "upstash_rest: PING at eu1-fake-12345.upstash.io timed out (is stack 'dev' up? run: "
        "pulumi up --stack dev --refresh)"
    )


def test_applicability_prefers_the_client_names_and_needs_https() -> None:
    env = {"UPSTASH_REDIS_REST_URL": URL, "UPSTASH_REDIS_REST_TOKEN": TOKEN}
    assert upstash_rest.upstash_rest_of(env, "dev") == REST
    guide = {"REDIS_REST_URL": URL + "/", "REDIS_TOKEN": TOKEN, "REDIS_URL": "redis://x:6379"}
    assert upstash_rest.upstash_rest_of(guide, "dev") == REST
    assert upstash_rest.upstash_rest_of({"REDIS_URL": "redis://127.0.0.1:6390"}, "local") is None
    with pytest.raises(upstash_rest.UpstashRestError, match="not https"):
        upstash_rest.upstash_rest_of({**env, "UPSTASH_REDIS_REST_URL": "http://x:8079"}, "dev")
    with pytest.raises(upstash_rest.UpstashRestError, match="no UPSTASH_REDIS_REST_TOKEN"):
        upstash_rest.upstash_rest_of({"UPSTASH_REDIS_REST_URL": URL}, "dev")


def test_the_local_stack_skips_with_the_reason_and_writes_stay_out_of_read_only(
    tmp_path: Path,
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(dead_outputs(free_port(), free_port(), free_port())))
    target = SMOKE_DIR / "checks" / "upstash_rest.py"
    result = run_smoke(tmp_path, target, "--outputs-file", outputs, "-rs")
    assert re.search(r"^upstash_rest\s+0\s+0\s+4\s", result.output, re.M), result.output
    assert result.output.count(upstash_rest.NO_REST) == 4
    read_only = run_smoke(tmp_path, target, "--outputs-file", outputs, "--read-only", "-rs")
    assert re.search(r"^upstash_rest\s+0\s+0\s+3\s", read_only.output, re.M), read_only.output
