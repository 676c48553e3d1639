"""Parsing a refresh preview (`pulumi refresh --preview-only --json`) into drift records.

A refresh preview reads every resource through its provider; it never writes the state. With
`PULUMI_ENABLE_STREAMING_JSON_PREVIEW=1` the CLI (v3.274.1) prints one engine event per line,
and each resource's `resOutputsEvent` carries the outputs the state holds (`metadata.old`,
what the last deploy recorded) and those the provider read now (`metadata.new`). The plain
`--json` document does not: its steps repeat the old state as the new one and only
`changeSummary` counts the changes, so it cannot say what drifted. Drift is:

- a local server's `observed` settings differing from its `managed` ones (both kept by the
  provider: `components/local/server_provider.py`), so a refresh that was written by hand
  since still shows what differs from the program;
- `running` turned false (a server that died or hangs);
- any other output the read changed, when the engine calls the step a change (cloud
  resources: a bucket policy edited in the console; a key a read merely adds is not drift);
- a resource the provider no longer finds (deleted out of band).

Values are masked before anything keeps them: Pulumi prints secret outputs as `[secret]`
without `--show-secrets` (never passed here), a property whose name says secret is `***`,
and credentials inside a URL are cut (`smoke.redact.redact_url`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from smoke.redact import MASK, is_secret_name, redact_url

PULUMI_SECRET = "[secret]"
# Outputs the comparison handles itself, or that are bookkeeping of the dynamic provider.
_OWN_KEYS = frozenset({"__provider", "observed", "managed", "running"})


class DriftParseError(Exception):
    """The CLI's output was not a refresh preview this parser understands (the reason says)."""


@dataclass(frozen=True)
class Drift:
    """One drifted property of one resource: what the stack expects against what is there."""

    resource: str
    type: str
    property: str
    expected: str
    actual: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def masked(name: str, value: Any) -> str:
    """`value` as text, safe to print: `***` for a secret (by Pulumi's mark or by its name),
    credentials cut out of any URL.

    >>> masked("password", "hunter22"), masked("url", "redis://default:pw@127.0.0.1:6390/0")
    ('***', 'redis://***@127.0.0.1:6390/0')
    """
    if value == PULUMI_SECRET or is_secret_name(name.rsplit(".", 1)[-1].replace(" ", "_")):
        return MASK
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return redact_url(text)


def _flat(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value and value.get(PULUMI_SECRET) is None:
        for key in sorted(value):
            yield from _flat(value[key], f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _outputs(state: Any) -> dict[str, Any]:
    if not isinstance(state, Mapping):
        return {}
    outputs = state.get("outputs")
    return dict(outputs) if isinstance(outputs, Mapping) else {}


def _step_drift(step: Mapping[str, Any]) -> list[Drift]:
    urn = str(step.get("urn") or "")
    old_state, new_state = step.get("oldState"), step.get("newState")
    kind = str((new_state or old_state or {}).get("type") or urn.split("::")[-2:-1] or "?")
    name = urn.rsplit("::", 1)[-1] or "?"

    def drift(prop: str, expected: Any, actual: Any) -> Drift:
        return Drift(name, kind, prop, masked(prop, expected), masked(prop, actual))

    if old_state and not new_state:
        return [drift("(resource)", "exists", "gone (deleted out of band)")]
    old, new = _outputs(old_state), _outputs(new_state)
    found: list[Drift] = []
    if old.get("running") is True and new.get("running") is False:
        found.append(drift("running", True, False))
    managed, observed = new.get("managed"), new.get("observed")
    if isinstance(managed, Mapping) and isinstance(observed, Mapping):
        for key in sorted(managed):
            if key in observed and observed[key] != managed[key]:
                found.append(drift(key, managed[key], observed[key]))
    if step.get("op") == "same":
        return found
    before = dict(_flat({k: v for k, v in old.items() if k not in _OWN_KEYS}))
    after = dict(_flat({k: v for k, v in new.items() if k not in _OWN_KEYS}))
    for prop in sorted(before.keys() | after.keys()):
        if before.get(prop) != after.get(prop):
            found.append(drift(prop, before.get(prop), after.get(prop)))
    return found


def events(stream: str) -> list[dict[str, Any]]:
    """The engine events of a streamed JSON preview (one JSON object per line); DriftParseError
    naming the line that is not one, or when the stream never ended (no `summaryEvent`)."""
    found: list[dict[str, Any]] = []
    for number, line in enumerate(stream.splitlines(), 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            raise DriftParseError(f"line {number} of pulumi's output is not JSON") from None
        if not isinstance(event, dict):
            raise DriftParseError(f"line {number} of pulumi's output is not an engine event")
        found.append(event)
    if not any("summaryEvent" in e for e in found):
        raise DriftParseError("pulumi's output has no summaryEvent (the preview did not end)")
    return found


def parse(stream: str) -> list[Drift]:
    """Every drift in the streamed output of `pulumi refresh --preview-only --json`, resource
    by resource in the preview's order; DriftParseError when it is not such output."""
    found: list[Drift] = []
    for event in events(stream):
        meta = (event.get("resOutputsEvent") or {}).get("metadata")
        if not isinstance(meta, Mapping) or "pulumi:pulumi:Stack" in str(meta.get("urn")):
            continue
        step = {
            "urn": meta.get("urn"),
            "op": meta.get("op"),
            "oldState": meta.get("old"),
            "newState": meta.get("new"),
        }
        found.extend(_step_drift(step))
    return found
