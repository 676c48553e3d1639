"""`EnvFile`: the app's `.env.local`, written atomically with mode 0600."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
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

_KEY = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _quote(value: str) -> str:
    # Single quotes mean the same to sh, Node's dotenv and python-dotenv when the value has no
    # quote, backslash or line break (all generated values). Else python-dotenv's double quotes.
    # `$` is literal here, but loaders that interpolate (python-dotenv, Next.js) may expand it.
    if not any(char in value for char in "'\\\n\r"):
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r") + '"'


def render(values: dict[str, str]) -> str:
    """dotenv text: one KEY='value' per line, sorted; double quotes with escapes when needed.

    >>> print(render({"B": "it's", "A": "p@ss${X}"}), end="")
    # Written by `pulumi up -s local` (mentora-infra). Do not commit.
    A='p@ss${X}'
    B="it's"
    """
    lines = ["# Written by `pulumi up -s local` (mentora-infra). Do not commit."]
    for key in sorted(values):
        if not _KEY.match(key):
            raise ValueError(
                f"env file: {key!r} is not a valid variable name; use A-Z, 0-9 and _ only"
            )
        lines.append(f"{key}={_quote(str(values[key]))}")
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> None:
    """Replace `path` atomically; the file is never readable by others, not even briefly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class EnvFileProvider(ResourceProvider):
    """Writes, checks and removes one env file."""

    def _write(self, props: dict[str, Any]) -> dict[str, Any]:
        write_private(Path(props["path"]), render(props["values"]))
        return {"path": props["path"], "values": props["values"], "keys": sorted(props["values"])}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_="env-file", outs=self._write(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # `present` False: `read` found the file edited by hand; rewrite it.
        changed = olds.get("values") != news.get("values") or olds.get("path") != news.get("path")
        return DiffResult(changes=changed or not olds.get("present", True), replaces=[])

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if olds.get("path") != news.get("path"):
            Path(olds["path"]).unlink(missing_ok=True)
        return UpdateResult(outs=self._write(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        path = Path(props["path"])
        if not path.is_file():
            return ReadResult(id_="", outs={})  # gone: the next `up` creates it again
        present = path.read_text() == render(props["values"])
        return ReadResult(id_=id_, outs={**props, "present": present})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        Path(props["path"]).unlink(missing_ok=True)


class EnvFile(Resource):
    """A dotenv file holding the stack's env; owns that file (mode 0600, values secret)."""

    path: pulumi.Output[str]
    keys: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        *,
        path: str,
        values: pulumi.Input[dict[str, str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"path": path, "values": pulumi.Output.secret(values), "keys": None}
        secret = pulumi.ResourceOptions(additional_secret_outputs=["values"])
        super().__init__(EnvFileProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret))
