"""The one lifecycle every local server shares: create, update, read (refresh), delete, heal.

A server supplies only what is its own: how to start, stop and probe it (and, for some, a
first-time setup). The base owns everything else:

- create: refuse a taken port or a foreign data dir, claim the dir, generate secrets, set up,
  start, provision; on any failure stop what was started (the dir stays for its log).
- read (`pulumi refresh`, `up --refresh`): gone when the data dir is; else `running` is what the
  readiness probe says, the way a client would see it (a hung server is not running), and
  `observed` what the server reports of the settings it manages (`managed`: its listening
  address, and each server's own: passwords accepted, limits, grants...; never a secret value).
  `mentora-infra drift` compares the two.
- diff: a new port moves the server (same data, restarted there); settings keys restart; a
  server that was not ready updates; identity keys (its data dir, database, bucket...) replace,
  which loses the server's data: refused (`DataLossError`, naming what would be lost and the
  safe way) unless the operator allows it (`ALLOW_DATA_LOSS_ENV`).
- update: restart when settings changed (a graceful stop) or the server is not ready (killed at
  once with its processes: a stopped or hung server cannot honour a graceful stop), keeping its
  data and secrets; a managed setting changed out of band is put back in place (`repair`), or by
  a graceful restart when it cannot be.
- delete: stop the server, remove its data dir.

Every stop goes through `ownership`: only a process proven to be the server started here (its
recorded pid, start time, executable and arguments) or one working in its data dir is signalled.

Settings arrive as engine props (numbers as floats, extra output keys); `settings()` parses
them once into the server's typed `Settings` dataclass.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, cast, get_type_hints

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.local import ownership, processes
from components.local.errors import ALLOW_DATA_LOSS_ENV, DataLossError, RestartLossError


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """What every local server is given: its port, data dir and the stack's fix hints."""

    port: int
    data_dir: Path
    hints: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Setting -> how the user changes it (`port` -> `mentora:redisPort in Pulumi.local.yaml`)."""


S = TypeVar("S", bound=ServerSettings)
T = TypeVar("T")

Secrets = dict[str, str]
Managed = dict[str, str]
"""A managed setting's name -> its value as the server reports it (`maxmemory` -> `268435456`)."""


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
    REPLACE_KEYS: ClassVar[tuple[str, ...]] = ("data_dir",)
    MOVE_KEYS: ClassVar[tuple[str, ...]] = ("port",)
    """A change restarts the server with its data where it is (a port change is a move)."""
    RESTART_KEYS: ClassVar[tuple[str, ...]] = ()
    HOLDS: ClassVar[str] = ""
    """The data a replacement would lose (empty: nothing worth keeping, e.g. only a log)."""
    SECRET_KEYS: ClassVar[tuple[str, ...]] = ()
    """Outputs generated at create and kept across restarts (passwords, keys)."""
    PID_FILE: ClassVar[str]
    """Where the started server writes its pid, inside its data dir (read once, right after
    start, to record the server as ours; never trusted after that)."""
    STOP_SIGNAL: ClassVar[signal.Signals] = signal.SIGTERM
    """What asks the server to shut down cleanly."""

    # --- what each server supplies -------------------------------------------------------

    def start(self, s: S, secrets: Secrets) -> Secrets:
        """Start the server and wait until it is ready; the secrets it now runs with."""
        raise NotImplementedError

    def stop(self, s: S, grace_s: float = ownership.GRACE_S) -> None:
        """Stop the server if it runs, and nothing else (`ownership`); idempotent. `grace_s=0`
        kills it at once."""
        owner = ownership.find(s.data_dir, s.port)
        ownership.stop(owner, self.SERVICE, grace_s, self.STOP_SIGNAL)

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

    def restart_loses(self, old: S, secrets: Secrets) -> tuple[str, str]:
        """What a restart of the running server on `old` would lose and how to keep it first
        (("", "") when nothing: a server keeps its data in its data dir)."""
        return "", ""

    def before_restart(self, old: S, secrets: Secrets) -> None:
        """Work before the server starts again on `old`'s data dir (e.g. a format upgrade)."""

    def expected(self, s: S, secrets: Secrets) -> Managed:
        """The settings this server manages, as `observe` reports them when none drifted
        (`secrets`: what it was given, e.g. the credentials it must accept and no other)."""
        return {"listen": f"{processes.HOST}:{s.port}"}

    def observe(self, s: S, secrets: Secrets) -> Managed:
        """The managed settings as the server reports them now (strings, never a secret value);
        a setting it cannot read now is left out. Each read is bounded by a short timeout."""
        return {"listen": ",".join(ownership.listening(s.port)) or "nothing listens"}

    def repair(self, s: S, secrets: Secrets, drifted: Managed) -> bool:
        """Put drifted managed settings back without a restart (data kept); False when only a
        restart can (the start applies every setting again)."""
        return False

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
            "managed": self.expected(s, secrets),
            "observed": {**self.expected(s, secrets), **self.observe(s, secrets)},
        }

    def _observed(self, olds: Mapping[str, Any], s: S, secrets: Secrets) -> Mapping[str, Any]:
        """`olds`, with what the server reports now when the state recorded nothing yet (a
        stack deployed before settings were managed is repaired by its first update too)."""
        if isinstance(olds.get("observed"), Mapping):
            return olds
        return {**olds, "observed": self.observe(s, secrets)}

    def drifted(self, olds: Mapping[str, Any], s: S) -> Managed:
        """Managed settings the last read found different from `s`'s: name -> expected."""
        observed = olds.get("observed")
        if not isinstance(observed, Mapping):
            return {}  # recorded before settings were observed
        expected = self.expected(s, self.kept_secrets(olds))
        return {k: v for k, v in expected.items() if observed.get(k, v) != v}

    def kept_secrets(self, props: Mapping[str, Any]) -> Secrets:
        """The SECRET_KEYS values a previous create or update recorded in `props`."""
        return {key: str(props[key]) for key in self.SECRET_KEYS if props.get(key) is not None}

    def record_started(self, s: S) -> None:
        """Record the server just started and ready as ours: the pid its `PID_FILE` names, which
        must work in its data dir (`ownership.record`)."""
        ownership.record(processes.read_pid(s.data_dir / self.PID_FILE), s.data_dir, self.SERVICE)

    def _start(self, s: S, secrets: Secrets) -> Secrets:
        secrets = self.start(s, secrets)
        self.record_started(s)
        return secrets

    def create(self, props: dict[str, Any]) -> CreateResult:
        s = self.settings(props)
        # The state holds no such server: one of ours still running here is an orphan (a cold
        # `up` interrupted twice, a data dir deleted under it). Its data is gone or was never in
        # the state: kill it. Anything else holding the port is named by `require_free_port`.
        self.stop(s, grace_s=0)
        processes.require_free_port(self.SERVICE, s.port, s.hints)
        processes.claim_data_dir(self.SERVICE, str(s.data_dir), s.hints)
        secrets = self.new_secrets(s)
        try:
            self.set_up(s, secrets)
            secrets = self._start(s, secrets)
            self.provision(s, secrets)
        except BaseException:
            self.stop(s, grace_s=0)  # free the port; the folder stays for the log
            raise
        prefix = self.ID_PREFIX or self.SERVICE
        return CreateResult(id_=f"{prefix}-{s.port}", outs=self._outs(props, s, secrets))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = processes.changed_keys(olds, news, self.REPLACE_KEYS)
        restarts = processes.changed_keys(olds, news, (*self.MOVE_KEYS, *self.RESTART_KEYS))
        # Not ready, or a managed setting changed out of band: update puts it back. A state
        # recorded before settings were managed gets one update (no restart) that records them.
        not_ready = (
            olds.get("running") is False
            or "managed" not in olds
            or bool(self.drifted(olds, self.settings(news)))
        )
        if replaces and self.HOLDS and os.environ.get(ALLOW_DATA_LOSS_ENV) != "1":
            s = self.settings(news)
            changes = {key: (olds.get(key), news.get(key)) for key in replaces}
            raise DataLossError(
                self.SERVICE, changes, f"{self.HOLDS} in {olds.get('data_dir')}", s.hints
            )
        if restarts and not replaces:
            self._refuse_restart_loss(olds, news, restarts)
        return DiffResult(
            changes=bool(replaces or restarts) or not_ready,
            replaces=replaces,
            delete_before_replace=True,
        )

    def _old_settings(self, olds: dict[str, Any], news: dict[str, Any]) -> S:
        kept = (*self.REPLACE_KEYS, *self.MOVE_KEYS)
        return self.settings({**news, **{k: olds[k] for k in kept if k in olds}})

    def _refuse_restart_loss(
        self, olds: dict[str, Any], news: dict[str, Any], keys: list[str]
    ) -> None:
        if os.environ.get(ALLOW_DATA_LOSS_ENV) == "1":
            return
        holds, keep = self.restart_loses(self._old_settings(olds, news), self.kept_secrets(olds))
        if holds:
            changes = {key: (olds.get(key), news.get(key)) for key in keys}
            raise RestartLossError(self.SERVICE, changes, holds, keep)

    def _restart(
        self, old: S, s: S, secrets: Secrets, grace_s: float = ownership.GRACE_S
    ) -> Secrets:
        self.before_restart(old, secrets)
        self.stop(old, grace_s=grace_s)
        return self._start(s, secrets)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        s = self.settings(news)
        secrets = self.kept_secrets(olds)
        old = self._old_settings(olds, news)
        moved = old.port != s.port
        if moved:  # the new port must be free before the server leaves the old one
            processes.require_free_port(self.SERVICE, s.port, s.hints)
        # Refresh already probed it (`running` False): no second wait on a hung server.
        ready = olds.get("running") is not False and self.probe(old, secrets)
        if not ready:  # stopped or hung: a graceful stop would only wait
            self._refuse_restart_loss(olds, news, ["running"])
            secrets = self._restart(old, s, secrets, grace_s=0)
            self._repair_after_start(s, secrets)
        elif moved or (restarts := processes.changed_keys(olds, news, self.RESTART_KEYS)):
            # Checked again: the state may have changed since the preview.
            self._refuse_restart_loss(olds, news, ["port"] if moved else restarts)
            secrets = self._restart(old, s, secrets)
            self._repair_after_start(s, secrets)
        elif (drifted := self.drifted(self._observed(olds, s, secrets), s)) and not self.repair(
            s, secrets, drifted
        ):
            self._refuse_restart_loss(olds, news, sorted(drifted))
            # A graceful stop: the start applies every managed setting again.
            secrets = self._restart(old, s, secrets)
        if moved:
            secrets = self.moved(s, secrets)
        return UpdateResult(outs=self._outs(news, s, secrets))

    def _repair_after_start(self, s: S, secrets: Secrets) -> None:
        """Put back what a start does not apply itself: settings kept in the server's data
        (Postgres' roles), e.g. a data dir restored to before a rotation."""
        drifted = self.drifted({**secrets, "observed": self.observe(s, secrets)}, s)
        if drifted:
            self.repair(s, secrets, drifted)

    def moved(self, s: S, secrets: Secrets) -> Secrets:
        """After the server moved to a new port: refresh what names the port (a DSN)."""
        return secrets

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        s = self.settings(props)
        if not self.exists(s):
            return ReadResult(id_="", outs={})
        secrets = self.kept_secrets(props)
        # A stopped (SIGSTOPped) server cannot answer: no need to wait out the probe's timeout.
        frozen = ownership.frozen(ownership.find(s.data_dir, s.port))
        running = not frozen and self.probe(s, secrets)
        outs = {**props, "running": running}
        if isinstance(props.get("managed"), Mapping):
            seen = {"listen": "frozen (SIGSTOP)"} if frozen else self.observe(s, secrets)
            # What the stack manages follows its secrets (a rotated login is managed too).
            outs["managed"] = {**props["managed"], **self.expected(s, secrets)}
            outs["observed"] = {**outs["managed"], **seen}
        return ReadResult(id_=id_, outs=outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        s = self.settings(props)
        self.stop(s)
        processes.remove_data_dir(self.SERVICE, str(s.data_dir), s.hints)


def resolved(value: pulumi.Input[T]) -> T:
    """A setting wired from another resource's output: the engine resolves it before the
    provider sees it, so it is typed as what the provider receives."""
    return cast(T, value)


def _prop(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


class LocalServerResource(Resource):
    """Base resource: takes the server's settings dataclass (stated once, read back by the
    provider as the same dataclass) and declares the provider's outputs, the secret ones secret."""

    PROVIDER: ClassVar[type[LocalServerProvider[Any]]]
    OUTPUTS: ClassVar[tuple[str, ...]] = ("host", "running")
    SECRET_OUTPUTS: ClassVar[tuple[str, ...]] = ()
    SECRET_SETTINGS: ClassVar[tuple[str, ...]] = ()
    """Settings whose values are secret (the app's env)."""

    def __init__(
        self, name: str, settings: ServerSettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {f.name: _prop(getattr(settings, f.name)) for f in dataclasses.fields(settings)}
        for key in self.SECRET_SETTINGS:
            props[key] = pulumi.Output.secret(props[key])
        props.update({key: None for key in (*self.OUTPUTS, *self.SECRET_OUTPUTS)})
        own = pulumi.ResourceOptions(
            additional_secret_outputs=list(self.SECRET_OUTPUTS),
            # A replacement reuses the port and data dir: the old server must go first, also on
            # `pulumi up --replace`, where the provider's diff (which says so) is not asked.
            delete_before_replace=True,
        )
        super().__init__(self.PROVIDER(), name, props, pulumi.ResourceOptions.merge(opts, own))
