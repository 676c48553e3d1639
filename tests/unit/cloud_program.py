"""Runs the cloud program (dev or prod) under Pulumi mocks and records what it declared.

The mocks answer each resource with its inputs plus the outputs its provider would report, and a
stack transformation records the options (protect, retain_on_delete, aliases, provider) and the
raw input values (to see which carry Pulumi's secret marker) of every resource.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pulumi
import yaml

from stacks.cloud_settings import CLOUD_SECRETS
from stacks.config import PROJECT_ROOT, StackConfig, parse_stack_config

# Fake secret values, shaped like the real ones (config validation checks some shapes).
FAKE_SECRETS: dict[str, str] = {
    **{key: f"fake-{key.lower()}-0123456789" for key in CLOUD_SECRETS},
    "sentryDsn": "https://0123abcd@o1.ingest.sentry.io/42",
    "anthropicApiKey": "sk-ant-fake-0123456789",
    "openaiApiKey": "sk-fake-0123456789",
    "checklyAccountId": "0123abcd-0123-4567-89ab-0123456789ab",
    "alertWebhookUrl": "https://hooks.example.com/fake-0123456789",
}
PROVIDER_OUTPUTS: dict[str, dict[str, Any]] = {
    "upstash:index/redisDatabase:RedisDatabase": {
        "endpoint": "fake-cache.upstash.io",
        "port": 6379,
        "password": "fake-upstash-password",
        "rest_token": "fake-upstash-rest-token",
    },
    "random:index/randomPassword:RandomPassword": {"result": "fakeDbPassword0123456789"},
    "aws:iam/accessKey:AccessKey": {"secret": "fake-aws-secret-access-key"},
    "aws:s3/bucket:Bucket": {"arn": "arn:aws:s3:::fake-bucket"},
    "pulumi-python:dynamic:Resource": {
        "ref": "fakeref",
        "url": "https://fakeref.supabase.co",
        "anon_key": "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2ln",
        "service_role_key": "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2ln",
        "database_url": "postgresql://postgres.fakeref:fakeDbPassword0123456789@"
        "aws-0-us-east-1.pooler.supabase.com:6543/postgres?sslmode=require",
        "direct_url": "postgresql://postgres:fakeDbPassword0123456789@db.fakeref.supabase.co"
        ":5432/postgres?sslmode=require",
        "applied": ["20251020100000"],
    },
}

SENTRY_RULE_IDS = {"new_issue_alert_id": "71", "spike_alert_id": "72", "spike_monitor_id": "73"}


@dataclass
class Declared:
    """One resource the program registered: type, name, inputs and the options it was given."""

    typ: str
    name: str
    inputs: dict[str, Any]
    opts: pulumi.ResourceOptions | None = None
    raw_props: dict[str, Any] = field(default_factory=dict)


class CloudMocks(pulumi.runtime.Mocks):
    """Records every registered resource; ids are bucket names for buckets, like AWS's."""

    def __init__(self) -> None:
        self.declared: list[Declared] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.declared.append(Declared(args.typ, args.name, dict(args.inputs)))
        outputs = {**args.inputs, **PROVIDER_OUTPUTS.get(args.typ, {})}
        if args.typ == "vercel:index/deployment:Deployment":
            outputs["url"] = f"{args.name}.vercel.app"  # Vercel's `<project>-<hash>.vercel.app`
        resource_id = args.inputs.get("bucket") if args.typ == "aws:s3/bucket:Bucket" else None
        if args.typ == "checkly:index/alertChannel:AlertChannel":
            resource_id = str(1000 + len(self.declared))  # Checkly's ids are numbers
        if "increase_percent" in args.inputs:  # the Sentry alert rules (dynamic provider)
            outputs = {**args.inputs, **SENTRY_RULE_IDS}
            resource_id = SENTRY_RULE_IDS["new_issue_alert_id"]
        return resource_id or f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


def unwrap(value: Any) -> Any:
    """A mock input with every Pulumi secret envelope (the SDK's wire form) removed."""
    from pulumi.runtime.rpc import _special_sig_key

    if isinstance(value, dict):
        if _special_sig_key in value:
            return unwrap(value.get("value"))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def stack_file(stack: str) -> dict[str, str]:
    """The committed plain settings of `Pulumi.<stack>.yaml` (key without namespace)."""
    raw = yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {
        k.removeprefix("mentora:"): str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in raw.items()
    }


def cloud_config(stack: str, **overrides: str) -> StackConfig:
    """The committed config of `stack` with every secret set (encrypted) to a fake value."""
    encrypted = dict.fromkeys(CLOUD_SECRETS, True)
    return parse_stack_config(stack, {**stack_file(stack), **overrides}, FAKE_SECRETS, encrypted)


def start_mocks(stack: str) -> CloudMocks:
    """Install the mocks for `stack` (call before building the program)."""
    asyncio.set_event_loop(asyncio.new_event_loop())
    mocks = CloudMocks()
    pulumi.runtime.set_mocks(mocks, project="mentora", stack=stack, preview=False)
    return mocks


def record_options(mocks: CloudMocks) -> None:
    """Attach each resource's options and raw props to its record (a stack transformation)."""

    def transformation(args: pulumi.ResourceTransformationArgs) -> None:
        mocks.pending[args.name] = (args.opts, dict(args.props))  # type: ignore[attr-defined]
        mocks.resources.append(args.resource)  # type: ignore[attr-defined]

    mocks.pending = {}  # type: ignore[attr-defined]
    mocks.resources = []  # type: ignore[attr-defined]
    pulumi.runtime.register_stack_transformation(transformation)


def all_registered(mocks: CloudMocks) -> pulumi.Output[list[str]]:
    """Resolves once every resource seen by `record_options` has been registered."""
    return pulumi.Output.all(*[r.urn for r in mocks.resources])  # type: ignore[attr-defined]


def options_of(mocks: CloudMocks, name: str) -> tuple[pulumi.ResourceOptions, dict[str, Any]]:
    return mocks.pending[name]  # type: ignore[attr-defined,no-any-return]
