"""The local stack's program under Pulumi mocks: the resource graph, outputs and their secrecy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.app_secrets import APP_ENV_NAMES, EXTRA_ENV_NAMES
from stacks.config import parse_stack_config
from tests.unit.local_program import FAKE_OUTPUTS, RecordingMocks

SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value


def build() -> pulumi.Output[Any]:
    """Run the local program; the returned output resolves once every resource is registered."""
    from stacks.local import build_local

    contract = build_local(parse_stack_config("local", {"target": "local"}))
    return pulumi.Output.all(*contract.values())


@pulumi.runtime.test
def test_every_service_is_declared_under_its_component(mocks: RecordingMocks) -> None:
    done = build()

    def check(_: Any) -> None:
        types = {(r.typ, r.name) for r in mocks.resources}
        for token, name in [
            ("mentora:infra:LocalDatabase", "database"),
            ("mentora:infra:LocalCache", "cache"),
            ("mentora:infra:LocalStorage", "storage"),
            ("mentora:infra:AppSecrets", "app-secrets"),
            ("mentora:infra:LocalDeployTarget", "app"),
            ("mentora:infra:LocalBackups", "backups"),
        ]:
            assert (token, name) in types
        dynamic = sorted(r.name for r in mocks.resources if r.typ.startswith("pulumi-python:"))
        assert dynamic == sorted(
            [
                "database-server",
                "database-migrations",
                "cache-server",
                "storage-server",
                "app-env-file",
                "app-process",
                "jobs-server",
                "errors-server",
                "backups-archiver",
            ]
        )

    return done.apply(check)


@pulumi.runtime.test
def test_the_archiver_gets_the_backup_key_not_the_apps(mocks: RecordingMocks) -> None:
    done = build()

    def check(_: Any) -> None:
        by_name = {r.name: r.inputs for r in mocks.resources}
        archiver, database = by_name["backups-archiver"], by_name["database-server"]
        assert archiver["port"] == 9191 and archiver["bucket"] == "mentora-backups"
        assert archiver["archive_timeout"] == database["archive_timeout"] == 60
        assert archiver["spool"].endswith(".pulumi-local/servers/postgres/wal-spool")
        assert by_name["storage-server"]["backup_bucket"] == "mentora-backups"

    return done.apply(check)


@pulumi.runtime.test
def test_servers_get_the_configured_ports_and_state_folders(mocks: RecordingMocks) -> None:
    done = build()

    def check(_: Any) -> None:
        by_name = {r.name: r.inputs for r in mocks.resources}
        assert by_name["database-server"]["port"] == 54322
        assert by_name["database-server"]["data_dir"].endswith(".pulumi-local/servers/postgres")
        assert by_name["database-server"]["app_user"] == "mentora_app"
        assert by_name["cache-server"]["port"] == 6390
        assert by_name["storage-server"]["port"] == 9090
        assert by_name["storage-server"]["bucket"] == "mentora-videos"
        assert by_name["database-migrations"]["migrations_dir"].endswith("supabase/migrations")
        assert by_name["app-process"]["port"] == 3100
        assert by_name["app-process"]["health_path"] == "/api/health"
        assert "-m reference_app.serve" in by_name["app-process"]["command"]

    return done.apply(check)


def app_secrets_args(**overrides: Any) -> Any:
    from components.app_secrets import AppSecretsArgs

    values: dict[str, Any] = {
        "database_url": "postgresql://u:p@h:1/d",
        "redis_url": "redis://default:p@h:2/0",
        "bucket_name": "b",
        "storage_region": "us-east-1",
        "storage_endpoint": "",
        "storage_access_key_id": "AKIA",
        "storage_secret_access_key": "s",
        "log_level": "debug",
        "node_env": "development",
    }
    return AppSecretsArgs(**{**values, **overrides})


@pulumi.runtime.test
def test_app_env_is_secret_and_uses_only_known_names(mocks: RecordingMocks) -> None:
    from components.app_secrets import AppSecrets

    secrets = AppSecrets("env-under-test", app_secrets_args())

    def check(args: list[Any]) -> None:
        env, is_secret = args
        assert is_secret
        assert set(env) <= set(APP_ENV_NAMES) | set(EXTRA_ENV_NAMES)
        assert "AWS_ENDPOINT_URL_S3" not in env  # empty endpoint = AWS itself: left out
        assert env["REDIS_URL"] == "redis://default:p@h:2/0"
        assert not any(k.startswith("NEXT_PUBLIC_") for k in env)

    return pulumi.Output.all(secrets.env, pulumi.Output.from_input(secrets.env.is_secret())).apply(
        check
    )


def test_issued_keys_must_be_phase8_names(mocks: RecordingMocks) -> None:
    from components.app_secrets import AppSecrets

    with pytest.raises(pulumi.RunError, match="NOT_A_GUIDE_NAME"):
        AppSecrets("bad", app_secrets_args(issued={"NOT_A_GUIDE_NAME": "x"}))


@pulumi.runtime.test
def test_a_port_held_by_another_program_stops_the_program_before_any_resource(
    mocks: RecordingMocks, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from stacks.errors import ConfigError
    from stacks.local import build_local

    monkeypatch.setattr("components.local.preflight.port_open", lambda port, *a, **_: port == 6390)
    with pytest.raises(ConfigError) as info:
        build_local(parse_stack_config("local", {"target": "local", "stateDir": str(tmp_path)}))
    (problem,) = info.value.problems
    assert problem.startswith("mentora:redisPort=6390: redis: port 6390 on 127.0.0.1")
    assert mocks.resources == []


def test_the_local_program_never_imports_a_cloud_sdk() -> None:
    # A cloud SDK on the import path of the local stack would tie `pulumi up -s local` to its
    # plugin; run the whole local program under mocks in a fresh interpreter and look.
    import subprocess
    import sys

    script = """
import asyncio, runpy, sys
import pulumi
asyncio.set_event_loop(asyncio.new_event_loop())
class M(pulumi.runtime.Mocks):
    def new_resource(self, args): return f"{args.name}-id", dict(args.inputs)
    def call(self, args): return {}
pulumi.runtime.set_mocks(M(), project="mentora", stack="local", preview=True)
pulumi.runtime.set_all_config({"mentora:target": "local"})
import components.local.preflight as preflight
preflight.port_open = lambda *a, **k: False  # no probing of this machine's ports
runpy.run_path("stacks/__main__.py")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in
    ("pulumi_aws", "pulumi_checkly", "pulumi_random", "pulumiverse_vercel", "upstash_pulumi"))
print("CLOUD-MODULES", loaded)
"""
    from stacks.config import PROJECT_ROOT

    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "CLOUD-MODULES []" in done.stdout, done.stdout + done.stderr[-2000:]


def build_watched(**raw: str) -> tuple[pulumi.Output[Any], dict[str, pulumi.Output[Any]]]:
    from stacks.local import build_local

    contract = build_local(parse_stack_config("local", {"target": "local", **raw}))
    return pulumi.Output.all(*contract.values()), contract


@pulumi.runtime.test
def test_no_watch_server_unless_configured(mocks: RecordingMocks) -> None:
    done, contract = build_watched()

    def check(_: Any) -> None:
        assert not [r for r in mocks.resources if "watch" in r.name]
        assert "watch_log" not in contract

    return done.apply(check)


@pulumi.runtime.test
def test_the_watch_server_gets_every_other_output_as_a_secret(mocks: RecordingMocks) -> None:
    done, contract = build_watched(watch="true", watchPort="9470", watchEvery="5")
    flag = contract["watch_log"].is_secret()

    def check(args: list[Any]) -> None:
        watch = next(r for r in mocks.resources if r.name == "watch-server")
        parent = next(r for r in mocks.resources if r.name == "watch")
        assert parent.typ == "mentora:infra:LocalWatch"
        inputs = watch.inputs
        assert inputs["port"] == 9470 and inputs["every_s"] == 5 and inputs["stack"] == "local"
        assert inputs["data_dir"].endswith(".pulumi-local/servers/watch")
        assert inputs["repo"] == str(Path(inputs["repo"]).resolve())
        wrapped = inputs["outputs"]  # how the engine receives a secret value
        assert wrapped[SECRET_SIG] == "1b47061264138c4ac30d75fd1eb44270"
        outputs = wrapped["value"]
        assert outputs["redis_url"] == "redis://default:redispw@127.0.0.1:6390/0"
        assert outputs["target"] == "local" and "watch_log" not in outputs
        assert inputs["hints"]["port"] == "mentora:watchPort in Pulumi.local.yaml"
        assert args[-1] is False  # the log path is no secret: `make up` prints it

    return pulumi.Output.all(done, flag).apply(check)


@pulumi.runtime.test
def test_a_stack_without_backups_runs_no_archiver_and_archives_nothing(
    mocks: RecordingMocks,
) -> None:
    done, contract = build_watched(backups="false")

    def check(_: Any) -> None:
        by_name = {r.name: r.inputs for r in mocks.resources}
        assert not [r for r in mocks.resources if r.typ == "mentora:infra:LocalBackups"]
        assert "backups-archiver" not in by_name
        assert by_name["database-server"]["archive_timeout"] == 0  # no archive_mode
        assert by_name["storage-server"]["backup_bucket"] == ""  # no bucket, no key of it
        assert "backup" not in contract  # smoke shows its backup checks skipped

    return done.apply(check)


def unwrapped(value: Any) -> Any:
    """A secret input's value (the engine passes a secret as a marked map)."""
    return value["value"] if isinstance(value, dict) and SECRET_SIG in value else value


def build_tenant() -> tuple[pulumi.Output[Any], dict[str, pulumi.Output[Any]]]:
    """A review stack's program: its database in the base stack `local`'s Postgres."""
    from stacks.local import build_local

    raw = {
        "target": "local",
        "baseStack": "local",
        "backups": "false",
        "databaseName": "mentora_pr_5",
        "bucketName": "mentora-videos-pr-5",
        "appUser": "mentora_app_pr_5",
    }
    contract = build_local(parse_stack_config("pr-5", raw))
    return pulumi.Output.all(*contract.values()), contract


@pulumi.runtime.test
def test_a_stack_on_a_base_makes_its_database_there_and_runs_no_postgres(
    mocks: RecordingMocks,
) -> None:
    done, contract = build_tenant()

    def check(_: Any) -> None:
        by_name = {r.name: r for r in mocks.resources}
        assert not {"database-server", "storage-server", "errors-server", "backups-archiver"} & set(
            by_name
        )
        reference = by_name["pr-5-base"]
        assert reference.typ == "pulumi:pulumi:StackReference"
        assert reference.inputs["name"] == "organization/mentora/local"
        branch = by_name["database-branch"].inputs
        assert branch["database"] == "mentora_pr_5" and branch["app_user"] == "mentora_app_pr_5"
        assert unwrapped(branch["admin_url"]).endswith("@127.0.0.1:54322/postgres")  # the base's
        migrations = by_name["database-migrations"].inputs
        assert unwrapped(migrations["admin_url"]).endswith("/mentora_pr_5")  # its own database
        assert by_name["database"].typ == "mentora:infra:LocalBranchDatabase"
        tenant = by_name["storage-tenant"].inputs  # its bucket in the base's store
        assert (tenant["bucket"], tenant["user"]) == ("mentora-videos-pr-5", "mentora-app-pr-5")
        assert tenant["endpoint"] == "http://127.0.0.1:9090"
        assert unwrapped(tenant["admin_key_id"]) == "AKIATENANTADMIN"
        assert by_name["storage"].typ == "mentora:infra:LocalBranchStorage"
        project = by_name["errors-project"].inputs  # its project in the base's Bugsink
        assert (project["team"], project["name"]) == ("mentora", "mentora-app-pr-5")
        assert project["url"] == "http://127.0.0.1:9100"
        assert "review_base" not in contract  # a tenant hosts no other stack

    # The base's Bugsink token reads every project: smoke gets it, the app (a PR's code) not.
    return pulumi.Output.all(done, contract["env"], contract["smoke_env"]).apply(
        lambda args: (check(args[0]), check_env(args[1], args[2]))
    )


def check_env(env: dict[str, str], smoke_env: dict[str, str]) -> None:
    assert "SENTRY_AUTH_TOKEN" not in env
    assert env["SENTRY_DSN"] == "http://pr5key@127.0.0.1:9100/7" and env["SENTRY_PROJECT"] == "7"
    assert smoke_env == {"SENTRY_AUTH_TOKEN": "fake-bugsink-token"}


@pulumi.runtime.test
def test_a_stack_of_its_own_exports_its_cluster_for_review_stacks_as_a_secret(
    mocks: RecordingMocks,
) -> None:
    done, contract = build_watched()
    flag = contract["review_base"].is_secret()

    def check(args: list[Any]) -> None:
        assert args[0] is True
        # Exactly what a review stack's program reads from it (the tenant test's reference),
        # made from this stack's own servers' fake outputs.
        assert args[1] == FAKE_OUTPUTS["pr-5-base"]["outputs"]["review_base"]

    return pulumi.Output.all(flag, contract["review_base"], done).apply(check)


def test_a_base_stack_is_another_stack_and_its_tenant_keeps_no_backups() -> None:
    from stacks.errors import ConfigError

    with pytest.raises(ConfigError) as refused:
        parse_stack_config("pr-5", {"target": "local", "baseStack": "pr-5"})
    text = str(refused.value)
    assert "mentora:baseStack" in text and "names the stack itself" in text
    assert "mentora:backups" in text and "pulumi config set mentora:backups false -s pr-5" in text
