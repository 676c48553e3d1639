"""The `pulumi_policy` policies of `mentora-guardrails`, wrapping the plain validation functions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import cache, encryption, env_vars, monitoring, protection, storage
from policy.props import Props, StackResource
from policy.stackinfo import resolve_stack

PACK_NAME: Final = "mentora-guardrails"
MANDATORY: Final = EnforcementLevel.MANDATORY

ResourceCheck = Callable[[str, str, Props], list[str]]
StackCheck = Callable[[Sequence[StackResource]], list[tuple[str, str]]]

# Lets a preview be checked as another stack, e.g. a policy-pack-config file with
# {"prod-stateful-protected": {"stack": "prod"}}.
STACK_CONFIG: Final = PolicyConfigSchema(
    properties={
        "stack": {
            "type": "string",
            "description": "Stack name to check as (default: the stack the engine reports).",
        }
    }
)


def _resource(name: str, description: str, check: ResourceCheck) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        for message in check(args.resource_type, args.name, args.props):
            report(message, None)

    return ResourceValidationPolicy(name, description, validate, MANDATORY)


def _stack(name: str, description: str, check: StackCheck) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for message, urn in check(args.resources):
            report(message, urn)

    return StackValidationPolicy(name, description, validate, MANDATORY)


def _validate_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for message in protection.validate_protection(
        args.resource_type,
        args.name,
        args.props,
        stack=resolve_stack(args.get_config()),
        protect=bool(args.opts.protect),
        # Not in PolicyResourceOptions as of pulumi_policy 1.21; checked once it appears.
        retain_on_delete=getattr(args.opts, "retain_on_delete", None),
    ):
        report(message, None)


def _validate_redis_url(args: ResourceValidationArgs, report: ReportViolation) -> None:
    stack = resolve_stack(args.get_config())
    for message in cache.validate_redis_url_tls(
        args.resource_type, args.name, args.props, stack=stack
    ):
        report(message, None)


def build_policies() -> list[Policy]:
    """Return every policy of the pack; all are MANDATORY (a violation fails preview and up)."""
    return [
        _resource(
            "s3-public-access-block-all-on",
            "S3 public access blocks must set all four flags to true.",
            storage.validate_public_access_block,
        ),
        _resource(
            "s3-no-public-acl",
            "S3 bucket ACLs must not be public-read, public-read-write or authenticated-read.",
            storage.validate_bucket_acl,
        ),
        _resource(
            "s3-no-public-bucket-policy",
            'S3 bucket policies must not allow Principal "*" to read without a Condition.',
            storage.validate_bucket_policy,
        ),
        _stack(
            "s3-bucket-has-public-access-block",
            "Every S3 bucket must have a BucketPublicAccessBlock.",
            storage.check_buckets_have_access_block,
        ),
        _stack(
            "s3-bucket-encrypted",
            "Every S3 bucket must have server-side encryption (AES256 or aws:kms).",
            encryption.check_buckets_encrypted,
        ),
        _stack(
            "deployed-app-monitored",
            "A stack that deploys the app must have an activated Checkly API check on "
            "/api/health from two or more locations that alerts a channel.",
            monitoring.check_deployments_monitored,
        ),
        ResourceValidationPolicy(
            "prod-stateful-protected",
            "On prod, buckets, Redis databases and the Supabase project must be protected.",
            _validate_protection,
            MANDATORY,
            config_schema=STACK_CONFIG,
        ),
        _resource(
            "secret-env-vars-sensitive",
            "Vercel env vars with secret-like names must be sensitive.",
            env_vars.validate_secret_env_var,
        ),
        _resource(
            "next-public-env-not-secret",
            "NEXT_PUBLIC_* env vars must not be sensitive or hold secret-looking values.",
            env_vars.validate_public_env_var,
        ),
        _resource(
            "upstash-redis-tls",
            "Upstash Redis databases must have TLS enabled.",
            cache.validate_redis_tls,
        ),
        ResourceValidationPolicy(
            "redis-url-tls-in-cloud",
            "On cloud stacks, Redis URLs in env vars must use rediss:// (TLS).",
            _validate_redis_url,
            MANDATORY,
            config_schema=STACK_CONFIG,
        ),
    ]
