"""Upstash REST checks (what `@upstash/redis` speaks): PING, one /pipeline, a SET/GET/DEL round
trip (writes), a wrong token refused. Skipped, with the reason printed, when the stack's `env`
output has no UPSTASH_REDIS_REST_URL (nor REDIS_REST_URL): the local stack has no REST server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from smoke import upstash_rest
from smoke.checks import CheckRecorder
from smoke.checks import check as check
from smoke.outputs import StackOutputs


@pytest.fixture(scope="module")
def rest(outputs: StackOutputs) -> upstash_rest.UpstashRest:
    try:
        found = upstash_rest.upstash_rest_of(outputs.env, outputs.stack)
    except upstash_rest.UpstashRestError as exc:
        pytest.fail(str(exc), pytrace=False)
    if found is None:
        pytest.skip(upstash_rest.NO_REST)
    return found


@pytest.fixture
def client(timeout_s: float) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=timeout_s, headers={"User-Agent": "mentora-smoke"}) as client:
        yield client


def run(check: CheckRecorder, rest: upstash_rest.UpstashRest, step: Callable[[], None]) -> None:
    with check.timed(rest.url):
        try:
            step()
        except upstash_rest.UpstashRestError as exc:
            pytest.fail(str(exc), pytrace=False)


def test_ping(rest: upstash_rest.UpstashRest, client: httpx.Client, check: CheckRecorder) -> None:
    run(check, rest, lambda: upstash_rest.check_ping(client, rest))


def test_pipeline(
    rest: upstash_rest.UpstashRest, client: httpx.Client, check: CheckRecorder, run_id: str
) -> None:
    run(check, rest, lambda: upstash_rest.check_pipeline(client, rest, run_id))


@pytest.mark.writes
def test_set_get_del_round_trip(
    rest: upstash_rest.UpstashRest, client: httpx.Client, check: CheckRecorder, run_id: str
) -> None:
    run(check, rest, lambda: upstash_rest.check_round_trip(client, rest, run_id))


def test_a_wrong_token_is_refused(
    rest: upstash_rest.UpstashRest, client: httpx.Client, check: CheckRecorder
) -> None:
    run(check, rest, lambda: upstash_rest.check_wrong_token_refused(client, rest))
