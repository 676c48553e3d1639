"""The stack's state, read and written through the Pulumi CLI, secrets kept secret.

A rotation's new credentials must be what the next `up` keeps, so they go into the state the
providers read their kept secrets from (`kept_secrets`): `pulumi stack export --show-secrets`
through a pipe, every occurrence of an old value replaced by its new one (resource inputs and
outputs, the env file's values, the app's env, the stack's outputs) and the env's fingerprint
recomputed, then `pulumi stack import` from a pipe: the CLI encrypts every value marked secret
again. Nothing is written to a file or a command line in clear.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from components.app_secrets import FINGERPRINT_NAME, fingerprint

SECRET_SIG = "4dabf18193072939515e22adb298388d"
"""How Pulumi marks a secret in an exported state (its `plaintext` is JSON text)."""
SECRET_MARK = "1b47061264138c4ac30d75fd1eb44270"
TIMEOUT_S = 60


class StateError(Exception):
    """The Pulumi CLI could not read or write the stack's state; the message names the command."""


def unwrap(value: Any) -> Any:
    """`value` with every exported secret decoded."""
    if isinstance(value, dict):
        if SECRET_SIG in value and "plaintext" in value:
            return unwrap(json.loads(value["plaintext"]))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def secret(value: Any) -> dict[str, str]:
    """`value` as an exported secret (the CLI encrypts it on import)."""
    return {SECRET_SIG: SECRET_MARK, "plaintext": json.dumps(value)}


def replaced(value: Any, pairs: Mapping[str, str]) -> Any:
    """`value` with each key of `pairs` replaced by its value in every string, secrets kept
    secret.

    >>> replaced({"url": "redis://default:old@h", "n": 1}, {"old": "new"})
    {'url': 'redis://default:new@h', 'n': 1}
    """
    if isinstance(value, str):
        for old, new in pairs.items():
            if old:
                value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        if SECRET_SIG in value and "plaintext" in value:
            return secret(replaced(json.loads(value["plaintext"]), pairs))
        return {k: replaced(v, pairs) for k, v in value.items()}
    if isinstance(value, list):
        return [replaced(v, pairs) for v in value]
    return value


class StackState:
    """Owns the exported deployment of one stack while a rotation edits it."""

    def __init__(self, stack: str, root: Path) -> None:
        self.stack, self.root = stack, root
        self.document: dict[str, Any] = {}

    def _pulumi(self, *args: str, stdin: str | None = None) -> str:
        what = f"`pulumi {' '.join(args[:2])}` on {self.stack}"
        try:
            done = subprocess.run(
                ["pulumi", *args, "--stack", self.stack],
                cwd=self.root,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                check=False,
                start_new_session=True,  # a Ctrl-C reaches the rotation, not the CLI mid-write
            )
        except subprocess.TimeoutExpired:
            raise StateError(f"{what} did not answer within {TIMEOUT_S}s") from None
        except OSError as exc:
            raise StateError(f"{what}: cannot run pulumi ({exc.strerror or exc})") from None
        if done.returncode != 0:
            # stderr only: stdout of an export holds secrets in clear.
            detail = done.stderr.strip().splitlines()[-1:] or ["?"]
            raise StateError(f"{what} failed: {detail[0]}")
        return done.stdout

    def load(self) -> StackState:
        try:
            self.document = json.loads(self._pulumi("stack", "export", "--show-secrets"))
        except ValueError:
            raise StateError(f"`pulumi stack export` on {self.stack} printed no JSON") from None
        return self

    def save(self) -> None:
        self._pulumi("stack", "import", "--file", "/dev/stdin", stdin=json.dumps(self.document))

    def resources(self) -> list[dict[str, Any]]:
        return list(self.document.get("deployment", {}).get("resources") or [])

    def resource(self, name: str) -> dict[str, Any]:
        """The resource named `name` (the last part of its URN); StateError when absent."""
        for resource in self.resources():
            if resource.get("urn", "").rsplit("::", 1)[-1] == name:
                return resource
        raise StateError(f"{self.stack}: the state has no resource {name!r}; run `up` first")

    def one(self, typ: str, within: str = "", suffix: str = "") -> dict[str, Any]:
        """The one resource of type `typ` whose URN holds `within` and ends with `suffix`;
        StateError naming what was found instead."""
        found = [
            r
            for r in self.resources()
            if r.get("type") == typ and within in r.get("urn", "") and r["urn"].endswith(suffix)
        ]
        if len(found) != 1:
            raise StateError(
                f"{self.stack}: the state holds {len(found)} {typ} resources {within}*{suffix}, "
                f"not one; run `mentora-infra up {self.stack}` first"
            )
        return found[0]

    def outputs(self, name: str) -> dict[str, Any]:
        """`name`'s outputs, secrets decoded (never print them)."""
        return dict(unwrap(self.resource(name).get("outputs") or {}))

    def env(self) -> dict[str, str]:
        """The app's env as the env file's resource holds it."""
        return dict(self.outputs("app-env-file").get("values") or {})

    def replace(self, pairs: Mapping[str, str]) -> None:
        """Replace old values by new ones everywhere in the state, then the env's fingerprint."""
        before = self.env()
        deployment = self.document["deployment"]
        deployment["resources"] = [
            {
                **r,
                **{k: replaced(r[k], pairs) for k in ("inputs", "outputs") if k in r},
            }
            for r in deployment.get("resources") or []
        ]
        after = self.env()
        old_fp, new_fp = before.get(FINGERPRINT_NAME, ""), fingerprint(after)
        if old_fp and old_fp != new_fp:
            self.replace_exact({old_fp: new_fp})

    def replace_exact(self, pairs: Mapping[str, str]) -> None:
        deployment = self.document["deployment"]
        deployment["resources"] = [
            {**r, **{k: replaced(r[k], pairs) for k in ("inputs", "outputs") if k in r}}
            for r in deployment.get("resources") or []
        ]

    def set_output(self, name: str, key: str, value: Any) -> None:
        """Set one output of a resource, e.g. the database's login role; a secret one as
        `secret(value)` (the CLI encrypts it on import)."""
        resource = self.resource(name)
        resource.setdefault("outputs", {})[key] = value
