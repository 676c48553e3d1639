"""`SentryAlerts`: the app's Sentry alert rules (new issues, error spikes), via Sentry's own API.

PyPI's `pulumiverse-sentry` 0.0.9 is not used (README "Monitoring" says why): a dynamic
provider drives `SentryClient` (components/cloud/sentry_api.py) instead.

- create: find the project's issue-stream monitor; POST the "new issue" alert connected to it;
  POST the "error spike" alert; POST the spike metric monitor connected to that alert. A failure
  after the first POST deletes what was made, so no half-made rules are left unrecorded.
- diff: `organization` or `project` replace the rules; `name`, `increase_percent` and `token`
  update them in place (PUT of the same bodies).
- read (refresh): empty id when the "new issue" alert is gone.
- delete: DELETE the monitor and both alerts; already gone is fine.

The provider object is pickled into the state: it holds no client, only an optional transport
factory (tests). Each call opens its own client with the resource's secret `token`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.cloud.errors import SentryApiError
from components.cloud.sentry_api import (
    SentryClient,
    TransportFactory,
    new_issue_alert,
    spike_alert,
    spike_monitor,
)

INPUT_KEYS = ("organization", "project", "name", "increase_percent", "token")
REPLACE_KEYS = ("organization", "project")
OUTPUT_KEYS = ("new_issue_alert_id", "spike_alert_id", "spike_monitor_id")


def _bodies(inputs: dict[str, Any], stream_id: str, spike_id: str) -> dict[str, dict[str, Any]]:
    name = inputs["name"]
    return {
        "new_issue": new_issue_alert(f"{name}: new issue", stream_id),
        "spike_alert": spike_alert(f"{name}: error spike"),
        "monitor": spike_monitor(f"{name}: error spike", spike_id, int(inputs["increase_percent"])),
    }


class SentryAlertsProvider(ResourceProvider):
    """Creates, updates, reads and deletes the two alerts and the spike monitor."""

    def __init__(
        self,
        transport_factory: TransportFactory | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__()
        self._transport_factory, self._sleep = transport_factory, sleep

    def _client(self, props: dict[str, Any]) -> SentryClient:
        transport = self._transport_factory() if self._transport_factory else None
        return SentryClient(
            props["token"],
            props["organization"],
            transport=transport,
            sleep=self._sleep or time.sleep,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = {k: props[k] for k in INPUT_KEYS}
        made: list[str] = []
        with self._client(inputs) as api:
            try:
                stream = api.issue_stream_id(inputs["project"])
                first = _bodies(inputs, stream, "0")
                new_id = str(api.request("POST", "/workflows/", body=first["new_issue"])["id"])
                made.append(f"/workflows/{new_id}/")
                spike_id = str(api.request("POST", "/workflows/", body=first["spike_alert"])["id"])
                made.append(f"/workflows/{spike_id}/")
                monitor = _bodies(inputs, stream, spike_id)["monitor"]
                path = f"/projects/{inputs['project']}/detectors/"
                monitor_id = str(api.request("POST", path, body=monitor)["id"])
            except SentryApiError:
                for made_path in reversed(made):
                    try:
                        api.request("DELETE", made_path, missing_ok=True)
                    except SentryApiError as cleanup:
                        pulumi.log.warn(f"sentry: could not delete {made_path}: {cleanup}")
                raise
        ids = dict(zip(OUTPUT_KEYS, (new_id, spike_id, monitor_id), strict=True))
        return CreateResult(id_=new_id, outs={**inputs, **ids})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in INPUT_KEYS if olds.get(k) != news.get(k)]
        return DiffResult(
            changes=bool(changed),
            replaces=[k for k in changed if k in REPLACE_KEYS],
            delete_before_replace=True,  # the same names would exist twice
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = {k: news[k] for k in INPUT_KEYS}
        ids = {k: olds[k] for k in OUTPUT_KEYS}
        with self._client(inputs) as api:
            stream = api.issue_stream_id(inputs["project"])
            bodies = _bodies(inputs, stream, ids["spike_alert_id"])
            api.request("PUT", f"/workflows/{ids['new_issue_alert_id']}/", body=bodies["new_issue"])
            api.request("PUT", f"/workflows/{ids['spike_alert_id']}/", body=bodies["spike_alert"])
            api.request("PUT", f"/detectors/{ids['spike_monitor_id']}/", body=bodies["monitor"])
        return UpdateResult(outs={**inputs, **ids})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self._client(props) as api:
            if api.request("GET", f"/workflows/{id_}/", missing_ok=True) is None:
                return ReadResult(id_="", outs={})
        return ReadResult(id_=id_, outs=props)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self._client(props) as api:
            api.request("DELETE", f"/detectors/{props['spike_monitor_id']}/", missing_ok=True)
            api.request("DELETE", f"/workflows/{props['spike_alert_id']}/", missing_ok=True)
            api.request("DELETE", f"/workflows/{id_}/", missing_ok=True)


class SentryAlertRules(Resource):
    """The alert rules of one Sentry project, as one resource (`token` is secret)."""

    new_issue_alert_id: pulumi.Output[str]
    spike_alert_id: pulumi.Output[str]
    spike_monitor_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        provider: SentryAlertsProvider | None = None,
    ) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=["token"])
        super().__init__(
            provider or SentryAlertsProvider(),
            resource_name,
            {**props, **dict.fromkeys(OUTPUT_KEYS)},
            pulumi.ResourceOptions.merge(opts, secret),
        )


@dataclass(frozen=True, kw_only=True)
class SentryAlertsArgs:
    """Which Sentry project to alert on, how big a spike is, and the alerts token (secret)."""

    organization: str
    project: str
    rule_name: str
    token: pulumi.Input[str]
    increase_percent: int = 100
    provider: SentryAlertsProvider | None = None


class SentryAlerts(pulumi.ComponentResource):
    """Owns the app's Sentry alert rules: e-mail on a new issue and on an error-count spike."""

    new_issue_alert_id: pulumi.Output[str]
    """Sentry's id of the "new issue" alert."""
    spike_monitor_id: pulumi.Output[str]
    """Sentry's id of the error-spike metric monitor."""

    def __init__(
        self, name: str, args: SentryAlertsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:SentryAlerts", name, None, opts)
        rules = SentryAlertRules(
            f"{name}-rules",
            {
                "organization": args.organization,
                "project": args.project,
                "name": args.rule_name,
                "increase_percent": args.increase_percent,
                "token": pulumi.Output.secret(args.token),
            },
            opts=pulumi.ResourceOptions(parent=self),
            provider=args.provider,
        )
        self.new_issue_alert_id = rules.new_issue_alert_id
        self.spike_monitor_id = rules.spike_monitor_id
        self.register_outputs(
            {
                "new_issue_alert_id": self.new_issue_alert_id,
                "spike_monitor_id": self.spike_monitor_id,
            }
        )
