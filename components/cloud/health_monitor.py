"""`HealthMonitor`: a Checkly API check on the app's production `/api/health`, with its alerts.

The check expects what docs/app-contract.md promises of a healthy app: `200`, `status:
"healthy"` and `healthy: true` for every service. It runs from several Checkly locations (one
location's network trouble is not the app's), retries once elsewhere before it alerts, and
alerts through the channels given (an e-mail address and/or a webhook URL, whichever are set).

Argument names and values are the pulumi-checkly 2.14.0 SDK's own (`pulumi_checkly/check.py`,
`alert_channel.py`, `_inputs.py`); tests/unit/test_program_cloud_monitoring.py checks them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_checkly as checkly

# Services the app's health body reports (docs/app-contract.md, `GET /api/health`).
HEALTH_SERVICES: tuple[str, ...] = ("database", "cache")


@dataclass(frozen=True, kw_only=True)
class HealthMonitorArgs:
    """What to watch, from where, how often, and whom to tell."""

    check_name: str
    health_url: pulumi.Input[str]
    locations: list[str]
    frequency_minutes: int = 5
    alert_email: str = ""
    alert_webhook_url: pulumi.Input[str] | None = None
    """A secret: webhook URLs often carry their own token."""
    provider: pulumi.ProviderResource | None = None


def health_assertions() -> list[checkly.CheckRequestAssertionArgs]:
    """200, `status == "healthy"` and every service's `healthy == true` (JSONPath on the body)."""
    return [
        checkly.CheckRequestAssertionArgs(source="STATUS_CODE", comparison="EQUALS", target="200"),
        checkly.CheckRequestAssertionArgs(
            source="JSON_BODY", property="$.status", comparison="EQUALS", target="healthy"
        ),
        *(
            checkly.CheckRequestAssertionArgs(
                source="JSON_BODY",
                property=f"$.services.{service}.healthy",
                comparison="EQUALS",
                target="true",
            )
            for service in HEALTH_SERVICES
        ),
    ]


class HealthMonitor(pulumi.ComponentResource):
    """Owns the Checkly API check on `/api/health` and the alert channels it notifies."""

    check_id: pulumi.Output[str]
    """Checkly's id of the check."""
    channel_ids: pulumi.Output[list[str]]
    """Checkly's ids of the alert channels the check notifies."""

    def __init__(
        self, name: str, args: HealthMonitorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:HealthMonitor", name, None, opts)
        if len(set(args.locations)) < 2:
            raise ValueError(
                f"checkly: {name} needs at least two locations, got {args.locations!r}"
            )
        if not args.alert_email and args.alert_webhook_url is None:
            raise ValueError(f"checkly: {name} needs an alert e-mail or webhook URL")
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        channels: list[checkly.AlertChannel] = []
        if args.alert_email:
            channels.append(
                checkly.AlertChannel(
                    f"{name}-email",
                    email=checkly.AlertChannelEmailArgs(address=args.alert_email),
                    send_failure=True,
                    send_recovery=True,
                    send_degraded=False,
                    opts=child,
                )
            )
        if args.alert_webhook_url is not None:
            channels.append(
                checkly.AlertChannel(
                    f"{name}-webhook",
                    webhook=checkly.AlertChannelWebhookArgs(
                        name=f"{args.check_name} webhook",
                        url=pulumi.Output.secret(args.alert_webhook_url),
                        method="POST",
                    ),
                    send_failure=True,
                    send_recovery=True,
                    send_degraded=False,
                    opts=child,
                )
            )
        check = checkly.Check(
            f"{name}-check",
            name=args.check_name,
            type="API",
            activated=True,
            frequency=args.frequency_minutes,
            locations=list(dict.fromkeys(args.locations)),
            # A failure is retried once from another location before anyone is alerted.
            retry_strategy=checkly.CheckRetryStrategyArgs(
                type="SINGLE_RETRY", base_backoff_seconds=30, same_region=False
            ),
            # The app bounds each probe at 2 s (docs/app-contract.md): slower is degraded.
            degraded_response_time=3000,
            max_response_time=10000,
            request=checkly.CheckRequestArgs(
                url=args.health_url,
                method="GET",
                follow_redirects=False,
                assertions=health_assertions(),
            ),
            use_global_alert_settings=False,
            alert_settings=checkly.CheckAlertSettingsArgs(escalation_type="RUN_BASED"),
            alert_channel_subscriptions=[
                checkly.CheckAlertChannelSubscriptionArgs(
                    channel_id=channel.id.apply(int), activated=True
                )
                for channel in channels
            ],
            tags=["mentora", "health"],
            opts=child,
        )
        self.check_id = check.id
        self.channel_ids = pulumi.Output.all(*[c.id for c in channels]).apply(list)
        self.register_outputs({"check_id": self.check_id, "channel_ids": self.channel_ids})
