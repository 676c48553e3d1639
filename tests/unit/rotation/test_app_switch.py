"""The reference app's side of a rotation: it switches to the env file's credentials without a
restart and closes the old clients only after a grace period (so in-flight requests finish)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from components.app_secrets import FINGERPRINT_NAME
from components.local.env_file import render, write_private
from reference_app import credentials
from reference_app.credentials import ENV_FILE_NAME, Credentials


def _env(password: str, fingerprint: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"postgresql://app:{password}@127.0.0.1:1/db",
        "REDIS_URL": f"redis://default:{password}@127.0.0.1:1/0",
        FINGERPRINT_NAME: fingerprint,
    }


def test_a_changed_env_file_switches_clients_and_closes_the_old_ones_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / ".env.local"
    write_private(path, render(_env("old", "f-old")))
    monkeypatch.setenv(ENV_FILE_NAME, str(path))
    monkeypatch.setattr(credentials, "GRACE_S", 0.05)

    async def scenario() -> tuple[bool, bool, str | None, bool]:
        creds = Credentials({**_env("old", "f-old"), "HOME": "/root"}, 20)
        first = await creds.check()  # the file says what the process already has
        old = creds.current
        write_private(path, render(_env("new", "f-new")))
        os.utime(path, ns=(1, 1))  # a different stamp even within one mtime tick
        switched = await creds.check()
        fp = creds.current.fingerprint
        await asyncio.sleep(0.2)
        await creds.close()
        return first, switched, fp, creds.current is not old

    first, switched, fp, replaced = asyncio.run(scenario())
    assert (first, switched, fp, replaced) == (False, True, "f-new", True)


def test_without_the_variable_nothing_is_watched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_FILE_NAME, raising=False)

    async def scenario() -> bool:
        creds = Credentials(_env("old", "f-old"), 20)
        switched = await creds.check()
        await creds.close()
        return switched

    assert asyncio.run(scenario()) is False
