"""What a drill expects, read from the source database: its migration ledger and per-table row
counts, in one snapshot (`read_expected`), read-only.

A cloud drill reads them inside the transaction whose snapshot pg_dump then copies
(`pg_export_snapshot()` + `pg_dump --snapshot`), so the copy must match them exactly.

>>> with psycopg.connect(url) as conn:  # doctest: +SKIP
...     read_expected(conn).row_counts["achievements"]
12
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from recovery.proofs import LEDGER_SQL, Expected, Markers
from smoke.guide import GUIDE_TABLES


def read_ledger(conn: Any) -> tuple[tuple[str, str], ...]:
    """The source's `supabase_migrations.schema_migrations` as sorted (version, name)."""
    return tuple(sorted((str(v), str(n)) for v, n in conn.execute(LEDGER_SQL).fetchall()))


def read_row_counts(conn: Any, tables: Iterable[str], schema: str = "public") -> dict[str, int]:
    """`count(*)` of each table (all in the caller's snapshot)."""
    from psycopg import sql

    counts: dict[str, int] = {}
    for table in tables:
        query = sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table))
        counts[table] = int(conn.execute(query).fetchone()[0])
    return counts


def read_expected(
    conn: Any,
    tables: Iterable[str] = GUIDE_TABLES,
    *,
    markers: Markers | None = None,
) -> Expected:
    """The facts of `conn`'s current snapshot (call it inside a repeatable-read transaction
    to pin them to one point)."""
    return Expected(
        ledger=read_ledger(conn),
        row_counts=read_row_counts(conn, tables),
        markers=markers,
    )
