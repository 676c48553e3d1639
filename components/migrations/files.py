"""The migration files: found, named, checksummed and cut into statements (no database here)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from components.migrations.errors import MigrationNameError

FILE_PATTERN = re.compile(r"^([0-9]+)_(.*)\.sql$")
_LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.S)  # whitespace and comments


@dataclass(frozen=True)
class Migration:
    """One migration file: its version, name, SQL text and the sha256 of its bytes."""

    version: str
    name: str
    path: Path
    sql: str = field(repr=False)
    checksum: str


class Statement(NamedTuple):
    """One statement of a file: its text, the line its text starts on, the line its code does."""

    sql: str
    start_line: int
    line: int


def discover(folder: Path) -> list[Migration]:
    """Every `*.sql` file of `folder`, sorted by version (other files are ignored)."""
    if not folder.is_dir():
        raise MigrationNameError(f"migrations: folder {folder} does not exist")
    found: dict[str, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationNameError(
                f"migrations: {path.name} is not named <version>_<name>.sql "
                "(e.g. 20251020100000_create_tables.sql); rename it"
            )
        version, raw = match.group(1), path.read_bytes()
        if version in found:
            raise MigrationNameError(
                f"migrations: {found[version].path.name} and {path.name} share version "
                f"{version}; give one of them a new timestamp"
            )
        digest = hashlib.sha256(raw).hexdigest()
        found[version] = Migration(version, match.group(2), path, raw.decode("utf-8"), digest)
    return [found[v] for v in sorted(found, key=int)]


def checksums(folder: Path) -> dict[str, str]:
    """version -> sha256 of every migration file: any change to the folder changes this map."""
    return {m.version: m.checksum for m in discover(folder)}


def split_statements(sql: str) -> list[Statement]:
    """The statements of a file as `sqlparse.split` cuts them; comment-only pieces dropped."""
    import sqlparse

    statements: list[Statement] = []
    cursor = 0
    for piece in sqlparse.split(sql):
        code_at = _LEADING_NOISE.match(piece).end()  # type: ignore[union-attr]
        if code_at == len(piece):
            continue
        start = sql.index(piece, cursor)  # sqlparse pieces are verbatim slices of the file
        cursor, first = start + len(piece), sql.count("\n", 0, start) + 1
        statements.append(Statement(piece, first, first + piece.count("\n", 0, code_at)))
    return statements
