"""`python -m bench.backup_tools BARMAN_BIN_DIR`: barman-cloud against PostgreSQL's own tools, the
way the archiver would use each, on one throwaway Postgres (the product's provider) and one
moto S3 server, interleaved rounds.

- base backup to S3: `pg_basebackup -Ft -z -X fetch --checkpoint=fast` + two uploads (what
  components/local/backup_daemon.py does) against `barman-cloud-backup --immediate-checkpoint`;
- one WAL segment to S3: `cp` into the spool + gzip + upload (the archiver's path) against
  `barman-cloud-wal-archive` (a new Python process per segment, as `archive_command`).

BARMAN_BIN_DIR: a virtualenv's bin with `barman[cloud]==3.19.1` (it runs as root here, so no
question of the database user reaching it; in the stack it would have to).
"""

from __future__ import annotations

import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from components.local.backup_daemon import pg_bin
from components.local.postgres_server import ADMIN_USER, PostgresProvider, PostgresSettings
from components.local.unix_user import remove_service_user
from devtools.project import REPO, free_port


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr[-800:]}")
    return time.monotonic() - start


def main(barman: Path, rounds: int = 3) -> None:
    import boto3  # type: ignore[import-untyped]

    base = Path(tempfile.mkdtemp(prefix="mentora-bench-tools-"))
    base.chmod(0o755)
    s3_port = free_port()
    moto = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    provider = PostgresProvider()
    settings = PostgresSettings(port=free_port(), data_dir=base / "pg")
    settings.data_dir.mkdir(mode=0o700)
    endpoint = f"http://127.0.0.1:{s3_port}"
    try:
        keys = provider.new_secrets(settings)
        provider.set_up(settings, keys)
        provider.start(settings, keys)
        provider.provision(settings, keys)
        env = {
            **os.environ,
            "PGPASSWORD": keys["admin_password"],
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        time.sleep(1)
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        s3.create_bucket(Bucket="bench")
        wal_dir = settings.data_dir / "pgdata" / "pg_wal"
        segment = base / "000000010000000000000001"  # a copy: the server recycles its own
        shutil.copyfile(next(p for p in sorted(wal_dir.iterdir()) if p.is_file()), segment)
        rows: dict[str, list[float]] = {
            k: [] for k in ("pg_base", "barman_base", "our_wal", "barman_wal")
        }
        for n in range(rounds):
            work = base / f"bb{n}"
            pg = [pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(settings.port), "-U"]
            pg += [ADMIN_USER, "-D", str(work), "-Ft", "-z", "-X", "fetch", "--checkpoint=fast"]
            pg += ["--manifest-checksums=SHA256", "-w"]
            start = time.monotonic()
            timed(pg, env)
            for name in ("base.tar.gz", "backup_manifest"):
                s3.upload_file(str(work / name), "bench", f"pg/{n}/{name}")
            rows["pg_base"].append(time.monotonic() - start)
            shutil.rmtree(work)
            barman_cmd = [str(barman / "barman-cloud-backup"), "--endpoint-url", endpoint]
            barman_cmd += ["-h", "127.0.0.1", "-p", str(settings.port), "-U", ADMIN_USER, "-d"]
            barman_cmd += ["postgres", "--immediate-checkpoint", "-z", "s3://bench/barman", "pg"]
            rows["barman_base"].append(timed(barman_cmd, env))
            start = time.monotonic()
            spool = base / f"spool-{segment.name}-{n}"
            shutil.copyfile(segment, spool)
            body = gzip.compress(spool.read_bytes(), compresslevel=1)
            s3.put_object(Bucket="bench", Key=f"wal/{n}/{segment.name}.gz", Body=body)
            spool.unlink()
            rows["our_wal"].append(time.monotonic() - start)
            wal_cmd = [str(barman / "barman-cloud-wal-archive"), "--endpoint-url", endpoint]
            wal_cmd += ["-z", f"s3://bench/barman-wal-{n}", "pg", str(segment)]
            rows["barman_wal"].append(timed(wal_cmd, env))
        for key, values in rows.items():
            median = statistics.median(values)
            print(f"{key:12} median {median:.3f} s  {[round(v, 3) for v in values]}")
    finally:
        provider.stop(settings)
        moto.terminate()
        moto.wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)
        remove_service_user(settings.data_dir)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
