"""Stack config validation: good configs parse, every bad value names its key and the fix."""

from __future__ import annotations

import pytest
import yaml

from stacks.config import PROJECT_ROOT, parse_stack_config
from stacks.errors import ConfigError
from tests.unit.cloud_program import cloud_config, stack_file


def test_committed_local_stack_config_is_valid() -> None:
    config = parse_stack_config("local", stack_file("local"))
    assert config.target == "local"
    assert config.local is not None
    assert config.local.postgres_port == 54322
    assert config.local.state_dir == PROJECT_ROOT / ".pulumi-local" / "servers"
    assert config.local.env_file.is_absolute()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_cloud_stack_configs_are_valid(stack: str) -> None:
    config = cloud_config(stack)
    assert config.target == "cloud"
    assert config.local is None
    assert config.cloud is not None and config.cloud.hardened is (stack == "prod")


def test_defaults_fill_unset_keys() -> None:
    config = parse_stack_config("local", {"target": "local"})
    assert config.local is not None
    assert (config.local.redis_port, config.bucket_name) == (6390, "mentora-videos")


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("redisPort", "99999", "less than or equal to 65535"),
        ("postgresPort", "80", "greater than or equal to 1024"),
        ("storagePort", "nine", "not a whole number"),
        ("redisPort", "-1", "not a whole number"),
        ("region", "mars-1", "pattern"),
        ("bucketName", "Mentora_Videos", "pattern"),
        ("databaseName", "drop table;", "pattern"),
        ("appUser", "App User", "pattern"),
        ("logLevel", "verbose", "debug"),
        ("nodeEnv", "staging", "development"),
        ("target", "aws", "local"),
        ("watch", "maybe", "boolean"),
        ("watchEvery", "0", "greater than or equal to 1"),
        ("watchPort", "70000", "less than or equal to 65535"),
    ],
)
def test_bad_value_names_key_value_and_fix(key: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_stack_config("local", {"target": "local", key: value})
    message = str(info.value)
    assert f"mentora:{key}={value!r}" in message
    assert fragment in message
    assert f"pulumi config set mentora:{key} <value> -s local" in message
    assert "nothing was changed" in message


def test_missing_target_is_named() -> None:
    with pytest.raises(ConfigError, match=r"mentora:target=<unset>: is required"):
        parse_stack_config("dev", {})


def test_clashing_ports_are_rejected() -> None:
    with pytest.raises(ConfigError, match="must differ"):
        parse_stack_config("local", {"target": "local", "redisPort": "54322"})
    with pytest.raises(ConfigError, match="mentora:watchPort=.*must differ"):
        parse_stack_config("local", {"target": "local", "watchPort": "6390"})


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        parse_stack_config("local", {"target": "local", "region": "x", "logLevel": "loud"})
    assert len(info.value.problems) == 2


def test_every_config_key_is_declared_with_a_description() -> None:
    project = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())
    declared = project["config"]
    for stack in ("local", "dev", "prod"):
        for key in yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]:
            assert key in declared, f"{key} used in Pulumi.{stack}.yaml but not declared"
    assert all(spec.get("description") for spec in declared.values())


def test_pulumi_yaml_defaults_match_the_model() -> None:
    declared = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())["config"]
    raw = {
        key.removeprefix("mentora:"): str(spec["default"])
        for key, spec in declared.items()
        if "default" in spec
    }
    from_yaml = parse_stack_config("local", {"target": "local", **raw})
    from_model = parse_stack_config("local", {"target": "local"})
    assert from_yaml == from_model
