"""What every local server provider shares: when to replace, restart or recreate a server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import DiffResult, ReadResult, Resource, ResourceProvider

from components.local import processes


class LocalServerProvider(ResourceProvider):
    """Base provider: identity keys replace, settings keys restart, a dead server restarts.

    `read` (run by `pulumi refresh` / `up --refresh`) reports `running`; a server found dead makes
    the next diff ask for an update, whose job is to start it again with its data and secrets.
    A missing data dir means the server is gone: the engine then creates it anew.
    """

    REPLACE_KEYS: tuple[str, ...] = ("port", "data_dir")
    RESTART_KEYS: tuple[str, ...] = ()

    def _running(self, props: dict[str, Any]) -> bool:
        raise NotImplementedError

    def _exists(self, props: dict[str, Any]) -> bool:
        return Path(props["data_dir"]).is_dir()

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = processes.changed_keys(olds, news, self.REPLACE_KEYS)
        restarts = processes.changed_keys(olds, news, self.RESTART_KEYS)
        dead = olds.get("running") is False
        return DiffResult(
            changes=bool(replaces or restarts) or dead,
            replaces=replaces,
            delete_before_replace=True,
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not self._exists(props):
            return ReadResult(id_="", outs={})
        return ReadResult(id_=id_, outs={**props, "running": self._running(props)})


class LocalServerResource(Resource):
    """Base resource: declares the provider's outputs, marking the secret ones as secret."""

    def __init__(
        self,
        provider: LocalServerProvider,
        name: str,
        inputs: dict[str, Any],
        outputs: tuple[str, ...],
        secret_outputs: tuple[str, ...] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {**inputs, **{key: None for key in (*outputs, *secret_outputs)}}
        own = pulumi.ResourceOptions(
            additional_secret_outputs=list(secret_outputs),
            # A replacement reuses the port and data dir: the old server must go first, also on
            # `pulumi up --replace`, where the provider's diff (which says so) is not asked.
            delete_before_replace=True,
        )
        super().__init__(provider, name, props, pulumi.ResourceOptions.merge(opts, own))
