"""Proof logic with a scripted connection: comparisons, and one proof failing never stops the
others (the SQL itself runs against a real scratch server in tests/integration)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from recovery.proofs import LEDGER_SQL, Expected, Markers, check_ledger, check_markers, run_all

LEDGER = (("20251020100000", "extensions"), ("20251020100100", "core_tables"))


class Rows:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None


class ScriptedConn:
    """Answers a query by the first rule whose key occurs in its text; unknown queries raise
    a psycopg error (as a damaged copy would)."""

    def __init__(self, rules: dict[str, Callable[[Any], list[tuple[Any, ...]]]]) -> None:
        self.rules = rules
        self.queries: list[str] = []

    def execute(self, query: Any, args: Any = None) -> Rows:
        text = query if isinstance(query, str) else repr(query)
        self.queries.append(text)
        for key, answer in self.rules.items():
            if key in text:
                return Rows(answer(args))
        raise psycopg.errors.UndefinedTable(f"no rule for {text[:60]}")


def expected(**changes: Any) -> Expected:
    return Expected(ledger=LEDGER, row_counts={}, **changes)


def test_ledger_equal_to_the_source_passes() -> None:
    conn = ScriptedConn({"to_regclass": lambda _: [(1,)], LEDGER_SQL: lambda _: list(LEDGER)})
    ok, detail = check_ledger(conn, expected())
    assert ok and detail == "2 migrations, newest 20251020100100"


def test_ledger_missing_a_migration_names_it() -> None:
    conn = ScriptedConn({"to_regclass": lambda _: [(1,)], LEDGER_SQL: lambda _: [LEDGER[0]]})
    ok, detail = check_ledger(conn, expected())
    assert not ok and "20251020100100" in detail and "core_tables" in detail


def test_ledger_with_an_extra_migration_fails() -> None:
    extra = [*LEDGER, ("20991231000000", "later")]
    conn = ScriptedConn({"to_regclass": lambda _: [(1,)], LEDGER_SQL: lambda _: extra})
    ok, detail = check_ledger(conn, expected())
    assert not ok and "unexpected [('20991231000000', 'later')]" in detail


def test_markers_before_present_after_absent() -> None:
    marks = Markers(table="drill.markers", column="label", before="b", after="a")
    present = {"b": 1, "a": 0}
    conn = ScriptedConn({"count(*)": lambda args: [(present[args[0]],)]})
    assert check_markers(conn, expected(markers=marks))[0]
    present["a"] = 1  # a row committed after TIME came back: recovered too far
    ok, detail = check_markers(conn, expected(markers=marks))
    assert not ok and "after TIME 'a': PRESENT" in detail
    present.update(a=0, b=0)  # the row before TIME is lost
    ok, detail = check_markers(conn, expected(markers=marks))
    assert not ok and "before TIME 'b': ABSENT" in detail


def test_a_failing_proof_does_not_stop_the_others_and_markers_skip_without_input() -> None:
    # Only the ledger answers: every other proof hits "no rule" (a psycopg error).
    conn = ScriptedConn({"to_regclass": lambda _: [(1,)], LEDGER_SQL: lambda _: list(LEDGER)})
    proofs = run_all(conn, expected(), pg_bin=Path("/nonexistent"), env={})
    assert [p.name for p in proofs] == [
        "integrity",
        "ledger",
        "rls",
        "pgvector",
        "row_counts",
        "markers",
    ]
    by_name = {p.name: p for p in proofs}
    assert by_name["ledger"].ok
    assert by_name["integrity"].failed and "UndefinedTable" in by_name["integrity"].detail
    assert by_name["rls"].failed and by_name["pgvector"].failed
    # Nothing expected is not a pass: a proof that compared nothing proves nothing.
    assert by_name["row_counts"].failed and "nothing to compare" in by_name["row_counts"].detail
    assert by_name["markers"].skipped and not by_name["markers"].failed
