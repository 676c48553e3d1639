"""The archiver's heartbeat (components/local/backup_daemon.py): an error is retried at once.

CI (fresh clone, 2026-12-05): Postgres killed, `up --refresh` healed it, and smoke right after
still read the archiver's heartbeat error from while Postgres was down: a failed heartbeat waited
archive_timeout / 2 (5 s) before its next try. Here a listener that drops every connection
stands in for a Postgres that does not answer, and counts the tries.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from components.local.backup_daemon import Archiver


def test_a_failed_heartbeat_is_tried_again_at_the_next_loop(tmp_path: Path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    tries: list[int] = []

    def drop_every_connection() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            tries.append(1)
            conn.close()

    threading.Thread(target=drop_every_connection, daemon=True).start()
    archiver = Archiver(
        tmp_path,
        {
            "spool": str(tmp_path / "spool"),
            "bucket": "backups",
            "endpoint": "http://127.0.0.1:9",
            "region": "us-east-1",
            "access_key_id": "k",
            "secret_access_key": "s",
            "archive_timeout": 10,
            "admin_url": f"postgresql://admin:pw@127.0.0.1:{port}/postgres",
        },
    )
    try:
        archiver.heartbeat()
        assert "heartbeat" in archiver.snapshot()["errors"]
        archiver.heartbeat()  # the next loop, 0.5 s later: not 5 s
        assert len(tries) >= 2, "the failed heartbeat was not tried again"
        assert "heartbeat" in archiver.snapshot()["errors"]  # still down: still said
    finally:
        server.close()
