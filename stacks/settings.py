"""How a config key is declared once: its alias, description, fix hint and constraints.

Every settings model field is made with `setting(...)`: the description is the one Pulumi.yaml
declares (a unit test compares the two), the hint is what an error tells the user to set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from pydantic_core import PydanticUndefined

NAMESPACE = "mentora"


def setting(
    default: Any = PydanticUndefined, *, key: str, hint: str, description: str, **constraints: Any
) -> Any:
    """A pydantic field read from config key `mentora:<key>`."""
    return Field(
        default,
        alias=key,
        description=description,
        json_schema_extra={"hint": hint},
        **constraints,
    )


def keys_of(model: type[BaseModel]) -> tuple[str, ...]:
    """The config keys (field aliases) a settings model reads, in declaration order."""
    return tuple(f.alias or name for name, f in model.model_fields.items() if f.alias)


def hint_of(models: tuple[type[BaseModel], ...], key: str) -> str:
    """The fix hint declared for `key` by one of `models`."""
    for model in models:
        for name, info in model.model_fields.items():
            if (info.alias or name) == key and isinstance(info.json_schema_extra, dict):
                return str(info.json_schema_extra.get("hint", "a valid value"))
    return "a valid value"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a stack's config: the key, its value and what to do about it."""

    key: str
    value: Any
    message: str
    hint: str | None = None
    """What to set it to; with no `fix`, the generic `pulumi config set` command follows."""
    fix: str | None = None
    """A specific command that fixes it (`<stack>` is filled in), instead of the hint and the
    generic command."""
    show_value: bool = True

    def render(self, stack: str) -> str:
        """One line: `mentora:<key>=<value>: <message>; <what to do>`."""
        shown = "<unset>" if self.value in (None, "") else repr(self.value)
        head = f"{NAMESPACE}:{self.key}" + (f"={shown}" if self.show_value else "")
        head += f": {self.message}"
        if self.fix:
            return f"{head}; run: {self.fix.replace('<stack>', stack)}"
        return (
            f"{head}; set it to {self.hint or 'a valid value'}: pulumi config set "
            f"{NAMESPACE}:{self.key} <value> -s {stack} (or edit Pulumi.{stack}.yaml)"
        )
