"""The config schema is kept once, on the settings models: Pulumi.yaml declares exactly the same
keys with the same type, default and description, and the cross-field rules hold for every pair
of local ports."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_core import PydanticUndefined

from stacks.cloud_settings import CLOUD_SECRETS
from stacks.config import ALL_KEYS, MODELS, PROJECT_ROOT, LocalSettings, parse_stack_config
from stacks.errors import ConfigError

DECLARED: dict[str, dict[str, Any]] = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())[
    "config"
]
PULUMI_TYPES = {int: "integer", bool: "boolean"}


def fields() -> list[tuple[str, Any]]:
    return [
        (info.alias, info)
        for model in MODELS
        for info in model.model_fields.values()
        if info.alias is not None
    ]


@pytest.mark.parametrize(("key", "info"), fields(), ids=lambda v: v if isinstance(v, str) else "")
def test_pulumi_yaml_declares_each_setting_as_the_model_does(key: str, info: Any) -> None:
    spec = DECLARED.get(f"mentora:{key}")
    assert spec is not None, f"mentora:{key} is a setting but Pulumi.yaml does not declare it"
    assert spec["description"] == info.description
    assert spec["type"] == PULUMI_TYPES.get(info.annotation, "string")
    assert isinstance(info.json_schema_extra, dict) and info.json_schema_extra["hint"]
    if info.default is PydanticUndefined:
        assert spec.get("default") in (None, ""), f"{key} is required but has a default"
    else:
        default = info.default
        if isinstance(default, Path | list):
            default = ",".join(default) if isinstance(default, list) else str(default)
        assert spec["default"] == default


def test_pulumi_yaml_declares_nothing_else() -> None:
    known = {f"mentora:{k}" for k in (*ALL_KEYS, *CLOUD_SECRETS)}
    assert set(DECLARED) == known
    for key in CLOUD_SECRETS:
        spec = DECLARED[f"mentora:{key}"]
        assert (spec["type"], spec["default"]) == ("string", "")
        assert "secret" in spec["description"].lower()


PORT_KEYS = tuple(LocalSettings().ports)


@pytest.mark.parametrize(("first", "second"), list(combinations(PORT_KEYS, 2)))
def test_every_pair_of_local_ports_must_differ(first: str, second: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_stack_config("local", {"target": "local", first: "20000", second: "20000"})
    (problem,) = info.value.problems
    assert problem.startswith(f"mentora:{second}='20000': must differ from mentora:{first}")
    assert f"pulumi config set mentora:{second} <value> -s local" in problem


@pytest.mark.parametrize("key", PORT_KEYS)
@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("1023", False),
        ("1024", True),
        ("65535", True),
        ("65536", False),
        ("0", False),
        ("3.5", False),
    ],
)
def test_port_ranges(key: str, value: str, ok: bool) -> None:
    others = {k: str(30000 + i) for i, k in enumerate(PORT_KEYS) if k != key}
    raw = {"target": "local", **others, key: value}
    if ok:
        assert parse_stack_config("local", raw).local.ports[key] == int(value)  # type: ignore[union-attr]
    else:
        with pytest.raises(ConfigError, match=f"mentora:{key}='{value}'"):
            parse_stack_config("local", raw)


def test_an_unknown_key_is_refused_naming_the_closest_setting_without_its_value() -> None:
    with pytest.raises(ConfigError) as info:
        parse_stack_config("local", {"target": "local", "redisPortt": "hunter2-secret"})
    (problem,) = info.value.problems
    assert problem == (
        "mentora:redisPortt: is not a setting of this project (did you mean mentora:redisPort?); "
        "run: pulumi config rm mentora:redisPortt -s local, then set the right key"
    )
