"""A review stack's settings, derived from its base stack's file: no `Pulumi.pr-<N>.yaml` is
ever written by hand or committed.

`derive` takes `Pulumi.local.yaml`'s config and replaces what must differ per stack: every port
(allocated here, recorded), the data folder, the env file and the bucket's name; and it turns
backups off. The result is
written to `Pulumi.pr-<N>.yaml` beside Pulumi.yaml (git-ignored: `/Pulumi.pr-*.yaml`), because
everything that acts on a stack by name reads that file: the gate's preflight, its ledger
digests, the program itself, and `pulumi stack init`, which adds the stack's own encryption salt
to it. `review down` removes it with the stack.
"""

from __future__ import annotations

import socket
import zlib
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from review.errors import ReviewUsage
from review.naming import LOCAL_BASE, parse_review_stack
from review.state import Paths

NAMESPACE = "mentora"
PORT_RANGE = range(21000, 32000)
"""Below Linux's ephemeral range (32768-60999), so a client's outgoing connection never holds
a review stack's port; above the base stack's defaults."""


def base_config(root: Path, base: str = LOCAL_BASE) -> dict[str, Any]:
    """The base stack's `config:` mapping; ReviewUsage naming the file when it is unusable."""
    path = root / f"Pulumi.{base}.yaml"
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ReviewUsage(
            f"review: cannot read the base stack's settings {path.name} ({exc}); "
            f"restore it from git (git checkout {path.name})"
        ) from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise ReviewUsage(f"review: {path.name} has no `config:` mapping; restore it from git")
    target = str(config.get(f"{NAMESPACE}:target", "local"))
    if target != "local":
        raise ReviewUsage(
            f"review: {path.name} says mentora:target={target}; local review stacks derive from "
            "a local base stack"
        )
    return dict(config)


def port_keys(root: Path) -> list[str]:
    """Every port setting the program declares (`mentora:*Port` in Pulumi.yaml), without the
    namespace, so a server added later gets a port of its own without a change here."""
    declared = yaml.safe_load((root / "Pulumi.yaml").read_text()).get("config") or {}
    return sorted(
        str(k).removeprefix(f"{NAMESPACE}:")
        for k in declared
        if str(k).startswith(f"{NAMESPACE}:") and str(k).endswith("Port")
    )


def port_defaults(root: Path) -> dict[str, Any]:
    """Each `mentora:*Port`'s default in Pulumi.yaml, by key without the namespace."""
    declared = yaml.safe_load((root / "Pulumi.yaml").read_text()).get("config") or {}
    return {
        str(k).removeprefix(f"{NAMESPACE}:"): v.get("default")
        for k, v in declared.items()
        if isinstance(v, dict) and str(k).endswith("Port")
    }


def reserved_ports(root: Path, base: dict[str, Any]) -> set[int]:
    """Ports a review stack must never take: the base stack's (its file and Pulumi.yaml's
    defaults: the lead's live `local` runs there) and every generated review settings file's."""
    taken: set[int] = set()
    sources = [base, port_defaults(root)]
    for path in root.glob("Pulumi.pr-*.yaml"):
        try:
            sources.append((yaml.safe_load(path.read_text()) or {}).get("config") or {})
        except (OSError, yaml.YAMLError):
            continue
    for source in sources:
        for key, value in source.items():
            if str(key).endswith("Port"):
                try:
                    taken.add(int(str(value)))
                except ValueError:
                    continue
    return taken


def bindable(port: int) -> bool:
    """Whether nothing listens on (or holds) 127.0.0.1:`port` right now."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def allocate(stack: str, keys: list[str], avoid: set[int]) -> dict[str, int]:
    """A port for each key: from PORT_RANGE, starting at a place fixed by the stack's name (so
    a stack tends to get the same ports again), none in `avoid`, each bindable now. Callers hold
    the review ports lock and record the result before releasing it."""
    span = len(PORT_RANGE)
    start = zlib.crc32(stack.encode()) % span
    chosen: dict[str, int] = {}
    used = set(avoid)
    offset = 0
    for key in keys:
        while offset < span:
            port = PORT_RANGE[(start + offset) % span]
            offset += 1
            if port not in used and bindable(port):
                chosen[key] = port
                used.add(port)
                break
        else:
            raise ReviewUsage(
                f"review: no free port left in {PORT_RANGE.start}-{PORT_RANGE.stop - 1} for "
                f"{stack}; remove review stacks you do not need (mentora-infra review sweep)"
            )
    return chosen


def tenant_names(stack: str, base: dict[str, Any]) -> tuple[str, str]:
    """The review stack's database and app login in its base stack's Postgres cluster: the
    base's names with `_pr_<N>` (the base's own are never a review stack's).

    >>> tenant_names("pr-7", {"mentora:databaseName": "mentora"})
    ('mentora_pr_7', 'mentora_app_pr_7')
    """
    suffix = "_" + stack.replace("-", "_")
    database = str(base.get(f"{NAMESPACE}:databaseName", "mentora"))
    app_user = str(base.get(f"{NAMESPACE}:appUser", "mentora_app"))
    return database[: 63 - len(suffix)] + suffix, app_user[: 63 - len(suffix)] + suffix


def tenant_bucket(stack: str, base: dict[str, Any]) -> str:
    """The review stack's bucket in its base stack's S3 store.

    >>> tenant_bucket("pr-7", {})
    'mentora-videos-pr-7'
    """
    bucket = str(base.get(f"{NAMESPACE}:bucketName", "mentora-videos"))
    return f"{bucket[: 63 - len(stack) - 1]}-{stack}"


def derive(stack: str, base: dict[str, Any], ports: dict[str, int], paths: Paths) -> dict[str, Any]:
    """The review stack's `config:` mapping: the base's, with its own ports, folders and
    bucket, and its database in the base stack's Postgres."""
    pr = parse_review_stack(stack)
    assert pr is not None
    config = {k: v for k, v in base.items()}
    config.update({f"{NAMESPACE}:{key}": str(port) for key, port in ports.items()})
    config[f"{NAMESPACE}:bucketName"] = tenant_bucket(stack, base)
    config[f"{NAMESPACE}:stateDir"] = str(paths.servers)
    config[f"{NAMESPACE}:envFile"] = str(paths.env_file)
    # Disposable by definition (`review down` keeps nothing): no WAL archive, no archiver,
    # ~100 MB less per stack (docs/review.md). Supabase branches are not backed up either.
    config[f"{NAMESPACE}:backups"] = "false"
    # A database of its own in the base's cluster, not a server (~90 MB idle; docs/review.md).
    config[f"{NAMESPACE}:baseStack"] = LOCAL_BASE
    database, app_user = tenant_names(stack, base)
    config[f"{NAMESPACE}:databaseName"] = database
    config[f"{NAMESPACE}:appUser"] = app_user
    return config


def write_settings(paths: Paths, config: dict[str, Any]) -> None:
    """Write the generated settings file, keeping the encryption salt `pulumi stack init`
    already added to it (a new salt would make the stack's secrets unreadable)."""
    salt = None
    if paths.config_file.exists():
        old = yaml.safe_load(paths.config_file.read_text()) or {}
        salt = old.get("encryptionsalt")
    header = (
        f"# GENERATED by `mentora-infra review up` from Pulumi.{LOCAL_BASE}.yaml; git-ignored;\n"
        "# removed by `mentora-infra review down`. Do not edit: change the base stack instead.\n"
    )
    document: dict[str, Any] = {"config": config}
    if salt:
        document = {"encryptionsalt": salt, **document}
    paths.config_file.write_text(header + yaml.safe_dump(document, sort_keys=True))
