"""The proofs a drill runs against the restored database (minimal local version: the cloud
drill's `recovery/proofs.py`, on branch drills-cloud, is to replace it once merged).

Each proof compares the restored database with facts read from the live one (its migration
ledger, its RLS tables, its row counts at TIME) or checks the restored data works (a pgvector
distance query through the HNSW-indexed column). Page integrity: the wheel has no `amcheck`
extension, so `pg_checksums --check` reads every page of the stopped scratch server instead
(PostgreSQL 18 enables data checksums at initdb).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.local.backup_daemon import pg_bin

RLS_TABLES = 15
LEDGER_SQL = "select version from supabase_migrations.schema_migrations order by 1"
RLS_SQL = (
    "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
    "where n.nspname = 'public' and c.relkind = 'r' and c.relrowsecurity order by 1"
)
TABLES_SQL = (
    "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
    "where n.nspname = 'public' and c.relkind = 'r' order by 1"
)
VECTOR_SQL = (
    "select '[1,2,3]'::extensions.vector <-> '[1,2,5]'::extensions.vector, "
    "(select count(*) from (select id from public.video_chunks order by embedding "
    "operator(extensions.<=>) array_fill(0.5, array[1536])::real[]::extensions.vector "
    "limit 1) nearest)"
)


@dataclass(frozen=True)
class Proof:
    """One fact checked on the restored database."""

    name: str
    ok: bool
    detail: str


def facts(conn: Any) -> dict[str, Any]:
    """What the proofs compare with, read from a database (the live one, or the restored)."""
    return {
        "ledger": [r[0] for r in conn.execute(LEDGER_SQL)],
        "rls": [r[0] for r in conn.execute(RLS_SQL)],
    }


def counts(conn: Any) -> dict[str, int]:
    """Rows per table of the public schema (in the caller's transaction snapshot)."""
    tables = [r[0] for r in conn.execute(TABLES_SQL)]
    return {t: conn.execute(f'select count(*) from public."{t}"').fetchone()[0] for t in tables}


def prove(restored: Any, live: dict[str, Any], at_time: dict[str, int] | None) -> list[Proof]:
    """The proofs on a connection to the restored database."""
    got = facts(restored)
    proofs = [
        Proof(
            "migration ledger equals the source's",
            got["ledger"] == live["ledger"],
            f"{len(got['ledger'])} versions, newest {got['ledger'][-1] if got['ledger'] else '-'}",
        ),
        Proof(
            f"the {RLS_TABLES} tables have RLS on",
            got["rls"] == live["rls"] and len(got["rls"]) == RLS_TABLES,
            f"{len(got['rls'])} tables with RLS (source: {len(live['rls'])})",
        ),
    ]
    distance, nearest = restored.execute(VECTOR_SQL).fetchone()
    proofs.append(
        Proof(
            "pgvector distance query",
            float(distance) == 2.0,
            f"L2 distance {distance}, nearest-chunk query returned {nearest} row(s)",
        )
    )
    if at_time is None:
        proofs.append(Proof("row counts at TIME", True, "not known for a past TIME: skipped"))
    else:
        now = counts(restored)
        wrong = {t: (now.get(t), n) for t, n in at_time.items() if now.get(t) != n}
        proofs.append(
            Proof(
                "row counts equal the source's at TIME",
                not wrong,
                f"{len(at_time)} tables, {sum(at_time.values())} rows"
                if not wrong
                else f"differ (restored, source): {wrong}",
            )
        )
    return proofs


def checksums(pgdata: Path, user: dict[str, Any]) -> Proof:
    """`pg_checksums --check` of a stopped data dir: every page's checksum."""
    done = subprocess.run(
        [pg_bin("pg_checksums"), "--check", "-D", str(pgdata)],
        capture_output=True,
        text=True,
        timeout=600,
        **user,
    )
    text = (done.stdout + done.stderr).strip().splitlines()
    summary = next((line for line in text if "Bad checksums" in line), text[-1] if text else "")
    return Proof("page checksums (pg_checksums --check)", done.returncode == 0, summary.strip())
