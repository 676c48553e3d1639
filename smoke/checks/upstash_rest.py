"""Upstash REST checks (what `@upstash/redis` speaks): PING, one /pipeline, a SET/GET/DEL round
trip (writes), a wrong token refused. Skipped, with the reason printed, when the stack's `env`
output has no UPSTASH_REDIS_REST_URL (nor REDIS_REST_URL): the local stack has no REST server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx

from smoke.checks import check, client
from smoke.checks.common import Recorder
from smoke.clients import upstash_rest
from smoke.failures import CheckFailed, CheckSkipped
from smoke.outputs import StackOutputs


@client
def rest(outputs: StackOutputs) -> upstash_rest.UpstashRest:
    try:
        found = upstash_rest.upstash_rest_of(outputs.env, outputs.stack)
    except upstash_rest.UpstashRestError as exc:
        raise CheckFailed(str(exc)) from None
    if found is None:
        raise CheckSkipped(upstash_rest.NO_REST)
    return found


@client
def http(timeout_s: float) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=timeout_s, headers={"User-Agent": "mentora-smoke"}) as http:
        yield http


def run(check: Recorder, rest: upstash_rest.UpstashRest, step: Callable[[], None]) -> None:
    with check.timed(rest.url):
        try:
            step()
        except upstash_rest.UpstashRestError as exc:
            raise CheckFailed(str(exc)) from None


@check()
def test_ping(rest: upstash_rest.UpstashRest, http: httpx.Client, check: Recorder) -> None:
    run(check, rest, lambda: upstash_rest.check_ping(http, rest))


@check()
def test_pipeline(
    rest: upstash_rest.UpstashRest, http: httpx.Client, check: Recorder, run_id: str
) -> None:
    run(check, rest, lambda: upstash_rest.check_pipeline(http, rest, run_id))


@check(writes=True)
def test_set_get_del_round_trip(
    rest: upstash_rest.UpstashRest, http: httpx.Client, check: Recorder, run_id: str
) -> None:
    run(check, rest, lambda: upstash_rest.check_round_trip(http, rest, run_id))


@check()
def test_a_wrong_token_is_refused(
    rest: upstash_rest.UpstashRest, http: httpx.Client, check: Recorder
) -> None:
    run(check, rest, lambda: upstash_rest.check_wrong_token_refused(http, rest))
