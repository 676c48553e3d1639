"""The pack builds, registers MANDATORY policies, and runs them through the SDK's servicer.

`PolicyPack(...)` normally starts a gRPC server and blocks forever: the server, the registration
and the wait are replaced by fakes, and the captured servicer is called like the engine would.
"""

from __future__ import annotations

import io
import runpy
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE

from policy.pack import PACK_NAME, build_policies

MAIN = Path(__file__).resolve().parents[3] / "policy" / "__main__.py"


class FakeServer:
    """Stands in for grpc.server(): records calls, listens nowhere."""

    def __init__(self) -> None:
        self.started = False
        self.stopped = False

    def add_insecure_port(self, address: str) -> int:
        return 50051

    def start(self) -> None:
        self.started = True

    def stop(self, grace: float | None) -> None:
        self.stopped = True


@pytest.fixture
def servicer(monkeypatch: pytest.MonkeyPatch) -> Any:
    captured: dict[str, Any] = {}
    server = FakeServer()

    def register(servicer: Any, _server: Any) -> None:
        captured["servicer"] = servicer

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("pulumi_policy.policy.grpc.server", lambda *a, **k: server)
    monkeypatch.setattr(
        "pulumi_policy.policy.analyzer_pb2_grpc.add_AnalyzerServicer_to_server", register
    )
    monkeypatch.setattr(time, "sleep", interrupt)
    stdout = io.TextIOWrapper(io.BytesIO(), write_through=True)
    monkeypatch.setattr(sys, "stdout", stdout)

    runpy.run_path(str(MAIN), run_name="__main__")

    assert server.started and server.stopped
    assert stdout.buffer.getvalue() == b"50051\n"
    return captured["servicer"]


def test_policies_are_unique_and_mandatory() -> None:
    policies = build_policies()
    names = [p.name for p in policies]
    assert len(names) == len(set(names)) == 11
    assert all(p.enforcement_level == EnforcementLevel.MANDATORY for p in policies)
    assert sum(isinstance(p, StackValidationPolicy) for p in policies) == 3
    assert sum(isinstance(p, ResourceValidationPolicy) for p in policies) == 8


def test_main_builds_the_pack(servicer: Any) -> None:
    info = servicer.GetAnalyzerInfo(None, None)
    assert info.name == PACK_NAME
    assert len(info.policies) == 11
    assert {p.enforcementLevel for p in info.policies} == {analyzer_pb2.MANDATORY}


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(props)
    return message


def _analyze(servicer: Any, type_: str, name: str, props: dict[str, Any], protect: bool) -> Any:
    request = analyzer_pb2.AnalyzeRequest(
        type=type_,
        name=name,
        urn=f"urn:pulumi:prod::mentora-infra::{type_}::{name}",
        properties=_struct(props),
        options=analyzer_pb2.AnalyzerResourceOptions(protect=protect),
    )
    return servicer.Analyze(request, None)


def test_engine_stack_name_reaches_the_protection_policy(servicer: Any) -> None:
    supabase = ("pulumi-python:dynamic:Resource", "mentora-supabase", {"organization_slug": "o"})
    for stack, expected in (("prod", 1), ("dev", 0)):
        servicer.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(stack=stack), None)
        response = _analyze(servicer, *supabase, protect=False)
        hits = [d for d in response.diagnostics if d.policyName == "prod-stateful-protected"]
        assert len(hits) == expected
    servicer.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(stack="prod"), None)
    assert not _analyze(servicer, *supabase, protect=True).diagnostics


def test_unknown_values_in_preview_do_not_break_the_checks(servicer: Any) -> None:
    props = {
        "bucket": "mentora-videos",
        "blockPublicAcls": UNKNOWN_BOOLEAN_VALUE,
        "blockPublicPolicy": False,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    token = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    [diagnostic] = _analyze(servicer, token, "videos-pab", props, protect=False).diagnostics
    assert diagnostic.policyName == "s3-public-access-block-all-on"
    assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY
    assert "block_public_policy=True" in diagnostic.message
    assert "block_public_acls" not in diagnostic.message


def test_stack_policies_report_the_bucket_urn(servicer: Any) -> None:
    urn = "urn:pulumi:prod::mentora-infra::aws:s3/bucket:Bucket::videos"
    bucket = analyzer_pb2.AnalyzerResource(
        type="aws:s3/bucket:Bucket", name="videos", urn=urn, properties=_struct({"bucket": "b"})
    )
    response = servicer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[bucket]), None)
    assert sorted(d.policyName for d in response.diagnostics) == [
        "s3-bucket-encrypted",
        "s3-bucket-has-public-access-block",
    ]
    assert {d.urn for d in response.diagnostics} == {urn}
