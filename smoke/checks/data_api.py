"""Data API checks (PostgREST at NEXT_PUBLIC_SUPABASE_URL/rest/v1, what supabase-js reads).

Read-only, so prod-safe. Skipped, with the reason printed, when the stack's `env` output has no
NEXT_PUBLIC_SUPABASE_URL (the local stack: PostgREST cannot be had on this machine).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from smoke import data_api
from smoke.checks import CheckRecorder
from smoke.checks import check as check
from smoke.outputs import StackOutputs


@pytest.fixture(scope="module")
def api(outputs: StackOutputs) -> data_api.DataApi:
    try:
        found = data_api.data_api_of(outputs.env, outputs.stack)
    except data_api.DataApiError as exc:
        pytest.fail(str(exc), pytrace=False)
    if found is None:
        pytest.skip(data_api.NO_DATA_API)
    return found


@pytest.fixture
def client(timeout_s: float) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=timeout_s, headers={"User-Agent": "mentora-smoke"}) as client:
        yield client


def run(
    check: CheckRecorder,
    api: data_api.DataApi,
    client: httpx.Client,
    step: Callable[[httpx.Client, data_api.DataApi], None],
) -> None:
    with check.timed(f"{api.url}/rest/v1"):
        try:
            step(client, api)
        except data_api.DataApiError as exc:
            pytest.fail(str(exc), pytrace=False)


def test_public_key_reads_no_private_rows(
    api: data_api.DataApi, client: httpx.Client, check: CheckRecorder
) -> None:
    run(check, api, client, data_api.check_public_key_sees_no_private_rows)


def test_server_key_reads_the_private_table(
    api: data_api.DataApi, client: httpx.Client, check: CheckRecorder
) -> None:
    run(check, api, client, data_api.check_server_key_reads)


def test_achievements_are_readable_as_the_policies_allow(
    api: data_api.DataApi, client: httpx.Client, check: CheckRecorder
) -> None:
    run(check, api, client, data_api.check_catalogue_as_policies_allow)


def test_an_unknown_key_is_refused(
    api: data_api.DataApi, client: httpx.Client, check: CheckRecorder
) -> None:
    run(check, api, client, data_api.check_unknown_key_refused)
