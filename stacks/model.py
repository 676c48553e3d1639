"""The base of every config model: frozen, strict about unknown keys, defaults validated too."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A frozen pydantic model whose fields are filled by their Pulumi config key (alias)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, validate_default=True
    )
