"""The pooler endpoints from the API's PRIMARY entry, and the connect probe (issue 9, items 2-3).

Sources: SupavisorConfigResponse in supabase/cli pkg/api/types.gen.go (database_type PRIMARY |
READ_REPLICA, pool_mode session | transaction, db_host, db_port, db_user, db_name,
connection_string); supabase/cli internal/link/link.go `updatePoolerConfig` ("Always use
session mode for running migrations": the PRIMARY entry's connection string with `:6543/`
replaced by `:5432/`).
"""

from __future__ import annotations

import logging
import socket
from typing import Any
from urllib.parse import quote

import pytest

from components.cloud.errors import SupabaseDatabaseUnreachableError, SupabasePoolerError
from components.cloud.supabase_api import SupabaseClient
from components.cloud.supabase_db import (
    Pooler,
    parse_pooler,
    psycopg_probe,
    session_url,
    transaction_url,
    wait_connectable,
)
from tests.unit.cloud.fake_supabase import (
    PASSWORD,
    POOLER,
    POOLER_HOST,
    REF,
    TOKEN,
    FakeApi,
    FakeClock,
    reply,
)

ENCODED = quote(PASSWORD, safe="")


def test_migrations_use_the_session_port_of_the_primary_entry() -> None:
    replica = {**POOLER[0], "database_type": "READ_REPLICA", "db_host": "replica.example"}
    pooler = parse_pooler(REF, [replica, *POOLER])

    assert pooler == Pooler(POOLER_HOST, f"postgres.{REF}", "postgres", 5432, 6543)
    assert session_url(PASSWORD, pooler) == (
        f"postgresql://postgres.{REF}:{ENCODED}@{POOLER_HOST}:5432/postgres?sslmode=require"
    )
    assert transaction_url(PASSWORD, pooler) == (
        f"postgresql://postgres.{REF}:{ENCODED}@{POOLER_HOST}:6543/postgres?sslmode=require"
    )
    # The same host, user and database as the API's own connection string, only the port moves.
    assert POOLER[0]["connection_string"].replace(":[YOUR-PASSWORD]", f":{ENCODED}").replace(
        ":6543/", ":5432/"
    ) == session_url(PASSWORD, pooler).removesuffix("?sslmode=require")


def test_a_session_mode_entry_keeps_its_own_port_and_the_shard_is_never_built() -> None:
    session = {**POOLER[0], "pool_mode": "session", "db_port": 5432, "db_host": "aws-0-x.host"}
    pooler = parse_pooler(REF, [session])
    assert (pooler.host, pooler.session_port, pooler.transaction_port) == (
        "aws-0-x.host",
        5432,
        6543,
    )


def test_a_bare_user_gets_the_tenant_suffix_the_shared_pooler_needs() -> None:
    pooler = parse_pooler(REF, [{**POOLER[0], "db_user": "postgres"}])
    assert pooler.user == f"postgres.{REF}"


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (None, "no PRIMARY entry"),  # a 404 (missing_ok) or an empty body
        ([], "no PRIMARY entry"),
        ([{**POOLER[0], "database_type": "READ_REPLICA"}], "READ_REPLICA"),
        ([{**POOLER[0], "db_host": f"db.{REF}.supabase.co"}], "not the shared pooler"),
        ([{**POOLER[0], "db_port": None}], "numeric db_port"),
    ],
)
def test_no_usable_primary_entry_is_a_named_error_not_a_hand_built_host(
    answer: Any, says: str
) -> None:
    with pytest.raises(SupabasePoolerError) as caught:
        parse_pooler(REF, answer)
    assert says in str(caught.value) and REF in str(caught.value)
    assert "aws-0-" not in str(caught.value)


def test_the_client_reads_the_pooler_api(api: FakeApi, clock: FakeClock) -> None:
    api.on("GET", f"/v1/projects/{REF}/config/database/pooler", reply(200, POOLER))
    with SupabaseClient(TOKEN, transport=api.transport(), sleep=clock.sleep, clock=clock) as c:
        assert c.pooler(REF).host == POOLER_HOST
    api.on("GET", f"/v1/projects/{REF}/config/database/pooler", reply(404))
    with (
        SupabaseClient(TOKEN, transport=api.transport(), sleep=clock.sleep, clock=clock) as c,
        pytest.raises(SupabasePoolerError),
    ):
        c.pooler(REF)


class FlakyProbe:
    """Refuses `failures` times (like a restarting database), then connects."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls = failures, 0

    def __call__(self, url: str) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise OSError("connection to server failed\nthe database system is starting up")


def test_wait_connectable_retries_until_the_restarted_database_accepts(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    url = session_url(PASSWORD, parse_pooler(REF, POOLER))
    probe = FlakyProbe(2)
    with caplog.at_level(logging.WARNING):
        attempts = wait_connectable(
            REF, url, deadline_s=60, poll_s=5, probe=probe, sleep=clock.sleep, clock=clock
        )
    assert attempts == 3 and clock.sleeps == [5, 5]
    assert f"{POOLER_HOST}:5432 attempt 1 failed (the database system is starting up)" in (
        caplog.text
    )
    assert PASSWORD not in caplog.text and ENCODED not in caplog.text


def test_wait_connectable_deadline_names_host_port_and_deadline(clock: FakeClock) -> None:
    url = session_url(PASSWORD, parse_pooler(REF, POOLER))
    with pytest.raises(SupabaseDatabaseUnreachableError) as caught:
        wait_connectable(
            REF, url, deadline_s=20, poll_s=5, probe=FlakyProbe(99), sleep=clock.sleep, clock=clock
        )
    message = str(caught.value)
    assert f"{POOLER_HOST}:5432" in message and "within 20s" in message
    assert PASSWORD not in message and clock.now <= 20


def test_the_real_probe_fails_on_a_refused_port(clock: FakeClock) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://postgres:{ENCODED}@127.0.0.1:{port}/postgres?sslmode=disable"
    with pytest.raises(SupabaseDatabaseUnreachableError, match=f"127.0.0.1:{port}"):
        wait_connectable(REF, url, deadline_s=1, poll_s=1, sleep=clock.sleep, clock=clock)
    with pytest.raises(Exception, match="refused|failed"):
        psycopg_probe(url)
