"""Data API checks (PostgREST at NEXT_PUBLIC_SUPABASE_URL/rest/v1, what supabase-js reads).

Read-only, so prod-safe. Skipped, with the reason printed, when the stack's `env` output has no
NEXT_PUBLIC_SUPABASE_URL (the local stack: PostgREST cannot be had on this machine).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx

from smoke.checks import check, client
from smoke.checks.common import Recorder
from smoke.clients import data_api
from smoke.failures import CheckFailed, CheckSkipped
from smoke.outputs import StackOutputs


@client
def api(outputs: StackOutputs) -> data_api.DataApi:
    try:
        found = data_api.data_api_of(outputs.env, outputs.stack)
    except data_api.DataApiError as exc:
        raise CheckFailed(str(exc)) from None
    if found is None:
        raise CheckSkipped(data_api.NO_DATA_API)
    return found


@client
def http(timeout_s: float) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=timeout_s, headers={"User-Agent": "mentora-smoke"}) as http:
        yield http


def run(
    check: Recorder,
    api: data_api.DataApi,
    http: httpx.Client,
    step: Callable[[httpx.Client, data_api.DataApi], None],
) -> None:
    with check.timed(f"{api.url}/rest/v1"):
        try:
            step(http, api)
        except data_api.DataApiError as exc:
            raise CheckFailed(str(exc)) from None


@check()
def test_public_key_reads_no_private_rows(
    api: data_api.DataApi, http: httpx.Client, check: Recorder
) -> None:
    run(check, api, http, data_api.check_public_key_sees_no_private_rows)


@check()
def test_server_key_reads_the_private_table(
    api: data_api.DataApi, http: httpx.Client, check: Recorder
) -> None:
    run(check, api, http, data_api.check_server_key_reads)


@check()
def test_achievements_are_readable_as_the_policies_allow(
    api: data_api.DataApi, http: httpx.Client, check: Recorder
) -> None:
    run(check, api, http, data_api.check_catalogue_as_policies_allow)


@check()
def test_an_unknown_key_is_refused(
    api: data_api.DataApi, http: httpx.Client, check: Recorder
) -> None:
    run(check, api, http, data_api.check_unknown_key_refused)
