"""The one lifecycle every local server shares: create, update, read (refresh), delete, heal.

A server supplies only what is its own: how to start, stop and probe it (and, for some, a
first-time setup). The base owns everything else:

- create: refuse a taken port or a foreign data dir, claim the dir, generate secrets, set up,
  start, provision; on any failure stop what was started (the dir stays for its log).
- read (`pulumi refresh`, `up --refresh`): gone when the data dir is; else `running` is what the
  readiness probe says, the way a client would see it (a hung server is not running).
- diff: identity keys replace, settings keys restart, a server that was not ready updates.
- update: restart when settings changed or the server is not ready (stop, SIGKILL if it does not
  stop, start again), keeping its data and secrets.
- delete: stop the server (only if the pid file names our process), remove its data dir.

Settings arrive as engine props (numbers as floats, extra output keys); `settings()` parses
them once into the server's typed `Settings` dataclass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, get_type_hints

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.local import orphans, processes


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """What every local server is given: its port, data dir and the stack's fix hints."""

    port: int
    data_dir: Path
    hints: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Setting -> how the user changes it (`port` -> `mentora:redisPort in Pulumi.local.yaml`)."""


S = TypeVar("S", bound=ServerSettings)

Secrets = dict[str, str]


def _coerce(kind: Any, value: Any) -> Any:
    if kind is int:
        return int(value)
    if kind is Path:
        return Path(value)
    if kind is str:
        return str(value)
    if kind is bool:
        return bool(value)
    return value


class LocalServerProvider(ResourceProvider, Generic[S]):
    """Base provider: the lifecycle above, over a typed `SETTINGS` dataclass."""

    SERVICE: ClassVar[str]
    SETTINGS: ClassVar[type[ServerSettings]] = ServerSettings
    ID_PREFIX: ClassVar[str] = ""
    REPLACE_KEYS: ClassVar[tuple[str, ...]] = ("port", "data_dir")
    RESTART_KEYS: ClassVar[tuple[str, ...]] = ()
    SECRET_KEYS: ClassVar[tuple[str, ...]] = ()
    """Outputs generated at create and kept across restarts (passwords, keys)."""
    PID_FILE: ClassVar[str] = ""
    """The server's pid file inside its data dir (used by the default `stop`)."""

    # --- what each server supplies -------------------------------------------------------

    def start(self, s: S, secrets: Secrets) -> Secrets:
        """Start the server and wait until it is ready; the secrets it now runs with."""
        raise NotImplementedError

    def stop(self, s: S) -> None:
        """Stop the server if it runs (never another process); idempotent. By default: the pid
        of `PID_FILE`, only if its command line names the server's port."""
        processes.stop_server(processes.read_pid(s.data_dir / self.PID_FILE), (str(s.port),))

    def probe(self, s: S, secrets: Secrets) -> bool:
        """Whether the server answers a client's request within a short deadline."""
        raise NotImplementedError

    def outputs(self, s: S, secrets: Secrets) -> dict[str, Any]:
        """The server's outputs besides its settings (URLs, endpoints)."""
        return {}

    def new_secrets(self, s: S) -> Secrets:
        """Secrets generated once, at create."""
        return {}

    def set_up(self, s: S, secrets: Secrets) -> None:
        """First-time work before the first start (e.g. initdb)."""

    def provision(self, s: S, secrets: Secrets) -> None:
        """First-time work after the first start (e.g. roles, a database)."""

    def exists(self, s: S) -> bool:
        """Whether the server's data still exists (else it is gone and must be created)."""
        return s.data_dir.is_dir()

    # --- the shared lifecycle ------------------------------------------------------------

    def settings(self, props: Mapping[str, Any]) -> S:
        """The typed settings of `props` (engine values: 54322.0 becomes 54322)."""
        hints = get_type_hints(self.SETTINGS)
        values = {
            f.name: _coerce(hints[f.name], props[f.name])
            for f in dataclasses.fields(self.SETTINGS)
            if f.name in props and f.name != "hints"
        }
        values["hints"] = dict(props.get("hints") or {})
        return self.SETTINGS(**values)  # type: ignore[return-value]

    def _outs(self, props: Mapping[str, Any], s: S, secrets: Secrets) -> dict[str, Any]:
        own = {f.name: props[f.name] for f in dataclasses.fields(self.SETTINGS) if f.name in props}
        return {
            **own,
            "port": s.port,
            "data_dir": str(s.data_dir),
            "host": processes.HOST,
            **secrets,
            **self.outputs(s, secrets),
            "running": True,
        }

    def _kept_secrets(self, props: Mapping[str, Any]) -> Secrets:
        """The SECRET_KEYS values a previous create or update recorded in `props`."""
        return {key: str(props[key]) for key in self.SECRET_KEYS if props.get(key) is not None}

    def stop_orphan(self, s: S) -> None:
        """Before a create, which means the stack's state holds no such server: stop one of ours
        still running at the port (a cold `up` interrupted twice leaves servers running outside
        state; a deleted data dir makes refresh drop a server that still runs). Ours means its
        pid file names it, or it works in this data dir (`lives_in`); anything else holding the
        port is left alone and named by `require_free_port`."""
        self.stop(s)
        orphans.stop_orphan(self.SERVICE, s.port, s.data_dir)

    def create(self, props: dict[str, Any]) -> CreateResult:
        s = self.settings(props)
        self.stop_orphan(s)
        processes.require_free_port(self.SERVICE, s.port, s.hints)
        processes.claim_data_dir(self.SERVICE, str(s.data_dir), s.hints)
        secrets = self.new_secrets(s)
        try:
            self.set_up(s, secrets)
            secrets = self.start(s, secrets)
            self.provision(s, secrets)
        except BaseException:
            self.stop(s)  # free the port; the folder stays for the log (create empties it)
            raise
        prefix = self.ID_PREFIX or self.SERVICE
        return CreateResult(id_=f"{prefix}-{s.port}", outs=self._outs(props, s, secrets))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = processes.changed_keys(olds, news, self.REPLACE_KEYS)
        restarts = processes.changed_keys(olds, news, self.RESTART_KEYS)
        not_ready = olds.get("running") is False
        return DiffResult(
            changes=bool(replaces or restarts) or not_ready,
            replaces=replaces,
            delete_before_replace=True,
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        s = self.settings(news)
        secrets = self._kept_secrets(olds)
        restart = processes.changed_keys(olds, news, self.RESTART_KEYS)
        if restart or not self.probe(s, secrets):
            self.stop(self.settings({**news, **{k: olds[k] for k in self.REPLACE_KEYS}}))
            secrets = self.start(s, secrets)
        return UpdateResult(outs=self._outs(news, s, secrets))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        s = self.settings(props)
        if not self.exists(s):
            return ReadResult(id_="", outs={})
        secrets = self._kept_secrets(props)
        return ReadResult(id_=id_, outs={**props, "running": self.probe(s, secrets)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        s = self.settings(props)
        self.stop(s)
        processes.remove_data_dir(self.SERVICE, str(s.data_dir), s.hints)


class LocalServerResource(Resource):
    """Base resource: declares the provider's outputs, marking the secret ones as secret."""

    def __init__(
        self,
        provider: LocalServerProvider[Any],
        name: str,
        inputs: dict[str, Any],
        outputs: tuple[str, ...],
        secret_outputs: tuple[str, ...] = (),
        opts: pulumi.ResourceOptions | None = None,
        hints: Mapping[str, str] | None = None,
    ) -> None:
        props = {
            **inputs,
            "hints": dict(hints or {}),
            **{key: None for key in (*outputs, *secret_outputs)},
        }
        own = pulumi.ResourceOptions(
            additional_secret_outputs=list(secret_outputs),
            # A replacement reuses the port and data dir: the old server must go first, also on
            # `pulumi up --replace`, where the provider's diff (which says so) is not asked.
            delete_before_replace=True,
        )
        super().__init__(provider, name, props, pulumi.ResourceOptions.merge(opts, own))
