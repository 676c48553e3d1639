"""Engine events shaped as `pulumi refresh --preview-only --json` streams them (v3.274.1, with
PULUMI_ENABLE_STREAMING_JSON_PREVIEW=1), as captured from the real local stack: one JSON object
per line; each resource's `resOutputsEvent.metadata` has `op`, `urn`, `type`, `old` and `new`
states whose `outputs` hold what the state recorded and what the provider read now."""

from __future__ import annotations

import json
from typing import Any

DYNAMIC = "pulumi-python:dynamic:Resource"
REDIS_MANAGED = {"listen": "127.0.0.1:6390", "maxmemory": "268435456", "auth": "ours only"}


def urn(name: str, kind: str = DYNAMIC) -> str:
    return f"urn:pulumi:local::mentora::mentora:infra:LocalCache${kind}::{name}"


def outputs_event(
    name: str, old: dict[str, Any] | None, new: dict[str, Any] | None, op: str = "update"
) -> dict[str, Any]:
    meta: dict[str, Any] = {"op": op, "urn": urn(name), "type": DYNAMIC}
    meta["old"] = {"type": DYNAMIC, "outputs": old} if old is not None else None
    meta["new"] = {"type": DYNAMIC, "outputs": new} if new is not None else None
    return {"sequence": 3, "timestamp": 1796426722, "resOutputsEvent": {"metadata": meta}}


def redis_outputs(**observed: str) -> dict[str, Any]:
    return {
        "__provider": "[secret]",
        "password": "[secret]",
        "url": "[secret]",
        "port": 6390,
        "running": True,
        "managed": dict(REDIS_MANAGED),
        "observed": {**REDIS_MANAGED, **observed},
    }


def stream(*events: dict[str, Any], ended: bool = True) -> str:
    prelude = {"sequence": 0, "timestamp": 1, "preludeEvent": {"config": {}}}
    summary = {"sequence": 99, "timestamp": 2, "summaryEvent": {"resourceChanges": {}}}
    lines = [prelude, *events, *([summary] if ended else [])]
    return "\n".join(json.dumps(e) for e in lines) + "\n"
