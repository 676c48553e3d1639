"""Smoke's Postgres sessions get their timeouts and read-only mode by `SET` after connecting:
Supavisor's transaction mode ignores `options=-c ...` in the connection string (Supabase's
pooler docs; shared/notes/facts.md, "Cloud facts"), so a prod read-only run must not rely on it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from smoke.checks import common
from smoke.outputs import StackOutputs
from tests.unit.smoke.helpers import dead_outputs


class FakeConnection:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.autocommit = True
        self.socket, self.peer = socket.socketpair()  # what the client-side deadline watches

    def fileno(self) -> int:
        return self.socket.fileno()

    @contextmanager
    def pipeline(self) -> Iterator[None]:  # the SETs go out in one round trip
        self.statements.append("<pipeline>")
        yield
        self.statements.append("</pipeline>")

    def execute(self, statement: Any, *args: Any) -> None:
        self.statements.append(statement.as_string(None))

    def close(self) -> None:
        self.statements.append("<closed>")


def test_settings_are_set_after_connecting_not_passed_as_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}
    fake = FakeConnection()

    def connect(url: str, **kwargs: Any) -> FakeConnection:
        seen.update(kwargs)
        return fake

    monkeypatch.setattr(psycopg, "connect", connect)
    outputs = StackOutputs.from_json(dead_outputs(1, 2, 3), "test")
    settings = {"statement_timeout": "3000", "default_transaction_read_only": "on"}
    conn = common.connect_postgres(outputs, 3.0, settings, autocommit=False)
    assert "options" not in seen and seen["autocommit"] is True
    assert fake.statements == [
        "<pipeline>",
        "set \"statement_timeout\" = '3000'",
        "set \"default_transaction_read_only\" = 'on'",
        "</pipeline>",
    ]
    assert conn.autocommit is False  # switched only after the SETs (a rollback keeps them)
